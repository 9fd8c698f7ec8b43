package rlhf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"klppo/internal/rng"
	"klppo/internal/rundir"
	"klppo/kl"
	"klppo/ppo"
)

// GRPO (Shao et al. 2024, DeepSeekMath) as TRL's GRPOTrainer runs it (trl/trainer/grpo_trainer.py,
// TRL 1.10.0.dev0 at commit f2cd577, 2026-07-24): G completions of each prompt; every token of
// completion i gets the group advantage
//
//	A_i = (r_i − mean_G r) / (std_G r + 1e-4)   (scale_rewards "group"; std with Bessel's correction)
//	A_i =  r_i − mean_G r                        (scale_rewards "none": Dr. GRPO)
//
// no value model; PPO's clipped ratio per token; and, when β > 0, β·k3 per token added to the
// loss, unclamped (TRL's default β is 0.0 since v0.19: no reference model at all). The per-token
// losses ℓ_it are summed with the weights of the loss type (LossType.Weights).

// LossType is how GRPO's per-token losses are normalised (TRL's loss_type).
type LossType string

const (
	// LossGRPO averages each completion's tokens, then the completions: Σ_i (1/N)·(1/|o_i|)·Σ_t ℓ_it
	// (the GRPO paper; biased towards short completions with A > 0 and long ones with A < 0).
	LossGRPO LossType = "grpo"
	// LossDrGRPO divides the sum over all tokens by N × the longest completion allowed:
	// Σ_it ℓ_it / (N·L) (Dr. GRPO, Liu et al. 2025).
	LossDrGRPO LossType = "dr_grpo"
	// LossDAPO divides the sum over all tokens by their number: Σ_it ℓ_it / Σ_i |o_i| (DAPO, Yu
	// et al. 2025; TRL's default since v0.22).
	LossDAPO LossType = "dapo"
)

// Validate checks the name.
func (lt LossType) Validate() error {
	switch lt {
	case LossGRPO, LossDrGRPO, LossDAPO:
		return nil
	}
	return bad("grpo.loss_type", string(lt), "want grpo, dr_grpo or dapo")
}

// Weights returns the weight of each token of completion i (the same for all its tokens) for
// completions of the given lengths: 1/(N·|o_i|) (grpo), 1/(N·maxLen) (dr_grpo) or 1/Σ|o| (dapo),
// so that the loss is Σ_i w_i·Σ_t ℓ_it.
func (lt LossType) Weights(lengths []int, maxLen int) ([]float64, error) {
	if err := lt.Validate(); err != nil {
		return nil, err
	}
	N := float64(len(lengths))
	total := 0
	for i, n := range lengths {
		if n < 1 || n > maxLen {
			return nil, fmt.Errorf("rlhf: grpo: completion %d has %d tokens, want 1 to %d", i, n, maxLen)
		}
		total += n
	}
	w := make([]float64, len(lengths))
	for i, n := range lengths {
		switch lt {
		case LossGRPO:
			w[i] = 1 / (N * float64(n))
		case LossDrGRPO:
			w[i] = 1 / (N * float64(maxLen))
		case LossDAPO:
			w[i] = 1 / float64(total)
		}
	}
	return w, nil
}

// GroupAdvantages returns GRPO's advantage of each reward: rewards are in groups of size group
// (completions i·group … i·group+group−1 share a prompt), and each is centred on its group's
// mean and, with scale, divided by the group's standard deviation (Bessel's correction) + 1e-4.
// A group whose rewards are all equal has advantages 0: it teaches nothing.
func GroupAdvantages(rewards []float64, group int, scale bool) ([]float64, error) {
	if group < 2 || len(rewards)%group != 0 {
		return nil, fmt.Errorf("rlhf: group advantages: %d rewards in groups of %d (want groups of ≥ 2)", len(rewards), group)
	}
	adv := make([]float64, len(rewards))
	for lo := 0; lo < len(rewards); lo += group {
		m, sd := meanStd(rewards[lo : lo+group])
		for i := lo; i < lo+group; i++ {
			adv[i] = rewards[i] - m
			if scale {
				adv[i] /= sd + 1e-4
			}
		}
	}
	return adv, nil
}

// GRPOConfig configures GRPO on the reviews language: Prompts × Group completions per update.
type GRPOConfig struct {
	Updates   int     `json:"updates"`
	Prompts   int     `json:"prompts"`   // prompts per update
	Group     int     `json:"group"`     // completions per prompt, G (TRL num_generations 8)
	Minibatch int     `json:"minibatch"` // tokens per gradient step
	Epochs    int     `json:"epochs"`    // passes over each rollout (TRL num_iterations)
	LR        float64 `json:"lr"`
	Clip      float64 `json:"clip"` // ε (TRL epsilon 0.2)
	MaxGrad   float64 `json:"max_grad_norm"`
	// LossType is the per-token normalisation (TRL loss_type; TRL's default dapo).
	LossType LossType `json:"loss_type"`
	// ScaleRewards divides the group-centred rewards by the group's std (TRL scale_rewards
	// "group", its default); false is Dr. GRPO's "none".
	ScaleRewards bool `json:"scale_rewards"`
	// KL is the leash to π_ref in the loss: estimator (k3 as GRPO), β (TRL beta, 0.0 by default),
	// optionally importance-weighted (TRL use_bias_correction_kl). KL.In must be loss.
	KL         ppo.KLRef `json:"kl"`
	Seed       uint64    `json:"seed"`
	RefSamples int       `json:"ref_samples"`
	Task
}

// DefaultGRPOConfig: 120 updates of 8 prompts × 8 completions (64 sequences, as PPO's batch), 4
// epochs of 256-token minibatches, Adam 1e-3, ε = 0.2, gradient norm ≤ 1 — PPO's optimisation —
// with TRL's GRPO defaults: loss type dapo, rewards scaled by the group's std, k3 in the loss with
// β = beta (TRL: 0).
func DefaultGRPOConfig(beta float64, seed uint64) GRPOConfig {
	return GRPOConfig{Updates: 120, Prompts: 8, Group: 8, Minibatch: 256, Epochs: 4, LR: 1e-3, Clip: 0.2, MaxGrad: 1,
		LossType: LossDAPO, ScaleRewards: true, KL: ppo.KLRef{Estimator: kl.K3, In: ppo.KLInLoss, Beta: beta},
		Seed: seed, RefSamples: 1024, Task: DefaultTask()}
}

// Validate checks every field, naming it.
func (c GRPOConfig) Validate() error {
	if err := validateGroupSizes("grpo", "group", c.Updates, c.Prompts, c.Group, c.Minibatch, c.Epochs, c.RefSamples, c.LR, c.Clip, c.MaxGrad); err != nil {
		return err
	}
	if err := c.LossType.Validate(); err != nil {
		return err
	}
	switch {
	case c.KL.In != ppo.KLInLoss:
		return bad("grpo.kl.in", string(c.KL.In), "GRPO's KL is in the loss")
	case !c.KL.Estimator.Sampled() && c.KL.Estimator != kl.Exact:
		return bad("grpo.kl.estimator", c.KL.Estimator.String(), "want k1, k2, k3 or exact")
	case !(c.KL.Beta >= 0) || c.KL.Beta > MaxGroupBeta:
		return bad("grpo.kl.beta", c.KL.Beta, "want a number in [0, %g]", float64(MaxGroupBeta))
	}
	if err := c.KL.Validate(); err != nil {
		return bad("grpo.kl.importance_weighted", c.KL.ImportanceWeighted, "%v", err)
	}
	return c.Task.validate("grpo")
}

// Bounds of the group methods' sizes.
const (
	MaxGroupUpdates   = 1_000_000
	MaxGroupSequences = 1 << 16 // prompts × completions per update
	MaxGroupMinibatch = 1 << 20
	MaxGroupEpochs    = 1000
	MaxGroupBeta      = 1e6
)

// validateGroupSizes checks the fields GRPO and RLOO share, named under method ("grpo", "rloo");
// groupField is the name of the completions per prompt ("group", "k").
func validateGroupSizes(method, groupField string, updates, prompts, group, minibatch, epochs, refSamples int, lr, clip, maxGrad float64) error {
	f := func(name string) string { return method + "." + name }
	switch {
	case updates < 1 || updates > MaxGroupUpdates:
		return bad(f("updates"), updates, "want 1 to %d", MaxGroupUpdates)
	case prompts < 1 || prompts > MaxGroupSequences:
		return bad(f("prompts"), prompts, "want 1 to %d", MaxGroupSequences)
	case group < 2 || group > MaxGroupSequences:
		return bad(f(groupField), group, "want 2 to %d completions per prompt (a group of one has no baseline)", MaxGroupSequences)
	case prompts*group > MaxGroupSequences:
		return bad(f("prompts"), prompts, "%d prompts × %d completions = %d sequences per update, at most %d", prompts, group, prompts*group, MaxGroupSequences)
	case minibatch < 16 || minibatch > MaxGroupMinibatch:
		return bad(f("minibatch"), minibatch, "want 16 (the longest completion) to %d tokens", MaxGroupMinibatch)
	case epochs < 1 || epochs > MaxGroupEpochs:
		return bad(f("epochs"), epochs, "want 1 to %d", MaxGroupEpochs)
	case !(lr > 0) || lr > 1:
		return bad(f("lr"), lr, "want a number in (0, 1]")
	case !(clip > 0 && clip < 1):
		return bad(f("clip"), clip, "want a number in (0, 1)")
	case !(maxGrad > 0) || maxGrad > 1e6:
		return bad(f("max_grad_norm"), maxGrad, "want a number in (0, 1e6]")
	case refSamples < 1 || refSamples > 1<<20:
		return bad(f("ref_samples"), refSamples, "want 1 to %d", 1<<20)
	}
	return nil
}

// groupSpec is what the group trainer needs of GRPO or RLOO.
type groupSpec struct {
	prompts, group, minibatch, epochs int
	lr, clip, maxGrad                 float64
	seed                              uint64
	task                              Task
	// klLoss is the KL to π_ref in the loss (GRPO; β from klLoss.Beta; zero value: none);
	// rewardBeta the β of k1 summed over the completion and subtracted from its reward (RLOO).
	klLoss     ppo.KLRef
	rewardBeta float64
	// advantages turns the completions' rewards into advantages; weights gives each completion's
	// per-token loss weight from the completion lengths.
	advantages    func(rewards []float64) ([]float64, error)
	weights       func(lengths []int) ([]float64, error)
	sequenceLevel bool // one action per completion (RLOO)
}

func (c GRPOConfig) spec(maxCompletion int) groupSpec {
	return groupSpec{prompts: c.Prompts, group: c.Group, minibatch: c.Minibatch, epochs: c.Epochs, lr: c.LR, clip: c.Clip,
		maxGrad: c.MaxGrad, seed: c.Seed, task: c.Task, klLoss: c.KL,
		advantages: func(r []float64) ([]float64, error) { return GroupAdvantages(r, c.Group, c.ScaleRewards) },
		weights:    func(l []int) ([]float64, error) { return c.LossType.Weights(l, maxCompletion) }}
}

// GroupTrainer runs a group method — GRPO or RLOO — from π_ref: each update completes Prompts
// training prompts Group times, scores the completions, turns the group's rewards into
// advantages and takes PPO's clipped steps on them (ppo.Learner without a value model).
type GroupTrainer struct {
	spec    groupSpec
	g       *Grammar
	gold    *Gold
	rm      *RewardModel
	pi      *Model
	prompts *Prompts
	gen     *generator
	learner *ppo.Learner
	rngAct  *rand.Rand
	rngMB   *rand.Rand
	rngQ    *rand.Rand
}

// NewGRPOTrainer builds GRPO's trainer: a copy of π_ref, and a learner whose loss is the clipped
// ratio per token with cfg's loss-type weights and, when β > 0, the KL in the loss.
func NewGRPOTrainer(env Env, cfg GRPOConfig) (*GroupTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newGroupTrainer(env, cfg.spec(maxCompletion(env.Ref.Cfg)))
}

// maxCompletion is the longest completion any prompt allows (TRL's max_completion_length): every
// prompt has at least one token and generation stops at MaxLen tokens in all.
func maxCompletion(c ModelConfig) int { return c.MaxLen - 1 }

// learnerConfig is the group methods' update: PPO's clipped ratio on advantages used as given,
// no critic, the loss weighted per token (per sequence at sequence level) and, when β > 0, the
// KL in the loss.
func (s groupSpec) learnerConfig() ppo.LearnerConfig {
	lc := ppo.LearnerConfig{Penalty: ppo.Penalty{Kind: ppo.PenaltyClip, Value: s.clip}, Epochs: s.epochs,
		MinibatchSize: s.minibatch, NormAdv: ppo.AdvNormNone, MaxGradNorm: s.maxGrad, GradClip: ppo.GradClipSeparate,
		Weighted: true, SequenceLevel: s.sequenceLevel}
	if s.klLoss.Beta > 0 { // β = 0: no KL term at all (TRL does not even load the reference)
		lc.KLRef = s.klLoss
	}
	return lc
}

func newGroupTrainer(env Env, s groupSpec) (*GroupTrainer, error) {
	pi, err := env.Ref.Clone()
	if err != nil {
		return nil, err
	}
	prompts, err := NewPrompts(env.G, s.task.HeldOut)
	if err != nil {
		return nil, err
	}
	learner, err := ppo.NewLearner(pi.AC, s.learnerConfig())
	if err != nil {
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	return &GroupTrainer{spec: s, g: env.G, gold: env.Gold, rm: env.RM, pi: pi, prompts: prompts,
		gen: newGenerator(env.Ref.Cfg, pi, env.Ref, false), learner: learner, rngAct: rng.New(s.seed, streamGroupRollout),
		rngMB: rng.New(s.seed, streamGroupShuffle), rngQ: rng.New(s.seed, streamPrompts)}, nil
}

// Policy returns the model being trained.
func (t *GroupTrainer) Policy() *Model { return t.pi }

// Step runs one update: the rollout and its advantages (batch), the learner, the measures.
func (t *GroupTrainer) Step(ctx context.Context, update int) (UpdateMetrics, []Sample, error) {
	start := time.Now()
	s := t.spec
	r, err := t.batch(ctx)
	if err != nil {
		return UpdateMetrics{}, nil, err
	}
	// β as reported: GRPO's in the loss or RLOO's in the reward (the other is 0)
	m, err := r.learn(ctx, t.learner, update, s.lr, s.klLoss.Beta, s.klLoss.Beta+s.rewardBeta, t.rngMB, start)
	if err != nil {
		return m, nil, err
	}
	return m, r.samples(t.g, update, 4), nil
}

// batch completes each of Prompts training prompts Group times, scores the completions,
// measures their KL to π_ref, subtracts the KL from the rewards (RLOO: R = score − β·Σ_t k1_t),
// turns the rewards into advantages and fills the learner's batch.
func (t *GroupTrainer) batch(ctx context.Context) (*rollout, error) {
	s := t.spec
	prompts, err := t.prompts.Groups(ctx, t.rngQ, s.prompts, s.group)
	if err != nil {
		return nil, err
	}
	r, err := t.gen.generate(ctx, prompts, t.rngAct)
	if err != nil {
		return nil, err
	}
	if err := r.score(t.rm, t.gold, t.g); err != nil {
		return nil, err
	}
	scores := s.task.Reward.of(r)
	if err := r.klRewards(ppo.KLRef{Estimator: kl.K1, In: ppo.KLInLoss}, 0, scores); err != nil { // measures the KLs
		return nil, err
	}
	rewards := make([]float64, len(scores))
	for i := range rewards {
		rewards[i] = scores[i] - s.rewardBeta*r.k1[i]
	}
	adv, err := s.advantages(rewards)
	if err != nil {
		return nil, err
	}
	return r, r.sequenceBatch(adv, s.weights)
}

// sequenceBatch gives every token of completion i the advantage adv[i] and the loss weight of its
// completion, and marks the completions for a sequence-level learner (Batch.Starts).
func (r *rollout) sequenceBatch(adv []float64, weights func([]int) ([]float64, error)) error {
	lengths := make([]int, len(r.seqs))
	for i := range lengths {
		lengths[i] = r.start[i+1] - r.start[i]
	}
	w, err := weights(lengths)
	if err != nil {
		return err
	}
	b := &r.batch
	b.Advantages, b.Weights, b.Starts = resize(b.Advantages, b.N), resize(b.Weights, b.N), r.start
	for i := range r.seqs {
		for k := r.start[i]; k < r.start[i+1]; k++ {
			b.Advantages[k], b.Weights[k] = adv[i], w[i]
		}
	}
	return nil
}

// RunGRPO trains a policy from env.Ref with GRPO (cfg) and writes the run's files (the same as
// RunPPO's).
func RunGRPO(ctx context.Context, env Env, cfg GRPOConfig, dir string, onUpdate func(UpdateMetrics)) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if err := cfg.CheckMemory(env.Ref.Cfg); err != nil {
		return Summary{}, err
	}
	run := onlineRun{kind: rundir.KindRLHFGRPO, rc: RunConfig{Method: "grpo", GRPO: &cfg,
		Description: fmt.Sprintf("klppo rlhf grpo: GRPO from π_ref against the %s reward, %s in the loss with β = %g, loss type %s",
			rewardName(cfg.Reward), cfg.KL.Name(), cfg.KL.Beta, cfg.LossType)},
		updates: cfg.Updates, refSamples: cfg.RefSamples, seed: cfg.Seed, prompted: true, task: cfg.Task,
		settings: Summary{Beta: cfg.KL.Beta, KLCtl: "fixed", KLIn: string(cfg.KL.In), KLEstimator: cfg.KL.Estimator.String()},
		trainer:  func() (stepper, error) { return NewGRPOTrainer(env, cfg) }}
	return runOnline(ctx, env, run, dir, onUpdate)
}

// rewardName is the reward's name in a description.
func rewardName(r Reward) string {
	if r == RewardGold {
		return "gold"
	}
	return "reward-model"
}
