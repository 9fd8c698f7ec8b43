package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"klppo/ppo"
)

func TestTrainFlagsResolve(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgFile, []byte("env_id: Acrobot-v1\nnum_envs: 8\nent_coef: 0.02\n"), 0o644)
	for _, tc := range []struct {
		name  string
		args  []string
		check func(c ppo.Config) bool
	}{
		{"defaults", nil, func(c ppo.Config) bool {
			def, _ := ppo.DefaultConfig("Pendulum-v1")
			return c.EnvID == "Pendulum-v1" && c.Penalty == "kl-adaptive:0.01" && reflect.DeepEqual(c, def)
		}},
		{"CartPole's own defaults", []string{"--env", "CartPole-v1"}, func(c ppo.Config) bool {
			def, _ := ppo.DefaultConfig("CartPole-v1")
			return reflect.DeepEqual(c, def) && c.NumEnvs == 4 && c.LearningRate == 2.5e-4
		}},
		{"preset cleanrl", []string{"--preset", "cleanrl"}, func(c ppo.Config) bool {
			return c.EnvID == "Pendulum-v1" && c.TotalTimesteps == 1000000 && c.NumEnvs == 1 && c.NumSteps == 2048 && c.LearningRate == 3e-4 && c.Gamma == 0.99
		}},
		{"preset cleanrl on CartPole", []string{"--preset", "cleanrl", "--env", "CartPole-v1"}, func(c ppo.Config) bool {
			return c.EnvID == "CartPole-v1" && c.Penalty == "kl-adaptive:0.01" && c.TotalTimesteps == 500000 && c.NumEnvs == 4 &&
				c.NumSteps == 128 && c.UpdateEpochs == 4 && c.LearningRate == 2.5e-4 && c.AnnealLR && c.ClipVLoss && c.EntCoef == 0.01
		}},
		{"preset cleanrl, flags over it", []string{"--preset", "cleanrl", "--lr", "1e-3", "--penalty", "clip:0.2"}, func(c ppo.Config) bool {
			return c.EnvID == "Pendulum-v1" && c.Penalty == "clip:0.2" && c.NumEnvs == 1 && c.NumSteps == 2048 && c.LearningRate == 1e-3 && c.Gamma == 0.99
		}},
		{"CleanRL names", []string{"--env", "Acrobot-v1", "--penalty", "clip:0.1", "--num-envs", "8", "--num-steps", "64",
			"--num-minibatches", "8", "--update-epochs", "3", "--lr", "1e-3", "--gamma", "0.98", "--gae-lambda", "0.9",
			"--ent-coef", "0", "--vf-coef", "1", "--max-grad-norm", "1", "--clip-vloss=false", "--anneal-lr=false",
			"--norm-adv=false", "--hidden", "32,16", "--seed", "9", "--total-timesteps", "4096"}, func(c ppo.Config) bool {
			return c.EnvID == "Acrobot-v1" && c.Penalty == "clip:0.1" && c.NumEnvs == 8 && c.NumSteps == 64 && c.NumMinibatches == 8 &&
				c.UpdateEpochs == 3 && c.LearningRate == 1e-3 && c.Gamma == 0.98 && c.GAELambda == 0.9 && c.EntCoef == 0 &&
				c.VFCoef == 1 && c.MaxGradNorm == 1 && !c.ClipVLoss && !c.AnnealLR && !c.NormAdv && len(c.Hidden) == 2 &&
				c.Hidden[1] == 16 && c.Seed == 9 && c.TotalTimesteps == 4096
		}},
		{"config file then flags", []string{"--config", cfgFile, "--num-envs", "2"}, func(c ppo.Config) bool {
			return c.EnvID == "Acrobot-v1" && c.NumEnvs == 2 && c.EntCoef == 0.02 && c.NumSteps == 128
		}},
	} {
		var stderr bytes.Buffer
		f := newTrainFlags("train", &stderr)
		if err := parseFlags(f.fs, tc.args); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c, err := f.resolve()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !tc.check(c) {
			t.Errorf("%s: resolved %+v", tc.name, c)
		}
	}
}

func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	caseKeys := filepath.Join(dir, "case.json")
	nullCfg := filepath.Join(dir, "null.json")
	if err := os.WriteFile(caseKeys, []byte(`{"Learning_Rate": 0.1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nullCfg, []byte(`null`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env", "Pong-v5"}, "Pong-v5"},
		{[]string{"--penalty", "clip"}, "needs a value"},
		{[]string{"--num-minibatches", "3"}, "num_minibatches"},
		{[]string{"--ent-coef", "-1"}, "ent_coef"},
		{[]string{"--hidden", "a,b"}, "hidden"},
		{[]string{"--resume", dir, "--seed", "2"}, "--seed cannot be combined"},
		{[]string{"--resume", filepath.Join(dir, "nope")}, "nope"},
		{[]string{"--out", ""}, `--out "": empty directory name`},
		{[]string{"--num-envs", "100000"}, "num_envs = 100000"},
		{[]string{"--num-steps", "2000000"}, "num_steps = 2000000"},
		{[]string{"--config", caseKeys}, `unknown key "Learning_Rate"`},
		{[]string{"--config", nullCfg}, "null"},
		{[]string{"--preset", "sb3"}, `--preset "sb3": unknown preset (known: default, cleanrl)`},
		{[]string{"--preset", "cleanrl", "--config", nullCfg}, "--preset cleanrl cannot be combined with --config"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"train"}, tc.args...), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("train %v: exit %d, stderr %q (want 2 and %q)", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// TestTrainEvalResume runs a tiny training, refuses to overwrite it, resumes it to more steps
// and evaluates it.
func TestTrainEvalResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "--steps", "1024", "--num-steps", "64", "--out", out, "--quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"done: 1024 steps", "quarter", "mean KL", "mean β", "clipfrac", "files: " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("second train into %s: exit %d, %s", out, code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"train", "--resume", out, "--steps", "2048", "--quiet"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "done: 2048 steps") {
		t.Fatalf("resume: exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"eval", "--run", out, "--episodes", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "deterministic") || !strings.Contains(stdout.String(), "sampled") {
		t.Fatalf("eval output:\n%s", stdout.String())
	}
	if code := run([]string{"eval", "--run", out, "--episodes", "0"}, &stdout, &stderr); code != 2 {
		t.Fatalf("eval --episodes 0: exit %d", code)
	}
}

func TestDefaultOutDir(t *testing.T) {
	c, _ := ppo.DefaultConfig("CartPole-v1")
	got := defaultOutDir(c, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if want := filepath.Join("runs", "CartPole-v1-kl-adaptive_0.01-s1-20260102-030405"); got != want {
		t.Fatalf("defaultOutDir = %q, want %q", got, want)
	}
}

// TestTrainCanonicalPenalty: a spec with spaces is stored in its canonical form in config.json.
func TestTrainCanonicalPenalty(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--penalty", " clip:0.2", "--steps", "512", "--num-steps", "64", "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, ppo.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"penalty": "clip:0.2"`) {
		t.Fatalf("config.json:\n%s", b)
	}
}

// TestEvalRefusesMismatchedRun: eval of a run whose checkpoint is from another environment, or
// whose config.json is missing, exits 2 with a message naming the problem (it used to exit 0
// and label Acrobot's returns "CartPole-v1").
func TestEvalRefusesMismatchedRun(t *testing.T) {
	dir := t.TempDir()
	cart, acro := filepath.Join(dir, "cart"), filepath.Join(dir, "acro")
	for _, a := range [][]string{
		{"train", "--env", "CartPole-v1", "--steps", "256", "--num-steps", "64", "--out", cart, "--quiet"},
		{"train", "--env", "Acrobot-v1", "--steps", "256", "--num-steps", "64", "--out", acro, "--quiet"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(a, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", a, code, stderr.String())
		}
	}
	ck, err := os.ReadFile(filepath.Join(acro, ppo.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cart, ppo.CheckpointFile), ck, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(acro, ppo.ConfigFile)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{cart, "env_id is Acrobot-v1 in the checkpoint but CartPole-v1 in config.json"},
		{acro, "no readable config.json"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"eval", "--run", tc.dir, "--episodes", "1"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("eval --run %s: exit %d, stderr %q; want 2 and %q", tc.dir, code, stderr.String(), tc.want)
		}
	}
}

// TestTrainResumeDamagedMetrics: a garbage line in metrics.csv refuses the resume with exit
// status 2, naming the file and the line (it used to delete every row after it silently), and
// resuming a finished run keeps its summary.json (it used to rewrite it with "sps": 0).
func TestTrainResumeDamagedMetrics(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"train", "--steps", "1536", "--num-steps", "64", "--checkpoint-every", "2", "--out", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr.String())
	}
	summary := filepath.Join(out, ppo.SummaryFile)
	before, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"train", "--resume", out, "--quiet"}, &stdout, &stderr); code != 0 {
		t.Fatalf("resume of a finished run: exit %d: %s", code, stderr.String())
	}
	if after, err := os.ReadFile(summary); err != nil || !bytes.Equal(after, before) {
		t.Fatalf("summary.json changed by resuming a finished run:\n%s\nwas\n%s", after, before)
	}
	metrics := filepath.Join(out, ppo.MetricsFile)
	b, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	damaged := strings.Join(lines[:3], "") + "garbage\n" + strings.Join(lines[3:], "")
	if err := os.WriteFile(metrics, []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"train", "--resume", out, "--steps", "2048", "--quiet"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "metrics.csv is damaged: record on line 4") {
		t.Fatalf("resume with a garbage line: exit %d, stderr %q", code, stderr.String())
	}
	if b, err := os.ReadFile(metrics); err != nil || string(b) != damaged {
		t.Fatal("the refused resume changed metrics.csv")
	}
}

// TestInterruptContext: the first SIGINT cancels the context and tells the user that a second
// Ctrl-C quits at once (the handler is then removed, so the default action applies again).
func TestInterruptContext(t *testing.T) {
	var stderr syncBuffer
	ctx, stop := interruptContext(&stderr)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "Ctrl-C again quits at once") {
		if time.Now().After(deadline) {
			t.Fatalf("no second-Ctrl-C notice; stderr %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTrainEmptyStringFlags: a string flag given as "" is refused naming it, never read as
// "not given" (train --resume "" used to start a fresh default run, --config "" was ignored).
// The commands run in a scratch directory so that a regression cannot litter runs/.
func TestTrainEmptyStringFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	tiny := []string{"--steps", "256", "--num-steps", "64", "--quiet"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--resume", ""}, `--resume ""`},
		{[]string{"train", "--resume", " "}, `--resume " "`},
		{[]string{"train", "--config", ""}, `--config ""`},
		{[]string{"train", "--env", ""}, `--env ""`},
		{[]string{"train", "--penalty", ""}, `--penalty ""`},
		{[]string{"train", "--activation", ""}, `--activation ""`},
		{[]string{"train", "--dtype", ""}, `--dtype ""`},
		{[]string{"eval", "--run", ""}, `--run ""`},
		{[]string{"eval", "--run", "x", "--mode", ""}, `--mode ""`},
	} {
		args := tc.args
		if args[0] == "train" {
			args = append(append([]string(nil), args...), tiny...)
		}
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat("runs"); !os.IsNotExist(err) {
		t.Errorf("a refused command created runs/: %v", err)
	}
}

// TestTrainOutNotADirectory: --out naming a regular file, or a path that cannot be created, is
// refused with exit 2 naming --out before any training (it used to exit 1 with "ppo: output
// directory: mkdir afile: not a directory").
func TestTrainOutNotADirectory(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{file, filepath.Join(file, "sub")} {
		code, _, stderr := runCmd("train", "--steps", "256", "--num-steps", "64", "--quiet", "--out", out)
		if code != 2 || !strings.Contains(stderr, "--out "+strconvQuote(out)) {
			t.Errorf("train --out %s: exit %d, stderr %q; want 2 naming --out %q", out, code, stderr, out)
		}
	}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// TestTrainResumeDamagedCheckpoint: a damaged checkpoint refuses --resume with exit 2 naming
// the flag (it used to exit 1), and leaves the run's files as they were.
func TestTrainResumeDamagedCheckpoint(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runCmd("train", "--steps", "256", "--num-steps", "64", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	ck := filepath.Join(out, ppo.CheckpointFile)
	good, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	for name, damaged := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"garbage":   []byte("not a checkpoint\n"),
		"empty":     nil,
	} {
		if err := os.WriteFile(ck, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCmd("train", "--resume", out, "--steps", "512", "--quiet")
		if code != 2 || !strings.Contains(stderr, "--resume "+out) {
			t.Errorf("%s checkpoint: exit %d, stderr %q; want 2 naming --resume", name, code, stderr)
		}
		if b, err := os.ReadFile(ck); err != nil || !bytes.Equal(b, damaged) {
			t.Errorf("%s checkpoint: the refused resume changed it", name)
		}
	}
	if err := os.Remove(ck); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd("train", "--resume", out, "--quiet"); code != 2 || !strings.Contains(stderr, "--resume "+out) {
		t.Errorf("missing checkpoint: exit %d, stderr %q; want 2 naming --resume", code, stderr)
	}
}

// TestEvalEpisodesBound: --episodes has an upper bound (named in the error).
func TestEvalEpisodesBound(t *testing.T) {
	code, _, stderr := runCmd("eval", "--run", t.TempDir(), "--episodes", "100000000")
	if code != 2 || !strings.Contains(stderr, "--episodes 100000000") {
		t.Errorf("eval --episodes 1e8: exit %d, stderr %q; want 2 naming --episodes", code, stderr)
	}
}

// TestTrainResumeZeroSteps: --steps 0 (or a negative --checkpoint-every) with --resume is
// refused, not silently ignored.
func TestTrainResumeZeroSteps(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := runCmd("train", "--steps", "256", "--num-steps", "64", "--out", out, "--quiet"); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--steps", "0"}, "total_timesteps = 0"},
		{[]string{"--total-timesteps", "-5"}, "total_timesteps = -5"},
		{[]string{"--checkpoint-every", "-5"}, "checkpoint_every = -5"},
	} {
		args := append([]string{"train", "--resume", out, "--quiet"}, tc.args...)
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", args, code, stderr, tc.want)
		}
	}
}
