package env

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSincosMatchesMath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, math.Pi / 4, -math.Pi / 4,
		math.Nextafter(math.Pi/4, 0), -math.Nextafter(math.Pi/4, 0), 0.2094, 1, -3, 100, math.NaN(), math.Inf(1)}
	for i := 0; i < 200000; i++ {
		xs = append(xs, (rng.Float64()*2-1)*math.Pi/4*1.01, (rng.Float64()*2-1)*0.3)
	}
	for _, x := range xs {
		s, c := sincos(x)
		ws, wc := math.Sincos(x)
		if math.Float64bits(s) != math.Float64bits(ws) || math.Float64bits(c) != math.Float64bits(wc) {
			if math.IsNaN(x) && math.IsNaN(s) && math.IsNaN(c) {
				continue
			}
			t.Fatalf("sincos(%v) = (%v, %v), math.Sincos = (%v, %v)", x, s, c, ws, wc)
		}
	}
}
