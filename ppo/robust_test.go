package ppo

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"klppo/policy"
)

// TestNaNBeforeFirstCheckpoint: a NaN in update 1 of a run whose first periodic checkpoint
// would come at update 50 stops with an error naming the kept checkpoint of update 0 — which
// exists (the initial state) — and the run can be resumed from it.
func TestNaNBeforeFirstCheckpoint(t *testing.T) {
	cfg := tinyConfig(t, 3)
	cfg.CheckpointEvery = 50
	poison := func(update int, nets *policy.ActorCritic) {
		if update == 1 {
			nets.Pi.Params()[0].Data().([]float32)[0] = float32(math.NaN())
		}
	}
	d := t.TempDir()
	s, err := Train(context.Background(), cfg, d, Options{Hooks: Hooks{AfterUpdate: poison}})
	if !errors.Is(err, ErrNonFinite) || s.Stopped != "nan" {
		t.Fatalf("Train: %+v, %v", s, err)
	}
	if !strings.Contains(err.Error(), "last good checkpoint (update 0)") {
		t.Fatalf("error does not name the initial checkpoint: %v", err)
	}
	c, err := policy.ReadCheckpoint(filepath.Join(d, CheckpointFile))
	if err != nil {
		t.Fatalf("the checkpoint the error names does not exist: %v", err)
	}
	meta, err := readMeta(c)
	if err != nil || meta.Update != 0 {
		t.Fatalf("checkpoint: update %d, %v; want update 0", meta.Update, err)
	}
	s, err = Train(context.Background(), cfg, d, Options{Resume: true})
	if err != nil || s.Updates != 3 {
		t.Fatalf("resume from update 0: %+v, %v", s, err)
	}
}

// TestResumeRefusesDamagedCSV: a garbage line, a missing row before the checkpoint or rows
// missing at the end of metrics.csv or episodes.csv refuse the resume with an error naming the
// file (and the line where there is one), and leave the file as it was. A last line cut short
// (no newline, written after the checkpoint) is dropped and the resume proceeds.
func TestResumeRefusesDamagedCSV(t *testing.T) {
	cfg := tinyConfig(t, 6)
	cfg.CheckpointEvery = 3
	d := t.TempDir()
	if _, err := Train(context.Background(), cfg, d, Options{}); err != nil {
		t.Fatal(err)
	}
	more := cfg
	more.TotalTimesteps = 8 * cfg.BatchSize()
	metrics, episodes := filepath.Join(d, MetricsFile), filepath.Join(d, EpisodesFile)
	origMetrics, origEpisodes := readFile(t, metrics), readFile(t, episodes)
	lines := strings.SplitAfter(origMetrics, "\n") // header, updates 1…6, ""
	epLines := strings.SplitAfter(origEpisodes, "\n")
	for _, tc := range []struct {
		name, file, content string
		want                []string
	}{
		{"garbage line", metrics, strings.Join(lines[:4], "") + "garbage\n" + strings.Join(lines[4:], ""), []string{MetricsFile, "line 5"}},
		{"row missing before the checkpoint", metrics, strings.Join(lines[:2], "") + strings.Join(lines[3:], ""), []string{MetricsFile, "line 3", "update 3 where update 2"}},
		{"rows missing at the end", metrics, strings.Join(lines[:5], ""), []string{MetricsFile, "updates 5–6 are missing"}},
		{"episode rows missing", episodes, strings.Join(epLines[:len(epLines)-3], ""), []string{EpisodesFile, "missing"}},
		{"episode garbage", episodes, strings.Join(epLines[:3], "") + "1,2\n" + strings.Join(epLines[3:], ""), []string{EpisodesFile, "line 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(tc.file, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Train(context.Background(), more, d, Options{Resume: true})
			if err == nil {
				t.Fatal("resume accepted the damaged file")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not name %q", err, w)
				}
			}
			if got := readFile(t, tc.file); got != tc.content {
				t.Fatal("the refused resume changed the file")
			}
			if err := os.WriteFile(metrics, []byte(origMetrics), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(episodes, []byte(origEpisodes), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
	// A row of update 7 cut short by a crash after the checkpoint of update 6 is dropped.
	if err := os.WriteFile(metrics, []byte(origMetrics+"7,1792,0.9"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := Train(context.Background(), more, d, Options{Resume: true}); err != nil || s.Updates != 8 {
		t.Fatalf("resume after a cut last line: %+v, %v", s, err)
	}
	if n := strings.Count(readFile(t, metrics), "\n"); n != 9 {
		t.Fatalf("metrics.csv has %d lines after the resume, want header + 8", n)
	}
}

// TestResumeFinishedRunKeepsSummary: resuming a run that is already complete changes nothing
// (it used to rewrite summary.json with "sps": 0).
func TestResumeFinishedRunKeepsSummary(t *testing.T) {
	cfg := tinyConfig(t, 2)
	d := t.TempDir()
	first, err := Train(context.Background(), cfg, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, filepath.Join(d, SummaryFile))
	s, err := Train(context.Background(), cfg, d, Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, filepath.Join(d, SummaryFile)); after != before {
		t.Fatalf("summary.json rewritten:\n%s\nwas\n%s", after, before)
	}
	if s.SPS != first.SPS || s.SPS <= 0 {
		t.Fatalf("returned SPS %v, first session's %v", s.SPS, first.SPS)
	}
}

func TestParseConfigExactJSONKeys(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"Learning_Rate": 0.1}`, "Learning_Rate"},
		{`{"ENV_ID": "Acrobot-v1"}`, "ENV_ID"},
		{`null`, "null"},
	} {
		if _, err := ParseConfig([]byte(tc.json), ".json"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %q", tc.json, err, tc.want)
		}
	}
	c, err := ParseConfig([]byte(`{"learning_rate": 0.1}`), ".json")
	if err != nil || c.LearningRate != 0.1 {
		t.Fatalf("exact key: %+v, %v", c.LearningRate, err)
	}
}

// TestTrainStoresCanonicalPenalty: config.json holds the canonical spec, as summary.json does.
func TestTrainStoresCanonicalPenalty(t *testing.T) {
	cfg := tinyConfig(t, 1)
	cfg.Penalty = " clip:0.20 "
	d := t.TempDir()
	s, err := Train(context.Background(), cfg, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ReadConfig(d)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Penalty != "clip:0.2" || s.Penalty != "clip:0.2" {
		t.Fatalf("config.json penalty %q, summary %q; want clip:0.2", stored.Penalty, s.Penalty)
	}
}

// TestMemoryBounds: sizes past the hard bounds are refused by Validate, and a config whose
// estimated memory exceeds what the process may use is refused by CheckMemory and by Train,
// before anything is allocated or written, naming the fields.
func TestMemoryBounds(t *testing.T) {
	c := tinyConfig(t, 1)
	c.NumEnvs = 100_000
	c.TotalTimesteps = c.BatchSize()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "num_envs = 100000") {
		t.Fatalf("num_envs 100000: %v", err)
	}
	c = tinyConfig(t, 1)
	c.NumEnvs, c.NumSteps, c.NumMinibatches = 4096, 1024, 4
	c.TotalTimesteps = c.BatchSize()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	need, err := c.MemoryEstimate()
	if err != nil || need < 1<<30 {
		t.Fatalf("estimate for a batch of 4M: %d bytes, %v; want > 1 GiB", need, err)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(need / 2))
	if err := c.CheckMemory(); err == nil || !strings.Contains(err.Error(), "num_envs = 4096") {
		t.Fatalf("CheckMemory: %v", err)
	}
	d := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), c, d, Options{}); err == nil || !strings.Contains(err.Error(), "GiB") {
		t.Fatalf("Train: %v", err)
	}
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Fatalf("Train created %s before refusing: %v", d, err)
	}
}

// TestReadRunRefusesMismatch: the checkpoint is the truth about a run; a config.json from
// another environment, or none, is refused by ReadRun and Evaluate.
func TestReadRunRefusesMismatch(t *testing.T) {
	cart := tinyConfig(t, 1)
	acro, err := DefaultConfig("Acrobot-v1")
	if err != nil {
		t.Fatal(err)
	}
	acro.NumEnvs, acro.NumSteps, acro.NumMinibatches, acro.UpdateEpochs, acro.TotalTimesteps = 2, 64, 2, 1, 128
	dc, da := filepath.Join(t.TempDir(), "cart"), filepath.Join(t.TempDir(), "acro")
	for d, c := range map[string]Config{dc: cart, da: acro} {
		if _, err := Train(context.Background(), c, d, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ReadRun(dc); err != nil || got.EnvID != "CartPole-v1" {
		t.Fatalf("ReadRun of a consistent run: %v, %v", got.EnvID, err)
	}
	ck, err := os.ReadFile(filepath.Join(da, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dc, CheckpointFile), ck, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadRun(dc)
	if !errors.Is(err, policy.ErrMismatch) || !strings.Contains(err.Error(), "env_id is Acrobot-v1 in the checkpoint but CartPole-v1 in config.json") {
		t.Fatalf("ReadRun with an Acrobot checkpoint under a CartPole config.json: %v", err)
	}
	if _, err := Evaluate(context.Background(), dc, 1, true, 1); !errors.Is(err, policy.ErrMismatch) {
		t.Fatalf("Evaluate: %v", err)
	}
	if err := os.Remove(filepath.Join(da, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(da); !errors.Is(err, policy.ErrMismatch) || !strings.Contains(err.Error(), "no readable config.json") {
		t.Fatalf("ReadRun without config.json: %v", err)
	}
}
