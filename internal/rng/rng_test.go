package rng

import (
	"math"
	"testing"
)

// TestStreamsReproducibleAndUnrelated: the same (seed, stream) repeats its sequence; nearby
// seeds and streams give sequences whose correlation is that of independent ones.
func TestStreamsReproducibleAndUnrelated(t *testing.T) {
	a, b := New(1, 2), New(1, 2)
	for i := 0; i < 100; i++ {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: %d ≠ %d for the same seed and stream", i, x, y)
		}
	}
	const n = 20000
	for _, pair := range [][4]uint64{{1, 0, 2, 0}, {1, 0, 1, 1}, {0, 0, 0, 1}, {7, 3, 3, 7}} {
		x, y := New(pair[0], pair[1]), New(pair[2], pair[3])
		var sx, sy, sxy, sxx, syy float64
		for i := 0; i < n; i++ {
			u, v := x.Float64(), y.Float64()
			sx, sy, sxy, sxx, syy = sx+u, sy+v, sxy+u*v, sxx+u*u, syy+v*v
		}
		cov := sxy/n - sx/n*sy/n
		r := cov / math.Sqrt((sxx/n-sx*sx/n/n)*(syy/n-sy*sy/n/n))
		// independent streams: r ~ N(0, 1/n), so |r| < 5/√n fails with probability ~1e-6
		if math.Abs(r) > 5/math.Sqrt(n) {
			t.Errorf("streams %v: correlation %v", pair, r)
		}
	}
}
