package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Orthogonal returns a rows×cols matrix (row-major) drawn like torch.nn.init.orthogonal_ and
// scaled by gain.
//
// With n = max(rows, cols) and k = min(rows, cols), it fills an n×k matrix A with independent
// N(0, 1) draws from rng (row-major order), factorises A = QR (Q n×k with orthonormal columns,
// R k×k upper triangular) and applies the sign correction Q ← Q·diag(sign(R_ii)), which makes Q
// Haar-distributed (sign(0) is taken as +1). The result is gain·Q when rows ≥ cols and gain·Qᵀ
// otherwise, so that
//
//	WᵀW = gain²·I_cols  (rows ≥ cols)      WWᵀ = gain²·I_rows  (rows < cols).
//
// The same rng state gives the same matrix. rows and cols must be positive and gain finite.
func Orthogonal(rng *rand.Rand, rows, cols int, gain float64) ([]float64, error) {
	if rng == nil {
		return nil, fmt.Errorf("nn: Orthogonal: rng is nil")
	}
	if rows <= 0 || cols <= 0 {
		return nil, fmt.Errorf("nn: Orthogonal: rows=%d cols=%d, both must be positive", rows, cols)
	}
	if math.IsNaN(gain) || math.IsInf(gain, 0) {
		return nil, fmt.Errorf("nn: Orthogonal: gain=%v is not finite", gain)
	}
	n, k := max(rows, cols), min(rows, cols)
	a := make([]float64, n*k)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	q, err := signedQ(n, k, a)
	if err != nil {
		return nil, fmt.Errorf("nn: Orthogonal(%d, %d): %w", rows, cols, err)
	}
	out := make([]float64, rows*cols)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			v := gain * q.At(i, j)
			if rows >= cols {
				out[i*cols+j] = v
			} else {
				out[j*cols+i] = v
			}
		}
	}
	return out, nil
}

// signedQ returns the first k columns of Q from A = QR (A is n×k, n ≥ k, row-major), with column
// j multiplied by sign(R_jj) so that QᵀA has a non-negative diagonal.
func signedQ(n, k int, a []float64) (*mat.Dense, error) {
	for _, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("non-finite Gaussian draw %v", v)
		}
	}
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, k, a))
	var qFull, r mat.Dense
	qr.QTo(&qFull)
	qr.RTo(&r)
	q := mat.NewDense(n, k, nil)
	for j := 0; j < k; j++ {
		s := 1.0
		if r.At(j, j) < 0 {
			s = -1
		}
		for i := 0; i < n; i++ {
			q.Set(i, j, s*qFull.At(i, j))
		}
	}
	return q, nil
}
