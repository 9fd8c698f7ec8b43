package estimators

import (
	"fmt"
	"math"

	"klppo/kl"
)

// ReverseOptimum returns π* = argmax_π E_π[r] − β·KL(π‖π_ref) = π_ref·exp(r/β)/Z (Korbak et al.
// 2022), computed as softmax(θ_ref + r/β).
func ReverseOptimum(p Problem) ([]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	z := make([]float64, len(p.RefLogits))
	for i := range z {
		z[i] = p.RefLogits[i] + p.Reward[i]/p.Beta
	}
	pi, err := kl.Softmax(z)
	if err != nil {
		return nil, fmt.Errorf("estimators: reverse optimum: %w", err)
	}
	return pi, nil
}

// ForwardOptimum returns argmax_π E_π[r] − β·KL(π_ref‖π): the Lagrange condition
// r(x) + β·π_ref(x)/π(x) = λ gives
//
//	π(x) = β·π_ref(x) / (λ − r(x)),  λ > max r,
//
// and λ is the one root of Σ_x β·π_ref(x)/(λ − r(x)) = 1 (the sum falls from +∞ at λ = max r
// to ≤ 1 at λ = max r + β), found by bisection on t = λ − max r ∈ (0, β]. Unlike π*, this
// optimum gives every arm at least β·π_ref(x)/(β + max r − r(x)): mode-covering.
func ForwardOptimum(p Problem) ([]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	lr, err := kl.LogSoftmax(p.RefLogits)
	if err != nil {
		return nil, fmt.Errorf("estimators: forward optimum: %w", err)
	}
	rmax := math.Inf(-1)
	for _, r := range p.Reward {
		rmax = math.Max(rmax, r)
	}
	sum := func(t float64) float64 {
		var s float64
		for i, r := range p.Reward {
			s += p.Beta * math.Exp(lr[i]) / (t + (rmax - r)) // t + rmax − r loses t < ulp(rmax)
		}
		return s
	}
	lo, hi := 0.0, p.Beta // sum(lo⁺) = +∞ > 1 ≥ sum(hi)
	for range 2000 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if sum(mid) > 1 {
			lo = mid
		} else {
			hi = mid
		}
	}
	pi := make([]float64, len(lr))
	var s float64
	for i, r := range p.Reward {
		pi[i] = p.Beta * math.Exp(lr[i]) / (hi + (rmax - r))
		s += pi[i]
	}
	for i := range pi {
		pi[i] /= s // removes the last ulp of the bisection
	}
	return pi, nil
}
