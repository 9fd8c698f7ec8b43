package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/kl"
	"klppo/nn"
	"klppo/policy"

	"gorgonia.org/tensor"
)

// This file is the one PPO learner: given a batch of samples collected by π_old, it runs the
// epochs of shuffled minibatch gradient steps of the chosen objective (CleanRL ppo.py's
// "Optimizing the policy and value network" loop), clips the gradients, steps Adam, stops
// early on a KL target and measures PPO's trust-region KL(π_old‖π_θ). Environment PPO (Train)
// and every token-level method (package experiments/rlhf: PPO, GRPO, RLOO) call it; they differ
// only in where the batch comes from and how its advantages were computed.

// AdvNorm says how the learner normalises advantages before using them.
type AdvNorm string

const (
	// AdvNormMinibatch whitens each minibatch's advantages (CleanRL's norm_adv).
	AdvNormMinibatch AdvNorm = "minibatch"
	// AdvNormBatch whitens the whole batch once, before the first epoch (TRL's PPO).
	AdvNormBatch AdvNorm = "batch"
	// AdvNormNone uses the advantages as given (GRPO and RLOO normalise within groups).
	AdvNormNone AdvNorm = "none"
)

// GradClip says over which gradients max_grad_norm is measured.
type GradClip string

const (
	// GradClipJoint measures one global norm over the policy's and the value network's
	// gradients together and scales both by the same factor (CleanRL: one optimiser over one
	// model).
	GradClipJoint GradClip = "joint"
	// GradClipSeparate clips each network's gradients to max_grad_norm on its own (two models
	// with two optimisers, as a policy and a separate value model in RLHF).
	GradClipSeparate GradClip = "separate"
)

// LearnerConfig configures a Learner. The zero values of the optional parts switch them off.
type LearnerConfig struct {
	// Penalty is the policy objective (clip, kl-fixed, kl-adaptive, kl-prop, none) and its early
	// stop (StopKL > 0: the epoch loop ends as soon as a minibatch's mean exact
	// KL(π_old‖π_θ), measured before its step, exceeds StopKL).
	Penalty Penalty
	// Epochs is the number of passes over each batch (update_epochs).
	Epochs int
	// MinibatchSize is the number of samples per gradient step (the graphs are built for it).
	// A batch of N samples gives max(1, ⌊N/MinibatchSize⌋) minibatches per epoch; a batch
	// smaller than one minibatch is cycled to fill it.
	MinibatchSize int
	// NormAdv is how advantages are normalised (minibatch, batch or none).
	NormAdv AdvNorm
	// EntCoef weights the entropy bonus: cost −= ent_coef·mean(H[π_θ]).
	EntCoef float64
	// Critic trains the value network on the batch's returns: vf_coef·½·mean((V − R)²), with
	// CleanRL's clipped variant when ClipVLoss (V_old + clip(V − V_old, ±VFClip)). Without a
	// critic (GRPO, RLOO) the value network is left untouched.
	Critic    bool
	VFCoef    float64
	ClipVLoss bool
	VFClip    float64
	// MaxGradNorm clips the gradients' global norm (0: measure nothing, clip nothing), over the
	// networks as GradClip says.
	MaxGradNorm float64
	GradClip    GradClip
	// AdamEps is Adam's ε (0: nn's default).
	AdamEps float64
	// ClipFracThreshold is the |r − 1| above which a sample counts in clipfrac for the
	// objectives without a clip ε (the clip objective uses its ε).
	ClipFracThreshold float64
	// KLRef adds RLHF's KL(π_θ‖π_ref) to a frozen reference to the loss when KLRef.In is
	// KLInLoss (k1, k2, k3, IS-weighted k3 or the exact full-vocabulary KL, times the β given to
	// Learn); the batch must then carry RefLogits. Any other value adds nothing.
	KLRef KLRef
	// Weighted makes the loss a weighted sum Σ_i w_i·ℓ_i over the batch with the weights of
	// Batch.Weights (GRPO's loss types); otherwise it is the mean over each minibatch.
	Weighted bool
	// SequenceLevel makes each sequence of the batch (Batch.Starts) one action, as RLOO's
	// whole completion: every token's importance ratio is its sequence's,
	//
	//	r = π_θ(y)/π_old(y) = exp Σ_{t∈y} (log π_θ(y_t|s_t) − log π_old(y_t|s_t)),
	//
	// clipped to [1−ε, 1+ε] as one number, and minibatches hold whole sequences: each epoch
	// shuffles the sequences and packs them, in that order, into minibatches of at most
	// MinibatchSize samples (the rest of a minibatch is padding of weight 0). It needs Weighted
	// (the loss is Σ_i w_i·ℓ_i; with the weights of sequence y summing to 1/S over S sequences,
	// the batch loss is the mean over sequences) and excludes a critic and per-minibatch
	// advantage normalisation, which would see the padding. A minibatch of S_mb sequences scales
	// its weights by S/S_mb, so that its loss is the mean over its own sequences. The clip
	// fraction then counts the tokens whose sequence's ratio is outside [1−ε, 1+ε].
	SequenceLevel bool
	// SingleThreaded keeps all work on the calling goroutine (otherwise the policy and the value
	// network run on two cores).
	SingleThreaded bool
}

// Batch is what the learner needs of N samples collected by π_old. Slices are row-major and
// read only.
type Batch struct {
	N         int
	Obs       []float64 // N × ObsDim: the states as the policy saw them
	Actions   []float64 // N × ActionWidth: the actions taken (indices for a categorical policy)
	Dist      []float64 // N × HeadWidth: π_old's logits (categorical) or means (Gaussian)
	OldLogStd []float64 // π_old's log-std vector (Gaussian only)
	LogProbs  []float64 // N: log π_old(a|s)
	// Advantages and, with a critic, Returns (the value targets) and Values (V_old(s), for the
	// clipped value loss) per sample.
	Advantages, Returns, Values []float64
	// RefLogits (N × HeadWidth) are π_ref's logits at each state, for the KL in the loss.
	RefLogits []float64
	// Weights (N) are the samples' weights in the loss when LearnerConfig.Weighted.
	Weights []float64
	// Starts delimit the sequences when LearnerConfig.SequenceLevel: sequence s is the samples
	// Starts[s], …, Starts[s+1]−1 (Starts[0] = 0, the last entry is N; every sequence non-empty
	// and at most MinibatchSize samples long).
	Starts []int
}

// LearnStats are the diagnostics of one Learn call: means over the minibatch steps taken
// (NaN when none was).
type LearnStats struct {
	Epochs  int  // epochs in which at least one step was taken
	Steps   int  // minibatch gradient steps
	Stopped bool // the KL early stop ended the epoch loop
	// ApproxKLK1 and ApproxKLK3 are Schulman's k1 and k3 estimates of KL(π_old‖π_θ) from each
	// minibatch's log-ratios, measured before its step (CleanRL's old_approx_kl, approx_kl).
	ApproxKLK1, ApproxKLK3 float64
	ClipFrac               float64 // fraction of samples with |r − 1| above the threshold
	Entropy                float64 // mean H[π_θ(·|s)]
	PolicyLoss             float64 // the surrogate part of the loss, without any KL term
	ValueLoss              float64 // ½·mean((V − R)²) (clipped variant if configured); NaN without a critic
	// KLRefLoss is the mean over steps of the loss-side KL term to π_ref, β·mean(k) (0 when the
	// KL is not in the loss).
	KLRefLoss float64
}

// Learner runs PPO updates of one actor-critic. Its graphs are built once for the minibatch
// size; its Adam states persist across updates (PolicyAdam, ValueAdam for checkpoints).
type Learner struct {
	cfg   LearnerConfig
	ac    *policy.ActorCritic
	width int // head width

	policyLoss *policyObjective
	valueLoss  *valueObjective // nil without a critic
	policyAdam *nn.Adam
	valueAdam  *nn.Adam // nil without a critic

	// actors for the trust-region KL: the two halves of the batch on two cores
	klActors [2]*policy.Actor

	mb       minibatch
	order    []int
	packs    [][2]int  // sequence-level: the sequences [lo, hi) of order in each minibatch of an epoch
	rows     []int     // the batch sample of each minibatch row (−1: padding)
	adv      []float64 // the batch's advantages after AdvNormBatch
	logRatio []float64
}

// NewLearner builds the learner's graphs and optimisers for ac.
func NewLearner(ac *policy.ActorCritic, cfg LearnerConfig) (*Learner, error) {
	if err := cfg.validate(ac); err != nil {
		return nil, err
	}
	pc := ac.Config()
	l := &Learner{cfg: cfg, ac: ac, width: pc.HeadWidth(),
		klActors: [2]*policy.Actor{policy.NewActor(ac), policy.NewActor(ac)}}
	var err error
	if l.policyLoss, err = newPolicyObjective(ac, cfg.MinibatchSize, cfg.Penalty, cfg.EntCoef, cfg.KLRef, cfg.Weighted, cfg.SequenceLevel); err != nil {
		return nil, err
	}
	if l.policyAdam, err = nn.NewAdam(l.policyLoss.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps}); err != nil {
		return nil, err
	}
	if cfg.Critic {
		if l.valueLoss, err = newValueObjective(ac, cfg.MinibatchSize, cfg.ClipVLoss, cfg.VFClip, cfg.VFCoef); err != nil {
			return nil, err
		}
		if l.valueAdam, err = nn.NewAdam(l.valueLoss.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps}); err != nil {
			return nil, err
		}
	}
	l.mb = newMinibatch(cfg.MinibatchSize, pc.ObsDim, pc.ActionWidth(), l.width, l.klLossInLoss(), cfg.SequenceLevel)
	return l, nil
}

func (c LearnerConfig) validate(ac *policy.ActorCritic) error {
	switch {
	case ac == nil:
		return errors.New("ppo: learner: no actor-critic")
	case c.Epochs < 1:
		return fmt.Errorf("ppo: learner: epochs %d, want ≥ 1", c.Epochs)
	case c.MinibatchSize < 1:
		return fmt.Errorf("ppo: learner: minibatch size %d, want ≥ 1", c.MinibatchSize)
	case !(c.MaxGradNorm >= 0) || math.IsInf(c.MaxGradNorm, 0):
		return fmt.Errorf("ppo: learner: max_grad_norm %v, want a finite number ≥ 0", c.MaxGradNorm)
	}
	switch c.NormAdv {
	case AdvNormMinibatch, AdvNormBatch, AdvNormNone:
	default:
		return fmt.Errorf("ppo: learner: advantage normalisation %q, want minibatch, batch or none", c.NormAdv)
	}
	switch c.GradClip {
	case GradClipJoint, GradClipSeparate:
	default:
		return fmt.Errorf("ppo: learner: grad clip %q, want joint or separate", c.GradClip)
	}
	if c.SequenceLevel {
		switch {
		case !c.Weighted:
			return errors.New("ppo: learner: sequence-level losses need per-sample weights (Weighted)")
		case c.Critic:
			return errors.New("ppo: learner: a sequence-level learner has no critic")
		case c.NormAdv == AdvNormMinibatch:
			return errors.New("ppo: learner: sequence-level minibatches are padded: normalise advantages over the batch or not at all")
		}
	}
	if c.KLRef.In == KLInLoss {
		if err := c.KLRef.Validate(); err != nil {
			return fmt.Errorf("ppo: learner: %w", err)
		}
		if !ac.Config().Discrete {
			return errors.New("ppo: learner: the KL to a reference in the loss needs a categorical policy")
		}
	}
	return nil
}

// klLossInLoss reports whether the loss carries RLHF's KL to π_ref.
func (l *Learner) klLossInLoss() bool { return l.cfg.KLRef.In == KLInLoss }

// PolicyAdam and ValueAdam are the optimisers (ValueAdam is nil without a critic); their states
// belong in a checkpoint.
func (l *Learner) PolicyAdam() *nn.Adam { return l.policyAdam }
func (l *Learner) ValueAdam() *nn.Adam  { return l.valueAdam }

// NumPolicyParams is the number of the policy's parameter tensors (the first of
// ActorCritic.ParamNames).
func (l *Learner) NumPolicyParams() int { return len(l.policyLoss.trainer.Params()) }

func (b *Batch) check(l *Learner) error {
	pc := l.ac.Config()
	want := func(name string, got, n int) error {
		if got != n {
			return fmt.Errorf("ppo: learner: batch %s has %d values, want %d", name, got, n)
		}
		return nil
	}
	if b.N < 1 {
		return fmt.Errorf("ppo: learner: batch of %d samples", b.N)
	}
	for _, c := range []struct {
		name   string
		got, n int
	}{
		{"obs", len(b.Obs), b.N * pc.ObsDim}, {"actions", len(b.Actions), b.N * pc.ActionWidth()},
		{"dist", len(b.Dist), b.N * l.width}, {"log_probs", len(b.LogProbs), b.N}, {"advantages", len(b.Advantages), b.N},
	} {
		if err := want(c.name, c.got, c.n); err != nil {
			return err
		}
	}
	if l.cfg.Critic {
		if err := want("returns", len(b.Returns), b.N); err != nil {
			return err
		}
		if err := want("values", len(b.Values), b.N); err != nil {
			return err
		}
	}
	if l.klLossInLoss() {
		if err := want("ref_logits", len(b.RefLogits), b.N*l.width); err != nil {
			return err
		}
	}
	if l.cfg.Weighted {
		if err := want("weights", len(b.Weights), b.N); err != nil {
			return err
		}
	}
	if l.cfg.SequenceLevel {
		if len(b.Starts) < 2 || b.Starts[0] != 0 || b.Starts[len(b.Starts)-1] != b.N {
			return fmt.Errorf("ppo: learner: batch starts %v: want 0 = Starts[0] < … < Starts[last] = N = %d", shorten(b.Starts), b.N)
		}
		for s := 0; s+1 < len(b.Starts); s++ {
			if n := b.Starts[s+1] - b.Starts[s]; n < 1 || n > l.cfg.MinibatchSize {
				return fmt.Errorf("ppo: learner: sequence %d has %d samples, want 1 to the minibatch size %d", s, n, l.cfg.MinibatchSize)
			}
		}
	}
	return nil
}

// shorten returns xs, or its first 8 values for a message.
func shorten(xs []int) []int {
	if len(xs) > 8 {
		return xs[:8]
	}
	return xs
}

// Learn runs one update on batch b: Epochs passes, each over max(1, ⌊N/B⌋) minibatches of a
// fresh permutation drawn from rng, with learning rate lr, the penalty's β (kl-* objectives) and
// klRefBeta (the KL to π_ref in the loss). For each minibatch: normalise its advantages
// (minibatch mode), compute both losses and their gradients, stop if its KL(π_old‖π_θ) exceeds
// the stop KL, clip the gradients and take an Adam step. Cancelling ctx stops between
// minibatches with ctx's error.
func (l *Learner) Learn(ctx context.Context, b *Batch, lr, beta, klRefBeta float64, rng *rand.Rand) (LearnStats, error) {
	var acc learnAcc
	if err := b.check(l); err != nil {
		return acc.stats(), err
	}
	adv := b.Advantages
	if l.cfg.NormAdv == AdvNormBatch {
		l.adv = append(l.adv[:0], adv...)
		normalizeAdv(l.adv)
		adv = l.adv
	}
	B := l.cfg.MinibatchSize
	units := b.N // what an epoch shuffles: samples, or sequences when sequence-level
	if l.cfg.SequenceLevel {
		units = len(b.Starts) - 1
	}
	l.order = l.order[:0]
	for i := 0; i < units; i++ {
		l.order = append(l.order, i)
	}
	perEpoch := max(1, b.N/B)
	// Weighted losses: a minibatch of B samples estimates the batch's Σ w_i·ℓ_i by
	// (N/B)·Σ_{i∈mb} w_i·ℓ_i (sequence-level: S/S_mb for S_mb of the S sequences).
	weightScale := float64(b.N) / float64(B)
	for epoch := 0; epoch < l.cfg.Epochs; epoch++ {
		rng.Shuffle(len(l.order), func(i, j int) { l.order[i], l.order[j] = l.order[j], l.order[i] })
		if l.cfg.SequenceLevel {
			l.pack(b)
			perEpoch = len(l.packs)
		}
		stepped := false
		for k := 0; k < perEpoch; k++ {
			if err := ctx.Err(); err != nil {
				return acc.stats(), fmt.Errorf("ppo: learner: %w", err)
			}
			if l.cfg.SequenceLevel {
				p := l.packs[k]
				l.gatherSequences(b, adv, l.order[p[0]:p[1]], float64(units)/float64(p[1]-p[0]))
			} else {
				l.gather(b, adv, k*B, weightScale)
			}
			if l.cfg.NormAdv == AdvNormMinibatch {
				normalizeAdv(l.mb.advantages)
			}
			grads, err := l.lossesAndGradients(b.OldLogStd, beta, klRefBeta)
			if err != nil {
				return acc.stats(), err
			}
			losses, err := l.readLosses()
			if err != nil {
				return acc.stats(), err
			}
			if l.cfg.Penalty.StopKL > 0 && losses.kl > l.cfg.Penalty.StopKL {
				acc.stopped = true
				if stepped {
					acc.epochs++
				}
				return acc.stats(), nil
			}
			if err := l.clipAndStep(lr, grads); err != nil {
				return acc.stats(), err
			}
			stepped = true
			if err := acc.add(losses, l.logRatio[:l.mb.used], l.clipFracThreshold()); err != nil {
				return acc.stats(), err
			}
		}
		if stepped {
			acc.epochs++
		}
	}
	return acc.stats(), nil
}

// minibatch is the scratch of one minibatch, gathered from the batch.
type minibatch struct {
	obs, actions, dist, logProbs []float64
	advantages, returns, values  []float64
	refLogits, weights           []float64
	segments                     []float64 // (B, B): sequence-level only
	used                         int       // rows holding samples (the rest is padding)
}

func newMinibatch(size, obsDim, actionWidth, headWidth int, refLogits, sequences bool) minibatch {
	mb := minibatch{
		obs: make([]float64, size*obsDim), actions: make([]float64, size*actionWidth),
		dist: make([]float64, size*headWidth), logProbs: make([]float64, size), advantages: make([]float64, size),
		returns: make([]float64, size), values: make([]float64, size), weights: make([]float64, size), used: size,
	}
	if refLogits {
		mb.refLogits = make([]float64, size*headWidth)
	}
	if sequences {
		mb.segments = make([]float64, size*size)
	}
	return mb
}

// pack splits the sequences, in the shuffled order l.order, into minibatches: each takes the next
// sequences while their samples fit in MinibatchSize.
func (l *Learner) pack(b *Batch) {
	l.packs = l.packs[:0]
	lo, n := 0, 0
	for i, s := range l.order {
		size := b.Starts[s+1] - b.Starts[s]
		if n+size > l.cfg.MinibatchSize {
			l.packs = append(l.packs, [2]int{lo, i})
			lo, n = i, 0
		}
		n += size
	}
	l.packs = append(l.packs, [2]int{lo, len(l.order)})
}

// gatherSequences fills the minibatch with the samples of the sequences seqs, in order, then
// padding: copies of the first row with weight 0 and no segment (log-ratio 0). The segment
// matrix links the rows of each sequence; weights are scaled by weightScale.
func (l *Learner) gatherSequences(b *Batch, adv []float64, seqs []int, weightScale float64) {
	l.rows = l.rows[:0]
	for _, s := range seqs {
		for k := b.Starts[s]; k < b.Starts[s+1]; k++ {
			l.rows = append(l.rows, k)
		}
	}
	used := len(l.rows)
	for len(l.rows) < l.cfg.MinibatchSize {
		l.rows = append(l.rows, -1)
	}
	l.gatherRows(b, adv, l.rows, weightScale)
	mb := &l.mb
	mb.used = used
	B := l.cfg.MinibatchSize
	clear(mb.segments)
	row := 0
	for _, s := range seqs {
		n := b.Starts[s+1] - b.Starts[s]
		for i := row; i < row+n; i++ {
			for j := row; j < row+n; j++ {
				mb.segments[i*B+j] = 1
			}
		}
		row += n
	}
}

// gather copies the samples order[start], …, order[start+B−1] (cycling through the batch when
// it is smaller than B) into the minibatch scratch.
func (l *Learner) gather(b *Batch, adv []float64, start int, weightScale float64) {
	l.rows = l.rows[:0]
	for j := 0; j < l.cfg.MinibatchSize; j++ {
		l.rows = append(l.rows, l.order[(start+j)%b.N])
	}
	l.gatherRows(b, adv, l.rows, weightScale)
}

// gatherRows copies batch sample rows[j] into row j of the minibatch scratch; a row −1 is
// padding: a copy of the first row's sample with weight 0.
func (l *Learner) gatherRows(b *Batch, adv []float64, rows []int, weightScale float64) {
	mb := &l.mb
	mb.used = len(rows)
	pc := l.ac.Config()
	obsDim, aw, hw := pc.ObsDim, pc.ActionWidth(), l.width
	for j, k := range rows {
		pad := k < 0
		if pad {
			k = rows[0]
		}
		copy(mb.obs[j*obsDim:(j+1)*obsDim], b.Obs[k*obsDim:(k+1)*obsDim])
		copy(mb.actions[j*aw:(j+1)*aw], b.Actions[k*aw:(k+1)*aw])
		copy(mb.dist[j*hw:(j+1)*hw], b.Dist[k*hw:(k+1)*hw])
		mb.logProbs[j], mb.advantages[j] = b.LogProbs[k], adv[k]
		if l.cfg.Critic {
			mb.returns[j], mb.values[j] = b.Returns[k], b.Values[k]
		}
		if mb.refLogits != nil {
			copy(mb.refLogits[j*hw:(j+1)*hw], b.RefLogits[k*hw:(k+1)*hw])
		}
		if l.cfg.Weighted {
			mb.weights[j] = b.Weights[k] * weightScale
			if pad {
				mb.weights[j] = 0
			}
		}
	}
}

// gradients are both networks' gradients of one minibatch; the tensors belong to the graphs.
type gradients struct {
	policy, value []*tensor.Dense
	policySumSq   float64 // Σg² over the policy's gradients (nn.SumSquares)
	valueSumSq    float64 // Σg² over the value network's gradients (separate clipping only)
}

// lossesAndGradients runs the policy and value graphs on the minibatch (on both cores unless
// single-threaded) and returns their gradients. Each network's core also sums the squares of
// its gradients for the clipping norm.
func (l *Learner) lossesAndGradients(oldLogStd []float64, beta, klRefBeta float64) (gradients, error) {
	var g gradients
	mb := &l.mb
	in := policyInputs{obs: mb.obs, actions: mb.actions, oldDist: mb.dist, oldLogStd: oldLogStd, oldLogP: mb.logProbs,
		adv: mb.advantages, beta: beta, refLogits: mb.refLogits, klRefBeta: klRefBeta, weights: mb.weights, segments: mb.segments}
	if err := l.policyLoss.setInputs(in); err != nil {
		return g, err
	}
	if l.valueLoss == nil {
		var err error
		if g.policy, err = l.policyLoss.trainer.Run(); err != nil {
			return g, err
		}
		g.policySumSq, err = nn.SumSquares(0, g.policy)
		return g, err
	}
	if err := l.valueLoss.setInputs(mb.obs, mb.returns, mb.values); err != nil {
		return g, err
	}
	err := both(l.cfg.SingleThreaded, func() (err error) {
		if g.policy, err = l.policyLoss.trainer.Run(); err != nil {
			return err
		}
		g.policySumSq, err = nn.SumSquares(0, g.policy)
		return err
	}, func() (err error) {
		if g.value, err = l.valueLoss.trainer.Run(); err != nil {
			return err
		}
		if l.cfg.GradClip == GradClipSeparate {
			g.valueSumSq, err = nn.SumSquares(0, g.value)
		}
		return err
	})
	return g, err
}

// clipAndStep scales the gradients by the clipping factor (nn.ClipGradNorm's rule with
// max_grad_norm: one factor from the global norm over both networks, or one per network) and
// takes an Adam step per network (on both cores unless single-threaded). In joint mode the
// value network's squares are summed on from the policy's, so the norm is bit for bit the one
// of a single ClipGradNorm call over the policy's and then the value network's gradients.
func (l *Learner) clipAndStep(lr float64, g gradients) error {
	policyScale, err := l.clipScale(g.policySumSq)
	if err != nil {
		return err
	}
	valueScale := policyScale
	if g.value != nil {
		if l.cfg.GradClip == GradClipJoint {
			sumSq, err := nn.SumSquares(g.policySumSq, g.value)
			if err != nil {
				return err
			}
			if policyScale, err = l.clipScale(sumSq); err != nil {
				return err
			}
			valueScale = policyScale
		} else if valueScale, err = l.clipScale(g.valueSumSq); err != nil {
			return err
		}
	}
	step := func(adam *nn.Adam, grads []*tensor.Dense, scale float64) error {
		if err := nn.ScaleGrads(grads, scale); err != nil {
			return err
		}
		return adam.Step(lr, grads)
	}
	if g.value == nil {
		return step(l.policyAdam, g.policy, policyScale)
	}
	return both(l.cfg.SingleThreaded,
		func() error { return step(l.policyAdam, g.policy, policyScale) },
		func() error { return step(l.valueAdam, g.value, valueScale) })
}

// clipScale is the factor for gradients whose squared norm is sumSq.
func (l *Learner) clipScale(sumSq float64) (float64, error) {
	maxNorm := l.cfg.MaxGradNorm
	if maxNorm == 0 {
		maxNorm = math.Inf(1) // measure only
	}
	scale, err := nn.ClipScale(math.Sqrt(sumSq), maxNorm)
	if errors.Is(err, nn.ErrNonFinite) {
		return 0, fmt.Errorf("%w in the gradients: %v", errNonFinite, err)
	}
	return scale, err
}

// clipFracThreshold is the |r − 1| above which a sample counts in clipfrac: the clip ε of a
// clip objective, ClipFracThreshold for the others.
func (l *Learner) clipFracThreshold() float64 {
	if l.cfg.Penalty.Kind == PenaltyClip {
		return l.cfg.Penalty.Value
	}
	return l.cfg.ClipFracThreshold
}

// minibatchLosses are the scalars read back after a minibatch's forward pass.
type minibatchLosses struct {
	kl, surrogate, entropy, value, klRef float64
}

// readLosses reads the minibatch's losses and log-ratios back from the graphs; a non-finite
// value is errNonFinite.
func (l *Learner) readLosses() (minibatchLosses, error) {
	var out minibatchLosses
	p := l.policyLoss
	reads := []struct {
		name string
		dst  *float64
		from *nodeValue
	}{{"KL", &out.kl, &p.klMean}, {"policy loss", &out.surrogate, &p.surr}, {"entropy", &out.entropy, &p.ent}}
	if p.klRefTerm != nil {
		reads = append(reads, struct {
			name string
			dst  *float64
			from *nodeValue
		}{"KL to the reference", &out.klRef, &p.klRef})
	}
	if l.valueLoss != nil {
		reads = append(reads, struct {
			name string
			dst  *float64
			from *nodeValue
		}{"value loss", &out.value, &l.valueLoss.loss})
	} else {
		out.value = math.NaN()
	}
	for _, r := range reads {
		if r.from.v == nil { // a node not in this objective (no KL without kl-* or a stop)
			*r.dst = math.NaN()
			continue
		}
		x, err := nn.Scalar(r.from.v)
		if err != nil {
			return out, fmt.Errorf("ppo: read %s: %w", r.name, err)
		}
		*r.dst = x
	}
	l.logRatio = nn.Float64s(p.logRatio.v, l.logRatio)
	for _, r := range reads { // every value this objective computes must be finite
		if r.from.v != nil && !finite(*r.dst) {
			return out, fmt.Errorf("%w in the losses (%s %v; policy loss %v, value loss %v, entropy %v, KL %v)", errNonFinite, r.name, *r.dst, out.surrogate, out.value, out.entropy, out.kl)
		}
	}
	return out, nil
}

// learnAcc accumulates the per-minibatch diagnostics of one Learn call.
type learnAcc struct {
	steps, epochs                        int
	stopped                              bool
	k1, k3, clipFrac, entropy, surrogate float64
	valueLoss, klRef                     float64
}

// add accumulates one minibatch step: its losses, Schulman's k1 and k3 estimates of
// KL(π_old‖π_θ) from the log-ratios (kl.Estimate), and the clip fraction.
func (s *learnAcc) add(l minibatchLosses, logRatio []float64, clipThreshold float64) error {
	k1, err := kl.Estimate(kl.K1, logRatio)
	if err != nil {
		return fmt.Errorf("%w: k1: %v", errNonFinite, err)
	}
	k3, err := kl.Estimate(kl.K3, logRatio)
	if err != nil {
		return fmt.Errorf("%w: k3: %v", errNonFinite, err)
	}
	s.k1 += k1
	s.k3 += k3
	s.clipFrac += ClipFraction(logRatio, clipThreshold)
	s.entropy += l.entropy
	s.surrogate += l.surrogate
	s.valueLoss += l.value
	s.klRef += l.klRef
	s.steps++
	return nil
}

// stats returns the averages over the minibatch steps (NaN when none was taken).
func (s *learnAcc) stats() LearnStats {
	st := LearnStats{Epochs: s.epochs, Steps: s.steps, Stopped: s.stopped}
	n := float64(s.steps)
	if s.steps == 0 {
		n = math.NaN()
	}
	st.ApproxKLK1, st.ApproxKLK3, st.ClipFrac = s.k1/n, s.k3/n, s.clipFrac/n
	st.Entropy, st.PolicyLoss, st.ValueLoss, st.KLRefLoss = s.entropy/n, s.surrogate/n, s.valueLoss/n, s.klRef/n
	return st
}

// normalizeAdv sets a ← (a − mean)/(std + 1e-8) with the unbiased std (as torch's .std()).
func normalizeAdv(a []float64) {
	n := float64(len(a))
	m := 0.0
	for _, x := range a {
		m += x
	}
	m /= n
	v := 0.0
	for _, x := range a {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / (n - 1))
	for i := range a {
		a[i] = (a[i] - m) / (sd + 1e-8)
	}
}

// TrustRegionKL is PPO's KL: the mean over the batch's states of the exact KL(π_old(·|s) ‖
// π_θ(·|s)) between the policy that collected the batch (b.Dist, b.OldLogStd) and the current
// parameters — closed forms of package kl over a plain-Go forward pass, the two halves of the
// batch on two cores unless single-threaded. It is not RLHF's KL(π‖π_ref).
func (l *Learner) TrustRegionKL(b *Batch) (float64, error) {
	pc := l.ac.Config()
	width := l.width
	newLogStd := l.ac.LogStdValues()
	sumKL := func(a *policy.Actor, lo, hi int) (float64, error) {
		if hi <= lo {
			return 0, nil
		}
		newDist, err := a.Dist(b.Obs[lo*pc.ObsDim:hi*pc.ObsDim], hi-lo)
		if err != nil {
			return 0, err
		}
		s := 0.0
		logSoftmaxes := make([]float64, 2*width) // KLLogitsBuf's scratch, reused for every state
		for k := lo; k < hi; k++ {
			old, cur := b.Dist[k*width:(k+1)*width], newDist[(k-lo)*width:(k-lo+1)*width]
			var d float64
			if pc.Discrete {
				d, err = kl.KLLogitsBuf(logSoftmaxes, old, cur)
			} else {
				d, err = kl.DiagNormal{Mu: old, LogSigma: b.OldLogStd}.KL(kl.DiagNormal{Mu: cur, LogSigma: newLogStd})
			}
			if err != nil {
				return 0, fmt.Errorf("%w: KL(π_old‖π_θ) of state %d: %v", errNonFinite, k, err)
			}
			s += d
		}
		return s, nil
	}
	half := b.N / 2
	var s1, s2 float64
	err := both(l.cfg.SingleThreaded, func() (err error) {
		s1, err = sumKL(l.klActors[0], 0, half)
		return err
	}, func() (err error) {
		s2, err = sumKL(l.klActors[1], half, b.N)
		return err
	})
	if err != nil {
		return 0, err
	}
	d := (s1 + s2) / float64(b.N)
	if !finite(d) {
		return 0, fmt.Errorf("%w: KL after the update is %v", errNonFinite, d)
	}
	return d, nil
}

// both runs f and g and returns the first error (f's before g's). g runs on a helper goroutine
// unless single; f always runs on the calling goroutine. f and g must not share mutable state.
func both(single bool, f, g func() error) error {
	if single {
		if err := f(); err != nil {
			return err
		}
		return g()
	}
	var gErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		gErr = g()
	}()
	fErr := f()
	<-done
	if fErr != nil {
		return fErr
	}
	return gErr
}
