package rlhf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"klppo/internal/rng"
	"klppo/kl"
	"klppo/ppo"
)

// PPOConfig configures RLHF's PPO on tokens. Each generated token is one step of an MDP whose
// state is the prefix and whose action is the next token; the episode ends with End or at
// MaxLen tokens. The reward of token t is
//
//	r_t = −β·k_t (KL in the reward)  +  r_φ(x)·[t is the last token]
//
// where k_t estimates the token's KL(π(·|x_<t)‖π_ref(·|x_<t)) (ppo.KLRef: k1, k2, k3 or the exact
// full-vocabulary KL). With the KL in the loss, r_t is only the score and β·k_t is added to the
// minimised loss instead. PPO's own trust region — the clipped ratio π_θ/π_old — is a different
// KL (to the policy of the last update, refreshed every update) and is left at its defaults.
type PPOConfig struct {
	Updates   int     `json:"updates"`   // rollouts/updates
	Batch     int     `json:"batch"`     // sequences per rollout
	Minibatch int     `json:"minibatch"` // tokens per gradient step
	Epochs    int     `json:"epochs"`    // passes over each rollout
	LR        float64 `json:"lr"`        // Adam learning rate (policy and value nets)
	Clip      float64 `json:"clip"`      // PPO's ratio clip ε (TRL cliprange 0.2)
	Gamma     float64 `json:"gamma"`     // discount over tokens (TRL 1)
	Lambda    float64 `json:"lambda"`    // GAE λ (TRL 0.95)
	MaxGrad   float64 `json:"max_grad_norm"`
	// KL is the leash to π_ref: estimator, placement and initial β (β = 0: no leash).
	KL ppo.KLRef `json:"kl"`
	// Ctl adapts β between updates from the mean exact sequence KL: fixed, prop (Ziegler et al.
	// / TRL, with Target and Horizon in sequences) or adaptive (the PPO paper's halve/double).
	Ctl     string  `json:"kl_ctl"`
	Target  float64 `json:"kl_target"`  // nats per sequence (prop, adaptive)
	Horizon float64 `json:"kl_horizon"` // sequences (prop)
	Seed    uint64  `json:"seed"`
	// RefSamples is the number of π_ref samples for the reference's rewards (ref_proxy, ref_gold).
	RefSamples int `json:"ref_samples"`
	// Prompted completes training prompts (the opening words of reviews, Prompts) instead of
	// writing whole reviews from the start (the story of `klppo rlhf`).
	Prompted bool `json:"prompted"`
	// Task: the reward maximised (the reward model by default, or gold), the held-out prompts and
	// the final evaluation.
	Task
}

// DefaultPPOConfig: 150 updates of 64 sequences, 4 epochs of 256-token minibatches, Adam 1e-3,
// clip 0.2, γ = 1, λ = 0.95, k1 in the reward (TRL's classic PPOTrainer) with a fixed β = beta,
// against the reward model, whole reviews from the start.
func DefaultPPOConfig(beta float64, seed uint64) PPOConfig {
	return PPOConfig{Updates: 150, Batch: 64, Minibatch: 256, Epochs: 4, LR: 1e-3, Clip: 0.2, Gamma: 1, Lambda: 0.95,
		MaxGrad: 1, KL: ppo.KLRef{Estimator: kl.K1, In: ppo.KLInReward, Beta: beta}, Ctl: "fixed",
		Target: 1.5, Horizon: 500, Seed: seed, RefSamples: 1024, Task: DefaultTask()}
}

// Validate checks every field; the error is a *ConfigError naming it ("ppo.minibatch", …).
func (c PPOConfig) Validate() error {
	switch {
	case c.Updates < 1 || c.Updates > MaxUpdates:
		return bad("ppo.updates", c.Updates, "want 1 to %d", MaxUpdates)
	case c.Batch < 1 || c.Batch > MaxBatch:
		return bad("ppo.batch", c.Batch, "want 1 to %d sequences", MaxBatch)
	case c.Minibatch < 1 || c.Minibatch > MaxMinibatch:
		return bad("ppo.minibatch", c.Minibatch, "want 1 to %d tokens", MaxMinibatch)
	case c.Epochs < 1 || c.Epochs > MaxEpochs:
		return bad("ppo.epochs", c.Epochs, "want 1 to %d", MaxEpochs)
	case !(c.LR > 0) || c.LR > 1:
		return bad("ppo.lr", c.LR, "want a number in (0, 1]")
	case !(c.Clip > 0 && c.Clip < 1):
		return bad("ppo.clip", c.Clip, "want a number in (0, 1)")
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return bad("ppo.gamma", c.Gamma, "want a number in [0, 1]")
	case !(c.Lambda >= 0 && c.Lambda <= 1):
		return bad("ppo.lambda", c.Lambda, "want a number in [0, 1]")
	case !(c.MaxGrad > 0) || !finite(c.MaxGrad):
		return bad("ppo.max_grad_norm", c.MaxGrad, "want a finite number > 0")
	case c.RefSamples < 1 || c.RefSamples > MaxRefSamples:
		return bad("ppo.ref_samples", c.RefSamples, "want 1 to %d", MaxRefSamples)
	}
	if !c.KL.Estimator.Sampled() && c.KL.Estimator != kl.Exact {
		return bad("ppo.kl.estimator", c.KL.Estimator, "want k1, k2, k3 or exact")
	}
	switch c.KL.In {
	case ppo.KLInReward, ppo.KLInLoss:
	default:
		return bad("ppo.kl.in", fmt.Sprintf("%q", c.KL.In), "want reward or loss")
	}
	if !(c.KL.Beta >= 0) || !finite(c.KL.Beta) {
		return bad("ppo.kl.beta", c.KL.Beta, "want a finite number ≥ 0")
	}
	if err := c.KL.Validate(); err != nil {
		return bad("ppo.kl", c.KL.Name(), "%v", err)
	}
	switch c.Ctl {
	case "fixed":
		if c.KL.Beta > MaxBeta {
			return bad("ppo.kl.beta", c.KL.Beta, "want 0 to %g", float64(MaxBeta))
		}
	case "prop", "adaptive":
		if !(c.Target > 0) || !finite(c.Target) {
			return bad("ppo.kl_target", c.Target, "want a finite number > 0 with kl_ctl %s", c.Ctl)
		}
		if c.KL.Beta == 0 {
			return bad("ppo.kl.beta", c.KL.Beta, "with kl_ctl %s β must start > 0: a multiplicative controller cannot move it away from 0", c.Ctl)
		}
		if c.KL.Beta < ppo.DefaultBetaMin || c.KL.Beta > ppo.DefaultBetaMax {
			return bad("ppo.kl.beta", c.KL.Beta, "with kl_ctl %s β must start within the controller's bounds [%g, %g] (it is clamped to them after every update)", c.Ctl, ppo.DefaultBetaMin, ppo.DefaultBetaMax)
		}
		if c.Ctl == "prop" && (!(c.Horizon > 0) || !finite(c.Horizon)) {
			return bad("ppo.kl_horizon", c.Horizon, "want a finite number > 0 with kl_ctl prop")
		}
	default:
		return bad("ppo.kl_ctl", fmt.Sprintf("%q", c.Ctl), "want fixed, prop or adaptive")
	}
	if err := c.Task.validate("ppo"); err != nil {
		return err
	}
	if _, err := c.controller(); err != nil {
		return err
	}
	return nil
}

// controller returns the β rule of Ctl (ppo.NewBetaController with ppo's default bounds; the
// proportional rule's horizon is in sequences).
func (c PPOConfig) controller() (ppo.BetaController, error) {
	ctl, err := ppo.NewBetaController(ppo.BetaRule(c.Ctl), c.Target, c.Horizon, ppo.DefaultBetaMin, ppo.DefaultBetaMax)
	if err != nil {
		return nil, fmt.Errorf("rlhf: ppo: kl_ctl %s: %w", c.Ctl, err)
	}
	return ctl, nil
}

// learnerConfig is PPO's update on tokens: the clipped objective with ε = Clip, advantages
// whitened over the batch (TRL), a separate value model trained on ½·mean((V − R)²) unclipped,
// each model's gradients clipped to MaxGrad on its own, no entropy bonus, and the KL to π_ref in
// the loss when KL.In says so.
func (c PPOConfig) learnerConfig() ppo.LearnerConfig {
	return ppo.LearnerConfig{Penalty: ppo.Penalty{Kind: ppo.PenaltyClip, Value: c.Clip}, Epochs: c.Epochs,
		MinibatchSize: c.Minibatch, NormAdv: ppo.AdvNormBatch, Critic: true, VFCoef: 1, MaxGradNorm: c.MaxGrad,
		GradClip: ppo.GradClipSeparate, KLRef: c.KL}
}

// UpdateMetrics is one row of metrics.csv: the rollout of the update (collected before its
// gradient steps) and the losses of its gradient steps.
type UpdateMetrics struct {
	Update     int     `json:"update"`
	Proxy      float64 `json:"proxy_reward"` // mean r_φ(x) over the rollout
	Gold       float64 `json:"gold_reward"`  // mean gold(x)
	KL         float64 `json:"kl"`           // mean over sequences of Σ_t KL(π(·|x_<t)‖π_ref(·|x_<t)), exact per position
	KLk1       float64 `json:"kl_k1"`        // mean over sequences of Σ_t (ln π(x_t) − ln π_ref(x_t))
	KLk3       float64 `json:"kl_k3"`        // same with k3 = e^(−l) − 1 + l
	Beta       float64 `json:"beta"`         // β used for this rollout's rewards / loss
	Entropy    float64 `json:"entropy"`      // mean exact entropy of π(·|x_<t) per token
	Length     float64 `json:"length"`       // mean tokens per sequence
	InLanguage float64 `json:"in_language"`  // fraction of sequences that are sentences of the language
	PPOKL      float64 `json:"ppo_kl"`       // PPO's trust-region KL(π_old‖π_θ) after the update, exact, per token
	ClipFrac   float64 `json:"clipfrac"`
	PolicyLoss float64 `json:"policy_loss"`
	ValueLoss  float64 `json:"value_loss"`
	Tokens     int     `json:"tokens"`
	TokensPerS float64 `json:"tokens_per_s"`
	WallS      float64 `json:"wall_s"`
	// RolloutS is the time spent sampling, scoring and computing rewards and advantages, LearnS
	// the time of the learner and the trust-region KL (klppo bench rlhf; not in metrics.csv).
	RolloutS float64 `json:"-"`
	LearnS   float64 `json:"-"`
}

// Sample is one generated text of an update (samples.jsonl).
type Sample struct {
	Update     int     `json:"update"`
	Text       string  `json:"text"`
	Proxy      float64 `json:"proxy_reward"`
	Gold       float64 `json:"gold_reward"`
	KL         float64 `json:"kl"`
	InLanguage bool    `json:"in_language"`
}

// RefStats are π_ref's rewards, measured on RefSamples samples before training, and its
// evaluation (Evaluate) for the summary's ref_heldout_gold and ref_distinct.
type RefStats struct {
	Proxy, Gold, InLanguage, Length float64
	Eval                            Eval
}

// Trainer runs token-level PPO from π_ref against a reward model.
type Trainer struct {
	cfg     PPOConfig
	g       *Grammar
	gold    *Gold
	rm      *RewardModel
	ref, pi *Model
	ctl     ppo.BetaController
	beta    float64
	rngAct  *rand.Rand
	rngMB   *rand.Rand
	gen     *generator
	learner *ppo.Learner
	prompts *Prompts   // nil unless Prompted
	rngQ    *rand.Rand // the prompts' stream
}

// NewTrainer builds the policy — a copy of ref's policy network with a freshly initialised
// value network (π_ref's value head was never trained) — and its learner.
func NewTrainer(g *Grammar, gold *Gold, rm *RewardModel, ref *Model, cfg PPOConfig) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctl, err := cfg.controller()
	if err != nil {
		return nil, err
	}
	pi, err := ref.Clone()
	if err != nil {
		return nil, err
	}
	fresh, err := NewModel(rng.New(cfg.Seed, streamPPOInit), ref.Cfg)
	if err != nil {
		return nil, err
	}
	if err := pi.AC.V.CopyFrom(fresh.AC.V); err != nil {
		return nil, fmt.Errorf("rlhf: ppo: value net: %w", err)
	}
	learner, err := ppo.NewLearner(pi.AC, cfg.learnerConfig())
	if err != nil {
		return nil, fmt.Errorf("rlhf: ppo: %w", err)
	}
	t := &Trainer{cfg: cfg, g: g, gold: gold, rm: rm, ref: ref, pi: pi, ctl: ctl, beta: cfg.KL.Beta,
		rngAct: rng.New(cfg.Seed, streamPPORollout), rngMB: rng.New(cfg.Seed, streamPPOShuffle),
		gen: newGenerator(ref.Cfg, pi, ref, true), learner: learner}
	if cfg.Prompted {
		if t.prompts, err = NewPrompts(g, cfg.HeldOut); err != nil {
			return nil, err
		}
		t.rngQ = rng.New(cfg.Seed, streamPrompts)
	}
	return t, nil
}

// Policy returns the model being trained.
func (t *Trainer) Policy() *Model { return t.pi }

// Beta is the current KL coefficient.
func (t *Trainer) Beta() float64 { return t.beta }

// RefStatsOf samples n sequences from π_ref and returns their mean rewards, in-language fraction
// and length. It stops with ctx's error once ctx is done.
func RefStatsOf(ctx context.Context, g *Grammar, gold *Gold, rm *RewardModel, ref *Model, n int, seed uint64) (RefStats, error) {
	rng := rng.New(seed, streamRefEval)
	seqs, err := ref.Sample(ctx, rng, n)
	if err != nil {
		return RefStats{}, fmt.Errorf("rlhf: π_ref's rewards: %w", err)
	}
	return refRewards(ctx, g, gold, rm, seqs, make([]int, n))
}

// refStats are π_ref's rewards for an online run — on RefSamples whole reviews (RefStatsOf) or
// completions of training prompts when the run is prompted — and its evaluation.
func refStats(ctx context.Context, env Env, p *Prompts, run onlineRun, n int) (RefStats, error) {
	var s RefStats
	var err error
	if run.prompted {
		r := rng.New(run.seed, streamRefEval)
		prompts, err := p.Batch(ctx, r, n, false)
		if err != nil {
			return s, fmt.Errorf("rlhf: π_ref's rewards: %w", err)
		}
		seqs, err := env.Ref.Complete(ctx, r, prompts)
		if err != nil {
			return s, fmt.Errorf("rlhf: π_ref's rewards: %w", err)
		}
		lens := make([]int, n)
		for i, q := range prompts {
			lens[i] = len(q)
		}
		s, err = refRewards(ctx, env.G, env.Gold, env.RM, seqs, lens)
	} else {
		s, err = RefStatsOf(ctx, env.G, env.Gold, env.RM, env.Ref, n, run.seed)
	}
	if err != nil {
		return s, err
	}
	s.Eval, err = Evaluate(ctx, env.Ref, env.G, env.Gold, p, run.task.Eval, run.seed)
	return s, err
}

// refRewards are the mean rewards, in-language fraction and completion length of π_ref's
// sequences seqs (prompt i of length promptLen[i] included).
func refRewards(ctx context.Context, g *Grammar, gold *Gold, rm *RewardModel, seqs [][]int, promptLen []int) (RefStats, error) {
	n := len(seqs)
	proxy, err := rm.Scores(seqs)
	if err != nil {
		return RefStats{}, err
	}
	var s RefStats
	for i, x := range seqs {
		if err := interrupted(ctx, i, n, "π_ref's rewards: gold scores", "sample"); err != nil {
			return RefStats{}, err
		}
		s.Proxy += proxy[i]
		s.Gold += gold.Score(x)
		if g.Accepts(x) {
			s.InLanguage++
		}
		s.Length += float64(len(x) - promptLen[i])
	}
	f := float64(n)
	s.Proxy, s.Gold, s.InLanguage, s.Length = s.Proxy/f, s.Gold/f, s.InLanguage/f, s.Length/f
	return s, nil
}

// Step runs one update: sample a batch of sequences from π (whole reviews, or completions of
// training prompts), score them (reward model and gold), shape the per-token rewards of the
// maximised score with the KL to π_ref, compute advantages, run PPO's epochs of minibatch steps
// (ppo.Learner), measure, and let the β rule react to the KL.
func (t *Trainer) Step(ctx context.Context, update int) (UpdateMetrics, []Sample, error) {
	start := time.Now()
	beta := t.beta
	prompts := make([][]int, t.cfg.Batch)
	if t.prompts != nil {
		var err error
		if prompts, err = t.prompts.Batch(ctx, t.rngQ, t.cfg.Batch, false); err != nil {
			return UpdateMetrics{}, nil, err
		}
	}
	r, err := t.gen.generate(ctx, prompts, t.rngAct)
	if err != nil {
		return UpdateMetrics{}, nil, err
	}
	if err := r.score(t.rm, t.gold, t.g); err != nil {
		return UpdateMetrics{}, nil, err
	}
	if err := r.klRewards(t.cfg.KL, beta, t.cfg.Reward.of(r)); err != nil {
		return UpdateMetrics{}, nil, err
	}
	if err := r.gae(t.cfg.Gamma, t.cfg.Lambda); err != nil {
		return UpdateMetrics{}, nil, err
	}
	m, err := r.learn(ctx, t.learner, update, t.cfg.LR, beta, beta, t.rngMB, start)
	if err != nil {
		return m, nil, err
	}
	t.beta = t.ctl.Next(beta, m.KL, len(r.seqs))
	return m, r.samples(t.g, update, 4), nil
}

// learn runs the learner on the rollout's batch (learning rate lr, klRefBeta the β of a KL in
// the loss) and measures the update: the rollout's metrics reported with β = beta, PPO's
// trust-region KL(π_old‖π_θ) after the update, the learner's clip fraction and losses, and the
// timings since start.
func (r *rollout) learn(ctx context.Context, l *ppo.Learner, update int, lr, klRefBeta, beta float64, rng *rand.Rand, start time.Time) (UpdateMetrics, error) {
	learnStart := time.Now()
	stats, err := l.Learn(ctx, &r.batch, lr, 0, klRefBeta, rng)
	if err != nil {
		return UpdateMetrics{}, err // the run loop names the update
	}
	ppoKL, err := l.TrustRegionKL(&r.batch)
	if err != nil {
		return UpdateMetrics{}, err
	}
	m := r.metrics(update, beta)
	m.PPOKL, m.ClipFrac, m.PolicyLoss, m.ValueLoss = ppoKL, stats.ClipFrac, stats.PolicyLoss, stats.ValueLoss
	m.WallS, m.LearnS = time.Since(start).Seconds(), time.Since(learnStart).Seconds()
	m.RolloutS = m.WallS - m.LearnS
	m.TokensPerS = float64(m.Tokens) / m.WallS
	return m, nil
}

// metrics are the rollout's means per sequence (rewards, KLs, length, in-language fraction) and
// per token (entropy); the learner's columns are left to the caller.
func (r *rollout) metrics(update int, beta float64) UpdateMetrics {
	m := UpdateMetrics{Update: update, Beta: beta, Entropy: r.entropy, Tokens: r.batch.N}
	N := float64(len(r.seqs))
	var length, in float64
	for i, x := range r.seqs {
		m.Proxy, m.Gold, m.KL, m.KLk1, m.KLk3 = m.Proxy+r.proxy[i], m.Gold+r.gold[i], m.KL+r.kl[i], m.KLk1+r.k1[i], m.KLk3+r.k3[i]
		length += float64(len(x) - r.prompt[i])
		if r.inLang[i] {
			in++
		}
	}
	m.Proxy, m.Gold, m.KL, m.KLk1, m.KLk3 = m.Proxy/N, m.Gold/N, m.KL/N, m.KLk1/N, m.KLk3/N
	m.Length, m.InLanguage = length/N, in/N
	return m
}

// samples are the first n texts of the rollout.
func (r *rollout) samples(g *Grammar, update, n int) []Sample {
	var out []Sample
	for i := 0; i < min(n, len(r.seqs)); i++ {
		out = append(out, Sample{Update: update, Text: g.Text(r.seqs[i]), Proxy: r.proxy[i], Gold: r.gold[i],
			KL: r.kl[i], InLanguage: r.inLang[i]})
	}
	return out
}
