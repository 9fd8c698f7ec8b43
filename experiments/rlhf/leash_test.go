package rlhf

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// tinyLeash is a grid small enough for a test: 3 methods × 2 rewards × 1 β × 1 seed, 2 updates.
func tinyLeash() LeashConfig {
	c := DefaultLeashConfig()
	c.Betas, c.Seeds, c.Updates = []float64{0.5}, []uint64{4}, 2
	c.BoNNs, c.BoNPool, c.BoNPrompts = []int{1, 4}, 16, 4
	c.Eval = EvalConfig{HeldOutPrompts: 8, DistinctPrompts: 2, DistinctSamples: 4}
	c.PPO.Batch, c.PPO.Minibatch, c.PPO.RefSamples = 16, 32, 32
	c.GRPO.Prompts, c.GRPO.Group, c.GRPO.Minibatch, c.GRPO.RefSamples = 2, 4, 32, 32
	c.RLOO.Prompts, c.RLOO.K, c.RLOO.Minibatch, c.RLOO.RefSamples = 4, 2, 32, 32
	c.Prepare.SFT.Train, c.Prepare.SFT.Test, c.Prepare.SFT.Epochs = 600, 100, 2
	c.Prepare.RM.Pairs, c.Prepare.RM.TestPairs, c.Prepare.RM.Epochs = 400, 100, 5
	return c
}

// comparable strips a summary of its timings.
func untimed(s Summary) string {
	s.WallS, s.TokensPerS = 0, 0
	b, _ := json.Marshal(s)
	return string(b)
}

// TestLeashResumeEqualsUninterrupted: an experiment interrupted in its second run and resumed
// writes the same runs as one never interrupted, skipping the run that had finished; the
// interrupted directory is marked incomplete, has no table, and is refused without resume; the
// complete one has its table, CSV and charts.
func TestLeashResumeEqualsUninterrupted(t *testing.T) {
	cfg := tinyLeash()
	cfg.Parallel = 1
	base := t.TempDir()
	whole := filepath.Join(base, "whole")
	res, err := Leash(context.Background(), cfg, whole, LeashOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 6 || !res.Complete {
		t.Fatalf("%d runs, complete %v", len(res.Runs), res.Complete)
	}
	for _, f := range append([]string{LeashFile}, leashOutputs...) {
		if _, err := os.Stat(filepath.Join(whole, f)); err != nil {
			t.Error(err)
		}
	}
	table, err := os.ReadFile(filepath.Join(whole, LeashTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| grpo | rm | 0.5 |", "| rloo | gold | 0.5 |", "| ppo | rm | 0.5 |", "| n = 4 | gold |"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	cut := filepath.Join(base, "cut")
	ctx, cancel := context.WithCancel(context.Background())
	updates := 0
	_, err = Leash(ctx, cfg, cut, LeashOptions{OnUpdate: func(UpdateMetrics) {
		if updates++; updates == cfg.Updates+1 { // in the second run
			cancel()
		}
	}})
	cancel()
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	prev, err := readLeashFile(cut)
	if err != nil {
		t.Fatal(err)
	}
	if prev.Complete || len(prev.Runs) != 1 {
		t.Fatalf("after the interrupt: complete %v, %d runs recorded", prev.Complete, len(prev.Runs))
	}
	if _, err := os.Stat(filepath.Join(cut, LeashTable)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an incomplete experiment has a table: %v", err)
	}
	if _, err := Leash(context.Background(), cfg, cut, LeashOptions{}); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("a second start without resume: %v", err)
	}
	other := cfg
	other.Updates = 3
	if _, err := Leash(context.Background(), other, cut, LeashOptions{Resume: true}); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resumed with other settings: %v", err)
	}
	skipped := 0
	resumed, err := Leash(context.Background(), cfg, cut, LeashOptions{Resume: true, Progress: func(st LeashStep) {
		if st.Skipped {
			skipped++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 1 || !resumed.Complete || len(resumed.Runs) != len(res.Runs) {
		t.Fatalf("resumed: %d skipped, complete %v, %d runs", skipped, resumed.Complete, len(resumed.Runs))
	}
	for i := range res.Runs {
		a, b := res.Runs[i], resumed.Runs[i]
		if a.Dir != b.Dir || untimed(a.Summary) != untimed(b.Summary) {
			t.Errorf("run %s: uninterrupted %s\nresumed %s", a.Dir, untimed(a.Summary), untimed(b.Summary))
		}
	}
	if untimed := func(r *LeashResult) string { b, _ := json.Marshal(r.BoN); return string(b) }; untimed(res) != untimed(resumed) {
		t.Error("best-of-n differs after resuming")
	}
}

// TestLeashParallelMatchesSerial: two workers give the runs of one.
func TestLeashParallelMatchesSerial(t *testing.T) {
	cfg := tinyLeash()
	cfg.Methods, cfg.Rewards, cfg.Betas = []string{MethodGRPO, MethodRLOO}, []Reward{RewardRM}, []float64{0, 0.5}
	var res [2]*LeashResult
	for k, par := range []int{1, 2} {
		cfg.Parallel = par
		r, err := Leash(context.Background(), cfg, filepath.Join(t.TempDir(), "l"), LeashOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res[k] = r
	}
	for i := range res[0].Runs {
		if untimed(res[0].Runs[i].Summary) != untimed(res[1].Runs[i].Summary) {
			t.Errorf("run %s differs with 2 workers", res[0].Runs[i].Dir)
		}
	}
}

// TestLeashMemoryIsCheckedBeforeWriting: the leash experiment refuses a grid one of whose stages
// would not fit in the memory the process may use (GOMEMLIMIT here) — a run of a method, the
// parallel runs of a seed, a best-of-n pool — naming the field and its value, before anything is
// written into its directory; the default grid passes, and --parallel counts no more runs at once
// than a seed has.
func TestLeashMemoryIsCheckedBeforeWriting(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	if err := DefaultLeashConfig().CheckMemory(); err != nil {
		t.Errorf("default grid: %v", err)
	}
	wide := tinyLeash()
	wide.Parallel = 256 // 6 runs per seed: at most 6 at once
	m := wide.Prepare.SFT.Model
	if need := 256*(wide.GRPO.MemoryEstimate(m)-base) + base; need <= 1<<30 {
		t.Fatalf("256 tiny runs need %d bytes, within the limit: the case tests nothing", need)
	}
	if err := wide.CheckMemory(); err != nil {
		t.Errorf("parallel 256 with 6 runs per seed: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // were the check missing, Leash would write its files and stop preparing the seed
	for _, tc := range []struct {
		name  string
		edit  func(*LeashConfig)
		limit int64
		field string
		value int
	}{
		{"a GRPO run", func(c *LeashConfig) { c.GRPO.Group = 8192 }, 1 << 30, "grpo.group", 8192},
		{"every run's updates", func(c *LeashConfig) { c.Updates = MaxGroupUpdates }, 1 << 30, "ppo.updates", MaxGroupUpdates},
		// 8 × 512 sequences per GRPO run fit alone (≈ 0.7 GiB), not 6 runs at once
		{"parallel runs", func(c *LeashConfig) { c.GRPO.Prompts, c.GRPO.Group, c.Parallel = 8, 512, 6 }, 1 << 30, "parallel", 6},
		{"best-of-n pool", func(c *LeashConfig) { c.BoNPool = 1 << 16 }, 512 << 20, "bon_pool", 1 << 16},
	} {
		debug.SetMemoryLimit(tc.limit)
		cfg := tinyLeash()
		tc.edit(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v (the case must pass the bounds)", tc.name, err)
		}
		dir := t.TempDir()
		_, err := Leash(ctx, cfg, dir, LeashOptions{})
		refusedNaming(t, tc.name, err, tc.field, tc.value)
		if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
			t.Errorf("%s: the directory holds %v (%v), want it empty", tc.name, ents, err)
		}
	}
}
