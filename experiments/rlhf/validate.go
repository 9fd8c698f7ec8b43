package rlhf

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"klppo/internal/memlimit"
)

// ConfigError names the invalid field of a configuration, so that a caller (the klppo CLI) can
// name the flag that set it. Field is the field's path as config.json and sweep.json spell it
// ("ppo.minibatch", "ppo.kl.beta", "sft.train_sentences", "rm.pairs", "betas", "bon_pool", …)
// or, for a model loaded from a directory, "sft_dir" or "rm_dir".
type ConfigError struct {
	Field  string
	Value  any    // the offending value
	Reason string // what is wrong and what is wanted
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("rlhf: %s = %v: %s", e.Field, e.Value, e.Reason)
}

// bad returns a *ConfigError.
func bad(field string, value any, format string, a ...any) error {
	return &ConfigError{Field: field, Value: value, Reason: fmt.Sprintf(format, a...)}
}

// Bounds checked by the Validate methods. The memory a run needs grows with the sizes; the
// CheckMemory methods compare their MemoryEstimate with the machine (internal/memlimit).
const (
	MaxUpdates    = 1_000_000  // PPO updates: one metrics row each is kept in memory
	MaxBatch      = 1 << 20    // sequences per PPO rollout
	MaxMinibatch  = 1 << 22    // tokens per PPO gradient step
	MaxEpochs     = 1000       // PPO epochs per rollout
	MaxRefSamples = 1 << 20    // π_ref samples measuring the reference's rewards
	MaxSentences  = 10_000_000 // SFT corpus (training or held-out) sentences
	MaxPairs      = 10_000_000 // preference pairs (training or held-out)
	MaxTrainEpoch = 100_000    // SFT and reward-model epochs
	MaxPool       = 10_000_000 // best-of-n pool of π_ref samples
	MaxParallel   = 256        // PPO runs of a sweep trained at once
	MaxSweepRuns  = 10_000     // β values × seeds of a sweep
	// MaxBeta bounds β: past it β·KL dwarfs any reward-model score (|r_φ| is of order 1 to 10
	// here) by five orders of magnitude, so π cannot move, and squared advantages of β·KL near
	// 1e300 overflow float64.
	MaxBeta = 1e6
)

// Under the prop and adaptive controllers β is clamped to [ppo.DefaultBetaMin,
// ppo.DefaultBetaMax] after every update, so PPOConfig.Validate refuses an initial β outside
// those bounds rather than let the first update move it there silently.

// finite reports whether x is neither NaN nor ±Inf.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Validate checks the SFT settings, naming the field ("sft.…").
func (c SFTConfig) Validate() error {
	switch {
	case c.Train < 1 || c.Train > MaxSentences:
		return bad("sft.train_sentences", c.Train, "want 1 to %d sentences", MaxSentences)
	case c.Test < 1 || c.Test > MaxSentences:
		return bad("sft.test_sentences", c.Test, "want 1 to %d sentences", MaxSentences)
	case c.Epochs < 1 || c.Epochs > MaxTrainEpoch:
		return bad("sft.epochs", c.Epochs, "want 1 to %d", MaxTrainEpoch)
	case c.Batch < 1 || c.Batch > MaxMinibatch:
		return bad("sft.batch", c.Batch, "want 1 to %d tokens", MaxMinibatch)
	case !(c.LR > 0) || c.LR > 1:
		return bad("sft.lr", c.LR, "want a number in (0, 1]")
	}
	if err := c.Model.validate(); err != nil {
		return err
	}
	return nil
}

// Validate checks the preference data and reward-model settings, naming the field ("rm.…").
func (c RMConfig) Validate() error {
	switch {
	case c.Pairs < 1 || c.Pairs > MaxPairs:
		return bad("rm.pairs", c.Pairs, "want 1 to %d pairs", MaxPairs)
	case c.TestPairs < 1 || c.TestPairs > MaxPairs:
		return bad("rm.test_pairs", c.TestPairs, "want 1 to %d pairs", MaxPairs)
	case !(c.Temperature >= 0) || !finite(c.Temperature):
		return bad("rm.label_noise", c.Temperature, "want a finite number ≥ 0 (0: deterministic preferences, by the gold order)")
	case c.Epochs < 1 || c.Epochs > MaxTrainEpoch:
		return bad("rm.epochs", c.Epochs, "want 1 to %d", MaxTrainEpoch)
	case c.Batch < 1:
		return bad("rm.batch", c.Batch, "want ≥ 1 pairs")
	case c.Pairs < c.Batch:
		return bad("rm.pairs", c.Pairs, "want at least one minibatch of %d pairs", c.Batch)
	case !(c.LR > 0) || c.LR > 1:
		return bad("rm.lr", c.LR, "want a number in (0, 1]")
	}
	return nil
}

// Validate checks the stages Prepare trains (a stage loaded from a directory is checked when it
// is loaded) and the label noise, which config.json records either way.
func (c PrepareConfig) Validate() error {
	if c.SFTDir == "" {
		if err := c.SFT.Validate(); err != nil {
			return err
		}
	}
	if c.RMDir == "" {
		return c.RM.Validate()
	}
	if !(c.RM.Temperature >= 0) || !finite(c.RM.Temperature) {
		return bad("rm.label_noise", c.RM.Temperature, "want a finite number ≥ 0 (0: deterministic preferences, by the gold order)")
	}
	return nil
}

// ValidateBoN checks a best-of-n pool size and the values of n (fields "bon_pool" and "bon_n").
func ValidateBoN(pool int, ns []int) error {
	if pool < 1 || pool > MaxPool {
		return bad("bon_pool", pool, "want 1 to %d samples", MaxPool)
	}
	seen := map[int]bool{}
	for _, n := range ns {
		if n < 1 {
			return bad("bon_n", n, "want integers ≥ 1")
		}
		if seen[n] {
			return bad("bon_n", n, "appears twice")
		}
		seen[n] = true
	}
	return nil
}

// Validate checks the grid (β values finite, ≥ 0 and distinct; seeds distinct: two equal ones
// would train two runs into one directory and count one run twice), best-of-n, the fit range,
// the parallelism, the stages and the PPO template, whose β must be 0 (the sweep sets it per run
// from Betas) and whose controller must be fixed (the sweep varies a fixed β).
func (c SweepConfig) Validate() error {
	if len(c.Betas) == 0 {
		return bad("betas", "[]", "give at least one β")
	}
	if len(c.Seeds) == 0 {
		return bad("seeds", "[]", "give at least one seed")
	}
	if n := len(c.Betas) * len(c.Seeds); n > MaxSweepRuns {
		return bad("seeds", len(c.Seeds), "%d β values × %d seeds = %d runs, at most %d", len(c.Betas), len(c.Seeds), n, MaxSweepRuns)
	}
	for i, b := range c.Betas {
		if !(b >= 0) || !finite(b) {
			return bad("betas", b, "want finite numbers ≥ 0")
		}
		if slices.Contains(c.Betas[:i], b) {
			return bad("betas", b, "appears twice (each β is one run per seed, in its own directory)")
		}
	}
	for i, s := range c.Seeds {
		if slices.Contains(c.Seeds[:i], s) {
			return bad("seeds", s, "appears twice (each seed is one run per β, in its own directory)")
		}
	}
	if err := ValidateBoN(c.BoNPool, c.BoNNs); err != nil {
		return err
	}
	switch {
	case c.Parallel < 1 || c.Parallel > MaxParallel:
		return bad("parallel", c.Parallel, "want 1 to %d", MaxParallel)
	case !(c.FitMaxD >= 0) || !finite(c.FitMaxD):
		return bad("fit_max_d", c.FitMaxD, "want a finite number ≥ 0")
	case c.PPO.Ctl != "fixed":
		return bad("ppo.kl_ctl", c.PPO.Ctl, "the sweep varies a fixed β; train a controller with a single PPO run")
	case c.PPO.KL.Beta != 0:
		return bad("ppo.kl.beta", c.PPO.KL.Beta, "the sweep sets β per run from betas; leave it 0")
	}
	if c.Prepare.SFTDir != "" || c.Prepare.RMDir != "" {
		return bad("sft_dir", c.Prepare.SFTDir+" "+c.Prepare.RMDir, "the sweep trains π_ref and a reward model per seed; it loads none")
	}
	if err := c.Prepare.Validate(); err != nil {
		return err
	}
	return c.PPO.Validate()
}

// ---- memory ----

// widest returns the widest hidden layer of m (at least 1).
func (m ModelConfig) widest() int64 {
	w := int64(1)
	for _, h := range m.Hidden {
		w = max(w, int64(h))
	}
	return w
}

// sampleBytes bounds what sampling n sequences at once from a model of m allocates: the
// sequences, one observation row per sequence and the actor's workspaces (hidden activations,
// logits, probabilities).
func (m ModelConfig) sampleBytes(n int) int64 {
	D, V, H, L := int64(m.ObsDim()), int64(m.V), m.widest(), int64(m.MaxLen)
	return int64(n) * (D + 4*H + 4*V + 2*L + 16) * 8
}

// graphBytes bounds a training graph over rows rows of a model of m: inputs, activations,
// their gradients and the tape machine's temporaries, and a second view of the inputs (the
// exact KL in the loss, the value graph).
func (m ModelConfig) graphBytes(rows int) int64 {
	D, V, H := int64(m.ObsDim()), int64(m.V), m.widest()
	return int64(rows) * (4*D + 16*H + 24*V + 64) * 8
}

// base is what any run needs besides its sizes: code, runtime, the grammar and the models.
const base = 96 << 20

// heapGrowth scales the live bytes a stage holds to the memory it takes: Go's collector lets
// the heap grow to (1 + GOGC/100) = 2 times the live data before it runs. Measured peaks
// (`/usr/bin/time -v`, see docs/rlhf.md, section Memory) are 0.09–0.81 of the estimates.
const heapGrowth = 2

// memPart is one part of a stage's memory and the field whose value sets it.
type memPart struct {
	field string
	value int
	bytes int64
}

// onlineSizes are the sizes the memory of one online run (PPO, GRPO, RLOO) grows with, and the
// fields that set them, named under prefix ("ppo", "grpo", "rloo").
type onlineSizes struct {
	prefix string
	// seqs sequences per rollout, set by the field seqField (PPO's batch; for the group
	// methods prompts × completions per prompt, named by the larger of the two) whose value is
	// seqValue.
	seqs, seqValue        int
	seqField              string
	minibatch, refSamples int
	updates               int
	eval                  EvalConfig
}

// rolloutBytes bounds what a rollout of n sequences of a model of m holds (generator.generate,
// all n advanced together): per token an observation row, π_old's and π_ref's logits, copied
// while sampling and again into flat arrays, and the sampling workspaces of all n at once.
func (m ModelConfig) rolloutBytes(n int) int64 {
	D, V := int64(m.ObsDim()), int64(m.V)
	tokens := int64(n) * int64(m.MaxLen)
	return tokens*(3*D+6*V+24)*8 + m.sampleBytes(n)
}

// seqBytes bounds what one sequence of a model of m allocates as it grows by append (Complete,
// Grammar.Sample): capacities 1, 2, 4, … up to the first power of two ≥ MaxLen, together below
// 4·MaxLen ints, and its slice header.
func (m ModelConfig) seqBytes() int64 { return 4*int64(m.MaxLen)*8 + 24 }

// completeBytes bounds what Complete allocates for n sequences of a model of m: the sequences,
// the list of active ones, and the sampling workspaces of sampleChunk sequences at a time.
func (m ModelConfig) completeBytes(n int) int64 {
	return int64(n)*(m.seqBytes()+8) + m.sampleBytes(min(n, sampleChunk))
}

// parts are the live data of the run with a policy of model m: the rollout of seqs sequences
// (rolloutBytes); the policy and value graphs over minibatch tokens; the refSamples sequences
// of the reference measurement; the evaluation's completions (Evaluate: the held-out prompts,
// and distinct_prompts × distinct_samples completions, sampled sampleChunk at a time, with a
// prompt header per completion and the distinct texts of one prompt; named by the larger of
// the two); and the metrics and samples kept per update.
func (s onlineSizes) parts(m ModelConfig) []memPart {
	L := int64(m.MaxLen)
	rollout := m.rolloutBytes(s.seqs)
	e := s.eval
	evalField, evalValue := "eval.distinct_samples", e.DistinctSamples
	if e.DistinctPrompts > e.DistinctSamples {
		evalField, evalValue = "eval.distinct_prompts", e.DistinctPrompts
	}
	f := func(name string) string { return s.prefix + "." + name }
	return []memPart{
		{f(s.seqField), s.seqValue, rollout},
		{f("minibatch"), s.minibatch, m.graphBytes(s.minibatch)},
		{f("ref_samples"), s.refSamples, m.sampleBytes(s.refSamples)},
		{f(evalField), evalValue, m.completeBytes(e.HeldOutPrompts+e.DistinctPrompts*e.DistinctSamples) +
			int64(e.DistinctPrompts*e.DistinctSamples)*24 + int64(e.DistinctSamples)*(3*L+64)},
		{f("updates"), s.updates, int64(s.updates) * 2048},
	}
}

// estimate is heapGrowth times the live data of parts, plus base.
func (s onlineSizes) estimate(m ModelConfig) int64 {
	var live int64
	for _, p := range s.parts(m) {
		live += p.bytes
	}
	return heapGrowth*live + base
}

// check refuses a run whose estimate exceeds the memory the process may use
// (internal/memlimit); the *ConfigError names the size that contributes most.
func (s onlineSizes) check(m ModelConfig) error {
	if err := memlimit.Check(s.estimate(m)); err != nil {
		big := slices.MaxFunc(s.parts(m), func(a, b memPart) int { return cmp.Compare(a.bytes, b.bytes) })
		return bad(big.field, big.value, "the run %v; lower it", err)
	}
	return nil
}

// groupSizes are the sizes of a group method (GRPO, RLOO) of prompts × group completions per
// update; groupField names the completions per prompt ("group", "k").
func groupSizes(prefix, groupField string, prompts, group, minibatch, refSamples, updates int, eval EvalConfig) onlineSizes {
	s := onlineSizes{prefix: prefix, seqs: prompts * group, seqField: groupField, seqValue: group, minibatch: minibatch,
		refSamples: refSamples, updates: updates, eval: eval}
	if prompts > group {
		s.seqField, s.seqValue = "prompts", prompts
	}
	return s
}

func (c PPOConfig) sizes() onlineSizes {
	return onlineSizes{prefix: "ppo", seqs: c.Batch, seqField: "batch", seqValue: c.Batch, minibatch: c.Minibatch,
		refSamples: c.RefSamples, updates: c.Updates, eval: c.Eval}
}

// MemoryEstimate returns a conservative estimate, in bytes, of the memory one PPO run of c takes
// with a policy of model m: heapGrowth times the live data, plus base. The live data are the
// rollout of Batch sequences (per token an observation row, π_old's and π_ref's logits, copied
// while sampling and again into flat arrays); the policy and value graphs over Minibatch tokens;
// the RefSamples sequences of the reference measurement; the evaluation's completions; and the
// metrics and samples kept per update.
func (c PPOConfig) MemoryEstimate(m ModelConfig) int64 { return c.sizes().estimate(m) }

// CheckMemory refuses a run whose MemoryEstimate exceeds the memory the process may use
// (internal/memlimit); the *ConfigError names the size that contributes most.
func (c PPOConfig) CheckMemory(m ModelConfig) error { return c.sizes().check(m) }

func (c GRPOConfig) sizes() onlineSizes {
	return groupSizes("grpo", "group", c.Prompts, c.Group, c.Minibatch, c.RefSamples, c.Updates, c.Eval)
}

// MemoryEstimate returns a conservative estimate, in bytes, of the memory one GRPO run of c takes
// with a policy of model m: PPOConfig.MemoryEstimate's with a rollout of Prompts × Group
// sequences (GRPO has no value graph; counting one keeps the estimate on the safe side).
func (c GRPOConfig) MemoryEstimate(m ModelConfig) int64 { return c.sizes().estimate(m) }

// CheckMemory refuses a run whose MemoryEstimate exceeds the memory the process may use; the
// *ConfigError names the size that contributes most (the rollout by the larger of "grpo.prompts"
// and "grpo.group").
func (c GRPOConfig) CheckMemory(m ModelConfig) error { return c.sizes().check(m) }

func (c RLOOConfig) sizes() onlineSizes {
	return groupSizes("rloo", "k", c.Prompts, c.K, c.Minibatch, c.RefSamples, c.Updates, c.Eval)
}

// MemoryEstimate returns a conservative estimate, in bytes, of the memory one RLOO run of c takes
// with a policy of model m: PPOConfig.MemoryEstimate's with a rollout of Prompts × K sequences.
func (c RLOOConfig) MemoryEstimate(m ModelConfig) int64 { return c.sizes().estimate(m) }

// CheckMemory refuses a run whose MemoryEstimate exceeds the memory the process may use; the
// *ConfigError names the size that contributes most (the rollout by the larger of "rloo.prompts"
// and "rloo.k").
func (c RLOOConfig) CheckMemory(m ModelConfig) error { return c.sizes().check(m) }

// MemoryEstimate returns a conservative estimate, in bytes, of the memory TrainSFT takes:
// heapGrowth times the live data, plus base. The live data are the corpus rows (an observation
// row and a next token per token, at most MaxLen tokens a sentence, and the shuffled order),
// allocated once at their final size, and what is allocated as the run goes (the training and
// held-out sentences, the training graph over a minibatch and its input copies, the 1000 samples
// of the evaluation).
func (c SFTConfig) MemoryEstimate() int64 {
	m := c.Model
	D, V := int64(m.ObsDim()), int64(m.V)
	tokens := int64(c.Train) * int64(m.MaxLen)
	rows := tokens * (D + 2) * 8
	B := int64(min(c.Batch, c.Train*m.MaxLen))
	churn := int64(c.Train+c.Test)*m.seqBytes() + m.graphBytes(int(B)) + B*(D+1+V)*8 + m.completeBytes(1000)
	// The rows are allocated once, but they are live data all the same: with them live the
	// collector lets the garbage of the churn grow to their size before it runs, so they are
	// doubled too.
	return heapGrowth*(rows+churn) + base
}

// MemoryEstimate returns a conservative estimate, in bytes, of the memory TrainRM takes with a
// π_ref of model m: heapGrowth times the live data, plus base. The live data are the
// 2·(Pairs+TestPairs) π_ref samples (completeBytes: sampled sampleChunk at a time, each grown by
// append), the pairs and the held-out pairs of distinct gold; the Bradley–Terry graph over a
// minibatch (counted as a policy graph over 2·Batch rows, more than it holds).
func (c RMConfig) MemoryEstimate(m ModelConfig) int64 {
	n := 2 * (c.Pairs + c.TestPairs)
	pairs := int64(c.Pairs+2*c.TestPairs) * 48
	return heapGrowth*(m.completeBytes(n)+pairs+m.graphBytes(2*c.Batch)) + base
}

// BoNMemoryEstimate returns a conservative estimate, in bytes, of the memory BestOfN takes for
// a pool of pool π_ref samples of model m (heapGrowth times the live data, plus base): the pool (sampled 1000 at a time), its texts and
// counts, and per distinct sequence the reward-model features and the distributions.
func BoNMemoryEstimate(pool int, m ModelConfig) int64 { return bonBytes(pool, 1000, m) }

// bonBytes is BoNMemoryEstimate with the pool sampled atOnce sequences at a time.
func bonBytes(pool, atOnce int, m ModelConfig) int64 {
	L, V := int64(m.MaxLen), int64(m.V)
	return heapGrowth*(int64(pool)*(L*8+24+2*(L*12+64)+(V+8)*8)+m.sampleBytes(atOnce)) + base
}

// dpoParts are the live data of a DPO run of c with a π_ref of model m on the pairs of prefs:
//
//   - the preference pairs (SamplePairs: 2·(Pairs+TestPairs) π_ref samples, completeBytes, and
//     the pairs) and their indexed form (newPrefData: per distinct sequence, at most all of
//     them, its key in the index map, its header, flags and ln π_ref; per pair its indices; the
//     SequenceScorer's trie with, per node, an observation row, a row of log-softmax and its map
//     entry, and per token its node and token — a node per token bounds the trie), named
//     "rm.pairs";
//   - the training graph over B = min(Batch, Pairs) pairs: the policy graph over R = 2·B·MaxLen
//     token rows, its input copies, and the B×R pair weights twice (the matrix and its tensor),
//     named "dpo.batch";
//   - an evaluation's EvalSamples sequences of π (a rollout, rolloutBytes), "dpo.eval_samples";
//   - the RefSamples sequences of π_ref's rewards, "dpo.ref_samples";
//   - the metrics and samples of Epochs·EvalsPerEpoch + 1 evaluations, "dpo.evals_per_epoch";
//   - the exact mass on the language unless MassEvery is −1 (exactMassBytes), "dpo.mass_every".
func (c DPOConfig) dpoParts(m ModelConfig, prefs RMConfig) []memPart {
	D, V, L := int64(m.ObsDim()), int64(m.V), int64(m.MaxLen)
	P, T := int64(prefs.Pairs), int64(prefs.TestPairs)
	seqs := 2 * (P + T)
	terms := seqs * L
	pairs := m.completeBytes(int(seqs)) + (P+T)*48 +
		seqs*((3*L+64)+24+3+8+8) + (P+T)*24*2 + T*2 + // index, headers, flags, ln π_ref, start; pairs (grown by append); gold order
		terms*(D*8+V*8+64+24+2*8) // per node: observation, log-softmax, map entry, prefix; per term: node and token (grown by append)
	B := int64(min(c.Batch, prefs.Pairs))
	R := 2 * B * L
	graph := m.graphBytes(int(R)) + R*(D+1+V)*8 + 2*B*R*8
	rows := int64(c.Epochs)*int64(c.EvalsPerEpoch) + 1
	var mass int64
	if c.MassEvery >= 0 {
		mass = exactMassBytes
	}
	return []memPart{
		{"rm.pairs", prefs.Pairs, pairs},
		{"dpo.batch", c.Batch, graph},
		{"dpo.eval_samples", c.EvalSamples, m.rolloutBytes(c.EvalSamples) + seqs*2*8},
		{"dpo.ref_samples", c.RefSamples, m.completeBytes(c.RefSamples)},
		{"dpo.evals_per_epoch", c.EvalsPerEpoch, rows * 2048},
		{"dpo.mass_every", c.MassEvery, mass},
	}
}

// exactMassBytes bounds the live data of ExactLanguageMass on the reviews grammar (the prefixes
// of two lengths at once, each with its tokens). It depends on the grammar, not on any size of a
// run: `klppo rlhf dpo` with the default sizes peaks 187 MB higher with the exact mass than with
// --mass-every -1 (docs/rlhf.md, Memory).
const exactMassBytes = 128 << 20

// MemoryEstimate returns a conservative estimate, in bytes, of the memory a DPO run of c takes
// (RunDPO) with a π_ref of model m on the preference pairs of prefs: heapGrowth times the live
// data (dpoParts), plus base. c and prefs must be valid (Validate): the sizes are then small
// enough that no product overflows.
func (c DPOConfig) MemoryEstimate(m ModelConfig, prefs RMConfig) int64 {
	var live int64
	for _, p := range c.dpoParts(m, prefs) {
		live += p.bytes
	}
	return heapGrowth*live + base
}

// CheckMemory refuses a DPO run whose MemoryEstimate exceeds the memory the process may use
// (internal/memlimit); the *ConfigError names the size that contributes most ("rm.pairs",
// "dpo.batch", "dpo.eval_samples", …).
func (c DPOConfig) CheckMemory(m ModelConfig, prefs RMConfig) error {
	if err := memlimit.Check(c.MemoryEstimate(m, prefs)); err != nil {
		big := slices.MaxFunc(c.dpoParts(m, prefs), func(a, b memPart) int { return cmp.Compare(a.bytes, b.bytes) })
		return bad(big.field, big.value, "the run %v; lower it", err)
	}
	return nil
}

// CheckMemory refuses a grid one of whose stages would not fit: a seed's π_ref and reward model
// (Prepare.CheckMemory, for the stages it trains), one DPO run of the template on the pairs of
// Prepare.RM (DPOConfig.CheckMemory), or Parallel of them at once ("parallel").
func (c DPOGridConfig) CheckMemory() error {
	if err := c.Prepare.CheckMemory(); err != nil {
		return err
	}
	return c.checkRuns()
}

// checkRuns is CheckMemory without the stages (a grid whose seeds' π_ref and reward models are
// loaded: the frontier's).
func (c DPOGridConfig) checkRuns() error {
	m := c.Prepare.SFT.Model
	if err := c.DPO.CheckMemory(m, c.Prepare.RM); err != nil {
		return err
	}
	if n := min(c.Parallel, len(c.Arms)); n > 1 {
		return memCheck(int64(n)*(c.DPO.MemoryEstimate(m, c.Prepare.RM)-base)+base, "parallel", c.Parallel)
	}
	return nil
}

// memCheck wraps memlimit.Check into a *ConfigError naming field.
func memCheck(need int64, field string, value any) error {
	if err := memlimit.Check(need); err != nil {
		return bad(field, value, "the run %v; lower it", err)
	}
	return nil
}

// CheckMemory refuses the stages Prepare trains when one of them would not fit (they run one
// after the other): the SFT corpus ("sft.train_sentences") or the preference pairs ("rm.pairs").
func (c PrepareConfig) CheckMemory() error {
	if c.SFTDir == "" {
		if err := memCheck(c.SFT.MemoryEstimate(), "sft.train_sentences", c.SFT.Train); err != nil {
			return err
		}
	}
	if c.RMDir == "" {
		return memCheck(c.RM.MemoryEstimate(c.SFT.Model), "rm.pairs", c.RM.Pairs)
	}
	return nil
}

// CheckBoNMemory refuses a best-of-n pool that would not fit ("bon_pool").
func CheckBoNMemory(pool int, m ModelConfig) error {
	return memCheck(BoNMemoryEstimate(pool, m), "bon_pool", pool)
}

// CheckMemory refuses a sweep one of whose stages would not fit: the stages of a seed, its
// best-of-n, or Parallel PPO runs at once.
func (c SweepConfig) CheckMemory() error {
	if err := c.Prepare.CheckMemory(); err != nil {
		return err
	}
	m := c.Prepare.SFT.Model
	if len(c.BoNNs) > 0 {
		if err := CheckBoNMemory(c.BoNPool, m); err != nil {
			return err
		}
	}
	if err := c.PPO.CheckMemory(m); err != nil {
		return err
	}
	if c.Parallel > 1 {
		return memCheck(int64(c.Parallel)*(c.PPO.MemoryEstimate(m)-base)+base, "parallel", c.Parallel)
	}
	return nil
}
