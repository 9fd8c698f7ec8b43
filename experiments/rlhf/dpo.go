package rlhf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"klppo/internal/rng"
	"klppo/internal/rundir"
	"klppo/kl"
	"klppo/nn"
	"klppo/policy"
	"klppo/ppo"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DPOLoss names a direct-alignment loss (the flag --loss). Both are functions of one pair's
// log-ratio margin
//
//	h = Δ(chosen) − Δ(rejected),   Δ(y) = ln π(y) − ln π_ref(y)   (whole completions),
//
// and both train π offline on preference pairs, with no reward model and no sampling.
type DPOLoss string

const (
	// LossDPO is Rafailov et al.'s (2023) −ln σ(β·h) (TRL loss_type "sigmoid", the default). Its
	// minimiser over pairs labelled by a Bradley–Terry reward r is the KL-regularised optimum
	// π* ∝ π_ref·exp(r/β), whose implicit reward β·Δ(y) equals r(y) up to a constant.
	LossDPO DPOLoss = "dpo"
	// LossIPO is Azar et al.'s (2023) (h − 1/(2τ))², with Beta as τ (TRL loss_type "ipo"): a
	// squared loss that pulls each pair's margin to 1/(2τ) instead of pushing it to infinity.
	LossIPO DPOLoss = "ipo"
)

// LogpNorm says how a completion's log-ratio Δ(y) enters the margin h: summed over its tokens
// (the papers' sequence log-probability) or averaged over them (TRL's IPO: it divides each
// completion's Δ by its token count, trl/trainer/dpo_trainer.py, v1.10.0.dev0).
type LogpNorm string

const (
	LogpSum  LogpNorm = "sum"
	LogpMean LogpNorm = "mean"
)

// DPOConfig configures offline preference optimisation from π_ref on the preference pairs the
// reward model is trained on (SamplePairs).
type DPOConfig struct {
	Loss DPOLoss `json:"loss"`
	// Beta is DPO's β — the KL coefficient of the objective E_π[r] − β·KL(π‖π_ref) that DPO
	// solves in closed form — and IPO's τ (the margin target is 1/(2τ)).
	Beta float64  `json:"beta"`
	Logp LogpNorm `json:"logp"` // how Δ(y) aggregates over tokens (sum: DPO's default; mean: TRL's IPO)
	// Epochs are passes over the training pairs (in minibatches of Batch pairs, reshuffled every
	// epoch; the last incomplete minibatch of an epoch is dropped).
	Epochs  int     `json:"epochs"`
	Batch   int     `json:"batch"`         // pairs per gradient step
	LR      float64 `json:"lr"`            // Adam learning rate
	MaxGrad float64 `json:"max_grad_norm"` // global gradient-norm clip
	// EvalsPerEpoch is how many evaluations (rows of metrics.csv) each epoch has, evenly spaced in
	// gradient steps, after the one at step 0 (π = π_ref).
	EvalsPerEpoch int `json:"evals_per_epoch"`
	// EvalSamples is how many sequences are sampled from π at each evaluation for the KL, the
	// rewards and the in-language fraction (the PPO run's measurement, on its own samples).
	EvalSamples int `json:"eval_samples"`
	// MassEvery computes the exact mass π puts on the language (ExactLanguageMass, ≈ 0.5 s of CPU)
	// at every MassEvery-th evaluation, and always at the first and the last (0: only those;
	// −1: never).
	MassEvery  int    `json:"mass_every"`
	RefSamples int    `json:"ref_samples"` // π_ref samples for ref_proxy and ref_gold
	Seed       uint64 `json:"seed"`
}

// DefaultDPOConfig: 4 epochs of 64-pair minibatches, Adam 1e-3, gradient norm ≤ 1, 8 evaluations
// per epoch of 512 samples each; the log-ratio summed over tokens for DPO and averaged over them
// for IPO (TRL's conventions).
func DefaultDPOConfig(loss DPOLoss, beta float64, seed uint64) DPOConfig {
	c := DPOConfig{Loss: loss, Beta: beta, Logp: LogpSum, Epochs: 4, Batch: 64, LR: 1e-3, MaxGrad: 1,
		EvalsPerEpoch: 8, EvalSamples: 512, MassEvery: 8, RefSamples: 1024, Seed: seed}
	if loss == LossIPO {
		c.Logp = LogpMean
	}
	return c
}

// Validate checks every field; an error is a *ConfigError naming it ("dpo.beta", …).
func (c DPOConfig) Validate() error {
	switch {
	case c.Loss != LossDPO && c.Loss != LossIPO:
		return bad("dpo.loss", string(c.Loss), "want dpo or ipo")
	case !(c.Beta > 0) || math.IsInf(c.Beta, 0):
		return bad("dpo.beta", c.Beta, "want a finite number > 0")
	case c.Logp != LogpSum && c.Logp != LogpMean:
		return bad("dpo.logp", string(c.Logp), "want sum or mean")
	case c.Epochs < 1 || c.Epochs > MaxTrainEpoch:
		return bad("dpo.epochs", c.Epochs, "want 1 to %d", MaxTrainEpoch)
	case c.Batch < 1 || c.Batch > MaxPairs:
		return bad("dpo.batch", c.Batch, "want 1 to %d pairs", MaxPairs)
	case !(c.LR > 0) || c.LR > 1:
		return bad("dpo.lr", c.LR, "want a number in (0, 1]")
	case !(c.MaxGrad > 0) || math.IsInf(c.MaxGrad, 0):
		return bad("dpo.max_grad_norm", c.MaxGrad, "want a finite number > 0")
	case c.EvalsPerEpoch < 1 || c.EvalsPerEpoch > MaxUpdates:
		return bad("dpo.evals_per_epoch", c.EvalsPerEpoch, "want 1 to %d", MaxUpdates)
	case c.Epochs*c.EvalsPerEpoch > MaxUpdates: // both bounded above: no overflow
		return bad("dpo.evals_per_epoch", c.EvalsPerEpoch, "%d epochs × %d evaluations = %d rows of metrics.csv (kept in memory), at most %d",
			c.Epochs, c.EvalsPerEpoch, c.Epochs*c.EvalsPerEpoch, MaxUpdates)
	case c.EvalSamples < 1 || c.EvalSamples > MaxBatch:
		return bad("dpo.eval_samples", c.EvalSamples, "want 1 to %d sequences", MaxBatch)
	case c.MassEvery < -1:
		return bad("dpo.mass_every", c.MassEvery, "want ≥ −1 (−1: never)")
	case c.RefSamples < 1 || c.RefSamples > MaxRefSamples:
		return bad("dpo.ref_samples", c.RefSamples, "want 1 to %d", MaxRefSamples)
	}
	return nil
}

// lossOf is the loss of one pair as a function of its margin h (in the units of c.Logp), for a
// pair whose first completion is preferred with probability p (1 for a labelled pair):
//
//	ℓ(h, p) = p·f(h) + (1 − p)·f(−h),   f(h) = −ln σ(β·h) = softplus(−β·h)   (DPO)
//	                                     f(h) = (h − 1/(2τ))²                  (IPO)
//
// For p < 1 this is the loss of the pair in both orders weighted by the preference
// probabilities (cDPO's label smoothing, and the population loss on exact preferences); its
// minimiser is βh = logit(p) for DPO and h = (2p − 1)/(2τ) for IPO.
func (c DPOConfig) lossOf(h, p float64) float64 {
	f := func(h float64) float64 {
		if c.Loss == LossIPO {
			d := h - 1/(2*c.Beta)
			return d * d
		}
		return kl.Softplus(-c.Beta * h)
	}
	if p == 1 {
		return f(h)
	}
	return p*f(h) + (1-p)*f(-h)
}

// PairLoss is the loss of a labelled pair (chosen first) with margin h.
func (c DPOConfig) PairLoss(h float64) float64 { return c.lossOf(h, 1) }

// weight is the factor of a completion of n tokens in the margin: 1 (sum) or 1/n (mean).
func (c DPOConfig) weight(n int) float64 {
	if c.Logp == LogpMean && n > 0 {
		return 1 / float64(n)
	}
	return 1
}

// softPair is a pair of sequences (indices into a prefData's seqs) whose first is preferred
// with probability p.
type softPair struct {
	a, b int
	p    float64
}

// prefData is the preference data of a DPO run in indexed form: the distinct sequences of the
// training and held-out pairs with π_ref's log-probabilities, and the pairs as indices.
type prefData struct {
	seqs        [][]int
	scorer      *SequenceScorer // ln π of seqs
	refLogp     []float64
	train, test []softPair
	// per sequence: its roles in the training pairs and whether it is a sentence of the language
	chosen, rejected []bool
	inLang           []bool
	goldDiffers      []bool // per held-out pair: gold(a) ≠ gold(b)
	goldAFirst       []bool // per held-out pair: gold(a) > gold(b)
}

// newPrefData indexes the pairs (Chosen first, p = 1) and computes ln π_ref of every distinct
// sequence once. gold and g may be nil (then inLang and the gold order are left false). It stops
// with ctx's error once ctx is done.
func newPrefData(ctx context.Context, ref *Model, g *Grammar, gold *Gold, train, test []Pair) (*prefData, error) {
	d := &prefData{}
	index := map[string]int{}
	id := func(x []int) int {
		var b strings.Builder
		for _, t := range x {
			b.WriteString(strconv.Itoa(t))
			b.WriteByte(' ')
		}
		k := b.String()
		if i, ok := index[k]; ok {
			return i
		}
		index[k] = len(d.seqs)
		d.seqs = append(d.seqs, x)
		return len(d.seqs) - 1
	}
	for i, p := range train {
		if err := interrupted(ctx, i, len(train), "dpo: indexing the training pairs", "pair"); err != nil {
			return nil, err
		}
		d.train = append(d.train, softPair{a: id(p.Chosen), b: id(p.Rejected), p: 1})
	}
	for i, p := range test {
		if err := interrupted(ctx, i, len(test), "dpo: indexing the held-out pairs", "pair"); err != nil {
			return nil, err
		}
		d.test = append(d.test, softPair{a: id(p.Chosen), b: id(p.Rejected), p: 1})
	}
	return d, d.finish(ctx, ref, g, gold)
}

// finish sets the roles, the language flags, the gold order of the held-out pairs and π_ref's
// log-probabilities. It stops with ctx's error once ctx is done.
func (d *prefData) finish(ctx context.Context, ref *Model, g *Grammar, gold *Gold) error {
	n := len(d.seqs)
	d.chosen, d.rejected, d.inLang = make([]bool, n), make([]bool, n), make([]bool, n)
	for _, p := range d.train {
		d.chosen[p.a], d.rejected[p.b] = true, true
	}
	if g != nil {
		for i, x := range d.seqs {
			if err := interrupted(ctx, i, n, "dpo: the language's sequences", "sequence"); err != nil {
				return err
			}
			d.inLang[i] = g.Accepts(x)
		}
	}
	d.goldDiffers, d.goldAFirst = make([]bool, len(d.test)), make([]bool, len(d.test))
	if gold != nil {
		for i, p := range d.test {
			if err := interrupted(ctx, i, len(d.test), "dpo: gold order of the held-out pairs", "pair"); err != nil {
				return err
			}
			ga, gb := gold.Score(d.seqs[p.a]), gold.Score(d.seqs[p.b])
			d.goldDiffers[i], d.goldAFirst[i] = ga != gb, ga > gb
		}
	}
	var err error
	if d.scorer, err = NewSequenceScorer(ctx, ref.Cfg, d.seqs); err != nil {
		return err
	}
	if d.refLogp, err = d.scorer.LogProbs(ctx, ref); err != nil {
		return err
	}
	return nil
}

// margin is h of pair p given Δ(y) = ln π(y) − ln π_ref(y) per sequence.
func (c DPOConfig) margin(d *prefData, delta []float64, p softPair) float64 {
	return c.weight(len(d.seqs[p.a]))*delta[p.a] - c.weight(len(d.seqs[p.b]))*delta[p.b]
}

// loss is the mean loss over pairs under π, in plain Go (no graph): the formula the training
// graph is tested against.
func (d *prefData) loss(cfg DPOConfig, pi *Model, pairs []softPair) (float64, error) {
	lp, err := d.scorer.LogProbs(context.Background(), pi)
	if err != nil {
		return 0, err
	}
	for i := range lp {
		lp[i] -= d.refLogp[i]
	}
	var s float64
	for _, p := range pairs {
		s += cfg.lossOf(cfg.margin(d, lp, p), p.p)
	}
	return s / float64(len(pairs)), nil
}

// dpoGraph is the training graph for B pairs, built once: the policy graph over R = 2·B·MaxLen
// token rows (every token of both completions of every pair, zero-padded), then
//
//	h = W·log π(rows) − h_ref,   W[i, row] = +w(chosen_i) on the rows of pair i's first completion,
//	                                          −w(rejected_i) on those of its second, 0 elsewhere,
//	loss = mean_i [ p_i·f(h_i) + (1 − p_i)·f(−h_i) ]
//
// with h_ref the same combination of π_ref's log-probabilities (a constant input) and w the
// LogpNorm weight. The log-probabilities of the taken tokens come from the policy graph's
// one-hot mask.
type dpoGraph struct {
	cfg      DPOConfig
	B, R     int
	pg       *policy.PolicyGraph
	w        *G.Node
	wT       *tensor.Dense
	href, p  *G.Node
	hrefT    *tensor.Dense
	pT       *tensor.Dense
	loss     *G.Node
	lossV, h G.Value
	// input scratch
	obs, act, zeros, wv []float64
}

func newDPOGraph(pi *Model, cfg DPOConfig, B int) (*dpoGraph, error) {
	R := 2 * B * pi.Cfg.MaxLen
	pg, err := pi.AC.NewPolicyGraph(R)
	if err != nil {
		return nil, fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	dt := pi.AC.Dtype()
	b := nn.NewBuilder(pg.G, dt)
	dg := &dpoGraph{cfg: cfg, B: B, R: R, pg: pg}
	dg.wT = nn.NewDense(dt, []int{B, R}, nil)
	dg.w = G.NewMatrix(pg.G, dt, G.WithShape(B, R), G.WithName("pair_weights"))
	dg.href, dg.hrefT = b.Vector("ref_margin", B)
	dg.p, dg.pT = b.Vector("pref_prob", B)
	h := b.Sub(b.Mul(dg.w, pg.LogP), dg.href)
	var fPos, fNeg *G.Node
	if cfg.Loss == LossIPO {
		c := 1 / (2 * cfg.Beta)
		fPos = b.Square(b.Sub(h, b.Scalar(c)))
		fNeg = b.Square(b.Add(h, b.Scalar(c)))
	} else {
		fPos = b.Softplus(b.Mul(b.Scalar(-cfg.Beta), h))
		fNeg = b.Softplus(b.Mul(b.Scalar(cfg.Beta), h))
	}
	// p·f(h) + (1 − p)·f(−h) = f(−h) + p·(f(h) − f(−h))
	dg.loss = b.Mean(b.Add(fNeg, b.HadamardProd(dg.p, b.Sub(fPos, fNeg))))
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	G.Read(dg.loss, &dg.lossV)
	G.Read(h, &dg.h)
	D, V := pi.Cfg.ObsDim(), pi.Cfg.V
	dg.obs, dg.act, dg.zeros, dg.wv = make([]float64, R*D), make([]float64, R), make([]float64, R*V), make([]float64, B*R)
	return dg, nil
}

// set fills the inputs for the B pairs of batch.
func (dg *dpoGraph) set(cfg ModelConfig, d *prefData, batch []softPair) error {
	if len(batch) != dg.B {
		return fmt.Errorf("rlhf: dpo graph: %d pairs for a graph of %d", len(batch), dg.B)
	}
	D := cfg.ObsDim()
	clear(dg.obs)
	clear(dg.act)
	clear(dg.wv)
	href, p := make([]float64, dg.B), make([]float64, dg.B)
	row := 0
	for i, pr := range batch {
		for k, s := range []int{pr.a, pr.b} {
			x := d.seqs[s]
			w := dg.cfg.weight(len(x))
			if k == 1 {
				w = -w
			}
			for t, tok := range x {
				cfg.Obs(dg.obs[row*D:(row+1)*D], x[:t])
				dg.act[row] = float64(tok)
				dg.wv[i*dg.R+row] = w
				row++
			}
			href[i] += w * d.refLogp[s]
		}
		p[i] = pr.p
	}
	if err := dg.pg.SetInputs(dg.obs, dg.act, dg.zeros, nil); err != nil {
		return fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	if err := nn.CopyInto(dg.wT, dg.wv); err != nil {
		return fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	if err := G.Let(dg.w, dg.wT); err != nil {
		return fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	if err := nn.SetVector(dg.href, dg.hrefT, href); err != nil {
		return fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	if err := nn.SetVector(dg.p, dg.pT, p); err != nil {
		return fmt.Errorf("rlhf: dpo graph: %w", err)
	}
	return nil
}

// dpoTrainer takes gradient steps of the DPO/IPO loss on π (a copy of π_ref's policy).
type dpoTrainer struct {
	cfg     DPOConfig
	pi      *Model
	graph   *dpoGraph
	tr      *nn.Trainer
	opt     *nn.Adam
	shuffle *rand.Rand
	batch   []softPair
}

func newDPOTrainer(ref *Model, cfg DPOConfig, B int) (*dpoTrainer, error) {
	pi, err := ref.Clone()
	if err != nil {
		return nil, err
	}
	dg, err := newDPOGraph(pi, cfg, B)
	if err != nil {
		return nil, err
	}
	tr, err := nn.NewTrainer(dg.pg.G, dg.loss, dg.pg.Learnables)
	if err != nil {
		return nil, fmt.Errorf("rlhf: dpo: %w", err)
	}
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		tr.Close()
		return nil, fmt.Errorf("rlhf: dpo: %w", err)
	}
	return &dpoTrainer{cfg: cfg, pi: pi, graph: dg, tr: tr, opt: opt, shuffle: rng.New(cfg.Seed, streamDPOShuffle),
		batch: make([]softPair, B)}, nil
}

func (t *dpoTrainer) close() error { return t.tr.Close() }

// step takes one gradient step on batch (B pairs) and returns the minibatch loss.
func (t *dpoTrainer) step(d *prefData, batch []softPair) (float64, error) {
	if err := t.graph.set(t.pi.Cfg, d, batch); err != nil {
		return 0, err
	}
	grads, err := t.tr.Run()
	if err != nil {
		return 0, fmt.Errorf("rlhf: dpo: %w", err)
	}
	loss := nn.ValueAt(t.graph.lossV, 0)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, fmt.Errorf("rlhf: dpo: loss %v (lower the lr)", loss)
	}
	if _, err := nn.ClipGradNorm(grads, t.cfg.MaxGrad); err != nil {
		return 0, fmt.Errorf("rlhf: dpo: %w", err)
	}
	if err := t.opt.Step(t.cfg.LR, grads); err != nil {
		return 0, fmt.Errorf("rlhf: dpo: %w", err)
	}
	return loss, nil
}

// DPOMetrics is one evaluation of a DPO run (a row of metrics.csv). The reward, KL, entropy,
// length and in-language columns are measured on EvalSamples sequences sampled from π exactly as
// a PPO run measures its rollouts (UpdateMetrics); the pair columns are exact over the pairs;
// the mass columns are exact (mass_language and gold_exact NaN when not computed at this row).
type DPOMetrics struct {
	Step  int     `json:"step"`  // gradient steps so far
	Epoch float64 `json:"epoch"` // step / steps per epoch
	// TrainLoss and HeldoutLoss are the loss over all training / held-out pairs under π now.
	TrainLoss   float64 `json:"train_loss"`
	HeldoutLoss float64 `json:"heldout_loss"`
	Margin      float64 `json:"margin"` // mean h over the training pairs (in the loss's units)
	// TrainAcc and HeldoutAcc are the implicit-reward accuracies: the fraction of pairs with
	// h > 0 (β·Δ ranks the chosen completion first; h = 0 counts ½). HeldoutGoldAcc is the same
	// against the gold order on the held-out pairs whose gold rewards differ.
	TrainAcc       float64 `json:"train_pair_acc"`
	HeldoutAcc     float64 `json:"heldout_pair_acc"`
	HeldoutGoldAcc float64 `json:"heldout_gold_acc"`
	// ChosenChange and RejectedChange are the mean of Δ(y) = ln π(y) − ln π_ref(y), summed over
	// tokens, over the training pairs' chosen and rejected completions: likelihood displacement
	// when both fall.
	ChosenChange   float64 `json:"chosen_logp_change"`
	RejectedChange float64 `json:"rejected_logp_change"`
	Proxy          float64 `json:"proxy_reward"`
	Gold           float64 `json:"gold_reward"`
	KL             float64 `json:"kl"` // mean over samples of Σ_t KL(π(·|x_<t)‖π_ref(·|x_<t)), exact per position (PPO's kl)
	KLk1           float64 `json:"kl_k1"`
	KLk3           float64 `json:"kl_k3"`
	Entropy        float64 `json:"entropy"`
	Length         float64 `json:"length"`
	InLanguage     float64 `json:"in_language"`
	// Exact masses: π's probability of the training pairs' sequences that were only chosen,
	// only rejected, or both (in different pairs), and of every sequence in no training pair.
	MassChosen   float64 `json:"mass_chosen"`
	MassRejected float64 `json:"mass_rejected"`
	MassBoth     float64 `json:"mass_both"`
	MassOffData  float64 `json:"mass_off_data"`
	// MassLanguage is π(L), GoldExact the expected gold reward of π (ExactLanguageMass), and
	// MassOffDataInLang the part of MassOffData on sentences of the language.
	MassLanguage      float64 `json:"mass_language"`
	MassOffDataInLang float64 `json:"mass_off_data_in_language"`
	GoldExact         float64 `json:"gold_exact"`
	WallS             float64 `json:"wall_s"` // wall time since the previous evaluation
}

// DPOMetricsHeader is the first line of a DPO run's metrics.csv.
const DPOMetricsHeader = "step,epoch,train_loss,heldout_loss,margin,train_pair_acc,heldout_pair_acc,heldout_gold_acc," +
	"chosen_logp_change,rejected_logp_change,proxy_reward,gold_reward,kl,kl_k1,kl_k3,entropy,length,in_language," +
	"mass_chosen,mass_rejected,mass_both,mass_off_data,mass_language,mass_off_data_in_language,gold_exact,wall_s"

func (m DPOMetrics) values() []float64 {
	return []float64{float64(m.Step), m.Epoch, m.TrainLoss, m.HeldoutLoss, m.Margin, m.TrainAcc, m.HeldoutAcc, m.HeldoutGoldAcc,
		m.ChosenChange, m.RejectedChange, m.Proxy, m.Gold, m.KL, m.KLk1, m.KLk3, m.Entropy, m.Length, m.InLanguage,
		m.MassChosen, m.MassRejected, m.MassBoth, m.MassOffData, m.MassLanguage, m.MassOffDataInLang, m.GoldExact, m.WallS}
}

func (m DPOMetrics) csv() string {
	v := m.values()
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', 8, 64)
	}
	s[0] = strconv.Itoa(m.Step)
	return strings.Join(s, ",")
}

// ReadDPOMetrics reads a metrics.csv written by RunDPO.
func ReadDPOMetrics(path string) ([]DPOMetrics, error) {
	rows, err := readCSVRows(path, DPOMetricsHeader)
	if err != nil {
		return nil, err
	}
	out := make([]DPOMetrics, len(rows))
	for i, v := range rows {
		m := &out[i]
		for j, dst := range []*float64{nil, &m.Epoch, &m.TrainLoss, &m.HeldoutLoss, &m.Margin, &m.TrainAcc, &m.HeldoutAcc,
			&m.HeldoutGoldAcc, &m.ChosenChange, &m.RejectedChange, &m.Proxy, &m.Gold, &m.KL, &m.KLk1, &m.KLk3, &m.Entropy,
			&m.Length, &m.InLanguage, &m.MassChosen, &m.MassRejected, &m.MassBoth, &m.MassOffData, &m.MassLanguage,
			&m.MassOffDataInLang, &m.GoldExact, &m.WallS} {
			if dst != nil {
				*dst = v[j]
			}
		}
		m.Step = int(v[0])
	}
	return out, nil
}

// dpoEval measures π: samples for the rewards and the KL, the exact pair and mass columns.
type dpoEval struct {
	cfg   DPOConfig
	env   Env
	data  *prefData
	gen   *generator
	rng   *rand.Rand
	count int // evaluations so far
}

func (e *dpoEval) measure(ctx context.Context, pi *Model, step int, exactMass bool) (DPOMetrics, []Sample, error) {
	m := DPOMetrics{Step: step, MassLanguage: math.NaN(), MassOffDataInLang: math.NaN(), GoldExact: math.NaN()}
	e.count++
	// Samples: PPO's measurement (rollout.metrics) on EvalSamples sequences of π.
	r, err := e.gen.generate(ctx, make([][]int, e.cfg.EvalSamples), e.rng)
	if err != nil {
		return m, nil, err
	}
	if err := r.score(e.env.RM, e.env.Gold, e.env.G); err != nil {
		return m, nil, err
	}
	if err := r.klRewards(ppo.KLRef{Estimator: kl.K1, In: ppo.KLInReward}, 0, r.proxy); err != nil {
		return m, nil, err
	}
	um := r.metrics(step, 0)
	m.Proxy, m.Gold, m.KL, m.KLk1, m.KLk3 = um.Proxy, um.Gold, um.KL, um.KLk1, um.KLk3
	m.Entropy, m.Length, m.InLanguage = um.Entropy, um.Length, um.InLanguage
	// Pairs and masses: exact, from ln π of every sequence of the data.
	d := e.data
	lp, err := d.scorer.LogProbs(ctx, pi)
	if err != nil {
		return m, nil, err
	}
	delta := make([]float64, len(lp))
	var massDataInLang float64
	for i := range lp {
		delta[i] = lp[i] - d.refLogp[i]
		pr := math.Exp(lp[i])
		switch {
		case d.chosen[i] && d.rejected[i]:
			m.MassBoth += pr
		case d.chosen[i]:
			m.MassChosen += pr
		case d.rejected[i]:
			m.MassRejected += pr
		default:
			continue
		}
		if d.inLang[i] {
			massDataInLang += pr
		}
	}
	m.MassOffData = 1 - m.MassChosen - m.MassRejected - m.MassBoth
	acc := func(h float64) float64 {
		switch {
		case h > 0:
			return 1
		case h == 0:
			return 0.5
		}
		return 0
	}
	for _, p := range d.train {
		h := e.cfg.margin(d, delta, p)
		m.TrainLoss += e.cfg.lossOf(h, p.p)
		m.Margin += h
		m.TrainAcc += acc(h)
		m.ChosenChange += delta[p.a]
		m.RejectedChange += delta[p.b]
	}
	n := float64(len(d.train))
	m.TrainLoss, m.Margin, m.TrainAcc, m.ChosenChange, m.RejectedChange = m.TrainLoss/n, m.Margin/n, m.TrainAcc/n, m.ChosenChange/n, m.RejectedChange/n
	goldPairs := 0
	for i, p := range d.test {
		h := e.cfg.margin(d, delta, p)
		m.HeldoutLoss += e.cfg.lossOf(h, p.p)
		m.HeldoutAcc += acc(h)
		if d.goldDiffers[i] {
			goldPairs++
			if !d.goldAFirst[i] {
				h = -h
			}
			m.HeldoutGoldAcc += acc(h)
		}
	}
	m.HeldoutLoss, m.HeldoutAcc = m.HeldoutLoss/float64(len(d.test)), m.HeldoutAcc/float64(len(d.test))
	if goldPairs > 0 {
		m.HeldoutGoldAcc /= float64(goldPairs)
	}
	if exactMass {
		lm, err := ExactLanguageMass(ctx, e.env.G, pi, e.env.Gold.Score)
		if err != nil {
			return m, nil, err
		}
		m.MassLanguage, m.GoldExact = lm.Mass, lm.Gold
		m.MassOffDataInLang = lm.Mass - massDataInLang
	}
	return m, r.samples(e.env.G, step, 4), nil
}

// DPOSummary is summary.json of a DPO run. "final" is the mean over the last 10% of the
// evaluations (at least one), as for PPO runs; peak_gold is the maximum of the gold reward
// smoothed over 3 evaluations (centred), peak_kl the KL smoothed the same way there. All zeros
// but the reference and the settings when no evaluation completed.
type DPOSummary struct {
	Method                  string  `json:"method"` // the loss: dpo or ipo
	RefProxy                float64 `json:"ref_proxy"`
	RefGold                 float64 `json:"ref_gold"`
	RefInLanguage           float64 `json:"ref_in_language"`
	FinalProxy              float64 `json:"final_proxy"`
	FinalGold               float64 `json:"final_gold"`
	FinalKL                 float64 `json:"final_kl"`
	FinalInLanguage         float64 `json:"final_in_language"`
	FinalEntropy            float64 `json:"final_entropy"`
	FinalLength             float64 `json:"final_length"`
	FinalMargin             float64 `json:"final_margin"`
	FinalTrainLoss          float64 `json:"final_train_loss"`
	FinalChosenLogpChange   float64 `json:"final_chosen_logp_change"`
	FinalRejectedLogpChange float64 `json:"final_rejected_logp_change"`
	FinalMassChosen         float64 `json:"final_mass_chosen"`
	FinalMassRejected       float64 `json:"final_mass_rejected"`
	FinalMassBoth           float64 `json:"final_mass_both"`
	FinalMassOffData        float64 `json:"final_mass_off_data"`
	// FinalMassLanguage, FinalMassOffDataInLang and FinalGoldExact are exact, at the last
	// evaluation that computed them (absent if none did).
	FinalMassLanguage      *float64 `json:"final_mass_language,omitempty"`
	FinalMassOffDataInLang *float64 `json:"final_mass_off_data_in_language,omitempty"`
	FinalGoldExact         *float64 `json:"final_gold_exact,omitempty"`
	TrainPairAcc           float64  `json:"train_pair_acc"`   // final
	HeldoutPairAcc         float64  `json:"heldout_pair_acc"` // final
	HeldoutGoldAcc         float64  `json:"heldout_gold_acc"` // final
	PeakGold               float64  `json:"peak_gold"`
	PeakStep               int      `json:"peak_step"`
	PeakEpoch              float64  `json:"peak_epoch"`
	PeakKL                 float64  `json:"peak_kl"`
	MaxKL                  float64  `json:"max_kl"`
	Steps                  int      `json:"steps"`
	StepsPerEpoch          int      `json:"steps_per_epoch"`
	Evals                  int      `json:"evals"`
	Complete               bool     `json:"complete"` // false when the run stopped early (error or interrupt)
	WallS                  float64  `json:"wall_s"`
	SamplesStart           []string `json:"samples_start"`
	SamplesPeak            []string `json:"samples_peak"`
	SamplesEnd             []string `json:"samples_end"`
	Beta                   float64  `json:"beta"`
	Logp                   string   `json:"logp"`
	LabelNoise             float64  `json:"label_noise"`
	Pairs                  int      `json:"pairs"`
	Seed                   uint64   `json:"seed"`
}

// summarizeDPO computes the summary of the evaluations ms.
func summarizeDPO(ms []DPOMetrics, samples []Sample, ref RefStats, cfg DPOConfig, labelNoise float64, pairs, stepsPerEpoch int, complete bool) DPOSummary {
	s := DPOSummary{Method: string(cfg.Loss), RefProxy: ref.Proxy, RefGold: ref.Gold, RefInLanguage: ref.InLanguage,
		Evals: len(ms), Complete: complete, StepsPerEpoch: stepsPerEpoch, Beta: cfg.Beta, Logp: string(cfg.Logp),
		LabelNoise: labelNoise, Pairs: pairs, Seed: cfg.Seed}
	if len(ms) == 0 {
		return s
	}
	final := func(f func(DPOMetrics) float64) float64 { return finalMean(ms, f) }
	s.FinalProxy = final(func(m DPOMetrics) float64 { return m.Proxy })
	s.FinalGold = final(func(m DPOMetrics) float64 { return m.Gold })
	s.FinalKL = final(func(m DPOMetrics) float64 { return m.KL })
	s.FinalInLanguage = final(func(m DPOMetrics) float64 { return m.InLanguage })
	s.FinalEntropy = final(func(m DPOMetrics) float64 { return m.Entropy })
	s.FinalLength = final(func(m DPOMetrics) float64 { return m.Length })
	s.FinalMargin = final(func(m DPOMetrics) float64 { return m.Margin })
	s.FinalTrainLoss = final(func(m DPOMetrics) float64 { return m.TrainLoss })
	s.FinalChosenLogpChange = final(func(m DPOMetrics) float64 { return m.ChosenChange })
	s.FinalRejectedLogpChange = final(func(m DPOMetrics) float64 { return m.RejectedChange })
	s.FinalMassChosen = final(func(m DPOMetrics) float64 { return m.MassChosen })
	s.FinalMassRejected = final(func(m DPOMetrics) float64 { return m.MassRejected })
	s.FinalMassBoth = final(func(m DPOMetrics) float64 { return m.MassBoth })
	s.FinalMassOffData = final(func(m DPOMetrics) float64 { return m.MassOffData })
	s.TrainPairAcc = final(func(m DPOMetrics) float64 { return m.TrainAcc })
	s.HeldoutPairAcc = final(func(m DPOMetrics) float64 { return m.HeldoutAcc })
	s.HeldoutGoldAcc = final(func(m DPOMetrics) float64 { return m.HeldoutGoldAcc })
	last := ms[len(ms)-1]
	for i := len(ms) - 1; i >= 0; i-- {
		if m := ms[i]; !math.IsNaN(m.MassLanguage) {
			s.FinalMassLanguage, s.FinalMassOffDataInLang, s.FinalGoldExact = &m.MassLanguage, &m.MassOffDataInLang, &m.GoldExact
			break
		}
	}
	s.Steps = last.Step
	gold, kls := make([]float64, len(ms)), make([]float64, len(ms))
	for i, m := range ms {
		gold[i], kls[i] = m.Gold, m.KL
		s.WallS += m.WallS
		s.MaxKL = math.Max(s.MaxKL, m.KL)
	}
	best, peak, klAt := peakGold(gold, kls, 3)
	s.PeakGold, s.PeakKL, s.PeakStep, s.PeakEpoch = peak, klAt, ms[best].Step, ms[best].Epoch
	for _, x := range samples {
		if x.Update == ms[0].Step {
			s.SamplesStart = append(s.SamplesStart, x.Text)
		}
		if x.Update == s.PeakStep {
			s.SamplesPeak = append(s.SamplesPeak, x.Text)
		}
		if x.Update == last.Step {
			s.SamplesEnd = append(s.SamplesEnd, x.Text)
		}
	}
	return s
}

// DPORunConfig is config.json of a DPO run.
type DPORunConfig struct {
	DPO   DPOConfig   `json:"dpo"`
	Model ModelConfig `json:"model"`
	// Prefs says which preference pairs: SamplePairs(π_ref, the labeler of temperature
	// Prefs.Temperature, Prefs) — the pairs the reward model of the same configuration is
	// trained on.
	Prefs       RMConfig `json:"preferences"`
	SFT         string   `json:"sft_dir,omitempty"`
	RM          string   `json:"rm_dir,omitempty"`
	LabelNoise  float64  `json:"label_noise"`
	Description string   `json:"description"`
}

// RunDPO trains a policy from env.Ref with cfg's loss on the preference pairs of prefs
// (SamplePairs(env.Ref, Labeler{env.Gold, prefs.Temperature}, prefs): with the RMConfig the
// reward model was trained with, the very same pairs) and writes dir/run.json (its kind,
// rundir.KindRLHFDPO), dir/config.json,
// dir/metrics.csv (one flushed row per evaluation: EvalsPerEpoch per epoch after the one at
// step 0), dir/samples.jsonl (4 texts per evaluation) and dir/summary.json — also when ctx is
// cancelled or a step fails (then "complete": false and the error is returned). A run that is
// invalid (Validate) or would not fit in memory (CheckMemory) is refused before anything is
// written. The reward model
// env.RM only scores samples (proxy_reward); it is not used in training. onEval (may be nil) sees
// every evaluation.
func RunDPO(ctx context.Context, env Env, prefs RMConfig, cfg DPOConfig, dir string, onEval func(DPOMetrics)) (sum DPOSummary, err error) {
	if err := cfg.Validate(); err != nil {
		return sum, err
	}
	if err := prefs.Validate(); err != nil {
		return sum, err
	}
	if err := cfg.CheckMemory(env.Ref.Cfg, prefs); err != nil {
		return sum, err
	}
	unlock, err := rundir.CreateLocked(dir) // held until the run returns: another run of dir fails at once
	if err != nil {
		return sum, fmt.Errorf("rlhf: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := rundir.WriteKind(dir, rundir.KindRLHFDPO); err != nil {
		return sum, fmt.Errorf("rlhf: %w", err)
	}
	rc := DPORunConfig{DPO: cfg, Model: env.Ref.Cfg, Prefs: prefs, SFT: env.SFTDir, RM: env.RMDir, LabelNoise: prefs.Temperature,
		Description: "klppo rlhf dpo: offline " + strings.ToUpper(string(cfg.Loss)) + " from π_ref on the reward model's preference pairs; KL(π‖π_ref) measured, never optimised"}
	if err := WriteJSON(filepath.Join(dir, ConfigFile), rc); err != nil {
		return sum, err
	}
	ref, err := RefStatsOf(ctx, env.G, env.Gold, env.RM, env.Ref, cfg.RefSamples, cfg.Seed)
	if err != nil {
		return sum, err
	}
	train, test, err := SamplePairs(ctx, env.Ref, Labeler{Gold: env.Gold, Temperature: prefs.Temperature}, prefs)
	if err != nil {
		return sum, err
	}
	data, err := newPrefData(ctx, env.Ref, env.G, env.Gold, train, test)
	if err != nil {
		return sum, err
	}
	B := min(cfg.Batch, len(data.train))
	perEpoch := len(data.train) / B
	tr, err := newDPOTrainer(env.Ref, cfg, B)
	if err != nil {
		return sum, err
	}
	defer tr.close()
	ev := &dpoEval{cfg: cfg, env: env, data: data, gen: newGenerator(env.Ref.Cfg, tr.pi, env.Ref, false),
		rng: rng.New(cfg.Seed, streamDPOEval)}
	files, err := createRunFiles(dir, DPOMetricsHeader)
	if err != nil {
		return sum, err
	}
	var ms []DPOMetrics
	var samples []Sample
	complete := false
	defer func() {
		ferr := files.close()
		sum = summarizeDPO(ms, samples, ref, cfg, prefs.Temperature, len(data.train), perEpoch, complete && ferr == nil)
		werr := WriteJSON(filepath.Join(dir, SummaryFile), sum)
		err = errors.Join(err, ferr, werr)
	}()
	points := evalPoints(cfg, perEpoch)
	last, next := time.Now(), 0
	evaluate := func(step int) error {
		if next == len(points) || points[next].step != step {
			return nil
		}
		m, ss, err := ev.measure(ctx, tr.pi, step, points[next].exact)
		if err != nil {
			return fmt.Errorf("rlhf: dpo: evaluation at step %d: %w", step, err)
		}
		next++
		m.Epoch = float64(step) / float64(perEpoch)
		now := time.Now()
		m.WallS, last = now.Sub(last).Seconds(), now
		ms = append(ms, m)
		samples = append(samples, ss...)
		if err := files.write(m.csv(), ss); err != nil {
			return err
		}
		if onEval != nil {
			onEval(m)
		}
		return nil
	}
	if err := evaluate(0); err != nil {
		return sum, err
	}
	perm := make([]int, len(data.train))
	for i := range perm {
		perm[i] = i
	}
	step := 0
	for e := 1; e <= cfg.Epochs; e++ {
		tr.shuffle.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for s := 0; s < perEpoch; s++ {
			if err := ctx.Err(); err != nil {
				return sum, fmt.Errorf("rlhf: dpo: %w", err)
			}
			for i := range tr.batch {
				tr.batch[i] = data.train[perm[s*B+i]]
			}
			if _, err := tr.step(data, tr.batch); err != nil {
				return sum, fmt.Errorf("rlhf: dpo: epoch %d step %d: %w", e, s+1, err)
			}
			step++
			if err := evaluate(step); err != nil {
				return sum, err
			}
		}
	}
	complete = true
	return sum, nil
}

// evalPoint is a gradient step after which a run evaluates π, and whether it computes the exact
// language mass there.
type evalPoint struct {
	step  int
	exact bool
}

// evalPoints are the evaluations of a run of perEpoch steps per epoch: evaluation k = 0 … K
// (K = Epochs·EvalsPerEpoch) after step round(k·perEpoch/EvalsPerEpoch), with the exact mass at
// k = 0, k = K and every MassEvery-th k (none with MassEvery −1); evaluations that fall on the
// same step (an epoch of fewer steps than evaluations) are one.
func evalPoints(cfg DPOConfig, perEpoch int) []evalPoint {
	K := cfg.Epochs * cfg.EvalsPerEpoch
	var out []evalPoint
	for k := 0; k <= K; k++ {
		p := evalPoint{step: int(math.Round(float64(k) * float64(perEpoch) / float64(cfg.EvalsPerEpoch))),
			exact: cfg.MassEvery >= 0 && (k == 0 || k == K || (cfg.MassEvery > 0 && k%cfg.MassEvery == 0))}
		if n := len(out); n > 0 && out[n-1].step == p.step {
			out[n-1].exact = out[n-1].exact || p.exact
			continue
		}
		out = append(out, p)
	}
	return out
}

// ReadRMConfig reads the configuration a reward-model directory was trained with (its
// config.json, written by SaveRM): with the same π_ref, SamplePairs of it gives the reward
// model's training and held-out pairs.
func ReadRMConfig(dir string) (RMConfig, error) {
	var c RMConfig
	err := readJSON(filepath.Join(dir, ConfigFile), &c)
	return c, err
}
