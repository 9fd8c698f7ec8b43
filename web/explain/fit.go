package explain

import (
	"math"

	"klppo/kl"
)

// gridProbs discretises a density on an evenly spaced grid into a probability vector (the
// density at each grid point, normalised by kl.Normalize).
func gridProbs(dens []float64) ([]float64, error) {
	return kl.Normalize(dens)
}

// Fit is a Gaussian Q = N(Mu, Sigma²) fitted to a target by minimising a divergence.
type Fit struct {
	Mu, Sigma float64
	KL        float64 // the minimised divergence, in nats
}

// fitGaussian finds the Gaussian Q minimising KL(P‖Q) (forward = true: mode-covering) or KL(Q‖P)
// (forward = false: mode-seeking) where P is the probability vector p on grid x. Both
// divergences are computed by kl.KL on the grid; the search is Nelder–Mead over (μ, ln σ) from
// each start in starts, keeping the best (the earliest on ties).
func fitGaussian(p, x []float64, forward bool, starts []float64, sigma0 float64) (Fit, error) {
	var firstErr error
	obj := func(mu, logSigma float64) float64 {
		q, err := gridProbs(density(kl.Normal{Mu: mu, Sigma: math.Exp(logSigma)}, x))
		if err != nil {
			return math.Inf(1) // σ so small or μ so far that Q vanishes on the grid
		}
		var d float64
		if forward {
			d, err = kl.KL(p, q)
		} else {
			d, err = kl.KL(q, p)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return math.Inf(1)
		}
		return d
	}
	best := Fit{KL: math.Inf(1)}
	for _, m0 := range starts {
		v, f := nelderMead(obj, [2]float64{m0, math.Log(sigma0)}, [2]float64{0.5, 0.3}, 1e-9, 150)
		if f < best.KL {
			best = Fit{Mu: v[0], Sigma: math.Exp(v[1]), KL: f}
		}
	}
	if math.IsInf(best.KL, 1) && firstErr != nil {
		return best, firstErr
	}
	return best, nil
}

// nelderMead minimises f over two variables from x0 with initial steps, until the simplex's
// values agree within tol or after maxIter iterations. Standard coefficients (1, 2, ½, ½).
func nelderMead(f func(a, b float64) float64, x0, step [2]float64, tol float64, maxIter int) ([2]float64, float64) {
	type vert struct {
		x [2]float64
		f float64
	}
	ev := func(x [2]float64) vert { return vert{x, f(x[0], x[1])} }
	s := [3]vert{ev(x0), ev([2]float64{x0[0] + step[0], x0[1]}), ev([2]float64{x0[0], x0[1] + step[1]})}
	sort3 := func() {
		for i := 1; i < 3; i++ {
			for j := i; j > 0 && s[j].f < s[j-1].f; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
	}
	lerp := func(a, b [2]float64, t float64) [2]float64 { // a + t(b − a)
		return [2]float64{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	}
	for it := 0; it < maxIter; it++ {
		sort3()
		if math.Abs(s[2].f-s[0].f) <= tol*(1+math.Abs(s[0].f)) && !math.IsInf(s[0].f, 1) {
			break
		}
		c := [2]float64{(s[0].x[0] + s[1].x[0]) / 2, (s[0].x[1] + s[1].x[1]) / 2}
		r := ev(lerp(c, s[2].x, -1))
		switch {
		case r.f < s[0].f:
			if e := ev(lerp(c, s[2].x, -2)); e.f < r.f {
				s[2] = e
			} else {
				s[2] = r
			}
		case r.f < s[1].f:
			s[2] = r
		default:
			if k := ev(lerp(c, s[2].x, 0.5)); k.f < s[2].f {
				s[2] = k
			} else { // shrink towards the best vertex
				s[1] = ev(lerp(s[0].x, s[1].x, 0.5))
				s[2] = ev(lerp(s[0].x, s[2].x, 0.5))
			}
		}
	}
	sort3()
	return s[0].x, s[0].f
}
