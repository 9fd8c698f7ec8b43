package ppo

import (
	"math"

	"klppo/nn"

	G "gorgonia.org/gorgonia"
)

// PolicyLossInputs are the per-sample nodes, each of shape (B,), that a PPO policy loss is
// built from. They are independent of where the samples come from: states of a gym rollout or
// tokens of a language model's completion.
type PolicyLossInputs struct {
	LogP    *G.Node // log π_θ(a|s) under the parameters being trained (carries the gradient)
	OldLogP *G.Node // log π_old(a|s) recorded when the sample was collected (an input)
	Adv     *G.Node // advantage A of the sample (an input)
	// KL is the per-sample KL(π_old(·|s) ‖ π_θ(·|s)) for the kl-* penalties (nil is allowed for
	// clip and none). The mean of KL is also returned for logging when it is set.
	KL *G.Node
	// Beta is the scalar β of the kl-* penalties (an input, so a β controller can change it
	// between updates without rebuilding the graph); nil is allowed for clip and none.
	Beta *G.Node
	// Weights (optional, (B,)) turn every mean over the samples into the weighted sum
	// Σ_i w_i·x_i (GRPO's loss normalisations); nil means the plain mean.
	Weights *G.Node
	// Segments (optional, (B, B)) makes the importance ratio a sequence's: sample i's log-ratio
	// is Σ_j S_ij·(log π_θ − log π_old)_j. With S_ij = 1 when i and j belong to the same
	// sequence (0 otherwise) every token carries r = π_θ(y)/π_old(y) of its whole completion y,
	// the ratio of RLOO's one action per completion; nil means the per-sample ratio.
	Segments *G.Node
}

// PolicyLoss holds the nodes of a built PPO policy loss.
type PolicyLoss struct {
	// Loss is the scalar to minimise: SurrogateLoss + β·KLMean for the kl-* penalties,
	// SurrogateLoss otherwise.
	Loss *G.Node
	// SurrogateLoss is −E[surrogate] without any KL term (the "policy loss" of CleanRL's logs).
	SurrogateLoss *G.Node
	// KLMean is mean(KL) (nil when KL was not given).
	KLMean *G.Node
	// LogRatio is log r = log π_θ − log π_old per sample, and Ratio is r.
	LogRatio, Ratio *G.Node
}

// BuildPolicyLoss adds the PPO policy loss of pen to b's graph. With r = exp(logp − oldLogp)
// (or, with Segments S, r = exp(S·(logp − oldLogp))):
//
//	clip:  L = −mean(min(r·A, clip(r, 1−ε, 1+ε)·A))
//	kl-*:  L = −mean(r·A) + β·mean(KL)
//	none:  L = −mean(r·A)
//
// (each mean a weighted sum when in.Weights is set).
//
// The early stop of pen (StopKL) is not part of the loss: it is the caller's epoch loop.
// Errors are reported by b.Err(); on error the returned nodes are nil.
func BuildPolicyLoss(b *nn.Builder, pen Penalty, in PolicyLossInputs) PolicyLoss {
	var out PolicyLoss
	out.LogRatio = b.Sub(in.LogP, in.OldLogP)
	if in.Segments != nil {
		out.LogRatio = b.Mul(in.Segments, out.LogRatio)
	}
	out.Ratio = b.Exp(out.LogRatio)
	ratioAdv := b.HadamardProd(out.Ratio, in.Adv)
	if pen.Kind == PenaltyClip {
		clippedAdv := b.HadamardProd(b.Clip(out.Ratio, 1-pen.Value, 1+pen.Value), in.Adv)
		out.SurrogateLoss = b.Neg(average(b, b.Min(ratioAdv, clippedAdv), in.Weights))
	} else {
		out.SurrogateLoss = b.Neg(average(b, ratioAdv, in.Weights))
	}
	if in.KL != nil {
		out.KLMean = average(b, in.KL, in.Weights)
	}
	out.Loss = out.SurrogateLoss
	if pen.UsesBeta() {
		out.Loss = b.Add(out.SurrogateLoss, b.Mul(in.Beta, out.KLMean))
	}
	if b.Err() != nil {
		return PolicyLoss{}
	}
	return out
}

// ClipFraction is the fraction of samples whose ratio r = exp(logRatio) lies outside
// [1−eps, 1+eps] (CleanRL's clipfrac with threshold eps).
func ClipFraction(logRatio []float64, eps float64) float64 {
	if len(logRatio) == 0 {
		return math.NaN()
	}
	n := 0
	for _, x := range logRatio {
		if math.Abs(math.Exp(x)-1) > eps {
			n++
		}
	}
	return float64(n) / float64(len(logRatio))
}
