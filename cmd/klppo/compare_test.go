package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"klppo/experiments"
)

// compareFake trains nothing: each run writes two updates and two episodes; penalties starting
// with "kl-fixed" fail when failFixed is set.
type compareFake struct {
	mu        sync.Mutex
	calls     int
	failFixed bool
}

func (f *compareFake) Prepare(s experiments.RunSpec) (experiments.RunSpec, error) {
	return experiments.PPORunner{}.Prepare(s)
}

func (f *compareFake) Run(ctx context.Context, s experiments.RunSpec, dir string, o experiments.RunOptions) (experiments.RunOutcome, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.failFixed && strings.HasPrefix(s.Penalty, "kl-fixed") {
		return experiments.RunOutcome{}, errors.New("fake failure")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return experiments.RunOutcome{}, err
	}
	cfg, err := experiments.PPORunner{}.Config(s) // config.json as ppo.Train writes it
	if err != nil {
		return experiments.RunOutcome{}, err
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return experiments.RunOutcome{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), js, 0o644); err != nil {
		return experiments.RunOutcome{}, err
	}
	m := "update,global_step,wall_s,sps,episodic_return,kl,approx_kl_k1,approx_kl_k3,beta,clipfrac,entropy,policy_loss,value_loss,explained_variance,lr,epochs\n"
	e := "global_step,return,length\n"
	for u := 1; u <= 2; u++ {
		step := u * s.Steps / 2
		ret := float64(10*u) + float64(s.Seed) + float64(len(s.Penalty))
		m += fmt.Sprintf("%d,%d,0,0,%g,0.01,0,0,1,0.1,0.6,0,0,0,0.00025,4\n", u, step, ret)
		e += fmt.Sprintf("%d,%g,10\n", step, ret)
		if o.OnUpdate != nil {
			o.OnUpdate(step)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte(m), 0o644); err != nil {
		return experiments.RunOutcome{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "episodes.csv"), []byte(e), 0o644); err != nil {
		return experiments.RunOutcome{}, err
	}
	return experiments.RunOutcome{Steps: s.Steps}, nil
}

func withCompareFake(t *testing.T, f *compareFake) {
	t.Helper()
	oldR, oldB := compareRunner, compareBaseline
	compareRunner = f
	compareBaseline = func(_ context.Context, envID string, episodes int, seed uint64) (experiments.Baseline, error) {
		return experiments.Baseline{RandomReturn: 5, RandomEpisodes: episodes, RandomSeed: seed, SolvedThreshold: 475}, nil
	}
	t.Cleanup(func() { compareRunner, compareBaseline = oldR, oldB })
}

func runCmd(args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCompareList(t *testing.T) {
	code, out, _ := runCmd("compare", "--list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, n := range []string{"table1-cartpole", "table1-acrobot", "table1-pendulum", "kl-targets"} {
		if !strings.Contains(out, n) {
			t.Errorf("--list lacks %s:\n%s", n, out)
		}
	}
}

func TestCompareUsageErrors(t *testing.T) {
	withCompareFake(t, &compareFake{})
	used := t.TempDir()
	if code, _, e := runCmd("compare", "--env", "CartPole-v1", "--penalties", "clip:0.2", "--seeds", "1", "--steps", "512", "--out", used, "--quiet"); code != 0 {
		t.Fatalf("setup sweep: exit %d: %s", code, e)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "exactly one of"},
		{[]string{"--experiment", "table1-cartpole", "--env", "CartPole-v1"}, "exactly one of"},
		{[]string{"--env", "CartPole-v1"}, "--penalties"},
		{[]string{"--env", "Nope-v0", "--penalties", "none"}, `--env "Nope-v0"`},
		{[]string{"--env", "CartPole-v1", "--penalties", "none,clip"}, `--penalties`},
		{[]string{"--experiment", "nope"}, `--experiment "nope"`},
		{[]string{"--experiment", "table1-cartpole", "--penalties", "none"}, "--penalties"},
		{[]string{"--experiment", "table1-cartpole", "--parallel", "0"}, "--parallel 0"},
		{[]string{"--experiment", "table1-cartpole", "--seeds", "-1"}, "--seeds -1"},
		{[]string{"--experiment", "table1-cartpole", "--steps", "10"}, "--steps"},
		{[]string{"--experiment", "table1-cartpole", "--resume", "--force"}, "--resume and --force"},
		{[]string{"--experiment-file", filepath.Join(t.TempDir(), "absent.yaml")}, "--experiment-file"},
		{[]string{"--experiment", "table1-cartpole", "--set", "num_envz=3"}, "--set: "},
		{[]string{"--experiment", "table1-cartpole", "--set", "num_envs"}, "KEY=VALUE"},
		{[]string{"--env", "CartPole-v1", "--penalties", "clip:0.2", "--out", used}, "--out " + used},
		// a number flag that is given is used: 0 is an error, not "the default"
		{[]string{"--experiment", "table1-cartpole", "--seeds", "0"}, "--seeds 0: must be ≥ 1"},
		{[]string{"--experiment", "table1-cartpole", "--steps", "0"}, "--steps 0: must be ≥ 1"},
		{[]string{"--experiment", "table1-cartpole", "--random-episodes", "0"}, "--random-episodes 0: must be ≥ 1"},
		{[]string{"--env", "CartPole-v1", "--penalties", "clip:0.2,,kl-fixed:1"}, `--penalties "clip:0.2,,kl-fixed:1": item 2 is empty`},
		{[]string{"--env", "CartPole-v1", "--penalties", "clip:0.2,"}, `--penalties "clip:0.2,": item 2 is empty`},
		{[]string{"--experiment", "table1-cartpole", "--out", ""}, `--out ""`},
		// memory follows the number of runs: refused before anything is allocated
		{[]string{"--experiment", "table1-cartpole", "--seeds", "1000000000"}, "--seeds 1000000000: seeds: 1000000000 seeds × 11 settings"},
		{[]string{"--experiment", "table1-cartpole", "--shard", "0/4"}, `--shard "0/4"`},
		{[]string{"--experiment", "table1-cartpole", "--shard", "5/4"}, `--shard "5/4"`},
		{[]string{"--experiment", "table1-cartpole", "--shard", "two"}, `--shard "two"`},
		{[]string{"--experiment", "table1-cartpole", "--shard", "0/0"}, `--shard "0/0"`}, // it ran the whole sweep
	}
	for _, c := range cases {
		code, _, e := runCmd(append([]string{"compare"}, c.args...)...)
		if code != 2 || !strings.Contains(e, c.want) {
			t.Errorf("compare %v: exit %d, stderr %q; want 2 mentioning %q", c.args, code, e, c.want)
		}
	}
}

func TestCompareRunsResumesAndReportsFailures(t *testing.T) {
	f := &compareFake{failFixed: true}
	withCompareFake(t, f)
	dir := t.TempDir()
	args := []string{"compare", "--env", "CartPole-v1", "--penalties", "clip:0.2,kl-fixed:1.0", "--seeds", "2", "--steps", "1024", "--out", dir, "--quiet", "--parallel", "2"}
	code, out, e := runCmd(args...)
	if code != 1 || !strings.Contains(e, "2 of 4 runs failed") {
		t.Fatalf("exit %d stderr %q; want 1 and the failure count", code, e)
	}
	for _, w := range []string{"clip:0.2", "kl-fixed:1 ", "0 (2 failed)", "fake failure", "Random policy: mean return 5.00"} {
		if !strings.Contains(out, w) && !strings.Contains(out, strings.TrimSpace(w)) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
	for _, file := range []string{"runs.csv", "table.md", "returns.png", "kl.png", "beta.png", "clip_0.2/seed-2/metrics.csv"} {
		if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
			t.Errorf("missing %s: %v", file, err)
		}
	}
	// --resume: the clip runs are done and are skipped; the failed kl-fixed runs are retried
	f.failFixed = false
	before := f.calls
	code, out, e = runCmd(append(args, "--resume")...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s\n%s", code, e, out)
	}
	if f.calls-before != 2 {
		t.Fatalf("resume ran %d runs, want the 2 failed ones", f.calls-before)
	}
}

func TestCompareShardsAndMerge(t *testing.T) {
	f := &compareFake{}
	withCompareFake(t, f)
	root := t.TempDir()
	common := []string{"compare", "--env", "CartPole-v1", "--penalties", "clip:0.2,kl-fixed:1,none", "--seeds", "2", "--steps", "1024", "--quiet"}
	code, _, e := runCmd(append(common, "--out", filepath.Join(root, "one"))...)
	if code != 0 {
		t.Fatalf("one machine: exit %d: %s", code, e)
	}
	var shards []string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", i))
		code, out, e := runCmd(append(common, "--out", dir, "--shard", fmt.Sprintf("%d/3", i))...)
		if code != 0 || !strings.Contains(out, "2 runs: 2 ok") || !strings.Contains(out, "compare merge") {
			t.Fatalf("shard %d/3: exit %d: %s\n%s", i, code, e, out)
		}
		shards = append(shards, dir)
	}
	if f.calls != 12 {
		t.Fatalf("%d runs trained, want 6 + 6", f.calls)
	}
	merged := filepath.Join(root, "merged")
	code, out, e := runCmd(append([]string{"compare", "merge", shards[0], "--out", merged}, shards[1:]...)...)
	if code != 0 || !strings.Contains(out, "merged 3 shards") {
		t.Fatalf("merge: exit %d: %s\n%s", code, e, out)
	}
	for _, file := range []string{experiments.SweepFile, experiments.TableFile, experiments.ReturnsPlot} {
		a, err1 := os.ReadFile(filepath.Join(root, "one", file))
		b, err2 := os.ReadFile(filepath.Join(merged, file))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s: the merged shards differ from one machine (%v, %v)", file, err1, err2)
		}
	}
	// usage errors: exit 2 naming what is wrong
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", "merge", shards[0], shards[1]}, `--out ""`},
		{[]string{"compare", "merge", "--out", filepath.Join(root, "m2")}, "no shard folders"},
		{[]string{"compare", "merge", "--out", filepath.Join(root, "m3"), shards[0], shards[1]}, "1 of 3 shards missing: 3/3"},
		{[]string{"compare", "merge", "--out", filepath.Join(root, "m4"), shards[0], shards[1], root}, "shard folder " + root},
		{[]string{"compare", "merge", "--out", merged, shards[0], shards[1], shards[2]}, "--out " + merged},
	} {
		code, _, e := runCmd(c.args...)
		if code != 2 || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 mentioning %q", c.args, code, e, c.want)
		}
	}
}
