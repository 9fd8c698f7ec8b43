package explain

import (
	"math"
	"sort"

	"klppo/kl"
)

// Fit is a Gaussian Q = N(Mu, Sigma²) fitted to a target by minimising a divergence.
type Fit struct {
	Mu, Sigma float64
	KL        float64 // the minimised divergence, in nats
}

// gridTarget measures Gaussians Q = N(μ, σ²), discretised on the grid x, against a target P
// given by its log-probabilities on the same grid. Q's log-density on the grid, −(x−μ)²/(2σ²)
// up to a constant, is a logit vector, so both divergences are kl.KLLogitsBuf: computed in log
// space, exact where a density underflows (a far tail is a very negative logit, never a 0).
type gridTarget struct {
	x, lp   []float64 // grid and ln P on it
	lq, buf []float64 // scratch: Q's logits; kl.KLLogitsBuf's scratch
	err     error     // the first error of kl (reported when no fit is finite)
}

func newGridTarget(x, lp []float64) *gridTarget {
	return &gridTarget{x: x, lp: lp, lq: make([]float64, len(x)), buf: make([]float64, 2*len(x))}
}

// div returns KL(P‖Q) (forward) or KL(Q‖P) for Q = N(μ, e^{2s}) on the grid, +Inf where Q is
// not a distribution on the grid (σ = 0 or ∞ after a wild search step).
func (g *gridTarget) div(forward bool, mu, s float64) float64 {
	sigma := math.Exp(s)
	for i, xi := range g.x {
		z := (xi - mu) / sigma
		g.lq[i] = -z * z / 2
	}
	var d float64
	var err error
	if forward {
		d, err = kl.KLLogitsBuf(g.buf, g.lp, g.lq)
	} else {
		d, err = kl.KLLogitsBuf(g.buf, g.lq, g.lp)
	}
	if err != nil || math.IsNaN(d) {
		if g.err == nil {
			g.err = err
		}
		return math.Inf(1)
	}
	return d
}

// coverFit returns the Gaussian minimising KL(P‖Q). On the grid the discretised Gaussians form
// an exponential family (sufficient statistics x and x²), in whose natural parameters
// (μ/σ², −1/(2σ²)) KL(P‖Q) is convex: its only minimum is the moment match, so one Nelder–Mead
// search started at P's mean and standard deviation finds it.
func (g *gridTarget) coverFit(mean, sd float64) Fit {
	v, f := nelderMead(func(mu, s float64) float64 { return g.div(true, mu, s) },
		[2]float64{mean, math.Log(sd)}, [2]float64{sd / 4, 0.2}, 1e-12, 300)
	return Fit{Mu: v[0], Sigma: math.Exp(v[1]), KL: f}
}

// profile is the mode-seeking landscape: for each μ of a grid, the smallest KL(Q‖P) over σ.
type profile struct {
	Mu, S, KL []float64 // μ, the best ln σ for it, and the divergence there
}

// seekFit returns the Gaussian minimising KL(Q‖P), which can have one local minimum per mode of
// P and one between them. The search cannot start in one basin and stop there. First, for every
// μ of a grid over [muLo, muHi] (spacing dMu, finer than a mode, or wider when that would take
// more than maxProfile points), scanMin over ln σ ∈ [sLo, sHi] gives the profile
// min_σ KL(Q‖P) (a scan first: at one μ a narrow σ on a mode and a wide one spanning both can
// both be dips). Then a Nelder–Mead search over (μ, ln σ) starts at each of the maxStarts
// lowest local minima of the profile (P's two modes and the valley between them give at most
// three basins), and the lowest end point wins. Minima equal within 1e-9 (the two modes of a
// symmetric P) go to the leftmost, so that the browser (whose math.Exp rounds differently)
// picks the same one. It also returns the refined minima, lowest first, and the profile.
func (g *gridTarget) seekFit(muLo, muHi, dMu, sLo, sHi float64) (Fit, []Fit, profile) {
	n := min(maxProfile, int(math.Ceil((muHi-muLo)/dMu))+1)
	pr := profile{Mu: linspace(muLo, muHi, n), S: make([]float64, n), KL: make([]float64, n)}
	for i, mu := range pr.Mu {
		pr.S[i], pr.KL[i] = scanMin(func(s float64) float64 { return g.div(false, mu, s) }, sLo, sHi, 10, 0.02)
	}
	var starts []int // the profile's local minima, lowest first
	for i := range pr.Mu {
		if (i == 0 || pr.KL[i] <= pr.KL[i-1]) && (i == n-1 || pr.KL[i] <= pr.KL[i+1]) {
			starts = append(starts, i)
		}
	}
	sort.SliceStable(starts, func(i, j int) bool { return pr.KL[starts[i]] < pr.KL[starts[j]] })
	var fits []Fit
	for _, i := range starts[:min(len(starts), maxStarts)] {
		v, f := nelderMead(func(mu, s float64) float64 { return g.div(false, mu, s) },
			[2]float64{pr.Mu[i], pr.S[i]}, [2]float64{dMu, 0.1}, 1e-12, 300)
		fits = append(fits, Fit{Mu: v[0], Sigma: math.Exp(v[1]), KL: f})
	}
	sort.SliceStable(fits, func(i, j int) bool { return fits[i].KL < fits[j].KL })
	best := fits[0]
	for _, f := range fits[1:] {
		if f.KL <= best.KL+1e-9*(1+math.Abs(best.KL)) && f.Mu < best.Mu {
			best = f
		}
	}
	return best, fits, pr
}

const (
	maxStarts  = 4  // Nelder–Mead searches from the profile's lowest local minima
	maxProfile = 81 // values of μ in the seeking landscape
)

// scanMin minimises f over [a, b]: it evaluates n evenly spaced points, then refines between
// the neighbours of the best one by golden-section search to tol. The scan keeps the search
// from settling in the worse of two dips that are further apart than (b − a)/(n − 1).
func scanMin(f func(float64) float64, a, b float64, n int, tol float64) (float64, float64) {
	xs := linspace(a, b, n)
	best, fb := 0, math.Inf(1)
	for i, x := range xs {
		if v := f(x); v < fb {
			best, fb = i, v
		}
	}
	x, fx := goldenMin(f, xs[max(0, best-1)], xs[min(n-1, best+1)], tol)
	if fx < fb {
		return x, fx
	}
	return xs[best], fb
}

// goldenMin minimises f over [a, b] by golden-section search until the bracket is shorter than
// tol; it returns the best point evaluated and its value.
func goldenMin(f func(float64) float64, a, b, tol float64) (float64, float64) {
	const r = 0.6180339887498949 // (√5 − 1)/2
	c, d := b-r*(b-a), a+r*(b-a)
	fc, fd := f(c), f(d)
	for b-a > tol {
		if fc <= fd {
			b, d, fd = d, c, fc
			c = b - r*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + r*(b-a)
			fd = f(d)
		}
	}
	if fc <= fd {
		return c, fc
	}
	return d, fd
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
