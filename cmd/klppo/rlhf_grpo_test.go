package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/experiments/rlhf"
)

// TestRLHFGroupMethodsWriteTheContract: `klppo rlhf grpo|rloo --seed S --reward gold|rm
// --kl-coef B --out DIR --quiet` write the run files, and summary.json has the numbers the leash
// question needs.
func TestRLHFGroupMethodsWriteTheContract(t *testing.T) {
	for _, tc := range []struct{ method, reward, group string }{{"grpo", "gold", "--group"}, {"rloo", "rm", "--k"}} {
		dir := filepath.Join(t.TempDir(), tc.method)
		args := append([]string{"rlhf", tc.method, "--seed", "2", "--reward", tc.reward, "--kl-coef", "0.1", "--out", dir,
			"--updates", "2", "--prompts", "2", tc.group, "4", "--minibatch", "32", "--heldout-prompts", "16", "--distinct-prompts", "2"}, tinyRLHF...)
		code, stdout, stderr := vaeRunCLI(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.method, code, stderr)
		}
		for _, f := range []string{rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile, tc.method + "-gold.png"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s: missing %s: %v", tc.method, f, err)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, rlhf.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var sum map[string]any
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"ref_gold", "final_gold", "peak_gold", "final_proxy", "final_kl", "final_entropy", "final_distinct", "heldout_gold"} {
			if _, ok := sum[k].(float64); !ok {
				t.Errorf("%s: summary.json lacks the number %q", tc.method, k)
			}
		}
		if sum["method"] != tc.method || sum["reward"] != tc.reward || sum["kl_coef"] != 0.1 || sum["complete"] != true {
			t.Errorf("%s: summary %v", tc.method, sum)
		}
		if !strings.Contains(stdout, "held-out prompts: gold") {
			t.Errorf("%s: output\n%s", tc.method, stdout)
		}
	}
}

func TestRLHFGroupBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rlhf", "grpo", "--loss-type", "bnpo"}, "--loss-type bnpo"},
		{[]string{"rlhf", "grpo", "--group", "1"}, "--group 1"},
		{[]string{"rlhf", "grpo", "--reward", "human"}, "--reward human"},
		{[]string{"rlhf", "grpo", "--scale-rewards", "batch"}, `--scale-rewards "batch"`},
		{[]string{"rlhf", "grpo", "--kl-estimator", "k4"}, `--kl-estimator "k4"`},
		{[]string{"rlhf", "grpo", "--kl-coef", "-1"}, "--kl-coef -1"},
		{[]string{"rlhf", "grpo", "--kl-is", "--kl-estimator", "exact"}, "--kl-is true"},
		{[]string{"rlhf", "rloo", "--k", "1"}, "--k 1"},
		{[]string{"rlhf", "rloo", "--kl-coef", "NaN"}, "--kl-coef NaN"},
		{[]string{"rlhf", "rloo", "--minibatch", "8"}, "--minibatch 8"},
		{[]string{"rlhf", "rloo", "--heldout-prompts", "0"}, "--heldout-prompts 0"},
		{[]string{"rlhf", "ppo", "--reward", "gpt"}, `--reward "gpt"`},
		{[]string{"rlhf", "bon", "--reward", "gpt"}, `--reward "gpt"`},
		{[]string{"rlhf", "leash", "--methods", "ppo,dpo"}, "--methods ppo,dpo: want ppo, grpo or rloo"},
		{[]string{"rlhf", "leash", "--rewards", "gold,gold"}, "appears twice"},
		{[]string{"rlhf", "leash", "--betas", "0,-1"}, "--betas 0,-1"},
		{[]string{"rlhf", "leash", "--updates", "0"}, "--updates 0"},
		{[]string{"rlhf", "leash", "--resume", "--betas", "1"}, "--betas cannot be combined with --resume"},
		{[]string{"rlhf", "leash", "--sft", "x"}, "--sft/--rm"},
	} {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRLHFLeashCLI: a tiny experiment writes its table and charts; the same --out again is
// refused, and --resume of the complete experiment reprints its table without training.
func TestRLHFLeashCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "leash")
	args := append([]string{"rlhf", "leash", "--methods", "grpo,rloo", "--rewards", "rm", "--betas", "0", "--seeds", "5", "--updates", "2",
		"--bon-n", "1,2", "--bon-pool", "8", "--bon-prompts", "2", "--out", dir}, tinyRLHF...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{rlhf.LeashFile, rlhf.LeashTable, rlhf.LeashCSV, "leash-gold-rm.png", "leash-diversity.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "| grpo | rm | 0 |") || !strings.Contains(stdout, "| n = 2 | rm |") {
		t.Errorf("table:\n%s", stdout)
	}
	if code, _, stderr := vaeRunCLI(args...); code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("second start: exit %d, %s", code, stderr)
	}
	code, stdout, stderr = vaeRunCLI("rlhf", "leash", "--out", dir, "--resume", "--quiet")
	if code != 0 || !strings.Contains(stdout, "| rloo | rm | 0 |") {
		t.Errorf("resume of a complete experiment: exit %d: %s%s", code, stdout, stderr)
	}
}
