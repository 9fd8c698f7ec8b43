package rlhf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"klppo/internal/rundir"
)

// tinySweep is a 2 β × 2 seed sweep with best-of-n that runs in a few seconds.
func tinySweep() SweepConfig {
	cfg := DefaultSweepConfig()
	cfg.Betas, cfg.Seeds, cfg.BoNNs, cfg.BoNPool = []float64{0, 0.5}, []uint64{4, 5}, []int{1, 2, 4}, 500
	cfg.PPO = DefaultPPOConfig(0, 7)
	cfg.PPO.Updates, cfg.PPO.Batch, cfg.PPO.Minibatch, cfg.PPO.RefSamples = 4, 16, 32, 64
	cfg.Prepare.SFT.Train, cfg.Prepare.SFT.Test, cfg.Prepare.SFT.Epochs = 600, 100, 2
	cfg.Prepare.RM.Pairs, cfg.Prepare.RM.TestPairs, cfg.Prepare.RM.Epochs = 400, 100, 5
	cfg.Parallel = 1
	return cfg
}

// withoutTimings decodes a JSON file and drops every wall-clock field (wall_s, tokens_per_s) at
// any depth, so that two sweeps can be compared.
func withoutTimings(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			delete(x, "wall_s")
			delete(x, "tokens_per_s")
			delete(x, "parallel") // how many runs trained at once: the results do not depend on it
			for _, y := range x {
				strip(y)
			}
		case []any:
			for _, y := range x {
				strip(y)
			}
		}
	}
	strip(v)
	return v
}

// metricsWithoutTimings is metrics.csv without its two wall-clock columns.
func metricsWithoutTimings(t *testing.T, path string) []UpdateMetrics {
	t.Helper()
	ms, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		ms[i].WallS, ms[i].TokensPerS = 0, 0
	}
	return ms
}

// sameSweep compares two sweep directories: the frontier files byte for byte, sweep.json and
// every run's summary.json and metrics.csv apart from timings, and every best-of-n table.
func sameSweep(t *testing.T, a, b string, cfg SweepConfig) {
	t.Helper()
	for _, f := range frontierFiles {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%v, %v)", f, err1, err2)
		}
	}
	if x, y := withoutTimings(t, filepath.Join(a, SweepFile)), withoutTimings(t, filepath.Join(b, SweepFile)); !reflect.DeepEqual(x, y) {
		t.Errorf("sweep.json differs beyond timings:\n%v\n%v", x, y)
	}
	for _, seed := range cfg.Seeds {
		bon := filepath.Join("seed-"+itoa(seed), "bon.csv")
		x, _ := os.ReadFile(filepath.Join(a, bon))
		y, _ := os.ReadFile(filepath.Join(b, bon))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Errorf("%s differs", bon)
		}
		for _, beta := range cfg.Betas {
			rd := SweepRunDir(seed, beta)
			if x, y := metricsWithoutTimings(t, filepath.Join(a, rd, MetricsFile)), metricsWithoutTimings(t, filepath.Join(b, rd, MetricsFile)); !reflect.DeepEqual(x, y) {
				t.Errorf("%s/metrics.csv differs", rd)
			}
			if x, y := withoutTimings(t, filepath.Join(a, rd, SummaryFile)), withoutTimings(t, filepath.Join(b, rd, SummaryFile)); !reflect.DeepEqual(x, y) {
				t.Errorf("%s/summary.json differs", rd)
			}
		}
	}
}

func itoa(s uint64) string { b, _ := json.Marshal(s); return string(b) }

// TestSweepIsARunDirectory: an RLHF sweep is a run directory like a training run's. Interrupted
// (inside a run, or between seeds), it leaves sweep.json marked incomplete and no frontier files,
// refuses a replot and a fresh start over it, and resumed it writes exactly the files of a sweep
// that was never interrupted (timings aside) without retraining what was finished. Its run paths
// are relative to it: a moved sweep refits its own runs, not those now at its old place.
func TestSweepIsARunDirectory(t *testing.T) {
	cfg := tinySweep()
	root := t.TempDir()
	whole := filepath.Join(root, "whole")
	res, err := Sweep(context.Background(), cfg, whole, SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete || len(res.Runs) != 4 || res.FitRL == nil || res.FitRL.Alpha == 0 {
		t.Fatalf("uninterrupted: complete %v, %d runs, RL fit %+v (the comparisons below need a fit to compare)", res.Complete, len(res.Runs), res.FitRL)
	}
	for _, r := range res.Runs {
		if filepath.IsAbs(r.Dir) || r.Dir != SweepRunDir(r.Seed, r.Beta) {
			t.Errorf("run dir %q, want %q relative to the sweep", r.Dir, SweepRunDir(r.Seed, r.Beta))
		}
	}

	for _, stop := range []struct {
		name     string
		atUpdate int // cancel at this update over the sweep (0: not by update)
		atStage  int // cancel after this many stages (0: not by stage)
	}{
		{"inside the second run of the first seed", 6, 0},
		{"after the second seed's π_ref, reward model and best-of-n", 0, 4},
	} {
		t.Run(stop.name, func(t *testing.T) {
			dir := filepath.Join(root, strings.ReplaceAll(stop.name, " ", "-"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			updates := 0
			opts := SweepOptions{
				OnUpdate: func(UpdateMetrics) {
					if updates++; updates == stop.atUpdate {
						cancel()
					}
				},
				Progress: func(st SweepStep) {
					if st.Done == stop.atStage {
						cancel()
					}
				},
			}
			part, err := Sweep(ctx, cfg, dir, opts)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted sweep: %v, want context.Canceled", err)
			}
			if part == nil || part.Complete || len(part.Runs) >= 4 {
				t.Fatalf("interrupted sweep: %+v", part)
			}
			var saved SweepResult
			data, err := os.ReadFile(filepath.Join(dir, SweepFile))
			if err != nil || json.Unmarshal(data, &saved) != nil || saved.Complete {
				t.Fatalf("sweep.json after the interrupt: %v %s", err, data)
			}
			if k, err := rundir.ReadKind(dir); err != nil || k != rundir.KindRLHFSweep {
				t.Errorf("run.json after the interrupt: %q, %v", k, err)
			}
			for _, f := range frontierFiles {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s written over part of the sweep: %v", f, err)
				}
			}
			if _, err := LoadSweep(dir); !errors.Is(err, ErrIncompleteSweep) {
				t.Errorf("replot of the interrupted sweep: %v, want ErrIncompleteSweep", err)
			}
			if _, err := Sweep(context.Background(), cfg, dir, SweepOptions{}); !rundir.HoldsRun(err) {
				t.Errorf("a fresh sweep over the interrupted one: %v, want a refusal", err)
			}
			other := cfg
			other.Betas = []float64{0, 0.7}
			var ce *ConfigError
			if _, err := Sweep(context.Background(), other, dir, SweepOptions{Resume: true}); !errors.As(err, &ce) || ce.Field != "betas" {
				t.Errorf("resume with other β values: %v, want a ConfigError on betas", err)
			}
			cfg2 := cfg
			cfg2.Parallel = 2 // results do not depend on it
			skipped, trained := 0, 0
			done, err := Sweep(context.Background(), cfg2, dir, SweepOptions{Resume: true, Progress: func(st SweepStep) {
				switch {
				case st.Run && st.Skipped:
					skipped++
				case st.Run:
					trained++
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if skipped != len(part.Runs) || skipped+trained != 4 {
				t.Errorf("resume kept %d runs and trained %d; the interrupted sweep had finished %d of 4", skipped, trained, len(part.Runs))
			}
			if !done.Complete {
				t.Error("resumed sweep not complete")
			}
			sameSweep(t, whole, dir, cfg)
		})
	}

	t.Run("moved", func(t *testing.T) {
		moved := filepath.Join(root, "moved")
		if err := os.Rename(whole, moved); err != nil {
			t.Fatal(err)
		}
		// Another sweep now sits where the first one was: its runs must not be read.
		if err := os.MkdirAll(filepath.Join(whole, SweepRunDir(4, 0)), 0o755); err != nil {
			t.Fatal(err)
		}
		ms, err := os.ReadFile(filepath.Join(moved, SweepRunDir(4, 0), MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(ms), "\n")
		for i := 1; i < len(lines) && lines[i] != ""; i++ {
			c := strings.Split(lines[i], ",")
			c[2], c[3] = "5", "9" // another gold reward and KL
			lines[i] = strings.Join(c, ",")
		}
		if err := os.WriteFile(filepath.Join(whole, SweepRunDir(4, 0), MetricsFile), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := LoadSweep(moved)
		if err != nil {
			t.Fatal(err)
		}
		if err := back.Fit(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back.FitRL, res.FitRL) || !reflect.DeepEqual(back.FitBoN, res.FitBoN) {
			t.Errorf("refit of the moved sweep: %+v %+v, the sweep's own: %+v %+v", back.FitRL, back.FitBoN, res.FitRL, res.FitBoN)
		}
	})
}

// TestLoadSweepRefusesWhatIsNotAnRLHFSweep: --replot reads only a complete RLHF sweep; a
// `klppo compare` sweep.json, an empty object and a sweep whose runs are not all there are
// refused, and the file is left as it was.
func TestLoadSweepRefusesWhatIsNotAnRLHFSweep(t *testing.T) {
	cfg := tinySweep()
	full := string(mustJSON(t, SweepResult{Complete: true, Config: cfg}))
	for _, tc := range []struct {
		name, content string
		kind          rundir.Kind // written to run.json unless ""
	}{
		{"compare sweep", `{"name":"cartpole","env":"CartPole-v1","penalties":["clip:0.2"],"seeds":[1],"steps":1000}`, ""},
		{"compare sweep stating its kind", `{"name":"cartpole","env":"CartPole-v1","penalties":["clip:0.2"],"seeds":[1],"steps":1000}`, rundir.KindCompare},
		{"another kind", full, rundir.KindCompare},
		{"empty object", `{}`, ""},
		{"incomplete", `{"complete":false,"config":` + string(mustJSON(t, cfg)) + `}`, rundir.KindRLHFSweep},
		{"runs missing", full, rundir.KindRLHFSweep},
		{"runs missing, older sweep without run.json", full, ""},
		{"not json", `{"config":`, ""},
		{"duplicate beta", strings.Replace(full, `"betas":[0,0.5]`, `"betas":[0.5,0.5]`, 1), rundir.KindRLHFSweep},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, SweepFile)
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if tc.kind != "" {
			if err := rundir.WriteKind(dir, tc.kind); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := LoadSweep(dir); err == nil {
			t.Errorf("%s: loaded", tc.name)
		}
		if data, _ := os.ReadFile(path); string(data) != tc.content {
			t.Errorf("%s: sweep.json changed", tc.name)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSweepValidate: the grid is checked before anything runs: duplicate β values or seeds
// (which trained two runs into one directory, or counted one run twice), a β in the template
// (which the sweep would ignore) and a β controller are refused naming the field.
func TestSweepValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*SweepConfig)
		field string
	}{
		{"duplicate β", func(c *SweepConfig) { c.Betas = []float64{0.1, 0.1} }, "betas"},
		{"duplicate β, −0 and 0", func(c *SweepConfig) { c.Betas = []float64{0, math.Copysign(0, -1)} }, "betas"},
		{"duplicate seed", func(c *SweepConfig) { c.Seeds = []uint64{1, 1} }, "seeds"},
		{"negative β", func(c *SweepConfig) { c.Betas = []float64{-1} }, "betas"},
		{"no β", func(c *SweepConfig) { c.Betas = nil }, "betas"},
		{"β in the template", func(c *SweepConfig) { c.PPO.KL.Beta = 5 }, "ppo.kl.beta"},
		{"controller", func(c *SweepConfig) { c.PPO.Ctl, c.PPO.KL.Beta = "prop", 0 }, "ppo.kl_ctl"},
		{"duplicate n", func(c *SweepConfig) { c.BoNNs = []int{1, 4, 4} }, "bon_n"},
		{"pool", func(c *SweepConfig) { c.BoNPool = 0 }, "bon_pool"},
		{"parallel", func(c *SweepConfig) { c.Parallel = 0 }, "parallel"},
		{"fit range", func(c *SweepConfig) { c.FitMaxD = math.Inf(1) }, "fit_max_d"},
		{"corpus", func(c *SweepConfig) { c.Prepare.SFT.Train = MaxSentences + 1 }, "sft.train_sentences"},
		{"minibatch", func(c *SweepConfig) { c.PPO.Minibatch = 100_000_000 }, "ppo.minibatch"},
	} {
		cfg := DefaultSweepConfig()
		tc.edit(&cfg)
		var ce *ConfigError
		if err := cfg.Validate(); !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: %v, want a ConfigError on %s", tc.name, err, tc.field)
		}
		dir := filepath.Join(t.TempDir(), "sweep")
		if _, err := Sweep(context.Background(), cfg, dir, SweepOptions{}); !errors.As(err, &ce) {
			t.Errorf("%s: Sweep returned %v", tc.name, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the sweep created its directory before refusing", tc.name)
		}
	}
	if err := DefaultSweepConfig().Validate(); err != nil {
		t.Errorf("default sweep: %v", err)
	}
	if a, b := SweepRunDir(1, 0), SweepRunDir(1, math.Copysign(0, -1)); a != b {
		t.Errorf("β 0 and −0 run in %s and %s", a, b)
	}
}

// TestSweepLockedWhileItRuns resumes an interrupted sweep and, while that resume is inside its
// first PPO run (holding the sweep's directory and the run's), starts a second resume and a
// forced fresh sweep of the same directory: both fail at once with rundir.ErrLocked naming this
// process, train nothing, and leave every file of the first as it was. The first then finishes:
// a sweep holding its directory runs the runs that lock their own directories inside it.
func TestSweepLockedWhileItRuns(t *testing.T) {
	cfg := tinySweep()
	cfg.Betas, cfg.Seeds, cfg.BoNNs = []float64{0, 0.5}, []uint64{4}, nil
	dir := filepath.Join(t.TempDir(), "sweep")
	ctx, cancel := context.WithCancel(context.Background())
	updates := 0
	if _, err := Sweep(ctx, cfg, dir, SweepOptions{OnUpdate: func(UpdateMetrics) {
		if updates++; updates == 2 {
			cancel()
		}
	}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: %v", err)
	}
	snapshot := func() map[string]string {
		files := map[string]string{}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			files[p] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	tried := false
	res, err := Sweep(context.Background(), cfg, dir, SweepOptions{Resume: true, OnUpdate: func(UpdateMetrics) {
		if tried {
			return
		}
		tried = true
		before := snapshot()
		started := 0
		count := func(SweepStep) { started++ }
		for _, opts := range []SweepOptions{{Resume: true, Progress: count}, {Force: true, Progress: count}} {
			_, err := Sweep(context.Background(), cfg, dir, opts)
			var le *rundir.LockedError
			if !errors.Is(err, rundir.ErrLocked) || !errors.As(err, &le) || le.PID != os.Getpid() || le.Dir != dir {
				t.Errorf("second sweep (%+v) while the first runs: %v, want rundir.ErrLocked naming %s and pid %d", opts, err, dir, os.Getpid())
			}
		}
		if started != 0 {
			t.Errorf("the refused sweeps reported %d steps", started)
		}
		if after := snapshot(); !reflect.DeepEqual(before, after) {
			t.Errorf("the refused sweeps changed the files of the running one")
		}
	}})
	if err != nil || !res.Complete || !tried {
		t.Fatalf("first resume: %v (complete %v, second tried %v)", err, res != nil && res.Complete, tried)
	}
	if _, err := Sweep(context.Background(), cfg, dir, SweepOptions{Resume: true}); err != nil {
		t.Errorf("resume after the first returned (lock released): %v", err)
	}
}
