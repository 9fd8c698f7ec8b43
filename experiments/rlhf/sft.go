package rlhf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/internal/rng"
	"klppo/nn"

	G "gorgonia.org/gorgonia"
)

// SFTConfig configures supervised fine-tuning of π_ref: cross-entropy training on a corpus
// sampled from the grammar.
type SFTConfig struct {
	Train  int     `json:"train_sentences"` // corpus size, sentences sampled from P
	Test   int     `json:"test_sentences"`  // held-out sentences for the cross-entropy
	Epochs int     `json:"epochs"`          // passes over the corpus
	Batch  int     `json:"batch"`           // tokens per minibatch
	LR     float64 `json:"lr"`              // Adam learning rate
	Seed   uint64  `json:"seed"`            // corpus, initialisation and batch order
	Model  ModelConfig
}

// DefaultSFTConfig: 4000 training sentences (≈ 30k tokens), 3000 held out, 6 epochs of 256-token minibatches.
func DefaultSFTConfig(v int, seed uint64) SFTConfig {
	return SFTConfig{Train: 4000, Test: 3000, Epochs: 6, Batch: 256, LR: 3e-3, Seed: seed, Model: DefaultModelConfig(v)}
}

// SFTEpoch is one line of sft/metrics.csv.
type SFTEpoch struct {
	Epoch   int     `json:"epoch"`
	TrainCE float64 `json:"train_ce_token"` // mean −ln π(x_t|x_<t) over the epoch's minibatches, nats/token
	TestCE  float64 `json:"test_ce_token"`  // held-out, nats/token
}

// SFTReport is the held-out evaluation of π_ref against the true distribution P. With H(P) exact
// (Grammar.Entropy) and the cross-entropy CE = E_P[−ln π_ref(x)] estimated on held-out sentences,
//
//	CE = H(P) + KL(P‖π_ref)  ⇒  KL(P‖π_ref) = CE − H,
//
// reported per sentence and per token (divided by the exact mean length E_P[|x|]). KLDirect is
// the lower-variance direct estimate mean(ln P(x) − ln π_ref(x)) over the same sentences.
type SFTReport struct {
	Epochs           []SFTEpoch `json:"epochs"`
	CESentence       float64    `json:"ce_sentence"`
	CESentenceSE     float64    `json:"ce_sentence_se"`
	HSentence        float64    `json:"h_sentence"`
	KLSentence       float64    `json:"kl_sentence"` // CE − H
	KLDirectSentence float64    `json:"kl_direct_sentence"`
	KLDirectSE       float64    `json:"kl_direct_se"`
	MeanLen          float64    `json:"mean_len"` // E_P[|x|], exact
	CEToken          float64    `json:"ce_token"`
	HToken           float64    `json:"h_token"`
	KLToken          float64    `json:"kl_token"`
	InLanguage       float64    `json:"in_language"` // fraction of 1000 π_ref samples inside the language
	Samples          []string   `json:"samples"`
}

// corpusRows turns sentences into (observation, next token) rows, allocated once at their final
// size (no row is copied as the arrays grow). It stops with ctx's error once ctx is done.
func corpusRows(ctx context.Context, cfg ModelConfig, sents [][]int) (obs []float64, act []float64, err error) {
	D, T := cfg.ObsDim(), 0
	for _, x := range sents {
		T += len(x)
	}
	obs, act = make([]float64, T*D), make([]float64, 0, T)
	for i, x := range sents {
		if err := interrupted(ctx, i, len(sents), "sft: building the corpus", "sentence"); err != nil {
			return nil, nil, err
		}
		for t := range x {
			k := len(act)
			cfg.Obs(obs[k*D:(k+1)*D], x[:t])
			act = append(act, float64(x[t]))
		}
	}
	return obs, act, nil
}

// TrainSFT samples a corpus from g and trains π_ref on it by cross-entropy, minimising
// −mean ln π(x_t | x_<t) (equivalently KL(P‖π) per token, since H(P) is a constant: the
// forward, mode-covering KL). onEpoch (may be nil) is called after every epoch.
func TrainSFT(ctx context.Context, g *Grammar, cfg SFTConfig, onEpoch func(SFTEpoch)) (*Model, SFTReport, error) {
	var rep SFTReport
	if err := cfg.Validate(); err != nil {
		return nil, rep, err
	}
	if err := memCheck(cfg.MemoryEstimate(), "sft.train_sentences", cfg.Train); err != nil {
		return nil, rep, err
	}
	switch {
	case cfg.Model.V != g.V():
		return nil, rep, fmt.Errorf("rlhf: sft: model vocab %d ≠ grammar vocab %d", cfg.Model.V, g.V())
	case cfg.Model.MaxLen < g.MaxLen():
		return nil, rep, fmt.Errorf("rlhf: sft: max_len %d shorter than the longest sentence (%d)", cfg.Model.MaxLen, g.MaxLen())
	}
	data := rng.New(cfg.Seed, streamCorpus)
	train := make([][]int, cfg.Train)
	for i := range train {
		if err := interrupted(ctx, i, cfg.Train, "sft: sampling the corpus", "sentence"); err != nil {
			return nil, rep, err
		}
		train[i] = g.Sample(data)
	}
	test := make([][]int, cfg.Test)
	for i := range test {
		if err := interrupted(ctx, i, cfg.Test, "sft: sampling the held-out sentences", "sentence"); err != nil {
			return nil, rep, err
		}
		test[i] = g.Sample(data)
	}
	m, err := NewModel(rng.New(cfg.Seed, streamSFTInit), cfg.Model)
	if err != nil {
		return nil, rep, err
	}
	obs, act, err := corpusRows(ctx, cfg.Model, train)
	if err != nil {
		return nil, rep, err
	}
	N, D, V, B := len(act), cfg.Model.ObsDim(), cfg.Model.V, cfg.Batch
	if B > N {
		B = N
	}
	pg, err := m.AC.NewPolicyGraph(B)
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
	}
	meanLogP, err := G.Mean(pg.LogP)
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: sft: mean log-prob: %w", err)
	}
	cost, err := G.Neg(meanLogP)
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: sft: cross-entropy: %w", err)
	}
	var costV G.Value
	G.Read(cost, &costV)
	tr, err := nn.NewTrainer(pg.G, cost, pg.Learnables)
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
	}
	shuffle := rng.New(cfg.Seed, streamSFTShuffle)
	perm := make([]int, N)
	for i := range perm {
		perm[i] = i
	}
	xb, ab, zeros := make([]float64, B*D), make([]float64, B), make([]float64, B*V)
	steps := N / B
	for e := 1; e <= cfg.Epochs; e++ {
		shuffle.Shuffle(N, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
			}
			for r := 0; r < B; r++ {
				i := perm[s*B+r]
				copy(xb[r*D:(r+1)*D], obs[i*D:(i+1)*D])
				ab[r] = act[i]
			}
			if err := pg.SetInputs(xb, ab, zeros, nil); err != nil {
				return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
			}
			grads, err := tr.Run()
			if err != nil {
				return nil, rep, fmt.Errorf("rlhf: sft: epoch %d step %d: %w", e, s+1, err)
			}
			c := nn.ValueAt(costV, 0)
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return nil, rep, fmt.Errorf("rlhf: sft: epoch %d step %d: cross-entropy %v (lower the lr)", e, s+1, c)
			}
			if err := opt.Step(cfg.LR, grads); err != nil {
				return nil, rep, fmt.Errorf("rlhf: sft: %w", err)
			}
			sum += c
		}
		ce, err := tokenCE(ctx, m, test, e)
		if err != nil {
			return nil, rep, err
		}
		ep := SFTEpoch{Epoch: e, TrainCE: sum / float64(steps), TestCE: ce}
		rep.Epochs = append(rep.Epochs, ep)
		if onEpoch != nil {
			onEpoch(ep)
		}
	}
	if err := evaluateSFT(ctx, m, g, test, &rep, rng.New(cfg.Seed, streamSFTEval)); err != nil {
		return nil, rep, err
	}
	return m, rep, nil
}

// tokenCE is the held-out cross-entropy in nats per token, measured after epoch.
func tokenCE(ctx context.Context, m *Model, test [][]int, epoch int) (float64, error) {
	var s float64
	n := 0
	what := fmt.Sprintf("sft: held-out cross-entropy after epoch %d", epoch)
	for i, x := range test {
		if err := interrupted(ctx, i, len(test), what, "sentence"); err != nil {
			return 0, err
		}
		lp, err := m.LogProb(x)
		if err != nil {
			return 0, err
		}
		s -= lp
		n += len(x)
	}
	return s / float64(n), nil
}

// evaluateSFT fills the cross-entropy / entropy / KL part of rep.
func evaluateSFT(ctx context.Context, m *Model, g *Grammar, test [][]int, rep *SFTReport, rng *rand.Rand) error {
	ce := make([]float64, len(test))
	direct := make([]float64, len(test))
	for i, x := range test {
		if err := interrupted(ctx, i, len(test), "sft: evaluating π_ref", "held-out sentence"); err != nil {
			return err
		}
		lp, err := m.LogProb(x)
		if err != nil {
			return err
		}
		ce[i] = -lp
		direct[i] = g.LogProb(x) - lp
	}
	var sd float64
	rep.CESentence, sd = meanStd(ce)
	rep.CESentenceSE = sd / math.Sqrt(float64(len(ce)))
	rep.KLDirectSentence, sd = meanStd(direct)
	rep.KLDirectSE = sd / math.Sqrt(float64(len(direct)))
	rep.HSentence, rep.MeanLen = g.Entropy()
	rep.KLSentence = rep.CESentence - rep.HSentence
	rep.CEToken = rep.CESentence / rep.MeanLen
	rep.HToken = rep.HSentence / rep.MeanLen
	rep.KLToken = rep.KLSentence / rep.MeanLen
	samples, err := m.Sample(ctx, rng, 1000)
	if err != nil {
		return fmt.Errorf("rlhf: sft: evaluating π_ref: %w", err)
	}
	in := 0
	for i, x := range samples {
		if g.Accepts(x) {
			in++
		}
		if i < 5 {
			rep.Samples = append(rep.Samples, g.Text(x))
		}
	}
	rep.InLanguage = float64(in) / float64(len(samples))
	return nil
}

// Random streams: each use of randomness has its own PCG stream under the run's seed, so
// changing one stage never shifts another's random numbers.
const (
	streamCorpus uint64 = iota + 0x5f7
	streamSFTInit
	streamSFTShuffle
	streamSFTEval
	streamPrefs
	streamRMInit
	streamRMShuffle
	streamPPOInit
	streamPPORollout
	streamPPOShuffle
	streamBoN
	streamRefEval
	streamPrompts     // the training prompts of an online run
	streamEval        // the completions of a run's final evaluation
	streamEvalPrompts // the evaluation prompts (seed 0: the same in every run)
	streamGroupInit   // GRPO's and RLOO's unused value head (policy.New needs one)
	streamGroupRollout
	streamGroupShuffle
	streamDPOShuffle
	streamDPOEval
)
