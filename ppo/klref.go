package ppo

// RLHF's KL to a frozen reference, KL(π‖π_ref), per generated token: which estimator, and where
// it goes (reward or loss). This is NOT PPO's trust-region KL(π_old‖π_θ) (see Penalty): π_ref
// never changes during training, π_old is refreshed every update.
//
// The estimator values come from package kl (kl.Estimator.RLHF); this file only places them.

import (
	"fmt"
	"math"
	"strings"

	"klppo/kl"
)

// KLRefPlacement says where β·KL enters the objective (flag values of --kl-in).
type KLRefPlacement string

const (
	// KLInReward subtracts β·k (held constant: stop-gradient) from the token's reward, so the
	// KL reaches θ only through the score function, like any reward (TRL PPO, OpenRLHF default,
	// verl use_kl_in_reward, trlx).
	KLInReward KLRefPlacement = "reward"
	// KLInLoss adds β·k to the minimised loss and differentiates it through log π(x) with the
	// token x held fixed (GRPO, verl use_kl_loss, OpenRLHF use_kl_loss).
	KLInLoss KLRefPlacement = "loss"
)

// KLRef is one placement of RLHF's KL(π‖π_ref) penalty. Its estimator of one token's
// KL(π(·|s)‖π_ref(·|s)) is a kl.Estimator; with l = log π(x|s) − log π_ref(x|s) for the sampled
// token x ~ π:
//
//	k1:    l                       (unbiased, can be negative)
//	k2:    ½l²                     (≥ 0, biased)
//	k3:    e^(−l) − 1 + l          (≥ 0, unbiased as a value)
//	exact: Σ_y π(y|s)·(log π(y|s) − log π_ref(y|s)) over the whole vocabulary (no sampling)
//
// KLRef is one placement of the penalty. On-policy (x ~ π), the expected gradient
// of each placement, for a softmax policy, is (verified by enumeration in experiments/estimators):
//
//	k1 in the reward, k2 in the loss, IS·k3 in the loss, exact in the loss:  −β·∇KL(π‖π_ref) (what RLHF means)
//	k3 in the loss:    −β·∇KL(π_ref‖π)   (the forward, mode-covering KL)
//	k1 in the loss:    0                  (no leash at all)
//	k3 in the reward:  −β·(∇KL(π‖π_ref) − ∇KL(π_ref‖π))
//	k2 in the reward:  −β·Cov_π(½l², ∇log π), the gradient of no KL
type KLRef struct {
	Estimator kl.Estimator
	In        KLRefPlacement
	// ImportanceWeighted multiplies the loss term by w = π(x)/sg(π_old(x)) (DeepSeek-V3.2, TRL
	// GRPO's use_bias_correction_kl). On-policy w = 1 in value but not in gradient: IS·k3 in the
	// loss follows ∇KL(π‖π_ref). Only with In = loss and a sampled estimator (k1, k2, k3).
	ImportanceWeighted bool
	// Beta (β ≥ 0) scales the penalty.
	Beta float64
}

// KLRefToken is what a trainer knows about one generated token x at one position s.
type KLRefToken struct {
	LogPi  float64 // log π_θ(x|s) under the policy being trained
	LogRef float64 // log π_ref(x|s) under the frozen reference
	// LogOld is log π_old(x|s) of the policy that sampled x (equal to LogPi on-policy); used only
	// when ImportanceWeighted.
	LogOld float64
	// LogPiRow and LogRefRow are log π_θ(·|s) and log π_ref(·|s) over the whole vocabulary; used
	// only by the exact estimator.
	LogPiRow, LogRefRow []float64
}

// ParseKLRef parses a configuration name: ESTIMATOR-PLACEMENT[-is], e.g. "k1-reward",
// "k3-loss", "k3-loss-is", "exact-loss" (the names klppo rlhf estimators prints), with β = beta.
func ParseKLRef(name string, beta float64) (KLRef, error) {
	c := KLRef{Beta: beta}
	rest, is := strings.CutSuffix(strings.TrimSpace(name), "-is")
	c.ImportanceWeighted = is
	est, in, ok := strings.Cut(rest, "-")
	if !ok {
		return KLRef{}, fmt.Errorf("kl-ref %q: want ESTIMATOR-PLACEMENT[-is] such as k1-reward, k3-loss-is or exact-loss", name)
	}
	e, err := kl.ParseEstimator(est)
	if err != nil {
		return KLRef{}, fmt.Errorf("kl-ref %q: %w", name, err)
	}
	c.Estimator, c.In = e, KLRefPlacement(in)
	if err := c.Validate(); err != nil {
		return KLRef{}, fmt.Errorf("kl-ref %q: %w", name, err)
	}
	return c, nil
}

// Name returns the configuration name, e.g. "k3-loss-is".
func (c KLRef) Name() string {
	s := c.Estimator.String() + "-" + string(c.In)
	if c.ImportanceWeighted {
		s += "-is"
	}
	return s
}

// Validate checks the estimator, the placement, the IS flag and β.
func (c KLRef) Validate() error {
	if !c.Estimator.Sampled() && c.Estimator != kl.Exact {
		return fmt.Errorf("kl estimator %v: want k1, k2, k3 or exact", c.Estimator)
	}
	switch c.In {
	case KLInReward, KLInLoss:
	default:
		return fmt.Errorf("kl placement %q: want reward or loss", c.In)
	}
	if c.ImportanceWeighted && (c.In != KLInLoss || c.Estimator == kl.Exact) {
		return fmt.Errorf("importance weighting (-is) applies to a sampled estimator in the loss, not %s-%s", c.Estimator, c.In)
	}
	if !(c.Beta >= 0) || math.IsInf(c.Beta, 1) {
		return fmt.Errorf("kl beta = %g: must be finite and ≥ 0", c.Beta)
	}
	return nil
}

// KL returns the token's estimate of KL(π(·|s)‖π_ref(·|s)) in nats (not multiplied by β),
// for logging and for β controllers.
func (c KLRef) KL(t KLRefToken) (float64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if c.Estimator == kl.Exact {
		v, err := kl.KLLogits(t.LogPiRow, t.LogRefRow) // log-probabilities are valid logits
		if err != nil {
			return 0, fmt.Errorf("exact token KL (log_pi_row, log_ref_row): %w", err)
		}
		return v, nil
	}
	if math.IsNaN(t.LogPi) || math.IsNaN(t.LogRef) {
		return 0, fmt.Errorf("token log-probabilities log_pi = %g, log_ref = %g: must not be NaN", t.LogPi, t.LogRef)
	}
	v, _ := c.Estimator.RLHF(t.LogPi, t.LogRef)
	return v, nil
}

// RewardPenalty returns β·k for KLInReward (0 for KLInLoss): the shaped token reward is
// r_t − RewardPenalty, and the value is a constant for the optimiser (stop-gradient).
func (c KLRef) RewardPenalty(t KLRefToken) (float64, error) {
	if c.In != KLInReward {
		return 0, c.Validate()
	}
	v, err := c.KL(t)
	if err != nil {
		return 0, err
	}
	return c.Beta * v, nil
}

// LossTerm returns, for KLInLoss, the term added to the minimised loss for this token and its
// gradient coefficients (zeros for KLInReward):
//
//   - value = β·w·k(l), with w = exp(LogPi − LogOld) when ImportanceWeighted, else 1;
//   - dLogPi = ∂value/∂log π(x) with the token x fixed: β·k′(l) (k′ = 1, l, 1 − e^(−l) for
//     k1, k2, k3), or β·w·(k(l) + k′(l)) when ImportanceWeighted. A trainer can implement the
//     term as the surrogate sg(dLogPi)·log π(x), which has the same gradient;
//   - for the exact estimator dLogPi = 0 and dRow (len = vocabulary, may be nil otherwise)
//     receives ∂value/∂z_y = β·π(y)·(log π(y) − log π_ref(y) − KL) for the logits z of π(·|s),
//     equally usable as constant weights on log π(y).
func (c KLRef) LossTerm(t KLRefToken, dRow []float64) (value, dLogPi float64, err error) {
	clear(dRow)
	if err := c.Validate(); err != nil {
		return 0, 0, err
	}
	if c.In != KLInLoss {
		return 0, 0, nil
	}
	if c.Estimator == kl.Exact {
		v, err := c.KL(t)
		if err != nil {
			return 0, 0, err
		}
		if len(dRow) != len(t.LogPiRow) {
			return 0, 0, fmt.Errorf("exact KL loss: len(dRow) = %d, want the vocabulary size %d", len(dRow), len(t.LogPiRow))
		}
		for y, lp := range t.LogPiRow {
			if p := math.Exp(lp); p > 0 {
				dRow[y] = c.Beta * p * (lp - t.LogRefRow[y] - v)
			}
		}
		return c.Beta * v, 0, nil
	}
	k, err := c.KL(t)
	if err != nil {
		return 0, 0, err
	}
	_, dk := c.Estimator.RLHF(t.LogPi, t.LogRef)
	if !c.ImportanceWeighted {
		return c.Beta * k, c.Beta * dk, nil
	}
	if math.IsNaN(t.LogOld) {
		return 0, 0, fmt.Errorf("token log_old = NaN: importance weighting needs log π_old(x)")
	}
	w := math.Exp(t.LogPi - t.LogOld)
	return c.Beta * w * k, c.Beta * w * (k + dk), nil
}
