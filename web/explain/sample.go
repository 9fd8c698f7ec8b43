package explain

import "math/rand/v2"

// newRand returns the seeded generator every simulated stream uses (PCG: the same numbers on
// every platform, in the browser too).
func newRand(seed float64) *rand.Rand {
	s := uint64(seed)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// draw returns one index sampled from the probability vector p.
func draw(r *rand.Rand, p []float64) int {
	u := r.Float64()
	for i, v := range p {
		if u < v {
			return i
		}
		u -= v
	}
	for i := len(p) - 1; i > 0; i-- { // rounding left u ≥ 0: the last category with mass
		if p[i] > 0 {
			return i
		}
	}
	return 0
}
