package rlhf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/kl"
	"klppo/policy"
)

// Context is how many previous tokens a Model sees directly (plus the position and the set of
// words already used, see Model.Obs).
const Context = 3

// ModelConfig describes a Model.
type ModelConfig struct {
	V      int    `json:"vocab"`      // vocabulary size (End = token 0 included)
	MaxLen int    `json:"max_len"`    // generation cap: a sequence without End stops after MaxLen tokens
	Hidden []int  `json:"hidden"`     // hidden widths of the policy and value MLPs
	DType  string `json:"dtype"`      // float32 or float64
	Act    string `json:"activation"` // tanh or relu
}

// DefaultModelConfig is the model used throughout: one tanh layer of 64 units, float32.
func DefaultModelConfig(v int) ModelConfig {
	return ModelConfig{V: v, MaxLen: 16, Hidden: []int{64}, DType: "float32", Act: "tanh"}
}

// Model is a tiny autoregressive language model π(x_t | x_<t) with a value head: the
// actor-critic of package policy over a hand-made observation of the prefix (see Obs), with
// V logits as the categorical head. π_ref (the SFT model) and the RLHF policy are both Models;
// the same weights serve the gorgonia training graphs and the plain-Go sampling pass.
//
// The sequence distribution is π(x) = Π_t π(x_t | x_<t) over sequences that end with End or
// are cut at MaxLen tokens.
type Model struct {
	Cfg ModelConfig
	AC  *policy.ActorCritic
}

// ObsDim is the width of an observation: Context one-hot slots of V+1 (the extra slot marks
// "before the start"), a one-hot position in [0, MaxLen), and V "word already used" indicators.
func (c ModelConfig) ObsDim() int { return Context*(c.V+1) + c.MaxLen + c.V }

func (c ModelConfig) validate() error {
	switch {
	case c.V < 2:
		return fmt.Errorf("rlhf: model: vocab %d, want ≥ 2", c.V)
	case c.MaxLen < 1:
		return fmt.Errorf("rlhf: model: max_len %d, want ≥ 1", c.MaxLen)
	}
	return nil
}

// NewModel returns a freshly initialised model (policy.New's initialisation: the policy head
// starts almost uniform).
func NewModel(rng *rand.Rand, cfg ModelConfig) (*Model, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ac, err := policy.New(rng, cfg.policyConfig())
	if err != nil {
		return nil, fmt.Errorf("rlhf: model: %w", err)
	}
	return &Model{Cfg: cfg, AC: ac}, nil
}

func (c ModelConfig) policyConfig() policy.Config {
	return policy.Config{ObsDim: c.ObsDim(), Discrete: true, NumActions: c.V, Hidden: c.Hidden,
		Activation: c.Act, DType: c.DType}
}

// Clone returns a model with a copy of m's parameters (policy and value nets).
func (m *Model) Clone() (*Model, error) {
	ck, err := m.AC.Snapshot(nil, nil)
	if err != nil {
		return nil, fmt.Errorf("rlhf: clone: %w", err)
	}
	ac, err := policy.Load(ck)
	if err != nil {
		return nil, fmt.Errorf("rlhf: clone: %w", err)
	}
	return &Model{Cfg: m.Cfg, AC: ac}, nil
}

// Obs writes the observation of prefix x (the tokens generated so far) into dst (len ObsDim):
//
//	[onehot(x_{t−1}) | onehot(x_{t−2}) | onehot(x_{t−3}) | onehot(t) | 1{w ∈ x_<t} for each word w]
//
// with the slot V standing for "before the start". The word-used indicators let the model know,
// e.g., that a conjunction was already used — the state of the grammar is a function of this
// observation, so the model can represent P exactly.
func (c ModelConfig) Obs(dst []float64, x []int) {
	clear(dst)
	V := c.V
	for k := 0; k < Context; k++ {
		tok := V
		if i := len(x) - 1 - k; i >= 0 {
			tok = x[i]
		}
		dst[k*(V+1)+tok] = 1
	}
	pos := min(len(x), c.MaxLen-1)
	dst[Context*(V+1)+pos] = 1
	base := Context*(V+1) + c.MaxLen
	for _, t := range x {
		dst[base+t] = 1
	}
}

// Done reports whether x is a finished sequence (ends with End or has MaxLen tokens).
func (c ModelConfig) Done(x []int) bool {
	return len(x) >= c.MaxLen || (len(x) > 0 && x[len(x)-1] == End)
}

// LogProbs returns ln π(x_t | x_<t) for every token of x, and the logits at each position
// (len(x)×V, row-major).
func (m *Model) LogProbs(x []int) (logp, logits []float64, err error) {
	if len(x) == 0 {
		return nil, nil, nil
	}
	D := m.Cfg.ObsDim()
	obs := make([]float64, len(x)*D)
	for t := range x {
		m.Cfg.Obs(obs[t*D:(t+1)*D], x[:t])
	}
	d, err := policy.NewActor(m.AC).Dist(obs, len(x))
	if err != nil {
		return nil, nil, fmt.Errorf("rlhf: logits: %w", err)
	}
	V := m.Cfg.V
	logits = append([]float64(nil), d...)
	logp = make([]float64, len(x))
	row := make([]float64, V)
	for t, tok := range x {
		if tok < 0 || tok >= V {
			return nil, nil, fmt.Errorf("rlhf: token %d at position %d out of range [0, %d)", tok, t, V)
		}
		if err := kl.LogSoftmaxInto(row, logits[t*V:(t+1)*V]); err != nil {
			return nil, nil, fmt.Errorf("rlhf: log-probabilities at position %d: %w", t, err)
		}
		logp[t] = row[tok]
	}
	return logp, logits, nil
}

// LogProb returns ln π(x) = Σ_t ln π(x_t | x_<t).
func (m *Model) LogProb(x []int) (float64, error) {
	lp, _, err := m.LogProbs(x)
	if err != nil {
		return 0, err
	}
	var s float64
	for _, v := range lp {
		s += v
	}
	return s, nil
}

// SequenceLogProbs returns ln π(x) = Σ_t ln π(x_t | x_<t) of every sequence of xs
// (NewSequenceScorer(ctx, m.Cfg, xs).LogProbs(ctx, m)).
func (m *Model) SequenceLogProbs(ctx context.Context, xs [][]int) ([]float64, error) {
	s, err := NewSequenceScorer(ctx, m.Cfg, xs)
	if err != nil {
		return nil, err
	}
	return s.LogProbs(ctx, m)
}

// SequenceScorer evaluates ln π(x) of a fixed set of sequences under any model of one
// configuration, with one forward pass per distinct prefix: the sequences' prefixes form a
// trie, whose nodes' observations are built once, and ln π(x) sums, along x's path, the
// log-softmax of its node's logits at the next token. Sequences sharing prefixes (the
// preference pairs' reviews mostly start alike) share the work.
type SequenceScorer struct {
	cfg   ModelConfig
	obs   []float64 // per node: the observation of its prefix
	nodes int
	start []int   // per sequence: its first term; terms of sequence i are start[i] … start[i+1]−1
	node  []int32 // per term (position t of a sequence): the node of the prefix x_<t
	tok   []int32 // per term: the token x_t
	lsm   []float64
}

// NewSequenceScorer builds the trie of xs' prefixes for models of configuration cfg. It stops
// with ctx's error once ctx is done.
func NewSequenceScorer(ctx context.Context, cfg ModelConfig, xs [][]int) (*SequenceScorer, error) {
	D := cfg.ObsDim()
	s := &SequenceScorer{cfg: cfg, start: make([]int, 0, len(xs)+1)}
	type edge struct{ parent, tok int32 }
	child := map[edge]int32{}
	var prefixOf [][]int // per node: the prefix (a slice of some sequence)
	newNode := func(prefix []int) int32 {
		prefixOf = append(prefixOf, prefix)
		return int32(len(prefixOf) - 1)
	}
	root := newNode(nil)
	for i, x := range xs {
		if err := interrupted(ctx, i, len(xs), "sequence scorer: building the trie", "sequence"); err != nil {
			return nil, err
		}
		s.start = append(s.start, len(s.node))
		at := root
		for t, a := range x {
			if a < 0 || a >= cfg.V {
				return nil, fmt.Errorf("rlhf: sequence %d: token %d at position %d out of range [0, %d)", i, a, t, cfg.V)
			}
			s.node, s.tok = append(s.node, at), append(s.tok, int32(a))
			if t == len(x)-1 {
				break
			}
			e := edge{at, int32(a)}
			next, ok := child[e]
			if !ok {
				next = newNode(x[:t+1])
				child[e] = next
			}
			at = next
		}
	}
	s.start = append(s.start, len(s.node))
	s.nodes = len(prefixOf)
	s.obs = make([]float64, s.nodes*D)
	for k, p := range prefixOf {
		if err := interrupted(ctx, k, s.nodes, "sequence scorer: observations", "node"); err != nil {
			return nil, err
		}
		cfg.Obs(s.obs[k*D:(k+1)*D], p)
	}
	return s, nil
}

// LogProbs returns ln π(x) of every sequence under m, which must have the scorer's
// configuration's observation width and vocabulary. It stops with ctx's error once ctx is done
// (it looks before each forward pass of at most 4096 nodes).
func (s *SequenceScorer) LogProbs(ctx context.Context, m *Model) ([]float64, error) {
	const chunk = 4096
	D, V := s.cfg.ObsDim(), s.cfg.V
	if m.Cfg.ObsDim() != D || m.Cfg.V != V {
		return nil, fmt.Errorf("rlhf: sequence scorer for vocabulary %d: model of vocabulary %d", V, m.Cfg.V)
	}
	actor := policy.NewActor(m.AC)
	if len(s.lsm) < s.nodes*V {
		s.lsm = make([]float64, s.nodes*V)
	}
	for lo := 0; lo < s.nodes; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rlhf: sequence log-probabilities (node %d of %d): %w", lo+1, s.nodes, err)
		}
		n := min(chunk, s.nodes-lo)
		logits, err := actor.Dist(s.obs[lo*D:(lo+n)*D], n)
		if err != nil {
			return nil, fmt.Errorf("rlhf: sequence log-probabilities: %w", err)
		}
		for r := 0; r < n; r++ {
			if err := kl.LogSoftmaxInto(s.lsm[(lo+r)*V:(lo+r+1)*V], logits[r*V:(r+1)*V]); err != nil {
				return nil, fmt.Errorf("rlhf: sequence log-probabilities: %w", err)
			}
		}
	}
	out := make([]float64, len(s.start)-1)
	for i := range out {
		if err := interrupted(ctx, i, len(out), "sequence log-probabilities: summing", "sequence"); err != nil {
			return nil, err
		}
		for k := s.start[i]; k < s.start[i+1]; k++ {
			out[i] += s.lsm[int(s.node[k])*V+int(s.tok[k])]
		}
	}
	return out, nil
}

// Sample draws n sequences from π, all n advanced together one position at a time (Complete).
func (m *Model) Sample(ctx context.Context, rng *rand.Rand, n int) ([][]int, error) {
	return m.Complete(ctx, rng, make([][]int, n))
}

// sampleChunk is how many sequences Complete advances by one token per forward pass. Between
// passes it looks at the context, so that a cancel stops even a sample of millions of sequences
// within milliseconds. The chunks change no number: the tokens are drawn in the same order (one
// uniform per active sequence, in order), and a row's forward pass does not depend on the rows
// beside it (nn's matrix products add into each output in a fixed order).
const sampleChunk = 1024

// Complete draws one completion of each prompt from π (nil: a whole sequence) and returns the
// sequences, prompt included, all advanced together one position at a time. The prompts are
// not modified. It stops with ctx's error, wrapped with where it was, once ctx is done.
func (m *Model) Complete(ctx context.Context, rng *rand.Rand, prompts [][]int) ([][]int, error) {
	seqs := make([][]int, len(prompts))
	for i, p := range prompts {
		if len(p) > 0 {
			seqs[i] = append(make([]int, 0, m.Cfg.MaxLen), p...)
		}
	}
	actor := policy.NewActor(m.AC)
	D := m.Cfg.ObsDim()
	n := len(prompts)
	obs := make([]float64, min(n, sampleChunk)*D)
	active := make([]int, 0, n)
	stopped := func(pos, i int) error {
		return fmt.Errorf("rlhf: sample: token %d (sequence %d of %d): %w", pos, i+1, n, ctx.Err())
	}
	for pos := 1; ; pos++ {
		active = active[:0]
		for i, x := range seqs {
			if i%checkEvery == 0 && ctx.Err() != nil {
				return nil, stopped(pos, i)
			}
			if !m.Cfg.Done(x) {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			return seqs, nil
		}
		for lo := 0; lo < len(active); lo += sampleChunk {
			if ctx.Err() != nil {
				return nil, stopped(pos, active[lo])
			}
			rows := active[lo:min(lo+sampleChunk, len(active))]
			for r, i := range rows {
				m.Cfg.Obs(obs[r*D:(r+1)*D], seqs[i])
			}
			act, err := actor.Act(obs[:len(rows)*D], len(rows), rng, false, false)
			if err != nil {
				return nil, fmt.Errorf("rlhf: sample: %w", err)
			}
			for r, i := range rows {
				seqs[i] = append(seqs[i], int(act.Actions[r]))
			}
		}
	}
}

// meanStd returns the mean and the sample standard deviation of xs.
func meanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range xs {
		mean += v
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	for _, v := range xs {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}
