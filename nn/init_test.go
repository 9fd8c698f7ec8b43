package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestOrthogonal(t *testing.T) {
	cases := []struct {
		rows, cols int
		gain       float64
	}{
		{1, 1, 1}, {4, 64, math.Sqrt2}, {64, 64, math.Sqrt2}, {64, 2, 0.01}, {2, 64, 1}, {3, 5, 2}, {5, 3, 1},
	}
	for _, c := range cases {
		w, err := Orthogonal(seeded(1), c.rows, c.cols, c.gain)
		if err != nil {
			t.Fatalf("%dx%d: %v", c.rows, c.cols, err)
		}
		if len(w) != c.rows*c.cols {
			t.Fatalf("%dx%d: len %d", c.rows, c.cols, len(w))
		}
		W := mat.NewDense(c.rows, c.cols, w)
		var p mat.Dense
		if c.rows >= c.cols {
			p.Mul(W.T(), W) // cols×cols
		} else {
			p.Mul(W, W.T()) // rows×rows
		}
		k := min(c.rows, c.cols)
		g2 := c.gain * c.gain
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				want := 0.0
				if i == j {
					want = g2
				}
				if d := math.Abs(p.At(i, j) - want); d > 1e-12*math.Max(g2, 1) {
					t.Errorf("%dx%d gain %v: (WᵀW)[%d,%d]=%v, want %v", c.rows, c.cols, c.gain, i, j, p.At(i, j), want)
				}
			}
		}
	}
}

// TestOrthogonalSignCorrection regenerates the Gaussian matrix A from the same seed and checks
// the defining property of torch's sign-corrected QR: QᵀA = R is upper triangular with a
// positive diagonal.
func TestOrthogonalSignCorrection(t *testing.T) {
	for _, sh := range [][2]int{{6, 3}, {3, 6}, {8, 8}} {
		rows, cols := sh[0], sh[1]
		const gain = 3.0
		w, err := Orthogonal(seeded(7), rows, cols, gain)
		if err != nil {
			t.Fatal(err)
		}
		n, k := max(rows, cols), min(rows, cols)
		rng := seeded(7)
		a := mat.NewDense(n, k, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		q := mat.NewDense(n, k, nil) // Q oriented n×k
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				if rows >= cols {
					q.Set(i, j, w[i*cols+j]/gain)
				} else {
					q.Set(i, j, w[j*cols+i]/gain)
				}
			}
		}
		var r mat.Dense
		r.Mul(q.T(), a)
		for i := 0; i < k; i++ {
			if r.At(i, i) <= 0 {
				t.Errorf("%dx%d: R[%d,%d]=%v, want > 0", rows, cols, i, i, r.At(i, i))
			}
			for j := 0; j < i; j++ {
				if math.Abs(r.At(i, j)) > 1e-12 {
					t.Errorf("%dx%d: R[%d,%d]=%v below the diagonal, want 0", rows, cols, i, j, r.At(i, j))
				}
			}
		}
	}
}

func TestOrthogonalDeterminism(t *testing.T) {
	a, _ := Orthogonal(seeded(3), 16, 8, 1)
	b, _ := Orthogonal(seeded(3), 16, 8, 1)
	c, _ := Orthogonal(seeded(4), 16, 8, 1)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same {
		t.Error("same seed gave different matrices")
	}
	if !differ {
		t.Error("different seeds gave the same matrix")
	}
}

func TestOrthogonalErrors(t *testing.T) {
	cases := []struct {
		name       string
		rows, cols int
		gain       float64
		nilRNG     bool
	}{
		{"zero rows", 0, 3, 1, false},
		{"negative cols", 3, -1, 1, false},
		{"NaN gain", 3, 3, math.NaN(), false},
		{"Inf gain", 3, 3, math.Inf(1), false},
		{"nil rng", 3, 3, 1, true},
	}
	for _, c := range cases {
		rng := seeded(1)
		if c.nilRNG {
			rng = nil
		}
		if _, err := Orthogonal(rng, c.rows, c.cols, c.gain); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
