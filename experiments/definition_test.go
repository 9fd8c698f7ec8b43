package experiments

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinDefinitions(t *testing.T) {
	defs, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Definition{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	for _, n := range []string{"table1-cartpole", "table1-acrobot", "table1-pendulum", "kl-targets"} {
		if _, ok := byName[n]; !ok {
			t.Fatalf("built-in %q missing", n)
		}
	}
	table1 := []string{"none", "clip:0.1", "clip:0.2", "clip:0.3", "kl-adaptive:0.003", "kl-adaptive:0.01", "kl-adaptive:0.03",
		"kl-fixed:0.3", "kl-fixed:1", "kl-fixed:3", "kl-fixed:10"}
	for _, n := range []string{"table1-cartpole", "table1-acrobot", "table1-pendulum"} {
		if !slices.Equal(byName[n].Penalties, table1) {
			t.Errorf("%s penalties = %v, want the paper's %v", n, byName[n].Penalties, table1)
		}
	}
	envs := map[string]string{"table1-cartpole": "CartPole-v1", "table1-acrobot": "Acrobot-v1", "table1-pendulum": "Pendulum-v1"}
	for n, e := range envs {
		if byName[n].Env != e {
			t.Errorf("%s env = %q, want %q", n, byName[n].Env, e)
		}
	}
	kt := byName["kl-targets"]
	if len(kt.Penalties) < 3 {
		t.Errorf("kl-targets sweeps %d targets", len(kt.Penalties))
	}
	for _, p := range kt.Penalties {
		if !strings.HasPrefix(p, "kl-adaptive:") {
			t.Errorf("kl-targets has %q, want only kl-adaptive targets", p)
		}
	}
	// every built-in resolves to a valid ppo configuration for every setting
	for _, d := range defs {
		s, err := FromDefinition(d, 0, 0)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		if _, err := s.Validate(PPORunner{}); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
	if _, err := Lookup("no-such"); err == nil || !strings.Contains(err.Error(), "table1-cartpole") {
		t.Errorf("Lookup of an unknown name: %v, want the known names listed", err)
	}
}

func TestParseDefinitionErrorsNameTheField(t *testing.T) {
	good := "name: x\nenv: CartPole-v1\npenalties: [clip:0.2]\nseeds: 2\nsteps: 1000\n"
	if d, err := ParseDefinition([]byte(good)); err != nil || d.Seeds != 2 || d.Penalties[0] != "clip:0.2" {
		t.Fatalf("good definition: %+v, %v", d, err)
	}
	cases := []struct{ name, text, want string }{
		{"misspelt field", strings.Replace(good, "seeds:", "seed:", 1), "seed"},
		{"bad name", strings.Replace(good, "name: x", "name: Big Name", 1), "field name"},
		{"no env", strings.Replace(good, "env: CartPole-v1", "env: ''", 1), "field env"},
		{"no penalties", strings.Replace(good, "[clip:0.2]", "[]", 1), "field penalties"},
		{"duplicate penalty", strings.Replace(good, "[clip:0.2]", "[none, clip:0.2, none]", 1), "penalties[2]"},
		{"seeds", strings.Replace(good, "seeds: 2", "seeds: 0", 1), "field seeds: 0"},
		{"steps", strings.Replace(good, "steps: 1000", "steps: -5", 1), "field steps: -5"},
		{"steps type", strings.Replace(good, "steps: 1000", "steps: lots", 1), "lots"},
		{"empty", "", "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDefinition([]byte(c.text))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestLoadDefinitionFileJSON(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mine.json")
	js := `{"name": "mine", "env": "Acrobot-v1", "penalties": ["clip:0.2", "kl-fixed:1"], "seeds": 2, "steps": 2048,
	        "overrides": {"num_envs": 2, "learning_rate": 0.001}}`
	if err := os.WriteFile(p, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDefinitionFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := PPORunner{}.Config(RunSpec{Env: d.Env, Penalty: d.Penalties[1], Seed: 2, Steps: d.Steps, Overrides: d.Overrides})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumEnvs != 2 || cfg.LearningRate != 0.001 || cfg.Seed != 2 || cfg.TotalTimesteps != 2048 || cfg.Penalty != "kl-fixed:1" || cfg.EnvID != "Acrobot-v1" {
		t.Fatalf("resolved config %+v", cfg)
	}
	if _, err := LoadDefinitionFile(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestPPORunnerConfigErrors(t *testing.T) {
	base := RunSpec{Env: "CartPole-v1", Penalty: "clip:0.2", Seed: 1, Steps: 10000}
	cases := []struct {
		name string
		edit func(*RunSpec)
		want string
	}{
		{"unknown env", func(s *RunSpec) { s.Env = "Nope-v0" }, "Nope-v0"},
		{"bad penalty", func(s *RunSpec) { s.Penalty = "clip" }, "clip"},
		{"unknown override", func(s *RunSpec) { s.Overrides = map[string]any{"num_env": 2} }, "num_env: unknown field"},
		{"override type", func(s *RunSpec) { s.Overrides = map[string]any{"num_envs": "four"} }, "num_envs"},
		{"sweep field", func(s *RunSpec) { s.Overrides = map[string]any{"seed": 3} }, "seed: set by the experiment's seeds"},
		{"invalid value", func(s *RunSpec) { s.Overrides = map[string]any{"gamma": 2.0} }, "gamma"},
		{"budget too small", func(s *RunSpec) { s.Steps = 10 }, "total_timesteps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := base
			c.edit(&s)
			_, err := PPORunner{}.Config(s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
	// Prepare canonicalises the spec
	got, err := PPORunner{}.Prepare(RunSpec{Env: "CartPole-v1", Penalty: " kl-fixed:1.0", Seed: 1, Steps: 10000})
	if err != nil || got.Penalty != "kl-fixed:1" {
		t.Fatalf("Prepare = %q, %v; want kl-fixed:1", got.Penalty, err)
	}
}

func TestMeasureBaseline(t *testing.T) {
	a, err := MeasureBaseline(context.Background(), "CartPole-v1", 200, 7)
	if err != nil {
		t.Fatal(err)
	}
	// A uniform-random CartPole policy lasts about 22 steps (reward 1 per step).
	if a.RandomReturn < 17 || a.RandomReturn > 27 || a.SolvedThreshold != 475 {
		t.Fatalf("CartPole random return %v threshold %v; want ≈22 and 475", a.RandomReturn, a.SolvedThreshold)
	}
	b, err := MeasureBaseline(context.Background(), "CartPole-v1", 200, 7)
	if err != nil || b != a {
		t.Fatalf("not deterministic: %+v vs %+v (%v)", a, b, err)
	}
	// Random Acrobot almost never swings up within its 500-step limit (−1 per step).
	ac, err := MeasureBaseline(context.Background(), "Acrobot-v1", 10, 1)
	if err != nil || ac.RandomReturn > -400 || ac.RandomReturn < -500 || ac.SolvedThreshold != -100 {
		t.Fatalf("Acrobot random %+v, %v", ac, err)
	}
	p, err := MeasureBaseline(context.Background(), "Pendulum-v1", 5, 1)
	if err != nil || !math.IsNaN(p.SolvedThreshold) || p.RandomReturn >= 0 {
		t.Fatalf("Pendulum %+v, %v: want negative return and no threshold", p, err)
	}
	if _, err := MeasureBaseline(context.Background(), "Nope-v0", 5, 1); err == nil || !strings.Contains(err.Error(), "Nope-v0") {
		t.Fatalf("unknown env: %v", err)
	}
	if _, err := MeasureBaseline(context.Background(), "CartPole-v1", 0, 1); err == nil || !strings.Contains(err.Error(), "episodes") {
		t.Fatalf("0 episodes: %v", err)
	}
}

// TestTable1PendulumKeepsMeasuredSettings: docs/compare.md's table1-pendulum results were
// measured with the Pendulum-v1 defaults of that time; the definition pins them, so that a
// change of `klppo train`'s defaults does not silently change what the experiment runs.
func TestTable1PendulumKeepsMeasuredSettings(t *testing.T) {
	d, err := Lookup("table1-pendulum")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := PPORunner{}.Config(RunSpec{Env: d.Env, Penalty: "kl-adaptive:0.01", Seed: 1, Steps: d.Steps, Overrides: d.Overrides})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumEnvs != 4 || cfg.NumSteps != 1024 || cfg.NumMinibatches != 64 || cfg.UpdateEpochs != 10 || cfg.LearningRate != 1e-3 ||
		!cfg.AnnealLR || cfg.Gamma != 0.9 || cfg.GAELambda != 0.95 || cfg.ClipVLoss || cfg.EntCoef != 0 || !cfg.NormObs ||
		!cfg.NormReward || cfg.MaxGradNorm != 0.5 || cfg.InitLogStd != 0 || cfg.TotalTimesteps != 200_000 {
		t.Fatalf("table1-pendulum resolves to %+v", cfg)
	}
}
