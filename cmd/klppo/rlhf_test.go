package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/experiments/rlhf"
)

func TestRLHFBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"rlhf", "--kl-coef", "-1"}, "--kl-coef -1"},
		{[]string{"rlhf", "--kl-in", "advantage"}, `--kl-in "advantage"`},
		{[]string{"rlhf", "--kl-estimator", "k4"}, `--kl-estimator "k4"`},
		{[]string{"rlhf", "--kl-ctl", "pid"}, `--kl-ctl "pid"`},
		{[]string{"rlhf", "--kl-ctl", "prop", "--kl-target", "0"}, "--kl-target 0"},
		{[]string{"rlhf", "--kl-ctl", "prop", "--kl-coef", "0"}, "--kl-coef 0 with --kl-ctl prop"},
		{[]string{"rlhf", "--label-noise", "0"}, "--label-noise 0"},
		{[]string{"rlhf", "--updates", "0"}, "--updates 0"},
		{[]string{"rlhf", "ppo", "--clip", "1"}, "--clip 1"},
		{[]string{"rlhf", "bon", "--n", "0"}, `-n`},
		{[]string{"rlhf", "sweep", "--betas", "a"}, `-betas`},
		{[]string{"rlhf", "sweep", "--betas", "0,-1"}, `--betas -1`},
		{[]string{"rlhf", "sweep", "--kl-ctl", "prop", "--kl-coef", "0.1"}, "--kl-ctl prop"},
		{[]string{"rlhf", "rm", "--rm", "x"}, `--rm "x"`},
	}
	for _, tc := range tests {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// tinyRLHF are flags that make every rlhf command run in about a second.
var tinyRLHF = []string{"--corpus", "1000", "--sft-epochs", "2", "--pairs", "200", "--quiet"}

func TestRLHFOneBetaWritesTheContract(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"rlhf", "--seed", "3", "--kl-coef", "0.2", "--out", dir, "--updates", "3", "--batch", "16", "--minibatch", "32"}, tinyRLHF...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
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
	for _, k := range []string{"ref_proxy", "ref_gold", "final_proxy", "final_gold", "peak_gold", "final_kl"} {
		if _, ok := sum[k].(float64); !ok {
			t.Errorf("summary.json lacks the number %q: %s", k, data)
		}
	}
	metrics, err := os.ReadFile(filepath.Join(dir, rlhf.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(string(metrics), "\n", 2)[0]
	for _, col := range strings.Split("update,proxy_reward,gold_reward,kl,kl_k1,kl_k3,beta,entropy,length,in_language", ",") {
		if !strings.Contains(","+header+",", ","+col+",") {
			t.Errorf("metrics.csv header %q lacks %q", header, col)
		}
	}
	if n := strings.Count(strings.TrimSpace(string(metrics)), "\n"); n != 3 {
		t.Errorf("metrics.csv has %d rows, want 3", n)
	}
	if !strings.Contains(stdout, "π_ref") || !strings.Contains(stdout, "tokens/s") {
		t.Errorf("no table:\n%s", stdout)
	}
	// The same directory again: refused (exit 2, naming --force) before any work.
	code, _, stderr = vaeRunCLI(args...)
	if code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("second run into %s: exit %d, stderr %q; want 2 and --force", dir, code, stderr)
	}
}

func TestRLHFStagesChain(t *testing.T) {
	dir := t.TempDir()
	sft, rm := filepath.Join(dir, "sft"), filepath.Join(dir, "rmrun")
	if code, _, stderr := vaeRunCLI(append([]string{"rlhf", "sft", "--out", sft}, tinyRLHF...)...); code != 0 {
		t.Fatalf("sft: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := vaeRunCLI(append([]string{"rlhf", "rm", "--sft", sft, "--out", rm}, tinyRLHF...)...)
	if code != 0 || !strings.Contains(stdout, "great") {
		t.Fatalf("rm: exit %d: %s%s", code, stdout, stderr)
	}
	args := append([]string{"rlhf", "bon", "--sft", sft, "--rm", filepath.Join(rm, "rm"), "--out", filepath.Join(dir, "bon"),
		"--n", "1,4", "--pool", "500"}, tinyRLHF...)
	code, stdout, stderr = vaeRunCLI(args...)
	if code != 0 || !strings.Contains(stdout, "KL bound") {
		t.Fatalf("bon: exit %d: %s%s", code, stdout, stderr)
	}
	args = append([]string{"rlhf", "ppo", "--sft", sft, "--rm", filepath.Join(rm, "rm"), "--out", filepath.Join(dir, "ppo"),
		"--updates", "2", "--batch", "16", "--minibatch", "32", "--kl-in", "loss", "--kl-estimator", "exact"}, tinyRLHF...)
	if code, _, stderr := vaeRunCLI(args...); code != 0 {
		t.Fatalf("ppo: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ppo", "ppo-kl.png")); err != nil {
		t.Error(err)
	}
}
