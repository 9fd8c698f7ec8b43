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

// AngleNormalize agrees with the general floored-modulo formula ((θ+π) mod 2π) − π on all ranges.
func TestAngleNormalize(t *testing.T) {
	ref := func(th float64) float64 {
		m := math.Mod(th+math.Pi, 2*math.Pi)
		if m != 0 && (m < 0) != (2*math.Pi < 0) {
			m += 2 * math.Pi
		}
		return m - math.Pi
	}
	rng := rand.New(rand.NewPCG(3, 3))
	xs := []float64{0, math.Pi, -math.Pi, 3 * math.Pi, -3 * math.Pi, 2 * math.Pi, -2 * math.Pi, 1e6, -1e6}
	for i := 0; i < 100000; i++ {
		xs = append(xs, (rng.Float64()*2-1)*20)
	}
	for _, x := range xs {
		if got, want := AngleNormalize(x), ref(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("AngleNormalize(%v) = %v, want %v", x, got, want)
		}
		if got := AngleNormalize(x); got < -math.Pi || got >= math.Pi+1e-12 {
			t.Fatalf("AngleNormalize(%v) = %v outside [−π, π)", x, got)
		}
	}
}
