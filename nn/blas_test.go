package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// TestFastBLASMatchesGonum compares every transpose combination and several shapes (including
// strided operands and beta ≠ 0) with gonum's own product.
func TestFastBLASMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ref gonum.Implementation
	var fast FastBLAS
	for _, sh := range [][3]int{{128, 64, 64}, {128, 64, 2}, {128, 64, 1}, {128, 2, 64}, {128, 1, 64}, {64, 2, 128},
		{64, 1, 128}, {128, 64, 4}, {128, 4, 64}, {3, 5, 7}, {1, 4, 3}, {5, 3, 1}, {2, 2, 2}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				ar, ac := m, k
				if tA == blas.Trans {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB == blas.Trans {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+1, bc+2, n+3 // strided
				a64, b64 := make([]float64, ar*lda), make([]float64, br*ldb)
				for i := range a64 {
					a64[i] = rng.NormFloat64()
				}
				for i := range b64 {
					b64[i] = rng.NormFloat64()
				}
				c0 := make([]float64, m*ldc)
				for i := range c0 {
					c0[i] = rng.NormFloat64()
				}
				beta := 0.3
				if rng.IntN(2) == 0 {
					beta = 0
				}
				want, got := append([]float64(nil), c0...), append([]float64(nil), c0...)
				ref.Dgemm(tA, tB, m, n, k, 0.7, a64, lda, b64, ldb, beta, want, ldc)
				fast.Dgemm(tA, tB, m, n, k, 0.7, a64, lda, b64, ldb, beta, got, ldc)
				for i := range want {
					if math.Abs(want[i]-got[i]) > 1e-12*(1+math.Abs(want[i])) {
						t.Fatalf("Dgemm %c%c %v: c[%d] = %v, gonum %v", tA, tB, sh, i, got[i], want[i])
					}
				}
				a32, b32, c32 := make([]float32, len(a64)), make([]float32, len(b64)), make([]float32, len(c0))
				for i, v := range a64 {
					a32[i] = float32(v)
				}
				for i, v := range b64 {
					b32[i] = float32(v)
				}
				for i, v := range c0 {
					c32[i] = float32(v)
				}
				w32, g32 := append([]float32(nil), c32...), append([]float32(nil), c32...)
				ref.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, float32(beta), w32, ldc)
				fast.Sgemm(tA, tB, m, n, k, 0.7, a32, lda, b32, ldb, float32(beta), g32, ldc)
				for i := range w32 {
					if math.Abs(float64(w32[i]-g32[i])) > 1e-4*(1+math.Abs(float64(w32[i]))) {
						t.Fatalf("Sgemm %c%c %v: c[%d] = %v, gonum %v", tA, tB, sh, i, g32[i], w32[i])
					}
				}
			}
		}
	}
}

func BenchmarkSgemmHead(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	a, w, c := fill(128*64), fill(64*2), make([]float32, 128*64)
	var ref gonum.Implementation
	var fast FastBLAS
	for _, impl := range []struct {
		name string
		f    func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}{{"gonum", ref.Sgemm}, {"fast", fast.Sgemm}} {
		b.Run(impl.name+"/NN_m128_n2_k64", func(b *testing.B) {
			for b.Loop() {
				impl.f(blas.NoTrans, blas.NoTrans, 128, 2, 64, 1, a, 64, w, 2, 0, c, 2)
			}
		})
		b.Run(impl.name+"/NT_m128_n64_k2", func(b *testing.B) {
			for b.Loop() {
				impl.f(blas.NoTrans, blas.Trans, 128, 64, 2, 1, a, 2, w, 2, 0, c, 64)
			}
		})
	}
}

// TestFastBLASEffectOnOtherModels documents what installing FastBLAS does to a model that is
// not PPO's: the XOR network of TestTrainXOR (2→8→1, so its output layer takes FastBLAS's
// small-dimension path) trained for 400 Adam steps with gonum's BLAS and with FastBLAS
// installed process-wide. The two trainings agree to float rounding: the final loss and every
// parameter within 1e-4 (float32) and 1e-9 (float64) relative; they need not be bit-identical.
func TestFastBLASEffectOnOtherModels(t *testing.T) {
	prev := tensor.WhichBLAS()
	defer tensor.Use(prev)
	if FastBLASInstalled() {
		t.Fatal("FastBLAS is installed before the test: something in package nn installs it implicitly")
	}
	for _, tc := range []struct {
		dt  tensor.Dtype
		tol float64
	}{{tensor.Float32, 1e-4}, {tensor.Float64, 1e-9}} {
		tensor.Use(gonum.Implementation{})
		lossRef, ref := trainXOR(t, 3, tc.dt, 400)
		tensor.Use(FastBLAS{})
		if !FastBLASInstalled() {
			t.Fatal("FastBLASInstalled is false after tensor.Use(FastBLAS{})")
		}
		lossFast, fast := trainXOR(t, 3, tc.dt, 400)
		rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Max(1e-3, math.Abs(a)) }
		worst := rel(lossRef, lossFast)
		pr, pf := ref.Params(), fast.Params()
		for i := range pr {
			a, b := values64(pr[i]), values64(pf[i])
			for j := range a {
				worst = math.Max(worst, rel(a[j], b[j]))
			}
		}
		t.Logf("%v: loss %v (gonum) vs %v (FastBLAS); largest relative difference %.3g", tc.dt, lossRef, lossFast, worst)
		if worst > tc.tol {
			t.Errorf("%v: FastBLAS changed the trained XOR model by %.3g relative, want ≤ %g", tc.dt, worst, tc.tol)
		}
	}
}

// values64 returns a parameter tensor's elements as float64.
func values64(d *tensor.Dense) []float64 {
	switch x := d.Data().(type) {
	case []float32:
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return x
	}
	return nil
}
