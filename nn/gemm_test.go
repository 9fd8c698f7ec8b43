package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// alignedF32 returns a slice of n float32 starting off elements after a 64-byte boundary.
func alignedF32(n, off int) []float32 {
	s := make([]float32, n+off+16)
	p := uintptr(unsafe.Pointer(&s[0]))
	skip := int((64-p%64)%64) / 4
	return s[skip+off : skip+off+n]
}

// TestSgemmTiledMatchesGonum: the AVX2 tiles give every element of C exactly gonum's bits, for
// the shapes of PPO's networks (batch × 4 inputs, 64 hidden units) and odd ones, strided and
// misaligned operands, β ∈ {0, 1, 0.3}, and A with a few zeros or mostly zeros (which gonum
// skips: B then holds an infinity, so that adding 0·B[l,j] would show as a NaN).
func TestSgemmTiledMatchesGonum(t *testing.T) {
	if !haveGemmAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var ref gonum.Implementation
	tiled := 0
	for _, sh := range [][3]int{{64, 64, 64}, {128, 64, 64}, {64, 64, 4}, {4, 64, 64}, {4, 64, 128}, {64, 64, 128},
		{1, 64, 64}, {4, 64, 4}, {7, 40, 32}, {9, 17, 48}, {5, 16, 16}, {6, 35, 3}, {13, 5, 64}, {3, 70, 96},
		{256, 128, 256}, {130, 100, 192}, {256, 64, 128}, {256, 25, 64}, {64, 25, 256}, {30, 25, 119},
		{256, 64, 119}, {119, 64, 256}, {40, 72, 50}, {33, 77, 70}, {12, 130, 9},
		{256, 64, 25}, {37, 64, 1}, {9, 11, 3}, {8, 6, 19}, {21, 30, 33}, {16, 64, 50}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, layout := range []struct{ pad, off int }{{0, 0}, {0, 1}, {3, 0}, {4, 2}} {
					for _, beta := range []float32{0, 1, 0.3} {
						ar, ac := m, k
						if tA == blas.Trans {
							ar, ac = k, m
						}
						br, bc := k, n
						if tB == blas.Trans {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+layout.pad, bc+layout.pad, n+layout.pad
						a, b := alignedF32(ar*lda, layout.off), alignedF32(br*ldb, layout.off)
						c0 := alignedF32(m*ldc, 0)
						// a third of the cases have no zeros in A, a third a few, a third mostly
						// zeros (one-hot observations: RLHF's prefix encodings)
						sparsity := rng.IntN(3)
						zeros := sparsity > 0
						for i := range a {
							a[i] = float32(rng.NormFloat64())
							if sparsity == 1 && rng.IntN(97) == 0 || sparsity == 2 && rng.IntN(10) != 0 {
								a[i] = 0
							}
						}
						for i := range b {
							b[i] = float32(rng.NormFloat64())
						}
						if zeros {
							// 0·∞ is NaN: a product gonum skips for A[i,l] = 0 must not be added
							b[rng.IntN(len(b))] = float32(math.Inf(1))
						}
						for i := range c0 {
							c0[i] = float32(rng.NormFloat64())
						}
						want, got := append([]float32(nil), c0...), append([]float32(nil), c0...)
						ref.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
						if !sgemmTiled(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, got, ldc) {
							if !equalBits(got, c0) {
								t.Fatalf("%c%c %v: declined the case but changed C", tA, tB, sh)
							}
							continue
						}
						tiled++
						for i := range want {
							if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
								t.Fatalf("%c%c %v pad %d off %d β %v: c[%d] = %v, gonum %v", tA, tB, sh, layout.pad, layout.off, beta, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	}
	// A·B, Aᵀ·B (n ≥ 16) and A·Bᵀ (k a multiple of 16, B aligned) must have taken the tiles.
	if tiled < 300 {
		t.Fatalf("only %d products went through the tiles", tiled)
	}
}

func equalBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestNonzeros: the index scan gonum's skip rule relies on finds exactly the elements that are
// not ±0 (NaN included), in order, for every length around the 8-wide steps.
func TestNonzeros(t *testing.T) {
	if !haveGemmAVX2 {
		t.Skip("no AVX2")
	}
	rng := rand.New(rand.NewPCG(8, 9))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, 1.5}
	for n := 1; n <= 70; n++ {
		for trial := 0; trial < 20; trial++ {
			a := make([]float32, n)
			for i := range a {
				if rng.IntN(3) > 0 {
					a[i] = specials[rng.IntN(2)]
				} else {
					a[i] = specials[rng.IntN(len(specials))]
				}
			}
			var want []int32
			for i, v := range a {
				if v != 0 {
					want = append(want, int32(i))
				}
			}
			got := make([]int32, n)
			got = got[:nonzeros(&got[0], &a[0], n)]
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("n=%d a=%v: nonzeros %v, want %v", n, a, got, want)
			}
		}
	}
}
