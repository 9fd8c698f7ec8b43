package estimators

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"klppo/internal/rng"
	"klppo/ppo"
)

// OptimiseConfig sets up plain gradient ascent θ ← θ + LR·g on θ from Problem.Logits.
type OptimiseConfig struct {
	// LR is the step size (1 by default: with rewards of order 1 and β ≤ 1 the curvature of J
	// in θ is below 1, so steps of 1 are stable).
	LR float64
	// MaxIter caps the iterations of the exact-gradient runs (200000 by default).
	MaxIter int
	// Tol stops an exact-gradient run when max_i |g_i| < Tol (1e-13 by default: near a fixed
	// point π moves by about |g|/(β·min π), so this puts π within ~1e-9 of it).
	Tol float64
	// Samples > 0 also runs each configuration with Monte Carlo gradients from Samples draws
	// x ~ π per step (0: exact expected gradients only).
	Samples int
	// SampledIter is the number of steps of a sampled run (20000 by default), SampledLR its step
	// size (0.05 by default); the reported π of a sampled run is the mean of π over its last
	// half (Polyak averaging), since the iterate itself keeps jittering.
	SampledIter int
	SampledLR   float64
	// Seed seeds the sampled runs; every configuration gets the same stream, so configurations
	// whose per-sample gradients are equal (k1-reward, k2-loss, k3-loss-is) walk the same path.
	Seed uint64
}

func (c OptimiseConfig) withDefaults() OptimiseConfig {
	if c.LR == 0 {
		c.LR = 1
	}
	if c.MaxIter == 0 {
		c.MaxIter = 200000
	}
	if c.Tol == 0 {
		c.Tol = 1e-13
	}
	if c.SampledIter == 0 {
		c.SampledIter = 20000
	}
	if c.SampledLR == 0 {
		c.SampledLR = 0.05
	}
	return c
}

// Point is one recorded iterate.
type Point struct {
	Iter      int
	KL        float64 // KL(π‖π_ref)
	KLForward float64 // KL(π_ref‖π)
	ExpectedR float64 // E_π[r]
}

// Run is where one configuration's gradient ascent ended.
type Run struct {
	Config     string
	Sampled    bool // Monte Carlo gradients (else exact expected gradients)
	Iterations int
	Converged  bool // exact runs: max|g| < Tol before MaxIter
	// Diverged: an arm's probability fell below e^(−DivergeLogProb) (k3-reward drives some arm
	// to 0, since its gradient field climbs β·KL(π_ref‖π), which is unbounded), or a step
	// lr·g overflowed float64 (lr far too large for β and the rewards); the run stops.
	Diverged  bool
	GradMax   float64 // max_i |g_i| at the end (exact runs)
	Pi        []float64
	ExpectedR float64
	KL        float64 // KL(π‖π_ref)
	KLForward float64 // KL(π_ref‖π)
	DistRev   float64 // max_x |π(x) − π*(x)|, π* ∝ π_ref·exp(r/β)
	DistFwd   float64 // max_x |π(x) − π_fwd(x)|, the forward-KL optimum
	Curve     []Point // KL and E_π[r] at roughly log-spaced iterations
}

// DivergeLogProb: a run whose smallest log π(x) falls below −DivergeLogProb is stopped as
// diverged (π(x) < 1e-300: the next steps would underflow to π(x) = 0, KL(π_ref‖π) = ∞).
const DivergeLogProb = 690

// recordAt reports whether iteration k is recorded: every one up to 100, then about 50 per decade.
func recordAt(k int) bool {
	if k <= 100 {
		return true
	}
	step := int(math.Pow(10, math.Floor(math.Log10(float64(k))))) / 50
	return k%step == 0
}

// Optimise runs gradient ascent with every configuration's exact expected gradient (and, with
// Samples > 0, with sampled gradients) from p.Logits.
func Optimise(p Problem, oc OptimiseConfig) ([]Run, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	oc = oc.withDefaults()
	if !(oc.LR > 0) || !(oc.SampledLR > 0) || !(oc.Tol > 0) || oc.MaxIter < 1 || oc.SampledIter < 1 || oc.Samples < 0 {
		return nil, fmt.Errorf("estimators: optimise: LR, SampledLR, Tol, MaxIter and SampledIter must be > 0 and Samples ≥ 0: %+v", oc)
	}
	piRev, err := ReverseOptimum(p)
	if err != nil {
		return nil, err
	}
	piFwd, err := ForwardOptimum(p)
	if err != nil {
		return nil, err
	}
	var runs []Run
	for _, name := range Configs {
		c, err := ppo.ParseKLRef(name, p.Beta)
		if err != nil {
			return nil, err
		}
		run, err := ascend(p, c, oc, nil)
		if err != nil {
			return nil, fmt.Errorf("estimators: optimise %s: %w", name, err)
		}
		runs = append(runs, run)
		if oc.Samples > 0 {
			draws := rng.New(oc.Seed, 1) // common random numbers: configurations with equal per-sample gradients walk the same path
			run, err := ascend(p, c, oc, draws)
			if err != nil {
				return nil, fmt.Errorf("estimators: optimise %s (sampled): %w", name, err)
			}
			runs = append(runs, run)
		}
	}
	for i := range runs {
		runs[i].DistRev, runs[i].DistFwd = maxAbsDiff(runs[i].Pi, piRev), maxAbsDiff(runs[i].Pi, piFwd)
	}
	return runs, nil
}

// ascend runs one configuration: exact expected gradients when draws is nil, else oc.Samples
// draws per step.
func ascend(p Problem, c ppo.KLRef, oc OptimiseConfig, draws *rand.Rand) (Run, error) {
	n := len(p.Logits)
	theta := append([]float64{}, p.Logits...)
	run := Run{Config: c.Name(), Sampled: draws != nil}
	iters, lr := oc.MaxIter, oc.LR
	if draws != nil {
		iters, lr = oc.SampledIter, oc.SampledLR
	}
	avg := make([]float64, n)
	var navg int
	g, gx, dRow := make([]float64, n), make([]float64, n), make([]float64, n)
	var s *state
	var err error
	k := 0
	for ; ; k++ {
		if s, err = newState(theta, p.RefLogits, p.Reward); err != nil {
			return run, err
		}
		if recordAt(k) || k == iters {
			run.Curve = append(run.Curve, Point{Iter: k, KL: s.klRev, KLForward: s.klFwd, ExpectedR: s.er})
		}
		if draws != nil && k >= iters/2 {
			for i, v := range s.pi {
				avg[i] += v
			}
			navg++
		}
		if k == iters {
			break
		}
		if slices.Min(s.lp) < -DivergeLogProb {
			run.Diverged = true
			if !recordAt(k) {
				run.Curve = append(run.Curve, Point{Iter: k, KL: s.klRev, KLForward: s.klFwd, ExpectedR: s.er})
			}
			break
		}
		if draws == nil {
			if g, err = s.expectedGrad(c); err != nil {
				return run, err
			}
			run.GradMax = 0
			for _, v := range g {
				run.GradMax = math.Max(run.GradMax, math.Abs(v))
			}
			if run.GradMax < oc.Tol {
				run.Converged = true
				if !recordAt(k) {
					run.Curve = append(run.Curve, Point{Iter: k, KL: s.klRev, KLForward: s.klFwd, ExpectedR: s.er})
				}
				break
			}
		} else {
			clear(g)
			for range oc.Samples {
				x := sampleIndex(draws, s.pi)
				if err := s.sampleGrad(c, x, gx, dRow); err != nil {
					return run, err
				}
				for i := range g {
					g[i] += gx[i] / float64(oc.Samples)
				}
			}
		}
		for i := range theta {
			theta[i] += lr * g[i]
		}
		top := slices.Max(theta) // softmax is shift-invariant: keep θ from overflowing
		for i := range theta {
			theta[i] -= top
		}
		if !allFinite(theta) { // the step overflowed float64 (lr·gradient too large): diverged
			run.Diverged = true
			if !recordAt(k) {
				run.Curve = append(run.Curve, Point{Iter: k, KL: s.klRev, KLForward: s.klFwd, ExpectedR: s.er})
			}
			break
		}
	}
	run.Iterations = k
	run.Pi, run.ExpectedR, run.KL, run.KLForward = s.pi, s.er, s.klRev, s.klFwd
	if draws != nil && navg > 0 {
		for i := range avg {
			avg[i] /= float64(navg)
		}
		end, err := newStateFromProbs(avg, p)
		if err != nil {
			return run, err
		}
		run.Pi, run.ExpectedR, run.KL, run.KLForward = end.pi, end.er, end.klRev, end.klFwd
	}
	return run, nil
}

// allFinite reports whether no value is NaN or ±Inf.
func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// newStateFromProbs is newState at θ = log π (π with no zero entries).
func newStateFromProbs(pi []float64, p Problem) (*state, error) {
	theta := make([]float64, len(pi))
	for i, v := range pi {
		theta[i] = math.Log(v)
	}
	return newState(theta, p.RefLogits, p.Reward)
}

// sampleIndex draws x ~ π by inversion.
func sampleIndex(src *rand.Rand, pi []float64) int {
	u := src.Float64()
	var c float64
	for i, v := range pi {
		c += v
		if u < c {
			return i
		}
	}
	return len(pi) - 1
}
