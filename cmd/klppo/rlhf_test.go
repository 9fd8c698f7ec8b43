package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
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
		{[]string{"rlhf", "--kl-ctl", "prop", "--kl-coef", "0"}, "--kl-coef 0: with kl_ctl prop β must start > 0"},
		{[]string{"rlhf", "--label-noise", "-1"}, "--label-noise -1"},
		{[]string{"rlhf", "--updates", "0"}, "--updates 0"},
		{[]string{"rlhf", "ppo", "--clip", "1"}, "--clip 1"},
		{[]string{"rlhf", "bon", "--n", "0"}, `"0": want a positive integer`},
		{[]string{"rlhf", "bon", "--n", "4,4"}, `--n 4,4: 4: appears twice`},
		{[]string{"rlhf", "bon", "--pool", "0"}, `--pool 0: want 1 to`},
		{[]string{"rlhf", "sweep", "--betas", "a"}, `-betas`},
		{[]string{"rlhf", "sweep", "--betas", "0,-1"}, `--betas 0,-1: -1: want finite numbers ≥ 0`},
		{[]string{"rlhf", "rm", "--rm", "x"}, `--rm "x"`},
		{[]string{"rlhf", "sft", "--sft", "x"}, `--sft "x"`},
		// issue 21: the CLI's rules drifted from the library's; one Validate now, mapped to flags
		{[]string{"rlhf", "ppo", "--lr", "2"}, "--lr 2: want a number in (0, 1]"},
		{[]string{"rlhf", "ppo", "--kl-ctl", "adaptive", "--kl-coef", "1e300"}, "--kl-coef 1e+300: with kl_ctl adaptive β must start within the controller's bounds [0.0001, 10000]"},
		{[]string{"rlhf", "ppo", "--kl-horizon", "0"}, ""}, // not an error with the fixed controller: see below
		{[]string{"rlhf", "sweep", "--kl-ctl", "prop"}, `--kl-ctl "prop": the sweep varies a fixed β`},
		{[]string{"rlhf", "sweep", "--kl-coef", "5"}, `flag provided but not defined: -kl-coef`},
		{[]string{"rlhf", "sweep", "--betas", "0.1,0.1"}, "--betas 0.1,0.1: 0.1: appears twice"},
		{[]string{"rlhf", "sweep", "--seeds", "1,1"}, `--seeds "1,1": 1: appears twice`},
		{[]string{"rlhf", "sweep", "--seeds", "1,01"}, `--seeds "1,01": 1: appears twice`},
		{[]string{"rlhf", "--out", ""}, `--out "": empty directory name`},
		{[]string{"rlhf", "rm", "--out", ""}, `--out "": empty directory name`},
		{[]string{"rlhf", "sweep", "--replot", "--betas", "0"}, "--betas with --replot"},
		{[]string{"rlhf", "sweep", "--resume", "--seeds", "4"}, "--seeds with --resume"},
		// sizes: bounded before anything is allocated (they crashed or grew to 7–12 GB)
		{[]string{"rlhf", "ppo", "--minibatch", "100000000"}, "--minibatch 100000000: want 1 to 4194304 tokens"},
		{[]string{"rlhf", "--minibatch", "100000000"}, "--minibatch 100000000: want 1 to 4194304 tokens"},
		{[]string{"rlhf", "ppo", "--batch", "1000000000"}, "--batch 1000000000: want 1 to 1048576 sequences"},
		{[]string{"rlhf", "sft", "--corpus", "20000000"}, "--corpus 20000000: want 1 to 10000000 sentences"},
		{[]string{"rlhf", "rm", "--pairs", "100000000"}, "--pairs 100000000: want 1 to 10000000 pairs"},
		{[]string{"rlhf", "bon", "--pool", "100000000"}, "--pool 100000000: want 1 to 10000000 samples"},
	}
	for _, tc := range tests {
		if tc.want == "" {
			continue
		}
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRLHFValidateIsTheLibrarys: the CLI applies the library's rules, not its own: the horizon
// matters only to the proportional controller, and every flag error is the library's
// *rlhf.ConfigError named by its flag (the CLI once required a horizon always and lr ≤ 1 alone).
func TestRLHFValidateIsTheLibrarys(t *testing.T) {
	c := rlhf.DefaultPPOConfig(0.5, 1)
	c.Horizon = 0
	if err := c.Validate(); err != nil {
		t.Errorf("fixed β with horizon 0: %v, want valid (the horizon is the prop controller's)", err)
	}
	c.Ctl = "prop"
	var ce *rlhf.ConfigError
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "ppo.kl_horizon" {
		t.Errorf("prop with horizon 0: %v, want a ConfigError on ppo.kl_horizon", err)
	}
	c = rlhf.DefaultPPOConfig(0.5, 1)
	c.LR = 2
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "ppo.lr" {
		t.Errorf("lr 2: %v, want a ConfigError on ppo.lr", err)
	}
	// the CLI's usage errors for the fields above name the flags
	for _, args := range [][]string{{"rlhf", "ppo", "--kl-horizon", "0", "--kl-ctl", "prop"}, {"rlhf", "ppo", "--lr", "2"}} {
		code, _, stderr := vaeRunCLI(args...)
		if code != 2 || !strings.Contains(stderr, args[2]+" "+args[3]) {
			t.Errorf("%v: exit %d, %q; want 2 naming %s %s", args, code, stderr, args[2], args[3])
		}
	}
	// every field a PPO or prepare flag sets is mapped, so that no ConfigError of a flag's field
	// falls back to its config.json name
	f := newRLHFFlags("rlhf test", "", "x", io.Discard, prepareGroup, ppoGroup(0.5, true))
	for _, field := range []string{"ppo.updates", "ppo.batch", "ppo.minibatch", "ppo.epochs", "ppo.lr", "ppo.clip", "ppo.gamma",
		"ppo.lambda", "ppo.kl.beta", "ppo.kl.in", "ppo.kl.estimator", "ppo.kl_ctl", "ppo.kl_target", "ppo.kl_horizon",
		"sft_dir", "rm_dir", "rm.label_noise", "sft.epochs", "sft.train_sentences", "rm.pairs", "out"} {
		if name, ok := f.flagOf[field]; !ok || f.fs.Lookup(name) == nil {
			t.Errorf("field %s: no flag", field)
		}
	}
}

// TestRLHFMemoryIsCheckedBeforeAllocating: sizes within the bounds that would not fit in the
// memory the process may use are refused naming the flag, before anything is trained (GOMEMLIMIT
// stands in for a small machine).
func TestRLHFMemoryIsCheckedBeforeAllocating(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rlhf", "ppo", "--minibatch", "4000000"}, "--minibatch 4000000: the run needs about"},
		{[]string{"rlhf", "ppo", "--batch", "1000000"}, "--batch 1000000: the run needs about"},
		{[]string{"rlhf", "--minibatch", "4000000"}, "--minibatch 4000000: the run needs about"},
		{[]string{"rlhf", "sft", "--corpus", "10000000"}, "--corpus 10000000: the run needs about"},
		{[]string{"rlhf", "rm", "--pairs", "10000000"}, "--pairs 10000000: the run needs about"},
		{[]string{"rlhf", "bon", "--pool", "10000000"}, "--pool 10000000: the run needs about"},
		{[]string{"rlhf", "sweep", "--parallel", "200", "--batch", "2000"}, "--parallel 200: the run needs about"},
		// the group methods and the leash experiment (their runs were never checked)
		{[]string{"rlhf", "grpo", "--group", "8192"}, "--group 8192: the run needs about"},
		{[]string{"rlhf", "grpo", "--prompts", "8192", "--group", "8"}, "--prompts 8192: the run needs about"},
		{[]string{"rlhf", "grpo", "--distinct-prompts", "16384", "--distinct-samples", "64"}, "--distinct-prompts 16384: the run needs about"},
		{[]string{"rlhf", "rloo", "--k", "4096"}, "--k 4096: the run needs about"},
		{[]string{"rlhf", "rloo", "--minibatch", "1048576"}, "--minibatch 1048576: the run needs about"},
		{[]string{"rlhf", "leash", "--updates", "1000000"}, "--updates 1000000: the run needs about"},
		{[]string{"rlhf", "leash", "--parallel", "24", "--updates", "100000"}, "--parallel 24: the run needs about"},
	} {
		out := filepath.Join(dir, strings.Join(tc.args, "_"))
		code, _, stderr := vaeRunCLI(append(tc.args, "--out", out)...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "GOMEMLIMIT") {
			t.Errorf("%v: exit %d, %q; want 2, %q and the limit", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s was created: %v", tc.args, out, err)
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

// TestRLHFWrongModelDirectory: --sft and --rm given the --out of a whole pipeline (which holds
// the models one level down) are refused naming the flag and the subdirectory to give (the
// error was exit 1, "open R/rm.klnn: no such file or directory").
func TestRLHFWrongModelDirectory(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := vaeRunCLI(append([]string{"rlhf", "rm", "--out", dir}, tinyRLHF...)...); code != 0 {
		t.Fatalf("rm: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sft", dir, "--rm", filepath.Join(dir, "rm")}, "--sft " + strconv.Quote(dir) + ": no model.klppo here, but " + filepath.Join(dir, "sft") + " holds one"},
		{[]string{"--sft", filepath.Join(dir, "sft"), "--rm", dir}, "--rm " + strconv.Quote(dir) + ": no rm.klnn here, but " + filepath.Join(dir, "rm") + " holds one"},
	} {
		args := append(append([]string{"rlhf", "ppo", "--updates", "1", "--out", filepath.Join(t.TempDir(), "ppo")}, tc.args...), tinyRLHF...)
		code, _, stderr := vaeRunCLI(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRLHFSweepDirectory: --replot refuses what is not a complete RLHF sweep and leaves it as it
// was (a compare sweep.json was overwritten with an empty RLHF one, exit 0); a finished sweep is
// refused as the --out of a new one (pointing at --resume), resuming it has nothing to do, and
// its replot reproduces its table.
func TestRLHFSweepDirectory(t *testing.T) {
	root := t.TempDir()
	compare := filepath.Join(root, "compare")
	if err := os.MkdirAll(compare, 0o755); err != nil {
		t.Fatal(err)
	}
	cmp := `{"name":"","env":"CartPole-v1","penalties":["none"],"seeds":[1],"steps":512}`
	empty := filepath.Join(root, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for dir, content := range map[string]string{compare: cmp, empty: "{}"} {
		if err := os.WriteFile(filepath.Join(dir, rlhf.SweepFile), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := vaeRunCLI("rlhf", "sweep", "--replot", "--out", dir)
		if code != 2 || !strings.Contains(stderr, "--replot --out "+dir) {
			t.Errorf("replot of %s: exit %d, %q", content, code, stderr)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, rlhf.SweepFile)); string(data) != content {
			t.Errorf("replot changed %s/sweep.json to %s", dir, data)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("replot wrote into %s: %v", dir, entries)
		}
	}
	sweep := filepath.Join(root, "sweep")
	args := append([]string{"rlhf", "sweep", "--betas", "0,0.5", "--seeds", "3", "--pool", "200", "--updates", "2", "--batch", "16",
		"--minibatch", "32", "--out", sweep}, tinyRLHF...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 || !strings.Contains(stdout, "| 0.5 | 1 |") {
		t.Fatalf("sweep: exit %d: %s%s", code, stdout, stderr)
	}
	table, err := os.ReadFile(filepath.Join(sweep, rlhf.FrontierTable))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := vaeRunCLI(args...); code != 2 || !strings.Contains(stderr, "--resume") {
		t.Errorf("a second sweep into %s: exit %d, %q; want 2 pointing at --resume", sweep, code, stderr)
	}
	if code, _, stderr := vaeRunCLI("rlhf", "sweep", "--resume", "--out", sweep, "--quiet"); code != 0 {
		t.Errorf("resume of a complete sweep: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = vaeRunCLI("rlhf", "sweep", "--replot", "--out", sweep)
	if code != 0 || strings.TrimSpace(stdout) != strings.TrimSpace(string(table)) {
		t.Errorf("replot: exit %d, %q\n%s\nwant the table\n%s", code, stderr, stdout, table)
	}
}
