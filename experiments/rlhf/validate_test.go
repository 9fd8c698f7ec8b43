package rlhf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"klppo/kl"
	"klppo/nn"
	"klppo/ppo"
)

// TestPPOConfigValidate: every rule about a PPO run is the library's, and each failure is a
// *ConfigError naming the field; rules that once lived only in the CLI (lr ≤ 1, bounded sizes,
// the controller's β range) hold for every caller, and a horizon is needed only by the
// proportional controller.
func TestPPOConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*PPOConfig)
		field string // "" = valid
	}{
		{"default", func(c *PPOConfig) {}, ""},
		{"lr above 1", func(c *PPOConfig) { c.LR = 2 }, "ppo.lr"},
		{"minibatch past the bound", func(c *PPOConfig) { c.Minibatch = 100_000_000 }, "ppo.minibatch"},
		{"batch past the bound", func(c *PPOConfig) { c.Batch = 1_000_000_000 }, "ppo.batch"},
		{"updates past the bound", func(c *PPOConfig) { c.Updates = MaxUpdates + 1 }, "ppo.updates"},
		{"epochs past the bound", func(c *PPOConfig) { c.Epochs = MaxEpochs + 1 }, "ppo.epochs"},
		{"β NaN", func(c *PPOConfig) { c.KL.Beta = math.NaN() }, "ppo.kl.beta"},
		{"β +Inf", func(c *PPOConfig) { c.KL.Beta = math.Inf(1) }, "ppo.kl.beta"},
		{"fixed β 1e6", func(c *PPOConfig) { c.KL.Beta = MaxBeta }, ""},
		{"fixed β 1e300", func(c *PPOConfig) { c.KL.Beta = 1e300 }, "ppo.kl.beta"},
		{"fixed, horizon 0", func(c *PPOConfig) { c.Horizon = 0 }, ""},
		{"adaptive, horizon 0", func(c *PPOConfig) { c.Ctl, c.Horizon = "adaptive", 0 }, ""},
		{"prop, horizon 0", func(c *PPOConfig) { c.Ctl, c.Horizon = "prop", 0 }, "ppo.kl_horizon"},
		{"adaptive, β 1e300", func(c *PPOConfig) { c.Ctl, c.KL.Beta = "adaptive", 1e300 }, "ppo.kl.beta"},
		{"adaptive, β above the ceiling", func(c *PPOConfig) { c.Ctl, c.KL.Beta = "adaptive", ppo.DefaultBetaMax*1.01 }, "ppo.kl.beta"},
		{"adaptive, β at the ceiling", func(c *PPOConfig) { c.Ctl, c.KL.Beta = "adaptive", ppo.DefaultBetaMax }, ""},
		{"prop, β below 1e-4", func(c *PPOConfig) { c.Ctl, c.KL.Beta = "prop", 1e-5 }, "ppo.kl.beta"},
		{"prop, β 0", func(c *PPOConfig) { c.Ctl, c.KL.Beta = "prop", 0 }, "ppo.kl.beta"},
		{"prop, target 0", func(c *PPOConfig) { c.Ctl, c.Target = "prop", 0 }, "ppo.kl_target"},
		{"unknown controller", func(c *PPOConfig) { c.Ctl = "pid" }, "ppo.kl_ctl"},
		{"unknown estimator", func(c *PPOConfig) { c.KL.Estimator = kl.Estimator(42) }, "ppo.kl.estimator"},
		{"unknown placement", func(c *PPOConfig) { c.KL.In = "advantage" }, "ppo.kl.in"},
	} {
		c := DefaultPPOConfig(0.5, 1)
		tc.edit(&c)
		wantField(t, tc.name, c.Validate(), tc.field)
	}
	c := DefaultPPOConfig(1e300, 1)
	c.Ctl = "adaptive"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "[0.0001, 10000]") {
		t.Errorf("the controller's bounds are not named: %v", err)
	}
}

// TestMemoryIsCheckedBeforeAllocating: sizes within the bounds that would not fit in the memory
// the process may use (GOMEMLIMIT here) are refused by the library before anything is allocated,
// naming the size that costs most; the defaults fit.
func TestMemoryIsCheckedBeforeAllocating(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	m := DefaultModelConfig(reviewsVocab())
	var ce *ConfigError
	if err := DefaultPPOConfig(0.5, 1).CheckMemory(m); err != nil {
		t.Errorf("default PPO: %v", err)
	}
	for field, edit := range map[string]func(*PPOConfig){
		"ppo.minibatch":   func(c *PPOConfig) { c.Minibatch = MaxMinibatch },
		"ppo.batch":       func(c *PPOConfig) { c.Batch = MaxBatch },
		"ppo.ref_samples": func(c *PPOConfig) { c.RefSamples = MaxRefSamples },
	} {
		c := DefaultPPOConfig(0.5, 1)
		edit(&c)
		if err := c.Validate(); err != nil {
			t.Fatalf("%s: %v (the case must pass the bounds)", field, err)
		}
		err := c.CheckMemory(m)
		if !errors.As(err, &ce) || ce.Field != field || !strings.Contains(err.Error(), "GOMEMLIMIT") {
			t.Errorf("%s at its bound: %v, want a ConfigError naming it and the limit", field, err)
		}
	}
	pc := DefaultPrepareConfig(1)
	if err := pc.CheckMemory(); err != nil {
		t.Errorf("default stages: %v", err)
	}
	pc.SFT.Train = MaxSentences
	if err := pc.CheckMemory(); !errors.As(err, &ce) || ce.Field != "sft.train_sentences" {
		t.Errorf("corpus at its bound: %v", err)
	}
	pc = DefaultPrepareConfig(1)
	pc.RM.Pairs = MaxPairs
	if err := pc.CheckMemory(); !errors.As(err, &ce) || ce.Field != "rm.pairs" {
		t.Errorf("pairs at their bound: %v", err)
	}
	if err := CheckBoNMemory(MaxPool, m); !errors.As(err, &ce) || ce.Field != "bon_pool" {
		t.Errorf("pool at its bound: %v", err)
	}
	// The library refuses too, whoever calls it: TrainSFT before sampling its corpus.
	g, err := Reviews()
	if err != nil {
		t.Fatal(err)
	}
	sc := DefaultSFTConfig(g.V(), 1)
	sc.Train = MaxSentences
	if _, _, err := TrainSFT(context.Background(), g, sc, nil); !errors.As(err, &ce) || ce.Field != "sft.train_sentences" {
		t.Errorf("TrainSFT with the corpus at its bound: %v", err)
	}
}

// savedModels writes an untrained π_ref and reward model the way the sft and rm stages do.
func savedModels(t *testing.T, dir string) (sftDir, rmDir string) {
	t.Helper()
	g, err := Reviews()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(rand.New(rand.NewPCG(1, 1)), DefaultModelConfig(g.V()))
	if err != nil {
		t.Fatal(err)
	}
	sftDir, rmDir = filepath.Join(dir, "sft"), filepath.Join(dir, "rm")
	if err := SaveSFT(sftDir, m, SFTReport{}, DefaultSFTConfig(g.V(), 1)); err != nil {
		t.Fatal(err)
	}
	rm, err := NewRewardModel(rand.New(rand.NewPCG(1, 2)), g.V())
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveRM(rmDir, rm, RMReport{}, DefaultRMConfig(1)); err != nil {
		t.Fatal(err)
	}
	return sftDir, rmDir
}

// TestLoadRMRefusesDamagedFiles: a reward-model file with a valid checksum but a NaN, infinite or
// huge weight, an extra array or a missing one is refused as a *ConfigError on rm_dir naming the
// file (it was loaded, and best-of-n printed +Inf proxy rewards); π_ref files get the same check.
func TestLoadRMRefusesDamagedFiles(t *testing.T) {
	root := t.TempDir()
	sftDir, rmDir := savedModels(t, root)
	v := reviewsVocab()
	if _, err := LoadRM(rmDir, v); err != nil {
		t.Fatalf("the saved model: %v", err)
	}
	if _, err := LoadSFT(sftDir); err != nil {
		t.Fatalf("the saved π_ref: %v", err)
	}
	good, err := nn.ReadFile(filepath.Join(rmDir, RMModelFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func([]nn.Array) []nn.Array{
		"NaN weight":    func(a []nn.Array) []nn.Array { a[0].F64[3] = math.NaN(); return a },
		"infinite bias": func(a []nn.Array) []nn.Array { a[1].F64[0] = math.Inf(1); return a },
		"huge weight":   func(a []nn.Array) []nn.Array { a[0].F64[0] = 1e30; return a },
		"extra array": func(a []nn.Array) []nn.Array {
			return append(a, nn.Array{Name: "junk", Shape: []int{1}, F64: []float64{0}})
		},
		"missing array": func(a []nn.Array) []nn.Array { return a[:1] },
	} {
		dir := filepath.Join(root, strings.ReplaceAll(name, " ", "-"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		arrays := make([]nn.Array, len(good))
		for i, a := range good {
			arrays[i] = nn.Array{Name: a.Name, Shape: a.Shape, F64: append([]float64(nil), a.F64...)}
		}
		if err := nn.WriteFile(filepath.Join(dir, RMModelFile), edit(arrays)); err != nil {
			t.Fatal(err)
		}
		_, err := LoadRM(dir, v)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "rm_dir" || !strings.Contains(err.Error(), filepath.Join(dir, RMModelFile)) {
			t.Errorf("%s: %v, want a ConfigError on rm_dir naming the file", name, err)
		}
	}
}

// TestLoadModelSuggestsTheSubdirectory: given the --out of a whole pipeline (which holds sft/ and
// rm/), the error names the directory that holds the model; given an empty one, what is wanted.
func TestLoadModelSuggestsTheSubdirectory(t *testing.T) {
	root := t.TempDir()
	savedModels(t, root)
	var ce *ConfigError
	if _, err := LoadSFT(root); !errors.As(err, &ce) || ce.Field != "sft_dir" || !strings.Contains(err.Error(), filepath.Join(root, "sft")+" holds one") {
		t.Errorf("LoadSFT(the pipeline's dir): %v", err)
	}
	if _, err := LoadRM(root, reviewsVocab()); !errors.As(err, &ce) || ce.Field != "rm_dir" || !strings.Contains(err.Error(), filepath.Join(root, "rm")+" holds one") {
		t.Errorf("LoadRM(the pipeline's dir): %v", err)
	}
	empty := t.TempDir()
	if _, err := LoadRM(empty, reviewsVocab()); !errors.As(err, &ce) || !strings.Contains(err.Error(), "no rm.klnn here") {
		t.Errorf("LoadRM(an empty dir): %v", err)
	}
}

// TestBestOfNBoundOnThePool: best-of-n computed on a pool of m samples cannot move further than
// ln m from it; the reported bound is min(ln n − (n−1)/n, ln m) and every estimate lies below it
// (n = 10⁶ on a pool of 500 reported a bound of 12.8 beside a ceiling of ln 500 = 6.2).
func TestBestOfNBoundOnThePool(t *testing.T) {
	root := t.TempDir()
	sftDir, rmDir := savedModels(t, root)
	g, gold := reviews(t)
	ref, err := LoadSFT(sftDir)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := LoadRM(rmDir, g.V())
	if err != nil {
		t.Fatal(err)
	}
	const pool = 500
	pts, err := BestOfN(context.Background(), g, gold, ref, rm, pool, []int{1, 4, 1000, 1_000_000}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		want := math.Min(BoNBound(p.N), math.Log(pool))
		if p.KLBound != want || p.KL > p.KLBound+1e-9 {
			t.Errorf("n = %d: bound %v (want %v), estimate %v", p.N, p.KLBound, want, p.KL)
		}
	}
	if last := pts[len(pts)-1]; last.KLBound != math.Log(pool) {
		t.Errorf("n = 10⁶ on %d samples: bound %v, want ln %d = %v", pool, last.KLBound, pool, math.Log(pool))
	}
	var ce *ConfigError
	for _, bad := range [][]int{{0}, {4, 4}} {
		if _, err := BestOfN(context.Background(), g, gold, ref, rm, pool, bad, 3); !errors.As(err, &ce) || ce.Field != "bon_n" {
			t.Errorf("n = %v: %v", bad, err)
		}
	}
}

// wantField checks that err is nil when field is "", else a *ConfigError on field.
func wantField(t *testing.T, name string, err error, field string) {
	t.Helper()
	var ce *ConfigError
	switch {
	case field == "" && err != nil:
		t.Errorf("%s: %v, want valid", name, err)
	case field != "" && (!errors.As(err, &ce) || ce.Field != field):
		t.Errorf("%s: %v, want a ConfigError on %s", name, err, field)
	}
}

// refusedNaming checks that err is a *ConfigError on field with value, whose message names both
// and the limit (GOMEMLIMIT).
func refusedNaming(t *testing.T, name string, err error, field string, value int) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != field || ce.Value != any(value) ||
		!strings.Contains(err.Error(), fmt.Sprintf("%s = %d: the run needs about", field, value)) || !strings.Contains(err.Error(), "GOMEMLIMIT") {
		t.Errorf("%s: %v, want a ConfigError naming %s = %d and the limit", name, err, field, value)
	}
}

// TestGroupMemoryIsCheckedBeforeWriting: GRPO and RLOO refuse sizes within Validate's bounds whose
// estimate exceeds the memory the process may use (GOMEMLIMIT of 1 GiB here), naming the field
// that costs most and its value, before anything is written into the run's directory; the
// defaults pass. The context is cancelled: were the check missing, a run would write its files
// and stop at its first update instead of allocating the rollout.
func TestGroupMemoryIsCheckedBeforeWriting(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	m := DefaultModelConfig(reviewsVocab())
	if err := DefaultGRPOConfig(0, 1).CheckMemory(m); err != nil {
		t.Errorf("default GRPO: %v", err)
	}
	if err := DefaultRLOOConfig(0.05, 1).CheckMemory(m); err != nil {
		t.Errorf("default RLOO: %v", err)
	}
	// Each size alone, at a value Validate accepts.
	grpo := func(edit func(*GRPOConfig)) GRPOConfig {
		c := DefaultGRPOConfig(0, 1)
		edit(&c)
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v (the case must pass the bounds)", c, err)
		}
		return c
	}
	rloo := func(edit func(*RLOOConfig)) RLOOConfig {
		c := DefaultRLOOConfig(0.05, 1)
		edit(&c)
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v (the case must pass the bounds)", c, err)
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		err   error
		field string
		value int
	}{
		{"grpo minibatch", grpo(func(c *GRPOConfig) { c.Minibatch = MaxGroupMinibatch }).CheckMemory(m), "grpo.minibatch", MaxGroupMinibatch},
		{"grpo ref samples", grpo(func(c *GRPOConfig) { c.RefSamples = 1 << 20 }).CheckMemory(m), "grpo.ref_samples", 1 << 20},
		{"grpo evaluation", grpo(func(c *GRPOConfig) { c.Eval.DistinctPrompts, c.Eval.DistinctSamples = MaxEvalPrompts, 64 }).CheckMemory(m),
			"grpo.eval.distinct_prompts", MaxEvalPrompts},
		{"rloo evaluation", rloo(func(c *RLOOConfig) { c.Eval.DistinctPrompts, c.Eval.DistinctSamples = 64, MaxEvalPrompts }).CheckMemory(m),
			"rloo.eval.distinct_samples", MaxEvalPrompts},
		{"rloo updates", rloo(func(c *RLOOConfig) { c.Updates = MaxGroupUpdates }).CheckMemory(m), "rloo.updates", MaxGroupUpdates},
	} {
		refusedNaming(t, tc.name, tc.err, tc.field, tc.value)
	}
	// The runs refuse before writing anything.
	env := groupEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		run   func(dir string) error
		field string
		value int
	}{
		{"RunGRPO 8 prompts × 8192", func(dir string) error {
			_, err := RunGRPO(ctx, env, grpo(func(c *GRPOConfig) { c.Group = 8192 }), dir, nil)
			return err
		}, "grpo.group", 8192},
		{"RunGRPO 8192 prompts × 8", func(dir string) error {
			_, err := RunGRPO(ctx, env, grpo(func(c *GRPOConfig) { c.Prompts = 8192 }), dir, nil)
			return err
		}, "grpo.prompts", 8192},
		{"RunRLOO 16 prompts × 4096", func(dir string) error {
			_, err := RunRLOO(ctx, env, rloo(func(c *RLOOConfig) { c.K = 4096 }), dir, nil)
			return err
		}, "rloo.k", 4096},
		{"RunRLOO a million updates", func(dir string) error {
			_, err := RunRLOO(ctx, env, rloo(func(c *RLOOConfig) { c.Updates = MaxGroupUpdates }), dir, nil)
			return err
		}, "rloo.updates", MaxGroupUpdates},
	} {
		dir := t.TempDir()
		refusedNaming(t, tc.name, tc.run(dir), tc.field, tc.value)
		if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
			t.Errorf("%s: the run's directory holds %v (%v), want it empty", tc.name, ents, err)
		}
	}
}
