package ppo

import (
	"fmt"
	"math"
)

// BetaController adapts the coefficient β of a KL penalty β·KL between updates from the mean
// exact KL d that the update produced. Implementations are small value types without state
// besides their parameters: β itself is kept by the caller (and checkpointed with the run).
type BetaController interface {
	// Next returns β for the next update, given the β of this update, the mean KL d measured
	// after it and the number n of samples (environment steps or tokens) it used. A non-finite
	// d leaves β unchanged.
	Next(beta, d float64, n int) float64
}

// Compile-time checks that the controllers implement BetaController.
var (
	_ BetaController = FixedBeta{}
	_ BetaController = AdaptiveBeta{}
	_ BetaController = ProportionalBeta{}
	_ BetaController = BoundedBeta{}
)

// FixedBeta keeps β constant (kl-fixed; also the rule of objectives without a KL term).
type FixedBeta struct{}

// Next returns beta.
func (FixedBeta) Next(beta, d float64, n int) float64 { return beta }

// AdaptiveBeta is the adaptive rule of the PPO paper (Schulman et al. 2017, §4) with target
// KL d_targ = Target:
//
//	d < d_targ/1.5  →  β ← β/2
//	d > 1.5·d_targ  →  β ← 2β
//	otherwise        β unchanged
type AdaptiveBeta struct {
	Target float64 // d_targ > 0
}

// Next applies the rule.
func (a AdaptiveBeta) Next(beta, d float64, n int) float64 {
	if !finite(d) {
		return beta
	}
	switch adaptiveBand(d, a.Target) {
	case -1:
		return beta / 2
	case 1:
		return beta * 2
	}
	return beta
}

// adaptiveBand places the KL d against the adaptive rule's band [target/1.5, 1.5·target]: −1
// below it (the rule halves β), +1 above it (the rule doubles β), 0 inside (β is kept).
func adaptiveBand(d, target float64) int {
	switch {
	case d < target/1.5:
		return -1
	case d > target*1.5:
		return 1
	}
	return 0
}

// ProportionalBeta is the proportional controller of Ziegler et al. (2019), TRL's
// AdaptiveKLController, with target d_targ = Target and horizon H = Horizon:
//
//	e = clip(d/d_targ − 1, −0.2, 0.2)
//	β ← β·(1 + e·n/H)
type ProportionalBeta struct {
	Target  float64 // d_targ > 0
	Horizon float64 // H > 0, in samples
}

// Next applies the rule.
func (p ProportionalBeta) Next(beta, d float64, n int) float64 {
	if !finite(d) {
		return beta
	}
	e := d/p.Target - 1
	e = math.Max(-0.2, math.Min(0.2, e))
	return beta * (1 + e*float64(n)/p.Horizon)
}

// BoundedBeta applies Rule and then clamps β to [Min, Max]:
// β ← max(Min, min(Max, Rule.Next(β, d, n))). The published adaptive rules have no bounds;
// without a floor a run whose KL stays below target halves β towards 1e-300 and then needs
// hundreds of updates to react.
type BoundedBeta struct {
	Rule     BetaController
	Min, Max float64
}

// Next applies Rule and clamps.
func (b BoundedBeta) Next(beta, d float64, n int) float64 {
	return math.Max(b.Min, math.Min(b.Max, b.Rule.Next(beta, d, n)))
}

// BetaRule names a β controller.
type BetaRule string

// The β rules. Every adaptive rule is bounded to [min, max] (BoundedBeta).
const (
	BetaFixed    BetaRule = "fixed"    // FixedBeta
	BetaAdaptive BetaRule = "adaptive" // AdaptiveBeta, the PPO paper's halve/double
	BetaProp     BetaRule = "prop"     // ProportionalBeta, Ziegler et al. / TRL
)

// The default bounds of the adaptive rules: wide enough never to bind on a run whose KL the rule
// controls, and a floor from which a halved β recovers in a few doublings.
const (
	DefaultBetaMin = 1e-4
	DefaultBetaMax = 1e4
)

// NewBetaController is the one constructor of the β rules: FixedBeta for BetaFixed, and for
// BetaAdaptive (target d_targ) and BetaProp (target d_targ, horizon H in samples) the rule
// bounded to [betaMin, betaMax]. Parameters a rule does not use are ignored. The errors name
// the parameter: target, horizon, beta_min or beta_max.
func NewBetaController(rule BetaRule, target, horizon, betaMin, betaMax float64) (BetaController, error) {
	positive := func(name string, v float64) error {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v: want a finite number > 0 for the %s β rule", name, v, rule)
		}
		return nil
	}
	switch rule {
	case BetaFixed:
		return FixedBeta{}, nil
	case BetaAdaptive, BetaProp:
	default:
		return nil, fmt.Errorf("β rule %q: want fixed, adaptive or prop", rule)
	}
	if err := positive("target", target); err != nil {
		return nil, err
	}
	if !(betaMin >= 0) || math.IsInf(betaMin, 0) {
		return nil, fmt.Errorf("beta_min %v: want a finite number ≥ 0", betaMin)
	}
	if !(betaMax > betaMin) { // +Inf: no ceiling
		return nil, fmt.Errorf("beta_max %v: want a number > beta_min (%v)", betaMax, betaMin)
	}
	if rule == BetaAdaptive {
		return BoundedBeta{Rule: AdaptiveBeta{Target: target}, Min: betaMin, Max: betaMax}, nil
	}
	if err := positive("horizon", horizon); err != nil {
		return nil, err
	}
	return BoundedBeta{Rule: ProportionalBeta{Target: target, Horizon: horizon}, Min: betaMin, Max: betaMax}, nil
}

// BetaController returns the β rule of the penalty (NewBetaController): the adaptive rule with
// target Value for kl-adaptive, the proportional rule with target Value and the horizon for
// kl-prop, both bounded to [betaMin, betaMax], and FixedBeta for every other kind.
func (p Penalty) BetaController(horizon, betaMin, betaMax float64) (BetaController, error) {
	switch p.Kind {
	case PenaltyKLAdaptive:
		return NewBetaController(BetaAdaptive, p.Value, horizon, betaMin, betaMax)
	case PenaltyKLProp:
		return NewBetaController(BetaProp, p.Value, horizon, betaMin, betaMax)
	}
	return FixedBeta{}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
