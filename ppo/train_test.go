package ppo

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"klppo/env"
	"klppo/policy"
)

// tinyConfig is a CartPole run of a few small updates (fast enough for the default test run).
func tinyConfig(t *testing.T, updates int) Config {
	t.Helper()
	cfg, err := DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 64, 2, 2
	cfg.TotalTimesteps = updates * cfg.BatchSize()
	cfg.LearningRate = 1e-3
	cfg.CheckpointEvery = 2
	return cfg
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dropTimeColumns removes wall_s and sps (columns 3 and 4) from metrics.csv.
func dropTimeColumns(csv string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n") {
		f := strings.Split(line, ",")
		out = append(out, strings.Join(append(f[:2:2], f[4:]...), ","))
	}
	return strings.Join(out, "\n")
}

func TestTrainWritesFilesAndIsDeterministic(t *testing.T) {
	cfg := tinyConfig(t, 6)
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	var sums []Summary
	for _, d := range dirs {
		s, err := Train(context.Background(), cfg, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, s)
	}
	m0 := readFile(t, filepath.Join(dirs[0], MetricsFile))
	if !strings.HasPrefix(m0, MetricsHeader+"\n") {
		t.Fatalf("metrics.csv header: %q", strings.SplitN(m0, "\n", 2)[0])
	}
	if n := strings.Count(m0, "\n"); n != 7 {
		t.Fatalf("metrics.csv has %d lines, want header + 6", n)
	}
	if e := readFile(t, filepath.Join(dirs[0], EpisodesFile)); !strings.HasPrefix(e, EpisodesHeader+"\n") || strings.Count(e, "\n") < 10 {
		t.Fatalf("episodes.csv: %q…", e[:min(len(e), 80)])
	}
	if dropTimeColumns(m0) != dropTimeColumns(readFile(t, filepath.Join(dirs[1], MetricsFile))) {
		t.Fatal("metrics.csv differs between two runs with the same config and seed")
	}
	if readFile(t, filepath.Join(dirs[0], EpisodesFile)) != readFile(t, filepath.Join(dirs[1], EpisodesFile)) {
		t.Fatal("episodes.csv differs between two runs with the same config and seed")
	}
	s := sums[0]
	if s.Steps != cfg.TotalTimesteps || s.Updates != 6 || s.Stopped != "" || s.SolvedThreshold != 475 || s.EnvID != "CartPole-v1" {
		t.Fatalf("summary %+v", s)
	}
	rs, err := ReadSummary(filepath.Join(dirs[0], SummaryFile))
	if err != nil || rs.Steps != s.Steps || rs.FinalReturn != s.FinalReturn {
		t.Fatalf("summary.json round trip: %+v, %v", rs, err)
	}
	c, err := LoadConfig(filepath.Join(dirs[0], ConfigFile))
	if err != nil || c.NumSteps != cfg.NumSteps || c.Penalty != cfg.Penalty {
		t.Fatalf("config.json: %+v, %v", c, err)
	}
	// A different seed gives a different run.
	cfg.Seed = 2
	d3 := filepath.Join(t.TempDir(), "c")
	if _, err := Train(context.Background(), cfg, d3, Options{}); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(d3, EpisodesFile)) == readFile(t, filepath.Join(dirs[0], EpisodesFile)) {
		t.Fatal("seeds 1 and 2 gave identical episodes")
	}
}

func TestTrainRefusesExistingDir(t *testing.T) {
	cfg := tinyConfig(t, 1)
	d := t.TempDir()
	if _, err := Train(context.Background(), cfg, d, Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := Train(context.Background(), cfg, d, Options{})
	if err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Fatalf("second Train into the same dir: %v", err)
	}
	if _, err := Train(context.Background(), cfg, d, Options{Force: true}); err != nil {
		t.Fatalf("Force: %v", err)
	}
}

// TestResumeEqualsUninterrupted interrupts a run after 3 of 7 updates (checkpoint at update 3
// is written by the cancellation), resumes it and compares everything with an uninterrupted run.
func TestResumeEqualsUninterrupted(t *testing.T) {
	cfg := tinyConfig(t, 7)
	cfg.CheckpointEvery = 0
	full := filepath.Join(t.TempDir(), "full")
	sFull, err := Train(context.Background(), cfg, full, Options{})
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(t.TempDir(), "part")
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Train(ctx, cfg, part, Options{Hooks: Hooks{OnUpdate: func(m UpdateMetrics) {
		if m.Update == 3 {
			cancel()
		}
	}}})
	if !errors.Is(err, context.Canceled) || s.Stopped != "interrupted" || s.Updates != 3 {
		t.Fatalf("interrupted run: %+v, %v", s, err)
	}
	if rs, _ := ReadSummary(filepath.Join(part, SummaryFile)); rs.Stopped != "interrupted" {
		t.Fatalf("summary.json after interruption: %+v", rs)
	}
	sPart, err := Train(context.Background(), cfg, part, Options{Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	// The KL constraint of the resumed run counts the updates of both sessions.
	if sPart.Constraint != sFull.Constraint || sFull.Constraint.Updates != 7 {
		t.Fatalf("KL constraint: resumed %+v, uninterrupted %+v", sPart.Constraint, sFull.Constraint)
	}
	if a, b := dropTimeColumns(readFile(t, filepath.Join(full, MetricsFile))), dropTimeColumns(readFile(t, filepath.Join(part, MetricsFile))); a != b {
		t.Fatalf("metrics differ after resume:\n%s\n---\n%s", a, b)
	}
	if readFile(t, filepath.Join(full, EpisodesFile)) != readFile(t, filepath.Join(part, EpisodesFile)) {
		t.Fatal("episodes.csv differs after resume")
	}
	ca, err := policy.ReadCheckpoint(filepath.Join(full, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := policy.ReadCheckpoint(filepath.Join(part, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range ca.Arrays {
		b := cb.Arrays[i]
		for j := range a.Values {
			if a.Values[j] != b.Values[j] {
				t.Fatalf("final %s[%d]: %v uninterrupted, %v resumed", a.Name, j, a.Values[j], b.Values[j])
			}
		}
	}
	// A resume with a different configuration is refused, naming the field.
	cfg2 := cfg
	cfg2.GAELambda = 0.9
	_, err = Train(context.Background(), cfg2, part, Options{Resume: true})
	if err == nil || !strings.Contains(err.Error(), "gae_lambda") || !errors.Is(err, policy.ErrMismatch) {
		t.Fatalf("resume with another gae_lambda: %v", err)
	}
}

// TestNaNGuard poisons a weight after update 3: update 4 must stop with ErrNonFinite, and the
// checkpoint on disk must stay the last good one (update 2, checkpoint_every = 2).
func TestNaNGuard(t *testing.T) {
	for _, env := range []string{"CartPole-v1", "Pendulum-v1"} {
		t.Run(env, func(t *testing.T) { testNaNGuard(t, env) })
	}
}

func testNaNGuard(t *testing.T, envID string) {
	cfg := tinyConfig(t, 6)
	if envID != cfg.EnvID {
		c, _ := DefaultConfig(envID)
		c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 2, 64, 2, 2
		c.TotalTimesteps, c.CheckpointEvery = 6*c.BatchSize(), 2
		cfg = c
	}
	poison := func(update int, nets *policy.ActorCritic) {
		if update == 3 {
			nets.Pi.Params()[0].Data().([]float32)[0] = float32(math.NaN())
		}
	}
	d := t.TempDir()
	s, err := Train(context.Background(), cfg, d, Options{Hooks: Hooks{AfterUpdate: poison}})
	if !errors.Is(err, ErrNonFinite) || s.Stopped != "nan" {
		t.Fatalf("Train: %+v, %v", s, err)
	}
	if !strings.Contains(err.Error(), "last good checkpoint (update 2)") {
		t.Fatalf("error does not name the kept checkpoint: %v", err)
	}
	c, err := policy.ReadCheckpoint(filepath.Join(d, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.Meta), `"update":2,`) {
		t.Fatalf("checkpoint meta is not update 2: %.200s", c.Meta)
	}
	if _, err := policy.Load(c); err != nil {
		t.Fatalf("kept checkpoint does not load: %v", err)
	}
	if n := strings.Count(readFile(t, filepath.Join(d, MetricsFile)), "\n"); n != 4 {
		t.Fatalf("metrics.csv has %d lines, want header + 3 good updates", n)
	}
}

// TestEarlyStop: with a tiny stop KL only the first minibatch of each update (taken at KL = 0,
// before any step) is trained, so every update runs 1 epoch of 1 step; with a huge one all
// 2 epochs × 2 minibatches run. The count is checked twice: the Epochs column, and Adam's step
// counter in the final checkpoint (the number of gradient steps actually taken).
func TestEarlyStop(t *testing.T) {
	const updates = 3
	for _, tc := range []struct {
		spec          string
		epochs, steps int
	}{{"none+stop:1e-12", 1, 1}, {"kl-fixed:1+stop:1e-12", 1, 1}, {"clip:0.2+stop:1000", 2, 4}} {
		cfg := tinyConfig(t, updates)
		cfg.Penalty = tc.spec
		var got []int
		d := t.TempDir()
		_, err := Train(context.Background(), cfg, d, Options{Hooks: Hooks{OnUpdate: func(m UpdateMetrics) { got = append(got, m.Epochs) }}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != updates {
			t.Fatalf("%s: %d updates reported, want %d", tc.spec, len(got), updates)
		}
		for u, e := range got {
			if e != tc.epochs {
				t.Fatalf("%s: update %d ran %d epochs, want %d", tc.spec, u+1, e, tc.epochs)
			}
		}
		c, err := policy.ReadCheckpoint(filepath.Join(d, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		meta, err := readMeta(c)
		if err != nil {
			t.Fatal(err)
		}
		if want := updates * tc.steps; meta.AdamStep != want {
			t.Fatalf("%s: %d Adam steps taken, want %d", tc.spec, meta.AdamStep, want)
		}
	}
}

func TestInvalidConfigs(t *testing.T) {
	base := tinyConfig(t, 2)
	for _, tc := range []struct {
		field string
		edit  func(c *Config)
	}{
		{"num_minibatches", func(c *Config) { c.NumMinibatches = 3 }},
		{"num_minibatches", func(c *Config) { c.NumMinibatches = 0 }},
		{"ent_coef", func(c *Config) { c.EntCoef = -0.01 }},
		{"vf_coef", func(c *Config) { c.VFCoef = -1 }},
		{"learning_rate", func(c *Config) { c.LearningRate = 0 }},
		{"gamma", func(c *Config) { c.Gamma = 1.5 }},
		{"max_grad_norm", func(c *Config) { c.MaxGradNorm = math.NaN() }},
		{"env_id", func(c *Config) { c.EnvID = "Pong-v5" }},
		{"penalty", func(c *Config) { c.Penalty = "kl-magic:0.1" }},
		{"num_envs", func(c *Config) { c.NumEnvs = -4 }},
		{"total_timesteps", func(c *Config) { c.TotalTimesteps = 10 }},
		{"hidden", func(c *Config) { c.Hidden = nil }},
		{"activation", func(c *Config) { c.Activation = "sigmoid" }},
		{"dtype", func(c *Config) { c.DType = "float16" }},
		{"init_beta", func(c *Config) { c.InitBeta = -1 }},
	} {
		c := base
		c.Hidden = append([]int(nil), base.Hidden...)
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tc.field, err, tc.field)
			continue
		}
		d := t.TempDir()
		if _, err := Train(context.Background(), c, d, Options{}); err == nil {
			t.Errorf("%s: Train accepted an invalid config", tc.field)
		}
		if entries, _ := os.ReadDir(d); len(entries) != 0 {
			t.Errorf("%s: Train wrote files before failing validation", tc.field)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("base config invalid: %v", err)
	}
}

func TestLoadConfigJSONAndYAML(t *testing.T) {
	d := t.TempDir()
	j := filepath.Join(d, "c.json")
	os.WriteFile(j, []byte(`{"env_id": "Acrobot-v1", "penalty": "clip:0.1", "hidden": [32], "num_envs": 8}`), 0o644)
	c, err := LoadConfig(j)
	if err != nil {
		t.Fatal(err)
	}
	def, _ := DefaultConfig("Acrobot-v1")
	if c.EnvID != "Acrobot-v1" || c.Penalty != "clip:0.1" || len(c.Hidden) != 1 || c.Hidden[0] != 32 || c.NumEnvs != 8 || c.NumSteps != def.NumSteps || c.Gamma != def.Gamma {
		t.Fatalf("JSON config: %+v", c)
	}
	y := filepath.Join(d, "c.yaml")
	os.WriteFile(y, []byte("env_id: Pendulum-v1\nlearning_rate: 0.0005\nnorm_obs: false\n"), 0o644)
	c, err = LoadConfig(y)
	if err != nil {
		t.Fatal(err)
	}
	pd, _ := DefaultConfig("Pendulum-v1")
	if c.EnvID != "Pendulum-v1" || c.LearningRate != 0.0005 || c.NormObs || c.NumSteps != pd.NumSteps || len(c.Hidden) != 2 {
		t.Fatalf("YAML config: %+v", c)
	}
	bad := filepath.Join(d, "bad.json")
	os.WriteFile(bad, []byte(`{"env_id": "CartPole-v1", "learning_rat": 0.1}`), 0o644)
	if _, err := LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "learning_rat") {
		t.Fatalf("unknown key: %v", err)
	}
	unk := filepath.Join(d, "unk.yaml")
	os.WriteFile(unk, []byte("env_id: Nope-v0\n"), 0o644)
	if _, err := LoadConfig(unk); err == nil || !strings.Contains(err.Error(), "env_id") {
		t.Fatalf("unknown env: %v", err)
	}
}

func TestGaussianTrainSmoke(t *testing.T) {
	cfg, err := DefaultConfig("Pendulum-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 100, 4, 2
	cfg.TotalTimesteps = 3 * cfg.BatchSize()
	d := t.TempDir()
	s, err := Train(context.Background(), cfg, d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Episodes != 2 || !math.IsNaN(s.SolvedThreshold) || s.FirstStepReturnGE != -1 {
		t.Fatalf("Pendulum summary %+v (want 2 episodes: 300 steps per copy, 200-step episodes; no threshold)", s)
	}
	r, err := Evaluate(context.Background(), d, 2, true, 0)
	if err != nil || len(r.Returns) != 2 || r.Lengths[0] != 200 {
		t.Fatalf("Evaluate: %+v, %v", r, err)
	}
	if !strings.Contains(readFile(t, filepath.Join(d, SummaryFile)), `"solved_threshold": null`) {
		t.Fatal("summary.json should write the missing threshold as null")
	}
}

// TestBetaBounds: CartPole's per-update KL is far below d_targ/1.5 = 0.0067·10, so β halves
// each update from init_beta until it reaches beta_min, where it stays.
func TestBetaBounds(t *testing.T) {
	cfg := tinyConfig(t, 6)
	cfg.Penalty = "kl-adaptive:0.1"
	cfg.LearningRate = 1e-5
	cfg.InitBeta, cfg.BetaMin = 1, 0.2
	var betas []float64
	if _, err := Train(context.Background(), cfg, t.TempDir(), Options{Hooks: Hooks{OnUpdate: func(m UpdateMetrics) { betas = append(betas, m.Beta) }}}); err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 0.5, 0.25, 0.2, 0.2, 0.2}
	for i := range want {
		if betas[i] != want[i] {
			t.Fatalf("β per update %v, want %v", betas, want)
		}
	}
	cfg.BetaMin, cfg.BetaMax = 2, 1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "beta_min") {
		t.Fatalf("beta_min > beta_max: %v", err)
	}
}

// TestConcurrentTrainsMatchSerial runs two trainings at once (as a parallel sweep does) and
// compares them with a serial run of the same config.
func TestConcurrentTrainsMatchSerial(t *testing.T) {
	cfg := tinyConfig(t, 3)
	serial := filepath.Join(t.TempDir(), "serial")
	if _, err := Train(context.Background(), cfg, serial, Options{}); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(t.TempDir(), "p0"), filepath.Join(t.TempDir(), "p1")}
	errs := make(chan error, len(dirs))
	for _, d := range dirs {
		go func() {
			_, err := Train(context.Background(), cfg, d, Options{})
			errs <- err
		}()
	}
	for range dirs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	want := dropTimeColumns(readFile(t, filepath.Join(serial, MetricsFile)))
	for _, d := range dirs {
		if got := dropTimeColumns(readFile(t, filepath.Join(d, MetricsFile))); got != want {
			t.Fatalf("%s differs from the serial run", d)
		}
	}
}

// TestResumeBandit resumes a run on Bandit-v0, whose environment has no saveable state: its
// one-step episodes are always at a start between updates, restored from the Reset seed.
func TestResumeBandit(t *testing.T) {
	cfg, err := DefaultConfig("Bandit-v0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 32, 2, 2
	cfg.TotalTimesteps, cfg.CheckpointEvery = 6*cfg.BatchSize(), 0
	full := filepath.Join(t.TempDir(), "full")
	if _, err := Train(context.Background(), cfg, full, Options{}); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(t.TempDir(), "part")
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := Train(ctx, cfg, part, Options{Hooks: Hooks{OnUpdate: func(m UpdateMetrics) {
		if m.Update == 2 {
			cancel()
		}
	}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := Train(context.Background(), cfg, part, Options{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(full, EpisodesFile)) != readFile(t, filepath.Join(part, EpisodesFile)) {
		t.Fatal("Bandit-v0 episodes differ after resume")
	}
}

// TestSingleThreadedMatchesDefault runs the same config with and without SingleThreaded: the
// files must be bit-identical (apart from the time columns), and while an episode ends (in the
// middle of the rollout) no goroutine started by the trainer may exist in the single-threaded
// run, while the default run has its value-pass goroutine (so the check can tell them apart).
func TestSingleThreadedMatchesDefault(t *testing.T) {
	cfg := tinyConfig(t, 3)
	run := func(single bool) (string, int) {
		d := filepath.Join(t.TempDir(), "run")
		helpers := 0
		buf := make([]byte, 1<<20)
		opts := Options{SingleThreaded: single, Hooks: Hooks{OnEpisode: func(int, env.EpisodeStat) {
			stacks := string(buf[:runtime.Stack(buf, true)])
			helpers = max(helpers, strings.Count(stacks, "created by klppo/ppo.(*trainer)"))
		}}}
		if _, err := Train(context.Background(), cfg, d, opts); err != nil {
			t.Fatal(err)
		}
		return dropTimeColumns(readFile(t, filepath.Join(d, MetricsFile))) + readFile(t, filepath.Join(d, EpisodesFile)), helpers
	}
	multi, helpersMulti := run(false)
	single, helpersSingle := run(true)
	if single != multi {
		t.Fatalf("single-threaded files differ from the default run's")
	}
	if helpersSingle != 0 {
		t.Fatalf("single-threaded run had %d trainer goroutines during the rollout", helpersSingle)
	}
	if helpersMulti == 0 {
		t.Fatalf("default run showed no trainer goroutine: the test cannot tell the modes apart")
	}
}
