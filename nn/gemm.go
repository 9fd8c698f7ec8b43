package nn

import (
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmTiled computes C = op(A)·op(B) + beta·C for alpha = 1 with the AVX2 tiles of
// gemm_amd64.s and returns true, or returns false without touching C for a case it leaves to
// gonum (no AVX2, alpha ≠ 1, Aᵀ·Bᵀ, short slices, shapes below).
//
// Every element of C gets exactly the value gonum's Implementation.Sgemm gives it, bit for bit
// (TestSgemmTiledMatchesGonum): gonum's serial kernels add into C[i,j] in a fixed order, and the
// tiles keep that order while they keep C in registers and work on 8 lanes at a time:
//   - A·B and Aᵀ·B (gonum: one axpy C[i,:] += A[i,l]·B[l,:] per nonzero A[i,l], in the order of
//     l): C[i,j] += A[i,l]·B[l,j] for l = 0, 1, …, each product rounded before the sum (no FMA),
//     on 4 rows × 16 columns of C at a time (the columns left over: 4 × 8, then element by
//     element). gonum skips a zero A[i,l]; the tiles do not (+0 added to −0 gives +0), so a block
//     of 4 rows holding a zero goes through gonum's axpy (for Aᵀ·B with l outermost, as gonum
//     does). Needs n ≥ 16.
//   - A·Bᵀ (gonum: C[i,j] += DotUnitary(A[i,:], B[j,:])): four dot products at a time with
//     DotUnitary's summation order, which depends on B's alignment and the length; the tiles
//     reproduce it for 16-byte aligned rows of B and k a multiple of 16, unless gonum takes its
//     parallel path with k > 64 (then it sums each dot product in pieces of 64).
func sgemmTiled(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) bool {
	if !haveGemmAVX2 || alpha != 1 || m <= 0 || n <= 0 || k <= 0 || ldc < n || len(c) < (m-1)*ldc+n {
		return false
	}
	aT, bT := tA != blas.NoTrans, tB != blas.NoTrans
	// op(A)[i,l] = a[i·ars + l·acs]
	ars, acs := lda, 1
	if aT {
		ars, acs = 1, lda
		if lda < m || len(a) < (k-1)*lda+m {
			return false
		}
	} else if lda < k || len(a) < (m-1)*lda+k {
		return false
	}
	switch {
	case !bT:
		if n < 16 || ldb < n || len(b) < (k-1)*ldb+n {
			return false
		}
	case !aT:
		if ldb < k || len(b) < (n-1)*ldb+k || uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
			return false
		}
		if k > gonumBlock && ceilDiv(m, gonumBlock)*ceilDiv(n, gonumBlock) >= gonumMinParBlocks {
			// gonum's parallel path sums each dot product in pieces of gonumBlock along k, adding
			// every piece to C: another order of additions than one dot product over all of k.
			return false
		}
	default:
		return false
	}
	if beta != 1 {
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(ci)
			} else {
				for j := range ci {
					ci[j] *= beta
				}
			}
		}
	}
	var impl gonum.Implementation
	if !bT {
		sc := sparsePool.Get().(*sparseScratch)
		defer sparsePool.Put(sc)
		// gonum's axpys over row i of A·B: C[i,j] += A[i,l]·B[l,j] for every nonzero A[i,l], l
		// ascending; A's row is contiguous, so its nonzeros are found 8 at a time (Aᵀ·B's rows
		// with zeros go to the fallback below instead).
		axpyRow := func(i int) {
			ai := a[i*lda : i*lda+k]
			sc.idx = grow(sc.idx, k)
			sc.vals, sc.offs = sc.vals[:0], sc.offs[:0]
			for _, l := range sc.idx[:nonzeros(&sc.idx[0], &ai[0], k)] {
				sc.vals, sc.offs = append(sc.vals, ai[l]), append(sc.offs, int(l)*ldb)
			}
			sparseRow(c[i*ldc:i*ldc+n], sc.vals, sc.offs, b, n)
		}
		// A without zeros (the usual case: activations, gradients) needs no check per block.
		zeroFree := false
		if (!aT && lda == k) || (aT && lda == m) {
			zeroFree = !anyZero(a[:m*k])
		}
		n16 := n &^ 15
		// With Aᵀ, the rows of C whose block holds a zero go through gonum's axpys with l
		// outermost (as gonum's Aᵀ·B kernel orders them), reading A along its stored rows: a
		// sparse A (one-hot observations) then costs a pass over A plus one axpy per nonzero,
		// where a row at a time would read A with stride lda k times per row of C.
		var fallback []int
		for i0 := 0; i0 < m; i0 += 4 {
			if i0+4 > m || (!zeroFree && hasZero4(a[i0*ars:], ars, acs, k)) {
				if aT {
					for i := i0; i < min(i0+4, m); i++ {
						fallback = append(fallback, i)
					}
					continue
				}
				for i := i0; i < min(i0+4, m); i++ {
					axpyRow(i)
				}
				continue
			}
			for j0 := 0; j0 < n16; j0 += 16 {
				axpyTile4x16(k, &a[i0*ars], ars, acs, &b[j0], ldb, &c[i0*ldc+j0], ldc)
			}
			if j0 := n16; j0 < n {
				if n-j0 >= 8 {
					axpyTile4x8(k, &a[i0*ars], ars, acs, &b[j0], ldb, &c[i0*ldc+j0], ldc)
					j0 += 8
				}
				if j0 < n {
					axpyTail4(k, a[i0*ars:], ars, acs, b[j0:], ldb, c[i0*ldc+j0:], ldc, n-j0)
				}
			}
		}
		if len(fallback) == 0 {
			return true
		}
		if len(fallback)*k > maxSparseScratch {
			for l := 0; l < k; l++ {
				al, bl := a[l*lda:], b[l*ldb:l*ldb+n]
				for _, i := range fallback {
					if v := al[i]; v != 0 {
						saxpy(v, bl, c[i*ldc:i*ldc+n])
					}
				}
			}
			return true
		}
		// One pass over A's stored rows sorts the nonzeros of every fallback row of C by l
		// (row f's at f·k …), then each row of C takes its axpys at once (sparseRow).
		sc.vals, sc.offs = grow(sc.vals, len(fallback)*k), grow(sc.offs, len(fallback)*k)
		sc.count, sc.slot, sc.idx = grow(sc.count, len(fallback)), grow(sc.slot, m), grow(sc.idx, m)
		clear(sc.count)
		clear(sc.slot)
		for f, i := range fallback {
			sc.slot[i] = f + 1
		}
		for l := 0; l < k; l++ {
			al := a[l*lda : l*lda+m]
			for _, i := range sc.idx[:nonzeros(&sc.idx[0], &al[0], m)] {
				if f := sc.slot[i] - 1; f >= 0 {
					p := f*k + sc.count[f]
					sc.vals[p], sc.offs[p] = al[i], l*ldb
					sc.count[f]++
				}
			}
		}
		for f, i := range fallback {
			lo, hi := f*k, f*k+sc.count[f]
			sparseRow(c[i*ldc:i*ldc+n], sc.vals[lo:hi], sc.offs[lo:hi], b, n)
		}
		return true
	}
	var out [4]float32
	if k%16 != 0 || n < 4 || ldb%4 != 0 || uintptr(unsafe.Pointer(&b[0]))%16 != 0 {
		// Any other k or alignment of B: four rows of A against one row of B at a time, each dot
		// product in DotUnitary's order for that row's alignment (dotRows4).
		i := 0
		for ; i+4 <= m; i += 4 {
			x := a[i*lda:]
			for j := 0; j < n; j++ {
				bj := b[j*ldb : j*ldb+k]
				dotRows4(&x[0], lda, &bj[0], k, dotTrim(&bj[0]), &out)
				for r, v := range out {
					c[(i+r)*ldc+j] += alpha * v
				}
			}
		}
		for ; i < m; i++ {
			x, ci := a[i*lda:i*lda+k], c[i*ldc:i*ldc+n]
			for j := range ci {
				ci[j] += alpha * impl.Sdot(k, x, 1, b[j*ldb:], 1)
			}
		}
		return true
	}
	for i := 0; i < m; i++ {
		x := a[i*lda : i*lda+k]
		ci := c[i*ldc : i*ldc+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			dotTile1x4(k/16, &x[0], &b[j*ldb], ldb, &out)
			ci[j] += alpha * out[0]
			ci[j+1] += alpha * out[1]
			ci[j+2] += alpha * out[2]
			ci[j+3] += alpha * out[3]
		}
		for ; j < n; j++ {
			ci[j] += alpha * impl.Sdot(k, x, 1, b[j*ldb:], 1)
		}
	}
	return true
}

// sparseScratch holds the nonzeros of sparse rows of op(A) and their offsets into B.
type sparseScratch struct {
	vals              []float32
	offs, count, slot []int
	idx               []int32
}

var sparsePool = sync.Pool{New: func() any { return new(sparseScratch) }}

// maxSparseScratch bounds the scratch of Aᵀ·B's sparse rows (rows × k entries); larger cases
// take gonum's axpys one nonzero at a time.
const maxSparseScratch = 1 << 20

// sparseRow adds to the n columns of a row ci of C the products vals[q]·B[row of offs[q], j] in
// the order of q — gonum's axpy per nonzero A[i,l], each product rounded before the sum — with the
// row's sums held in registers across all of its nonzeros (sparseAxpy64, sparseAxpy8; the last
// n mod 8 columns in Go). offs[q] is the nonzero's B row times ldb.
func sparseRow(ci, vals []float32, offs []int, b []float32, n int) {
	if len(vals) == 0 {
		return
	}
	j := 0
	for ; j+64 <= n; j += 64 {
		sparseAxpy64(&ci[j], &vals[0], &offs[0], len(vals), &b[j])
	}
	for ; j+8 <= n; j += 8 {
		sparseAxpy8(&ci[j], &vals[0], &offs[0], len(vals), &b[j])
	}
	for ; j < n; j++ {
		s := ci[j]
		for q, v := range vals {
			s += float32(v * b[offs[q]+j]) // the conversion rounds the product: no fused multiply-add
		}
		ci[j] = s
	}
}

// dotTrim is how many elements of y DotUnitary adds one by one before y reaches a 16-byte
// boundary (y is 4-byte aligned).
func dotTrim(y *float32) int {
	if r := int(uintptr(unsafe.Pointer(y)) & 15); r != 0 {
		return (16 - r) / 4
	}
	return 0
}

// saxpy sets y[j] += alpha·x[j] for j < len(x) ≤ len(y), the product rounded before the sum —
// gonum's Saxpy with unit increments, bit for bit — 8 lanes at a time (axpy8), the rest in Go.
func saxpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	n8 := len(x) &^ 7
	if n8 > 0 {
		axpy8(n8, alpha, &x[0], &y[0])
	}
	for j := n8; j < len(x); j++ {
		y[j] += float32(alpha * x[j])
	}
}

// axpyTail4 adds to the w columns of C's 4 rows (c[r·ldc+j], r < 4, j < w) the products
// A[r,l]·B[l,j] (A[r,l] = a[r·ars + l·acs], B[l,j] = b[l·ldb + j]) for l = 0, 1, …, k−1, skipping
// a zero A[r,l], each product rounded to float32 before the sum: gonum's axpy arithmetic,
// element by element, for the columns right of the last 16- and 8-wide tiles — where one axpy
// call per row and l, of w < 8 elements (a 25-word head leaves 1), would cost more than the tiles.
func axpyTail4(k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc, w int) {
	if w == 1 { // one column (a 25-word head past 16 + 8): each sum in a register
		for r := 0; r < 4; r++ {
			s := c[r*ldc]
			for l := 0; l < k; l++ {
				if v := a[r*ars+l*acs]; v != 0 {
					s += float32(v * b[l*ldb])
				}
			}
			c[r*ldc] = s
		}
		return
	}
	rows := [4][]float32{c[:w], c[ldc : ldc+w], c[2*ldc : 2*ldc+w], c[3*ldc : 3*ldc+w]}
	for l := 0; l < k; l++ {
		bl := b[l*ldb : l*ldb+w]
		for r, cr := range rows {
			v := a[r*ars+l*acs]
			if v == 0 {
				continue
			}
			cr = cr[:len(bl)]
			for j, x := range bl {
				cr[j] += float32(v * x) // the conversion rounds the product: no fused multiply-add
			}
		}
	}
}

// gonum's Sgemm goes parallel when C spans at least gonumMinParBlocks blocks of gonumBlock ×
// gonumBlock (blas/gonum's blockSize and minParBlock) and then walks k in pieces of gonumBlock.
const (
	gonumBlock        = 64
	gonumMinParBlocks = 4
)

// ceilDiv is ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// hasZero4 reports whether any of a[r·ars + l·acs], r < 4, l < k, is zero.
func hasZero4(a []float32, ars, acs, k int) bool {
	for r := 0; r < 4; r++ {
		for l := 0; l < k; l++ {
			if a[r*ars+l*acs] == 0 {
				return true
			}
		}
	}
	return false
}

// anyZero reports whether any element of x is ±0.
func anyZero(x []float32) bool {
	n8 := len(x) &^ 7
	if n8 > 0 && anyZero8(&x[0], n8) {
		return true
	}
	for _, v := range x[n8:] {
		if v == 0 {
			return true
		}
	}
	return false
}
