package estimators

import (
	"fmt"
	"math"

	"klppo/kl"
	"klppo/ppo"
)

// Configs are the configuration names in the order they are printed (ppo.ParseKLRef reads them).
var Configs = []string{"k1-reward", "k2-reward", "k3-reward", "k1-loss", "k2-loss", "k3-loss", "k3-loss-is", "exact-loss"}

// Problem is one categorical decision.
type Problem struct {
	Logits    []float64 // θ: π = softmax(θ)
	RefLogits []float64 // θ_ref: π_ref = softmax(θ_ref), frozen
	Reward    []float64 // r(x) per arm
	Beta      float64   // β > 0: weight of KL(π‖π_ref) in J
}

// Default is the 5-armed example of `klppo rlhf estimators` without flags: the reference
// prefers arms 0–2, the reward prefers arm 4 (which π_ref gives 3%), and π starts uniform, away
// from π_ref, so the KL gradients differ from the start.
func Default() Problem {
	return Problem{
		Logits:    []float64{0, 0, 0, 0, 0},
		RefLogits: []float64{1, 0.5, 0, -0.5, -2},
		Reward:    []float64{0.2, 0, 0.5, 0.1, 1},
		Beta:      0.3,
	}
}

// InputError names the invalid field of a Problem: "logits", "ref_logits", "reward" or "beta".
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return "estimators: " + e.Field + ": " + e.Reason }

// Bounds of a Problem's numbers, so that every quantity reported is representable in float64:
// logits within ±MaxLogit keep every probability and probability ratio above e^(−2·MaxLogit),
// and rewards and β within MaxScale keep β·KL and r/β finite.
const (
	MaxLogit = 150
	MaxScale = 1e6
)

// Validate checks lengths (equal, ≥ 2), finiteness, |logits| ≤ MaxLogit, |r| ≤ MaxScale and
// 0 < β ≤ MaxScale.
func (p Problem) Validate() error {
	for _, f := range []struct {
		name string
		v    []float64
	}{{"logits", p.Logits}, {"ref_logits", p.RefLogits}, {"reward", p.Reward}} {
		if len(f.v) < 2 {
			return &InputError{f.name, fmt.Sprintf("%d values: need at least 2 arms", len(f.v))}
		}
		if len(f.v) != len(p.Logits) {
			return &InputError{f.name, fmt.Sprintf("lengths differ: %d values here, %d logits", len(f.v), len(p.Logits))}
		}
		for i, x := range f.v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return &InputError{f.name, fmt.Sprintf("value %d is %g: must be finite", i, x)}
			}
			if bound := map[bool]float64{true: MaxScale, false: MaxLogit}[f.name == "reward"]; math.Abs(x) > bound {
				return &InputError{f.name, fmt.Sprintf("value %d is %g: must be within ±%g", i, x, bound)}
			}
		}
	}
	if !(p.Beta > 0) || p.Beta > MaxScale {
		return &InputError{"beta", fmt.Sprintf("must be in (0, %g]", float64(MaxScale))}
	}
	return nil
}

// state holds the distributions at one θ.
type state struct {
	lp, lr, pi, piRef, r []float64
	klRev, klFwd, er     float64
}

func newState(theta, refLogits, reward []float64) (*state, error) {
	lp, err := kl.LogSoftmax(theta)
	if err != nil {
		return nil, fmt.Errorf("estimators: logits: %w", err)
	}
	lr, err := kl.LogSoftmax(refLogits)
	if err != nil {
		return nil, fmt.Errorf("estimators: ref_logits: %w", err)
	}
	s := &state{lp: lp, lr: lr, r: reward}
	if s.pi, err = kl.Softmax(theta); err != nil {
		return nil, fmt.Errorf("estimators: logits: %w", err)
	}
	if s.piRef, err = kl.Softmax(refLogits); err != nil {
		return nil, fmt.Errorf("estimators: ref_logits: %w", err)
	}
	for i, p := range s.pi {
		s.er += p * reward[i]
	}
	if s.klRev, err = kl.KLLogits(theta, refLogits); err != nil {
		return nil, fmt.Errorf("estimators: KL(π‖π_ref): %w", err)
	}
	if s.klFwd, err = kl.KLLogits(refLogits, theta); err != nil {
		return nil, fmt.Errorf("estimators: KL(π_ref‖π): %w", err)
	}
	return s, nil
}

// gradReward, gradKLRev and gradKLFwd are the closed-form gradients in θ (see the package doc).
func (s *state) gradReward() []float64 {
	g := make([]float64, len(s.pi))
	for i, p := range s.pi {
		g[i] = p * (s.r[i] - s.er)
	}
	return g
}

func (s *state) gradKLRev() []float64 {
	g := make([]float64, len(s.pi))
	for i, p := range s.pi {
		g[i] = p * (s.lp[i] - s.lr[i] - s.klRev)
	}
	return g
}

func (s *state) gradKLFwd() []float64 {
	g := make([]float64, len(s.pi))
	for i, p := range s.pi {
		g[i] = p - s.piRef[i]
	}
	return g
}

// sampleGrad writes into g the gradient in θ of configuration c's maximised surrogate for one
// sample x (x held fixed, sg π = π), using ppo.KLRef as a token-level RLHF trainer would:
// (r(x) − RewardPenalty − dLogPi)·(e_x − π) − dRow. dRow is scratch of the support's size.
func (s *state) sampleGrad(c ppo.KLRef, x int, g, dRow []float64) error {
	tok := ppo.KLRefToken{LogPi: s.lp[x], LogRef: s.lr[x], LogOld: s.lp[x], LogPiRow: s.lp, LogRefRow: s.lr}
	pen, err := c.RewardPenalty(tok)
	if err != nil {
		return err
	}
	_, d, err := c.LossTerm(tok, dRow)
	if err != nil {
		return err
	}
	coef := s.r[x] - pen - d
	for i, p := range s.pi {
		score := -p
		if i == x {
			score++
		}
		g[i] = coef*score - dRow[i]
	}
	return nil
}

// expectedGrad returns E_x~π of sampleGrad, by enumeration.
func (s *state) expectedGrad(c ppo.KLRef) ([]float64, error) {
	n := len(s.pi)
	g, gx, dRow := make([]float64, n), make([]float64, n), make([]float64, n)
	for x, p := range s.pi {
		if err := s.sampleGrad(c, x, gx, dRow); err != nil {
			return nil, err
		}
		for i := range g {
			g[i] += p * gx[i]
		}
	}
	return g, nil
}

// Follows says which objective's gradient a configuration's expected gradient equals.
type Follows string

const (
	FollowsReverse     Follows = "reverse"               // ∇E[r] − β·∇KL(π‖π_ref) = ∇J
	FollowsForward     Follows = "forward"               // ∇E[r] − β·∇KL(π_ref‖π)
	FollowsNone        Follows = "none"                  // ∇E[r]: no KL gradient
	FollowsDifference  Follows = "reverse-minus-forward" // ∇E[r] − β·(∇KL(π‖π_ref) − ∇KL(π_ref‖π))
	FollowsOther       Follows = "other"                 // none of these
	FollowsInseparable Follows = "all"                   // π = π_ref: every KL gradient is 0 here
)

// A configuration follows a candidate when ‖g − candidate‖ ≤ matchTolerance·(‖candidate‖ +
// ‖∇E[r]‖); the KL gradients count as 0 (π = π_ref) below inseparableGradNorm.
const (
	matchTolerance      = 1e-9
	inseparableGradNorm = 1e-12
)

// Verdict is the plain-language reading of f.
func (f Follows) Verdict() string {
	switch f {
	case FollowsReverse:
		return "follows ∇J: the reverse KL(π‖π_ref) that RLHF means"
	case FollowsForward:
		return "follows the forward KL(π_ref‖π) (mode-covering), not J"
	case FollowsNone:
		return "no KL gradient at all: only the reward is climbed"
	case FollowsDifference:
		return "follows ∇KL(π‖π_ref) − ∇KL(π_ref‖π): neither KL"
	case FollowsInseparable:
		return "π = π_ref here, every KL gradient is 0: move θ away from θ_ref to tell them apart"
	}
	return "follows no KL: a biased direction"
}

// ConfigGrad is one configuration's exact expected gradient and how it compares with ∇J.
type ConfigGrad struct {
	Name      string
	Grad      []float64
	Cosine    float64 // cos(Grad, ∇J)
	NormRatio float64 // ‖Grad‖ / ‖∇J‖
	Follows   Follows
}

// Exact is the enumerated analysis of a Problem at θ.
type Exact struct {
	Pi, PiRef     []float64
	KLReverse     float64 // KL(π‖π_ref)
	KLForward     float64 // KL(π_ref‖π)
	ExpectedR     float64 // E_π[r]
	J             float64 // E_π[r] − β·KL(π‖π_ref)
	GradReward    []float64
	GradTrue      []float64 // ∇J
	GradKLReverse []float64 // ∇KL(π‖π_ref)
	GradKLForward []float64 // ∇KL(π_ref‖π)
	Configs       []ConfigGrad
	Optimum       []float64 // π* ∝ π_ref·exp(r/β), the maximiser of J
	ForwardOpt    []float64 // maximiser of E_π[r] − β·KL(π_ref‖π)
}

// Analyse computes every configuration's exact expected gradient at p.Logits and the
// reference gradients and optima.
func Analyse(p Problem) (*Exact, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	s, err := newState(p.Logits, p.RefLogits, p.Reward)
	if err != nil {
		return nil, err
	}
	e := &Exact{Pi: s.pi, PiRef: s.piRef, KLReverse: s.klRev, KLForward: s.klFwd, ExpectedR: s.er,
		J: s.er - p.Beta*s.klRev, GradReward: s.gradReward(), GradKLReverse: s.gradKLRev(), GradKLForward: s.gradKLFwd()}
	n := len(s.pi)
	e.GradTrue = make([]float64, n)
	cand := map[Follows][]float64{FollowsReverse: e.GradTrue, FollowsNone: e.GradReward,
		FollowsForward: make([]float64, n), FollowsDifference: make([]float64, n)}
	for i := range e.GradTrue {
		e.GradTrue[i] = e.GradReward[i] - p.Beta*e.GradKLReverse[i]
		cand[FollowsForward][i] = e.GradReward[i] - p.Beta*e.GradKLForward[i]
		cand[FollowsDifference][i] = e.GradReward[i] - p.Beta*(e.GradKLReverse[i]-e.GradKLForward[i])
	}
	inseparable := norm(e.GradKLReverse) < inseparableGradNorm && norm(e.GradKLForward) < inseparableGradNorm
	for _, name := range Configs {
		c, err := ppo.ParseKLRef(name, p.Beta)
		if err != nil {
			return nil, err
		}
		g, err := s.expectedGrad(c)
		if err != nil {
			return nil, fmt.Errorf("estimators: %s: %w", name, err)
		}
		cg := ConfigGrad{Name: name, Grad: g, Cosine: cosine(g, e.GradTrue), NormRatio: norm(g) / norm(e.GradTrue), Follows: FollowsOther}
		if inseparable {
			cg.Follows = FollowsInseparable
		} else {
			for _, f := range []Follows{FollowsReverse, FollowsForward, FollowsNone, FollowsDifference} {
				if dist(g, cand[f]) <= matchTolerance*(norm(cand[f])+norm(e.GradReward)+1e-300) {
					cg.Follows = f
					break
				}
			}
		}
		e.Configs = append(e.Configs, cg)
	}
	if e.Optimum, err = ReverseOptimum(p); err != nil {
		return nil, err
	}
	if e.ForwardOpt, err = ForwardOptimum(p); err != nil {
		return nil, err
	}
	return e, nil
}

// ExpectedSurrogate is the enumerated expected surrogate of configuration name at θ with samples
// drawn from π_old = softmax(thetaOld) (and sg π = π_old): Σ_x π_old(x)·s(x; θ), written
// directly from the definitions with kl.Estimator (independently of ppo.KLRef). Its gradient
// in θ at θ = θ_old is the configuration's exact expected gradient.
func ExpectedSurrogate(p Problem, name string, theta, thetaOld []float64) (float64, error) {
	c, err := ppo.ParseKLRef(name, p.Beta)
	if err != nil {
		return 0, err
	}
	cur, err := newState(theta, p.RefLogits, p.Reward)
	if err != nil {
		return 0, err
	}
	old, err := newState(thetaOld, p.RefLogits, p.Reward)
	if err != nil {
		return 0, err
	}
	est := c.Estimator
	var sum float64
	for x, w := range old.pi {
		s := p.Reward[x] * cur.lp[x]
		switch {
		case c.In == ppo.KLInReward: // the estimate at the sampling policy, a constant
			s -= p.Beta * est.Sample(old.lr[x]-old.lp[x]) * cur.lp[x]
		case c.Estimator == kl.Exact:
		case c.ImportanceWeighted:
			s -= p.Beta * math.Exp(cur.lp[x]-old.lp[x]) * est.Sample(cur.lr[x]-cur.lp[x])
		default:
			s -= p.Beta * est.Sample(cur.lr[x]-cur.lp[x])
		}
		sum += w * s
	}
	if c.Estimator == kl.Exact {
		sum -= p.Beta * cur.klRev
	}
	return sum, nil
}

// Objective returns J(θ) = E_π[r] − β·KL(π‖π_ref) and the forward-KL objective
// E_π[r] − β·KL(π_ref‖π) at θ.
func Objective(p Problem, theta []float64) (j, jForward float64, err error) {
	s, err := newState(theta, p.RefLogits, p.Reward)
	if err != nil {
		return 0, 0, err
	}
	return s.er - p.Beta*s.klRev, s.er - p.Beta*s.klFwd, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func norm(a []float64) float64 { return math.Sqrt(dot(a, a)) }

func cosine(a, b []float64) float64 { return dot(a, b) / (norm(a) * norm(b)) }

// Norm is the Euclidean norm ‖a‖ (used for the ‖g‖/‖∇J‖ column).
func Norm(a []float64) float64 { return norm(a) }

// Cosine is a·b/(‖a‖‖b‖), NaN when either is 0 (used for the cos-to-∇J column).
func Cosine(a, b []float64) float64 { return cosine(a, b) }

func dist(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(s)
}

// maxAbsDiff is the L∞ distance between two distributions.
func maxAbsDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
