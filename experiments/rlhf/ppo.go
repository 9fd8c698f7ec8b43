package rlhf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"klppo/kl"
	"klppo/kl/klgraph"
	"klppo/nn"
	"klppo/policy"
	"klppo/ppo"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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
}

// DefaultPPOConfig: 200 updates of 64 sequences, 4 epochs of 256-token minibatches, Adam 1e-3,
// clip 0.2, γ = 1, λ = 0.95, k1 in the reward (TRL's classic PPOTrainer) with a fixed β = beta.
func DefaultPPOConfig(beta float64, seed uint64) PPOConfig {
	return PPOConfig{Updates: 200, Batch: 64, Minibatch: 256, Epochs: 4, LR: 1e-3, Clip: 0.2, Gamma: 1, Lambda: 0.95,
		MaxGrad: 1, KL: ppo.KLRef{Estimator: ppo.KLRefK1, In: ppo.KLInReward, Beta: beta}, Ctl: "fixed",
		Target: 1.5, Horizon: 500, Seed: seed, RefSamples: 1024}
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
	switch c.KL.Estimator {
	case ppo.KLRefK1, ppo.KLRefK2, ppo.KLRefK3, ppo.KLRefExact:
	default:
		return bad("ppo.kl.estimator", fmt.Sprintf("%q", c.KL.Estimator), "want k1, k2, k3 or exact")
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
		if c.KL.Beta < CtlBetaMin || c.KL.Beta > CtlBetaMax {
			return bad("ppo.kl.beta", c.KL.Beta, "with kl_ctl %s β must start within the controller's bounds [%g, %g] (it is clamped to them after every update)", c.Ctl, CtlBetaMin, float64(CtlBetaMax))
		}
		if c.Ctl == "prop" && (!(c.Horizon > 0) || !finite(c.Horizon)) {
			return bad("ppo.kl_horizon", c.Horizon, "want a finite number > 0 with kl_ctl prop")
		}
	default:
		return bad("ppo.kl_ctl", fmt.Sprintf("%q", c.Ctl), "want fixed, prop or adaptive")
	}
	if _, err := c.controller(); err != nil {
		return err
	}
	return nil
}

// controller returns the β rule of Ctl.
func (c PPOConfig) controller() (ppo.BetaController, error) {
	switch c.Ctl {
	case "fixed":
		return ppo.FixedBeta{}, nil
	case "prop", "adaptive":
		if !(c.Target > 0) || math.IsInf(c.Target, 0) {
			return nil, fmt.Errorf("rlhf: ppo: kl_target %v, want a finite number > 0 with kl_ctl %s", c.Target, c.Ctl)
		}
		if c.Ctl == "adaptive" {
			return ppo.BoundedBeta{Rule: ppo.AdaptiveBeta{Target: c.Target}, Min: CtlBetaMin, Max: CtlBetaMax}, nil
		}
		if !(c.Horizon > 0) || math.IsInf(c.Horizon, 0) {
			return nil, fmt.Errorf("rlhf: ppo: kl_horizon %v, want a finite number > 0", c.Horizon)
		}
		return ppo.BoundedBeta{Rule: ppo.ProportionalBeta{Target: c.Target, Horizon: c.Horizon}, Min: CtlBetaMin, Max: CtlBetaMax}, nil
	}
	return nil, fmt.Errorf("rlhf: ppo: kl_ctl %q, want fixed, prop or adaptive", c.Ctl)
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

// RefStats are π_ref's rewards, measured on RefSamples samples before training.
type RefStats struct {
	Proxy, Gold, InLanguage, Length float64
}

// rollout is one batch of sequences with everything PPO needs, tokens flattened sequence by
// sequence.
type rollout struct {
	seqs                          [][]int
	start                         []int     // first flat index of each sequence
	obs                           []float64 // tokens × D
	act, logp, value, ref         []float64 // tokens
	logits, refLogits             []float64 // tokens × V (π_old and π_ref)
	proxy, gold, kl, k1, k3       []float64 // sequences
	inLang                        []bool
	entropy                       float64
	adv, ret, reward              []float64 // tokens
	terminated, truncated, noBoot []bool
}

// Trainer runs token-level PPO from π_ref against a reward model.
type Trainer struct {
	cfg    PPOConfig
	g      *Grammar
	gold   *Gold
	rm     *RewardModel
	ref    *Model
	pi     *Model
	ctl    ppo.BetaController
	beta   float64
	rngAct *rand.Rand
	rngMB  *rand.Rand

	actor, refActor *policy.Actor

	pol    *policy.PolicyGraph
	polTr  *nn.Trainer
	polOpt *nn.Adam
	in     tokenLossInputs
	val    *policy.ValueGraph
	valTr  *nn.Trainer
	valOpt *nn.Adam
	retN   *G.Node
	retT   *tensor.Dense
	vLossV G.Value
}

// tokenLossInputs are the per-minibatch inputs and read-backs of the policy graph.
type tokenLossInputs struct {
	oldLogP, adv, beta, klCoef *G.Node
	oldLogPT, advT, klCoefT    *tensor.Dense
	// exact KL in the loss: a second view of the policy's log-probability rows and the constant
	// gradient weights ∂(β·KL)/∂z from ppo.KLRef.LossTerm
	obs2, rowW     *G.Node
	obs2T, rowWT   *tensor.Dense
	surr, logRatio G.Value
}

// NewTrainer builds the policy — a copy of ref's policy network with a freshly initialised
// value network (π_ref's value head was never trained) — and the training graphs.
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
	// A fresh value net (π_ref's value head was never trained).
	fresh, err := NewModel(rand.New(rand.NewPCG(cfg.Seed, streamPPOInit)), ref.Cfg)
	if err != nil {
		return nil, err
	}
	if err := pi.AC.V.CopyFrom(fresh.AC.V); err != nil {
		return nil, fmt.Errorf("rlhf: ppo: value net: %w", err)
	}
	t := &Trainer{cfg: cfg, g: g, gold: gold, rm: rm, ref: ref, pi: pi, ctl: ctl, beta: cfg.KL.Beta,
		rngAct: rand.New(rand.NewPCG(cfg.Seed, streamPPORollout)),
		rngMB:  rand.New(rand.NewPCG(cfg.Seed, streamPPOShuffle)),
		actor:  policy.NewActor(pi.AC), refActor: policy.NewActor(ref.AC)}
	if err := t.buildPolicy(); err != nil {
		return nil, err
	}
	if err := t.buildValue(); err != nil {
		return nil, err
	}
	return t, nil
}

// Policy returns the model being trained.
func (t *Trainer) Policy() *Model { return t.pi }

func (t *Trainer) buildPolicy() error {
	B, V, D := t.cfg.Minibatch, t.ref.Cfg.V, t.ref.Cfg.ObsDim()
	pg, err := t.pi.AC.NewPolicyGraph(B)
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	b := nn.NewBuilder(pg.G, t.pi.AC.Dtype())
	in := &t.in
	in.oldLogP, in.oldLogPT = b.Vector("old_logp", B)
	in.adv, in.advT = b.Vector("adv", B)
	in.klCoef, in.klCoefT = b.Vector("kl_ref_coef", B)
	in.beta = b.ScalarInput("ppo_beta")
	pen := ppo.Penalty{Kind: ppo.PenaltyClip, Value: t.cfg.Clip}
	loss := ppo.BuildPolicyLoss(b, pen, ppo.PolicyLossInputs{LogP: pg.LogP, OldLogP: in.oldLogP, Adv: in.adv, KL: pg.KL, Beta: in.beta})
	cost := loss.Loss
	if t.cfg.KL.In == ppo.KLInLoss {
		if t.cfg.KL.Estimator == ppo.KLRefExact {
			// Σ_y w_y·ln π_θ(y|s) with constant w = ∂(β·KL)/∂z: the gradient of β·KL(π_θ‖π_ref).
			dt := t.pi.AC.Dtype()
			in.obs2T = tensor.New(tensor.WithShape(B, D), tensor.Of(dt))
			in.obs2 = G.NewMatrix(pg.G, dt, G.WithShape(B, D), G.WithName("obs_kl"))
			in.rowWT = tensor.New(tensor.WithShape(B, V), tensor.Of(dt))
			in.rowW = G.NewMatrix(pg.G, dt, G.WithShape(B, V), G.WithName("kl_ref_row_weights"))
			logits, err := t.pi.AC.Pi.Graph(pg.G, in.obs2) // the same weight nodes
			if err != nil {
				return fmt.Errorf("rlhf: ppo: exact KL loss: %w", err)
			}
			rows, err := klgraph.LogSoftmaxNode(logits)
			if err != nil {
				return fmt.Errorf("rlhf: ppo: exact KL loss: %w", err)
			}
			cost = b.Add(cost, b.Mul(b.Scalar(1/float64(B)), b.Sum(b.HadamardProd(rows, in.rowW))))
		} else {
			// mean_t sg(∂(β·k_t)/∂ln π)·ln π_θ(x_t|s_t): the gradient of the sampled loss term.
			cost = b.Add(cost, b.Mean(b.HadamardProd(in.klCoef, pg.LogP)))
		}
	}
	if err := b.Err(); err != nil {
		return fmt.Errorf("rlhf: ppo: policy loss: %w", err)
	}
	G.Read(loss.SurrogateLoss, &in.surr)
	G.Read(loss.LogRatio, &in.logRatio)
	tr, err := nn.NewTrainer(pg.G, cost, pg.Learnables)
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	t.pol, t.polTr, t.polOpt = pg, tr, opt
	return nil
}

func (t *Trainer) buildValue() error {
	B := t.cfg.Minibatch
	vg, err := t.pi.AC.NewValueGraph(B)
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	b := nn.NewBuilder(vg.G, t.pi.AC.Dtype())
	t.retN, t.retT = b.Vector("returns", B)
	// ½·mean((V − R)²), unclipped (TRL clips the value too; unnecessary at this size).
	loss := b.Mul(b.Scalar(0.5), b.Mean(b.Square(b.Sub(vg.Value, t.retN))))
	if err := b.Err(); err != nil {
		return fmt.Errorf("rlhf: ppo: value loss: %w", err)
	}
	G.Read(loss, &t.vLossV)
	tr, err := nn.NewTrainer(vg.G, loss, vg.Learnables)
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	t.val, t.valTr, t.valOpt = vg, tr, opt
	return nil
}

// Beta is the current KL coefficient.
func (t *Trainer) Beta() float64 { return t.beta }

// RefStatsOf samples n sequences from π_ref and returns their mean rewards, in-language fraction
// and length.
func RefStatsOf(g *Grammar, gold *Gold, rm *RewardModel, ref *Model, n int, seed uint64) (RefStats, error) {
	rng := rand.New(rand.NewPCG(seed, streamRefEval))
	seqs, err := ref.Sample(rng, n)
	if err != nil {
		return RefStats{}, err
	}
	proxy, err := rm.Scores(seqs)
	if err != nil {
		return RefStats{}, err
	}
	var s RefStats
	for i, x := range seqs {
		s.Proxy += proxy[i]
		s.Gold += gold.Score(x)
		if g.Accepts(x) {
			s.InLanguage++
		}
		s.Length += float64(len(x))
	}
	f := float64(n)
	s.Proxy, s.Gold, s.InLanguage, s.Length = s.Proxy/f, s.Gold/f, s.InLanguage/f, s.Length/f
	return s, nil
}

// collect samples a batch from π and computes rewards, π_ref's log-probabilities, the logged KLs
// and the shaped per-token rewards.
func (t *Trainer) collect() (*rollout, error) {
	cfg := t.pi.Cfg
	N, D, V := t.cfg.Batch, cfg.ObsDim(), cfg.V
	r := &rollout{seqs: make([][]int, N)}
	// Per sequence, per position: flat rows appended in generation order, re-sorted below.
	type tok struct {
		seq     int
		obs     []float64
		act     float64
		logp, v float64
		logits  []float64
		ref     []float64
	}
	perSeq := make([][]tok, N)
	obs := make([]float64, N*D)
	active := make([]int, 0, N)
	for {
		active = active[:0]
		for i, x := range r.seqs {
			if !cfg.Done(x) {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			break
		}
		n := len(active)
		for k, i := range active {
			cfg.Obs(obs[k*D:(k+1)*D], r.seqs[i])
		}
		act, err := t.actor.Act(obs[:n*D], n, t.rngAct, false, true)
		if err != nil {
			return nil, fmt.Errorf("rlhf: ppo: rollout: %w", err)
		}
		// Copy out: the Acting buffers are overwritten by the next call.
		acts := append([]float64(nil), act.Actions...)
		logps := append([]float64(nil), act.LogP...)
		vals := append([]float64(nil), act.Values...)
		dists := append([]float64(nil), act.Dist...)
		refD, err := t.refActor.Dist(obs[:n*D], n)
		if err != nil {
			return nil, fmt.Errorf("rlhf: ppo: reference: %w", err)
		}
		for k, i := range active {
			perSeq[i] = append(perSeq[i], tok{seq: i, obs: append([]float64(nil), obs[k*D:(k+1)*D]...), act: acts[k],
				logp: logps[k], v: vals[k], logits: dists[k*V : (k+1)*V], ref: append([]float64(nil), refD[k*V:(k+1)*V]...)})
			r.seqs[i] = append(r.seqs[i], int(acts[k]))
		}
	}
	proxy, err := t.rm.Scores(r.seqs)
	if err != nil {
		return nil, err
	}
	r.proxy = proxy
	r.gold, r.kl, r.k1, r.k3 = make([]float64, N), make([]float64, N), make([]float64, N), make([]float64, N)
	r.inLang = make([]bool, N)
	rowPi, rowRef := make([]float64, V), make([]float64, V)
	var entSum float64
	nTok := 0
	for i, toks := range perSeq {
		r.gold[i] = t.gold.Score(r.seqs[i])
		r.inLang[i] = t.g.Accepts(r.seqs[i])
		r.start = append(r.start, len(r.act))
		for j, tk := range toks {
			if err := logSoftmaxPair(rowPi, tk.logits, rowRef, tk.ref); err != nil {
				return nil, err
			}
			a := int(tk.act)
			lref := rowRef[a]
			exact, k1, k3, err := tokenKL(rowPi, rowRef, a)
			if err != nil {
				return nil, err
			}
			h, err := kl.EntropyLogits(rowPi)
			if err != nil {
				return nil, fmt.Errorf("rlhf: ppo: entropy: %w", err)
			}
			entSum += h
			r.kl[i] += exact
			r.k1[i] += k1
			r.k3[i] += k3
			klr := t.cfg.KL
			klr.Beta = t.beta // the controller's current β
			last := j == len(toks)-1
			score := 0.0
			if last {
				score = proxy[i]
			}
			rew, err := TokenReward(klr, ppo.KLRefToken{LogPi: tk.logp, LogRef: lref, LogOld: tk.logp,
				LogPiRow: rowPi, LogRefRow: rowRef}, score)
			if err != nil {
				return nil, err
			}
			r.obs = append(r.obs, tk.obs...)
			r.act = append(r.act, tk.act)
			r.logp = append(r.logp, tk.logp)
			r.value = append(r.value, tk.v)
			r.ref = append(r.ref, lref)
			r.logits = append(r.logits, tk.logits...)
			r.refLogits = append(r.refLogits, tk.ref...)
			r.reward = append(r.reward, rew)
			r.terminated = append(r.terminated, last)
			r.truncated = append(r.truncated, false)
			nTok++
		}
	}
	r.entropy = entSum / float64(nTok)
	return r, nil
}

// TokenReward is the reward of one generated token: the reward-model score (non-zero on the
// last token only) minus the KL penalty when the KL is placed in the reward,
//
//	r_t = score_t − β·k_t   (k_t from klr's estimator: k1 = l, k2 = ½l², k3 = e^(−l) − 1 + l with
//	                         l = ln π(x_t) − ln π_ref(x_t), or the exact KL over the vocabulary)
//
// and r_t = score_t when klr places the KL in the loss.
func TokenReward(klr ppo.KLRef, tok ppo.KLRefToken, score float64) (float64, error) {
	pen, err := klr.RewardPenalty(tok)
	if err != nil {
		return 0, fmt.Errorf("rlhf: ppo: KL reward: %w", err)
	}
	return score - pen, nil
}

// SequenceKL returns, along the sequence x, the sums over positions of the exact per-position
// KL(π(·|x_<t)‖π_ref(·|x_<t)) (full vocabulary) and of the k1 and k3 estimates at the sampled
// tokens. For x ~ π the expectation of the exact sum is the sequence-level KL(π‖π_ref) =
// E_π[ln π(x) − ln π_ref(x)] (the chain rule of KL), and so is that of the k1 sum.
func SequenceKL(pi, ref *Model, x []int) (exact, k1, k3 float64, err error) {
	_, lgP, err := pi.LogProbs(x)
	if err != nil {
		return 0, 0, 0, err
	}
	_, lgR, err := ref.LogProbs(x)
	if err != nil {
		return 0, 0, 0, err
	}
	V := pi.Cfg.V
	rowPi, rowRef := make([]float64, V), make([]float64, V)
	for t, a := range x {
		if err := logSoftmaxPair(rowPi, lgP[t*V:(t+1)*V], rowRef, lgR[t*V:(t+1)*V]); err != nil {
			return 0, 0, 0, err
		}
		d, e1, e3, err := tokenKL(rowPi, rowRef, a)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("rlhf: sequence KL at position %d: %w", t, err)
		}
		exact, k1, k3 = exact+d, k1+e1, k3+e3
	}
	return exact, k1, k3, nil
}

// logSoftmaxPair writes the log-probabilities of the logits of π and π_ref at one position.
func logSoftmaxPair(dstPi, logitsPi, dstRef, logitsRef []float64) error {
	if err := kl.LogSoftmaxInto(dstPi, logitsPi); err != nil {
		return fmt.Errorf("rlhf: π's log-probabilities: %w", err)
	}
	if err := kl.LogSoftmaxInto(dstRef, logitsRef); err != nil {
		return fmt.Errorf("rlhf: π_ref's log-probabilities: %w", err)
	}
	return nil
}

// tokenKL returns, at one position with log-probability rows logPi = ln π(·|s) and
// logRef = ln π_ref(·|s) and sampled token a, the exact KL(π(·|s)‖π_ref(·|s)) (kl.KLLogits: log-
// probabilities are valid logits) and Schulman's k1 and k3 of the token (kl.Estimator with
// ℓ = ln π_ref(a) − ln π(a), the log-ratio of P = π_ref to the sampling distribution Q = π).
func tokenKL(logPi, logRef []float64, a int) (exact, k1, k3 float64, err error) {
	if exact, err = kl.KLLogits(logPi, logRef); err != nil {
		return 0, 0, 0, fmt.Errorf("rlhf: exact token KL: %w", err)
	}
	l := logRef[a] - logPi[a]
	return exact, kl.K1.Sample(l), kl.K3.Sample(l), nil
}

// advantages runs GAE per sequence (γ, λ; the last token is terminal) and whitens the advantages.
func (t *Trainer) advantages(r *rollout) error {
	T := len(r.act)
	r.adv, r.ret = make([]float64, T), make([]float64, T)
	zeros := make([]float64, T)
	for i := range r.seqs {
		lo := r.start[i]
		hi := T
		if i+1 < len(r.start) {
			hi = r.start[i+1]
		}
		if err := ppo.GAE(r.reward[lo:hi], r.value[lo:hi], r.terminated[lo:hi], r.truncated[lo:hi], zeros[lo:hi], []float64{0},
			1, t.cfg.Gamma, t.cfg.Lambda, r.adv[lo:hi], r.ret[lo:hi]); err != nil {
			return fmt.Errorf("rlhf: ppo: %w", err)
		}
	}
	m, sd := meanStd(r.adv)
	for i := range r.adv {
		r.adv[i] = (r.adv[i] - m) / (sd + 1e-8)
	}
	return nil
}

// Step runs one update: a rollout, GAE, Epochs passes of minibatch gradient steps, the β rule.
func (t *Trainer) Step(ctx context.Context, update int) (UpdateMetrics, []Sample, error) {
	start := time.Now()
	m := UpdateMetrics{Update: update, Beta: t.beta}
	r, err := t.collect()
	if err != nil {
		return m, nil, err
	}
	if err := t.advantages(r); err != nil {
		return m, nil, err
	}
	T, D, V, B := len(r.act), t.pi.Cfg.ObsDim(), t.pi.Cfg.V, t.cfg.Minibatch
	perm := make([]int, T)
	for i := range perm {
		perm[i] = i
	}
	obsB, actB, oldB, oldLogitsB := make([]float64, B*D), make([]float64, B), make([]float64, B), make([]float64, B*V)
	advB, retB, coefB, rowWB := make([]float64, B), make([]float64, B), make([]float64, B), make([]float64, B*V)
	rowPi, rowRef, dRow := make([]float64, V), make([]float64, V), make([]float64, V)
	var pl, vl float64
	var clipped, seen, steps int
	// T/B minibatches per epoch; a rollout shorter than one minibatch (a policy that stops
	// at once) is cycled to fill one.
	nMB := max(1, T/B)
	for e := 0; e < t.cfg.Epochs; e++ {
		t.rngMB.Shuffle(T, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for mb := 0; mb < nMB; mb++ {
			s := mb * B
			if err := ctx.Err(); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
			}
			for k := 0; k < B; k++ {
				i := perm[(s+k)%T]
				copy(obsB[k*D:(k+1)*D], r.obs[i*D:(i+1)*D])
				copy(oldLogitsB[k*V:(k+1)*V], r.logits[i*V:(i+1)*V])
				actB[k], oldB[k], advB[k], retB[k] = r.act[i], r.logp[i], r.adv[i], r.ret[i]
			}
			if t.cfg.KL.In == ppo.KLInLoss {
				// The loss term's gradient weights at the current θ (plain-Go forward pass).
				cur, err := t.actor.Dist(obsB, B)
				if err != nil {
					return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
				}
				klr := t.cfg.KL
				klr.Beta = t.beta
				for k := 0; k < B; k++ {
					i := perm[(s+k)%T]
					if err := logSoftmaxPair(rowPi, cur[k*V:(k+1)*V], rowRef, r.refLogits[i*V:(i+1)*V]); err != nil {
						return m, nil, err
					}
					a := int(r.act[i])
					_, c, err := klr.LossTerm(ppo.KLRefToken{LogPi: rowPi[a], LogRef: rowRef[a], LogOld: r.logp[i],
						LogPiRow: rowPi, LogRefRow: rowRef}, dRow)
					if err != nil {
						return m, nil, fmt.Errorf("rlhf: ppo: KL loss: %w", err)
					}
					coefB[k] = c
					copy(rowWB[k*V:(k+1)*V], dRow)
				}
			}
			if err := t.setPolicyInputs(obsB, actB, oldLogitsB, oldB, advB, coefB, rowWB); err != nil {
				return m, nil, err
			}
			grads, err := t.polTr.Run()
			if err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: policy step: %w", err)
			}
			if _, err := nn.ClipGradNorm(grads, t.cfg.MaxGrad); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: update %d: %w", update, err)
			}
			if err := t.polOpt.Step(t.cfg.LR, grads); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
			}
			pl += nn.ValueAt(t.in.surr, 0)
			lr := nn.Float64s(t.in.logRatio, nil)
			clipped += int(math.Round(ppo.ClipFraction(lr, t.cfg.Clip) * float64(len(lr))))
			seen += len(lr)
			if err := t.val.SetInputs(obsB); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
			}
			if err := nn.SetVector(t.retN, t.retT, retB); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
			}
			vgrads, err := t.valTr.Run()
			if err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: value step: %w", err)
			}
			if _, err := nn.ClipGradNorm(vgrads, t.cfg.MaxGrad); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: update %d: value: %w", update, err)
			}
			if err := t.valOpt.Step(t.cfg.LR, vgrads); err != nil {
				return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
			}
			vl += nn.ValueAt(t.vLossV, 0)
			steps++
		}
	}
	// PPO's trust-region KL(π_old‖π_θ) over the rollout's tokens, exact.
	cur, err := t.actor.Dist(r.obs, T)
	if err != nil {
		return m, nil, fmt.Errorf("rlhf: ppo: %w", err)
	}
	var ppoKL float64
	for i := 0; i < T; i++ {
		d, err := kl.KLLogits(r.logits[i*V:(i+1)*V], cur[i*V:(i+1)*V])
		if err != nil {
			return m, nil, fmt.Errorf("rlhf: ppo: KL(π_old‖π_θ): %w", err)
		}
		ppoKL += d
	}
	N := float64(len(r.seqs))
	var length, in float64
	for i, x := range r.seqs {
		m.Proxy += r.proxy[i]
		m.Gold += r.gold[i]
		m.KL += r.kl[i]
		m.KLk1 += r.k1[i]
		m.KLk3 += r.k3[i]
		length += float64(len(x))
		if r.inLang[i] {
			in++
		}
	}
	m.Proxy, m.Gold, m.KL, m.KLk1, m.KLk3 = m.Proxy/N, m.Gold/N, m.KL/N, m.KLk1/N, m.KLk3/N
	m.Length, m.InLanguage, m.Entropy = length/N, in/N, r.entropy
	m.PPOKL = ppoKL / float64(T)
	if steps > 0 {
		m.PolicyLoss, m.ValueLoss = pl/float64(steps), vl/float64(steps)
	}
	if seen > 0 {
		m.ClipFrac = float64(clipped) / float64(seen)
	}
	m.Tokens = T
	m.WallS = time.Since(start).Seconds()
	m.TokensPerS = float64(T) / m.WallS
	t.beta = t.ctl.Next(t.beta, m.KL, len(r.seqs))
	var samples []Sample
	for i := 0; i < min(4, len(r.seqs)); i++ {
		samples = append(samples, Sample{Update: update, Text: t.g.Text(r.seqs[i]), Proxy: r.proxy[i], Gold: r.gold[i],
			KL: r.kl[i], InLanguage: r.inLang[i]})
	}
	return m, samples, nil
}

func (t *Trainer) setPolicyInputs(obs, act, oldLogits, oldLogP, adv, coef, rowW []float64) error {
	if err := t.pol.SetInputs(obs, act, oldLogits, nil); err != nil {
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	in := &t.in
	for _, v := range []struct {
		n *G.Node
		t *tensor.Dense
		x []float64
	}{{in.oldLogP, in.oldLogPT, oldLogP}, {in.adv, in.advT, adv}, {in.klCoef, in.klCoefT, coef}} {
		if err := nn.SetVector(v.n, v.t, v.x); err != nil {
			return fmt.Errorf("rlhf: ppo: %w", err)
		}
	}
	if in.obs2 != nil {
		if err := nn.SetVector(in.obs2, in.obs2T, obs); err != nil {
			return fmt.Errorf("rlhf: ppo: %w", err)
		}
		if err := nn.SetVector(in.rowW, in.rowWT, rowW); err != nil {
			return fmt.Errorf("rlhf: ppo: %w", err)
		}
	}
	if err := nn.SetScalar(in.beta, 0); err != nil { // the clip objective has no β·KL(π_old‖π_θ) term
		return fmt.Errorf("rlhf: ppo: %w", err)
	}
	return nil
}
