package ppo

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseConfigRefuses: a config must say what it sets, once, with a value; the error names
// the key (or says what the file lacks).
func TestParseConfigRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, ext, data, want string
	}{
		{"JSON null field", ".json", `{"learning_rate": null}`, `"learning_rate": null`},
		{"JSON null field, guessed", "", `{"env_id": "CartPole-v1", "hidden": null}`, `"hidden": null`},
		{"JSON duplicate key", ".json", `{"seed": 1, "num_envs": 2, "seed": 2}`, `duplicate key "seed"`},
		{"JSON empty", ".json", "", "empty"},
		{"JSON blank", ".json", " \n\t", "empty"},
		{"JSON null document", ".json", "null", "null"},
		{"JSON trailing data", ".json", `{"seed": 1} {"seed": 2}`, "after the object"},
		{"YAML null field", ".yaml", "learning_rate: null\n", `learning_rate: null`},
		{"YAML tilde field", ".yml", "seed: 3\nent_coef: ~\n", `ent_coef: null`},
		{"YAML empty value", ".yaml", "gamma:\n", `gamma: null`},
		{"YAML duplicate key", ".yaml", "seed: 1\nnum_envs: 2\nseed: 2\n", `duplicate key "seed"`},
		{"YAML null document", ".yaml", "null\n", "null"},
		{"YAML tilde document", ".yaml", "~\n", "null"},
		{"YAML empty", ".yaml", "", "empty"},
		{"YAML comments only", ".yaml", "# nothing\n", "empty"},
		{"YAML list", ".yaml", "- 1\n- 2\n", "mapping"},
	} {
		_, err := ParseConfig([]byte(tc.data), tc.ext)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseConfig(%q) = %v; want an error containing %q", tc.name, tc.data, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "EOF") {
			t.Errorf("%s: %v: say what is wrong, not EOF", tc.name, err)
		}
	}
	// still accepted
	for _, ok := range []struct{ ext, data string }{
		{".json", `{"seed": 7, "hidden": [8, 8]}`}, {".yaml", "seed: 7\nhidden: [8, 8]\n"}, {".json", "{}"}, {".yaml", "{}\n"},
	} {
		if _, err := ParseConfig([]byte(ok.data), ok.ext); err != nil {
			t.Errorf("ParseConfig(%q, %s): %v", ok.data, ok.ext, err)
		}
	}
}

// TestPresetCleanRL pins CleanRL's hyperparameters: ppo.py's for discrete actions,
// ppo_continuous_action.py's for Box actions (the workload of `klppo bench train` and the
// documented case where no KL constraint engages), whatever the defaults become.
func TestPresetCleanRL(t *testing.T) {
	c, err := PresetConfig(PresetCleanRL, "CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Penalty != "kl-adaptive:0.01" || c.TotalTimesteps != 500_000 || c.NumEnvs != 4 || c.NumSteps != 128 ||
		c.NumMinibatches != 4 || c.UpdateEpochs != 4 || c.LearningRate != 2.5e-4 || !c.AnnealLR || c.Gamma != 0.99 ||
		c.GAELambda != 0.95 || !c.NormAdv || !c.ClipVLoss || c.VFClip != 0.2 || c.EntCoef != 0.01 || c.VFCoef != 0.5 ||
		c.MaxGradNorm != 0.5 || c.AdamEps != 1e-5 || len(c.Hidden) != 2 || c.Hidden[0] != 64 || c.Hidden[1] != 64 ||
		c.Activation != "tanh" || c.NormObs || c.NormReward || c.InitLogStd != 0 {
		t.Fatalf("cleanrl CartPole-v1: %+v", c)
	}
	p, err := PresetConfig(PresetCleanRL, "Pendulum-v1")
	if err != nil {
		t.Fatal(err)
	}
	if p.TotalTimesteps != 1_000_000 || p.NumEnvs != 1 || p.NumSteps != 2048 || p.NumMinibatches != 32 || p.UpdateEpochs != 10 ||
		p.LearningRate != 3e-4 || !p.AnnealLR || p.Gamma != 0.99 || p.EntCoef != 0 || !p.NormObs || !p.NormReward || p.InitLogStd != 0 {
		t.Fatalf("cleanrl Pendulum-v1: %+v", p)
	}
	for _, name := range []string{"", PresetDefault} {
		d, err := PresetConfig(name, "CartPole-v1")
		def, _ := DefaultConfig("CartPole-v1")
		if err != nil || !reflect.DeepEqual(d, def) {
			t.Fatalf("preset %q: %+v, %v; want DefaultConfig %+v", name, d, err, def)
		}
	}
	if _, err := PresetConfig("sb3", "CartPole-v1"); err == nil || !strings.Contains(err.Error(), `preset "sb3"`) {
		t.Fatalf("unknown preset: %v", err)
	}
	if _, err := PresetConfig(PresetCleanRL, "Pong-v5"); err == nil || !strings.Contains(err.Error(), "env_id") {
		t.Fatalf("unknown env: %v", err)
	}
}
