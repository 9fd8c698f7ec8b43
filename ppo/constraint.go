package ppo

import (
	"fmt"
	"math"
	"strings"
)

// KLConstraint measures how much a penalty with a KL target constrained a run: how often the
// update's KL d = KL(π_old‖π_new) (the kl column of metrics.csv) landed inside the adaptive
// rule's band, and how often β was free to act. Over the N updates of a run, with target d_targ
// and β bounds [β_min, β_max]:
//
//	KLInBandFrac    = #{updates with d_targ/1.5 ≤ d ≤ 1.5·d_targ} / N   (the rule leaves β unchanged)
//	KLBelowBandFrac = #{d < d_targ/1.5} / N                              (the rule halves β)
//	KLAboveBandFrac = #{d > 1.5·d_targ} / N                              (the rule doubles β)
//	KLMaxOverTarget = max d / d_targ                                     (the largest overshoot)
//	BetaActiveFrac  = #{updates whose β satisfied β_min < β < β_max} / N
//	BetaFloorFrac   = #{β ≤ β_min} / N,  BetaCeilingFrac = #{β ≥ β_max} / N
//
// β is the coefficient used during the update (the beta column). On its floor the penalty is
// switched off in effect (the KL is below target and cannot push β lower); on its ceiling the
// rule has lost control the other way. kl-adaptive and kl-prop have a target (the band is the
// one of kl-adaptive's rule; kl-prop's controller has no dead zone, but the same band measures how
// close it held the KL). The other penalties — clip, kl-fixed, none — have no target and no
// adaptive β: every field except Updates is NaN (null in summary.json). A +stop suffix does not
// change this: its KL is a limit, not a target.
type KLConstraint struct {
	Target                                         float64 // d_targ, NaN without a target
	Updates                                        int     // N
	KLInBandFrac, KLBelowBandFrac, KLAboveBandFrac float64
	KLMaxOverTarget                                float64
	BetaActiveFrac, BetaFloorFrac, BetaCeilingFrac float64
}

// klConstraintCounter accumulates KLConstraint one update at a time (Train keeps one per run).
type klConstraintCounter struct {
	target, betaMin, betaMax                 float64
	n, in, below, above, active, floor, ceil int
	maxKL                                    float64
}

func newKLConstraintCounter(pen Penalty, betaMin, betaMax float64) *klConstraintCounter {
	c := &klConstraintCounter{target: math.NaN(), betaMin: math.NaN(), betaMax: math.NaN()}
	if pen.HasTarget() {
		c.target, c.betaMin, c.betaMax = pen.Value, betaMin, betaMax
	}
	return c
}

// add counts one update with KL d and β beta.
func (c *klConstraintCounter) add(d, beta float64) {
	c.n++
	if math.IsNaN(c.target) {
		return
	}
	switch adaptiveBand(d, c.target) {
	case -1:
		c.below++
	case 1:
		c.above++
	default:
		c.in++
	}
	if c.n == 1 || d > c.maxKL {
		c.maxKL = d
	}
	switch {
	case beta <= c.betaMin:
		c.floor++
	case beta >= c.betaMax:
		c.ceil++
	default:
		c.active++
	}
}

func (c *klConstraintCounter) result() KLConstraint {
	k := KLConstraint{Target: c.target, Updates: c.n}
	nan := math.NaN()
	if math.IsNaN(c.target) || c.n == 0 {
		k.KLInBandFrac, k.KLBelowBandFrac, k.KLAboveBandFrac, k.KLMaxOverTarget = nan, nan, nan, nan
		k.BetaActiveFrac, k.BetaFloorFrac, k.BetaCeilingFrac = nan, nan, nan
		return k
	}
	n := float64(c.n)
	k.KLInBandFrac, k.KLBelowBandFrac, k.KLAboveBandFrac = float64(c.in)/n, float64(c.below)/n, float64(c.above)/n
	k.KLMaxOverTarget = c.maxKL / c.target
	k.BetaActiveFrac, k.BetaFloorFrac, k.BetaCeilingFrac = float64(c.active)/n, float64(c.floor)/n, float64(c.ceil)/n
	return k
}

// MeasureKLConstraint computes the KLConstraint of the updates ms (rows of metrics.csv) of a run
// with penalty pen and β bounds [betaMin, betaMax] (config.json's beta_min, beta_max).
func MeasureKLConstraint(ms []UpdateMetrics, pen Penalty, betaMin, betaMax float64) KLConstraint {
	c := newKLConstraintCounter(pen, betaMin, betaMax)
	for _, m := range ms {
		c.add(m.KL, m.Beta)
	}
	return c.result()
}

// pct formats a fraction as a whole percentage.
func pct(f float64) string { return fmt.Sprintf("%.0f %%", 100*f) }

// Describe says in words and numbers how much the KL constrained a run with penalty pen and β
// bounds [betaMin, betaMax], for the end-of-run report: the band and how often the KL was in it,
// below and above it, the largest overshoot, and how often β was on its floor, between its
// bounds, or on its ceiling. For a penalty without a target it says so.
func (k KLConstraint) Describe(pen Penalty, betaMin, betaMax float64) string {
	if math.IsNaN(k.Target) {
		switch pen.Kind {
		case PenaltyKLFixed:
			return fmt.Sprintf("%s has no KL target: β stays %g and the KL per update is whatever that β allows (the table above).", pen, pen.Value)
		case PenaltyClip:
			return fmt.Sprintf("%s has no KL target: the clipped ratio limits each update instead (the clipfrac column above).", pen)
		}
		return fmt.Sprintf("%s has no KL target and no KL term: nothing constrains the updates.", pen)
	}
	if k.Updates == 0 {
		return "no update finished: nothing to report about the KL."
	}
	var b strings.Builder
	lo, hi := k.Target/1.5, 1.5*k.Target
	fmt.Fprintf(&b, "How much the KL constrained the run (d_targ = %g, band [%.3g, %.3g]): the update's KL was in the band in %s of the %d updates, below it in %s, above it in %s; the largest was %.1f× d_targ.\n",
		k.Target, lo, hi, pct(k.KLInBandFrac), k.Updates, pct(k.KLBelowBandFrac), pct(k.KLAboveBandFrac), k.KLMaxOverTarget)
	fmt.Fprintf(&b, "β was off its floor %g and ceiling %g in %s of the updates (on the floor in %s, on the ceiling in %s). ",
		betaMin, betaMax, pct(k.BetaActiveFrac), pct(k.BetaFloorFrac), pct(k.BetaCeilingFrac))
	switch {
	case k.BetaFloorFrac >= 0.5:
		b.WriteString("The KL stayed below its target and β on its floor for most of the run: the penalty was switched off in effect.")
	case k.BetaCeilingFrac >= 0.5:
		b.WriteString("β was stuck at its ceiling for most of the run: the penalty could not hold the KL down.")
	case k.BetaActiveFrac >= 0.8 && k.KLInBandFrac >= 0.5:
		b.WriteString("The penalty did the work: β rose and fell to hold the KL near its target for most of the run.")
	case k.BetaActiveFrac >= 0.8:
		b.WriteString("β was free to act throughout, but the KL left the band more often than not.")
	default:
		b.WriteString("The penalty was at work for part of the run only.")
	}
	return b.String()
}
