package ppo

import (
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
