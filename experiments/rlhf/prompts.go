package rlhf

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"

	"klppo/internal/rng"
)

// Prompts are the opening words of reviews: a sentence x drawn from the language P, cut after
// its first k tokens with k uniform in {1, …, |x|−1}, so that the end token "." is never in a
// prompt and every prompt has grammatical completions (the grammar's automaton reaches "." from
// every state). Group methods (GRPO, RLOO) sample several completions of one prompt; the prompt
// tokens are state only, never actions of the policy.
//
// A fixed part of the prompt space is held out: prompt x is held out when the FNV-1a hash of
// its text, mapped to [0, 1), is below HeldOut. Training draws only the other prompts (drawing
// again until one is not held out); evaluation completes held-out prompts the policy never saw
// (heldout_gold). Both sides follow P's distribution of openings restricted to their side.
type Prompts struct {
	g *Grammar
	// HeldOut is the fraction of the hash range that is held out, in [0, 0.9].
	HeldOut float64
}

// DefaultHeldOut is the held-out part of the hash range.
const DefaultHeldOut = 0.2

// maxPromptDraws bounds the rejection sampling of one prompt (the held-out side has probability
// mass ≥ 4% for the default split; an impossible side is reported instead of looping forever).
const maxPromptDraws = 10000

// NewPrompts returns the prompts of g with the hash range [0, heldOut) held out.
func NewPrompts(g *Grammar, heldOut float64) (*Prompts, error) {
	if g == nil {
		return nil, fmt.Errorf("rlhf: prompts: no grammar")
	}
	if err := validateHeldOut("held_out", heldOut); err != nil {
		return nil, err
	}
	return &Prompts{g: g, HeldOut: heldOut}, nil
}

// IsHeldOut reports whether the prompt belongs to the held-out set.
func (p *Prompts) IsHeldOut(prompt []int) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(p.g.Text(prompt))) // a hash.Hash never fails to write
	return float64(h.Sum64()>>11)/(1<<53) < p.HeldOut
}

// Draw returns one prompt of the held-out side (heldOut) or of the training side.
func (p *Prompts) Draw(rng *rand.Rand, heldOut bool) ([]int, error) {
	for i := 0; i < maxPromptDraws; i++ {
		x := p.g.Sample(rng)
		if len(x) < 2 {
			continue
		}
		prompt := x[:1+rng.IntN(len(x)-1)]
		if p.IsHeldOut(prompt) == heldOut {
			return prompt, nil
		}
	}
	return nil, fmt.Errorf("rlhf: prompts: no %s prompt in %d draws (held-out fraction %v)", side(heldOut), maxPromptDraws, p.HeldOut)
}

// Batch returns n prompts of one side. It stops with ctx's error once ctx is done.
func (p *Prompts) Batch(ctx context.Context, rng *rand.Rand, n int, heldOut bool) ([][]int, error) {
	out := make([][]int, n)
	what := "prompts: drawing " + side(heldOut) + " prompts"
	for i := range out {
		if err := interrupted(ctx, i, n, what, "prompt"); err != nil {
			return nil, err
		}
		var err error
		if out[i], err = p.Draw(rng, heldOut); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Groups returns n prompts of the training side, each repeated k times in a row: the prompts of a
// group method's batch (completions i·k … i·k+k−1 share prompt i).
func (p *Prompts) Groups(ctx context.Context, rng *rand.Rand, n, k int) ([][]int, error) {
	prompts, err := p.Batch(ctx, rng, n, false)
	if err != nil {
		return nil, err
	}
	out := make([][]int, 0, n*k)
	for _, q := range prompts {
		for j := 0; j < k; j++ {
			out = append(out, q)
		}
	}
	return out, nil
}

func side(heldOut bool) string {
	if heldOut {
		return "held-out"
	}
	return "training"
}

// EvalConfig says how a trained policy is evaluated once its run is over (summary.json's
// heldout_gold and final_distinct, and the same numbers for π_ref).
type EvalConfig struct {
	// HeldOutPrompts held-out prompts are completed once each; heldout_gold is the mean gold
	// reward of the completed reviews.
	HeldOutPrompts int `json:"heldout_prompts"`
	// DistinctPrompts training prompts are completed DistinctSamples times each; distinct is the
	// number of different completions, summed over the prompts (at most their product).
	DistinctPrompts int `json:"distinct_prompts"`
	DistinctSamples int `json:"distinct_samples"`
}

// DefaultEvalConfig: 256 held-out prompts; 16 completions of each of 16 training prompts.
func DefaultEvalConfig() EvalConfig {
	return EvalConfig{HeldOutPrompts: 256, DistinctPrompts: 16, DistinctSamples: 16}
}

// Validate checks the sizes, naming the field.
func (c EvalConfig) Validate() error { return c.validate("eval") }

func (c EvalConfig) validate(prefix string) error {
	switch {
	case c.HeldOutPrompts < 1 || c.HeldOutPrompts > MaxEvalPrompts:
		return bad(prefix+".heldout_prompts", c.HeldOutPrompts, "want 1 to %d", MaxEvalPrompts)
	case c.DistinctPrompts < 1 || c.DistinctPrompts > MaxEvalPrompts:
		return bad(prefix+".distinct_prompts", c.DistinctPrompts, "want 1 to %d", MaxEvalPrompts)
	case c.DistinctSamples < 1 || c.DistinctSamples > MaxEvalPrompts:
		return bad(prefix+".distinct_samples", c.DistinctSamples, "want 1 to %d", MaxEvalPrompts)
	}
	return nil
}

// MaxEvalPrompts bounds each evaluation size.
const MaxEvalPrompts = 1 << 14

// Eval is the evaluation of one policy.
type Eval struct {
	HeldOutGold       float64 `json:"heldout_gold"`        // mean gold of the held-out prompts' completions
	HeldOutInLanguage float64 `json:"heldout_in_language"` // fraction of them in the language
	Distinct          int     `json:"distinct"`            // distinct completions, summed over the prompts
	DistinctOf        int     `json:"distinct_of"`         // samples they are among
}

// Evaluate completes the fixed evaluation prompts (the same for every seed, method and policy:
// drawn from their own stream of seed 0) with m, sampling with the stream of seed, and returns
// the held-out gold and the diversity. It stops with ctx's error once ctx is done.
func Evaluate(ctx context.Context, m *Model, g *Grammar, gold *Gold, p *Prompts, cfg EvalConfig, seed uint64) (Eval, error) {
	var ev Eval
	if err := cfg.Validate(); err != nil {
		return ev, err
	}
	held, train, err := p.evalPrompts(ctx, cfg)
	if err != nil {
		return ev, fmt.Errorf("rlhf: evaluation: %w", err)
	}
	r := rng.New(seed, streamEval)
	seqs, err := m.Complete(ctx, r, held)
	if err != nil {
		return ev, fmt.Errorf("rlhf: evaluation: completing the held-out prompts: %w", err)
	}
	for i, x := range seqs {
		if err := interrupted(ctx, i, len(seqs), "evaluation: scoring the held-out completions", "completion"); err != nil {
			return ev, err
		}
		ev.HeldOutGold += gold.Score(x)
		if g.Accepts(x) {
			ev.HeldOutInLanguage++
		}
	}
	ev.HeldOutGold /= float64(len(seqs))
	ev.HeldOutInLanguage /= float64(len(seqs))
	var rep [][]int
	for _, q := range train {
		for j := 0; j < cfg.DistinctSamples; j++ {
			rep = append(rep, q)
		}
	}
	if seqs, err = m.Complete(ctx, r, rep); err != nil {
		return ev, fmt.Errorf("rlhf: evaluation: completing the training prompts: %w", err)
	}
	ev.DistinctOf = len(seqs)
	for i := 0; i < len(seqs); i += cfg.DistinctSamples {
		if err := ctx.Err(); err != nil {
			return ev, fmt.Errorf("rlhf: evaluation: counting distinct completions (prompt %d of %d): %w", i/cfg.DistinctSamples+1, len(train), err)
		}
		seen := map[string]bool{}
		for _, x := range seqs[i : i+cfg.DistinctSamples] {
			seen[g.Text(x)] = true
		}
		ev.Distinct += len(seen)
	}
	return ev, nil
}

// evalPrompts are the evaluation's held-out and training prompts, the same in every run.
func (p *Prompts) evalPrompts(ctx context.Context, cfg EvalConfig) (held, train [][]int, err error) {
	r := rng.New(0, streamEvalPrompts)
	if held, err = p.Batch(ctx, r, cfg.HeldOutPrompts, true); err != nil {
		return nil, nil, err
	}
	if train, err = p.Batch(ctx, r, cfg.DistinctPrompts, false); err != nil {
		return nil, nil, err
	}
	return held, train, nil
}
