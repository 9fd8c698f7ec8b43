package nn

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// FastBLAS is gonum's pure-Go BLAS with faster general matrix products when one dimension is
// tiny. gonum's kernels loop over whole rows with vector operations whose length is n (for
// C = A·B and C = Aᵀ·B) or k (for C = A·Bᵀ); a policy head with two actions or a value head
// with one output makes that length 1 or 2, and each of the six products of a head's forward and
// backward pass then costs 35–50 µs on a 128-row minibatch instead of a few µs. fastBLAS
// computes those cases with one vector operation per output element (n ≤ 4: a dot product of
// length k) or per row and inner index (k ≤ 4: an axpy of length n); the results are the same
// products up to the order of the floating-point additions. The larger float32 products (n ≥ 16,
// or A·Bᵀ with k a multiple of 16) go to AVX2 tiles that round every element exactly as gonum
// does, 2–4× faster (sgemmTiled); every other case goes to gonum.
type FastBLAS struct {
	gonum.Implementation
}

// smallDim is the largest n (or k) fastBLAS handles itself.
const smallDim = 4

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices.
func (f FastBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch {
	case m == 0 || n == 0 || k == 0:
	case tB == blas.NoTrans && n <= smallDim:
		// C[i,j] = alpha·Σ_l op(A)[i,l]·B[l,j] + beta·C[i,j]: one dot product per element.
		for i := 0; i < m; i++ {
			var ai []float32
			inc := 1
			if tA == blas.NoTrans {
				ai = a[i*lda:]
			} else {
				ai, inc = a[i:], lda
			}
			for j := 0; j < n; j++ {
				d := alpha * f.Sdot(k, ai, inc, b[j:], ldb)
				if beta == 0 {
					c[i*ldc+j] = d
				} else {
					c[i*ldc+j] = d + beta*c[i*ldc+j]
				}
			}
		}
		return
	case tA == blas.NoTrans && tB != blas.NoTrans && k <= smallDim:
		// C[i,:] = beta·C[i,:] + Σ_l alpha·A[i,l]·B[:,l]: one axpy of length n per (i, l).
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(ci)
			} else if beta != 1 {
				for j := range ci {
					ci[j] *= beta
				}
			}
			for l := 0; l < k; l++ {
				f.Saxpy(n, alpha*a[i*lda+l], b[l:], ldb, ci, 1)
			}
		}
		return
	}
	if sgemmTiled(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
		return
	}
	f.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64.
func (f FastBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	switch {
	case m == 0 || n == 0 || k == 0:
	case tB == blas.NoTrans && n <= smallDim:
		for i := 0; i < m; i++ {
			var ai []float64
			inc := 1
			if tA == blas.NoTrans {
				ai = a[i*lda:]
			} else {
				ai, inc = a[i:], lda
			}
			for j := 0; j < n; j++ {
				d := alpha * f.Ddot(k, ai, inc, b[j:], ldb)
				if beta == 0 {
					c[i*ldc+j] = d
				} else {
					c[i*ldc+j] = d + beta*c[i*ldc+j]
				}
			}
		}
		return
	case tA == blas.NoTrans && tB != blas.NoTrans && k <= smallDim:
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(ci)
			} else if beta != 1 {
				for j := range ci {
					ci[j] *= beta
				}
			}
			for l := 0; l < k; l++ {
				f.Daxpy(n, alpha*a[i*lda+l], b[l:], ldb, ci, 1)
			}
		}
		return
	}
	f.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

var useFastBLAS sync.Once

// UseFastBLAS makes gorgonia's tensor package use FastBLAS for every later matrix product in
// the process (tensor.Use), if it still uses gonum's default. It is process-wide state: every
// gorgonia model in the process — PPO's networks, but also a vae or distill model trained later
// in the same process — then computes its products with FastBLAS, whose results equal gonum's
// up to the order of floating-point additions (TestFastBLASEffectOnOtherModels measures the
// drift on a small MLP trained with Adam). Nothing in klppo's libraries calls it; the klppo CLI
// calls it once at start-up, so CLI runs and library runs that do not call it differ in float
// rounding. It is idempotent and safe to call from several goroutines, but must not run while
// another goroutine is inside a gorgonia matrix product. PPO training on CartPole is faster with
// it (see docs/performance.md).
func UseFastBLAS() {
	useFastBLAS.Do(func() {
		if _, ok := tensor.WhichBLAS().(gonum.Implementation); ok {
			tensor.Use(FastBLAS{})
		}
	})
}

// FastBLASInstalled reports whether gorgonia currently uses FastBLAS.
func FastBLASInstalled() bool {
	_, ok := tensor.WhichBLAS().(FastBLAS)
	return ok
}
