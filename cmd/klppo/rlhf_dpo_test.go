package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/experiments/rlhf"
)

// tinyDPO are flags that make a DPO run take about a second: 200 pairs, 2 epochs of 32-pair
// steps, two evaluations of 64 samples per epoch.
var tinyDPO = []string{"--epochs", "2", "--batch", "32", "--evals-per-epoch", "2", "--eval-samples", "64"}

// TestRLHFDPOWritesTheContract: `klppo rlhf dpo --seed S --loss dpo|ipo --beta B --out DIR
// --quiet` writes config.json, metrics.csv (one row per evaluation), samples.jsonl and a
// summary.json with the numbers the issue names; --label-noise 0 (deterministic preferences)
// is accepted; the second run reuses the first's π_ref and reward model.
func TestRLHFDPOWritesTheContract(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		loss, beta string
		extra      []string
	}{
		{"dpo", "0.2", []string{"--label-noise", "0"}},
		// --pairs 150 is ignored: a loaded reward model's pairs are its own (200)
		{"ipo", "0.5", []string{"--sft", "DIR/dpo/sft", "--rm", "DIR/dpo/rm", "--label-noise", "0", "--pairs", "150"}},
	} {
		out := filepath.Join(dir, tc.loss)
		args := append([]string{"rlhf", "dpo", "--seed", "3", "--loss", tc.loss, "--beta", tc.beta, "--out", out}, tinyRLHF...)
		args = append(args, tinyDPO...)
		for _, e := range tc.extra {
			args = append(args, strings.ReplaceAll(e, "DIR", dir))
		}
		code, stdout, stderr := vaeRunCLI(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.loss, code, stderr)
		}
		for _, f := range []string{rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile, "dpo-kl.png", "dpo-mass.png"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: missing %s: %v", tc.loss, f, err)
			}
		}
		data, err := os.ReadFile(filepath.Join(out, rlhf.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		var sum map[string]any
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"ref_gold", "final_gold", "peak_gold", "final_kl", "peak_kl", "final_chosen_logp_change",
			"final_rejected_logp_change", "heldout_pair_acc"} {
			if _, ok := sum[k].(float64); !ok {
				t.Errorf("%s: summary.json lacks the number %q: %s", tc.loss, k, data)
			}
		}
		if sum["method"] != tc.loss || sum["label_noise"] != 0.0 || sum["complete"] != true {
			t.Errorf("%s: summary method %v, label noise %v, complete %v", tc.loss, sum["method"], sum["label_noise"], sum["complete"])
		}
		ms, err := rlhf.ReadDPOMetrics(filepath.Join(out, rlhf.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 5 || ms[len(ms)-1].Epoch != 2 {
			t.Errorf("%s: %d evaluations ending at epoch %v, want 5 ending at 2", tc.loss, len(ms), ms[len(ms)-1].Epoch)
		}
		if !strings.Contains(stdout, "π_ref") || !strings.Contains(stdout, "gold peaked") {
			t.Errorf("%s: no table:\n%s", tc.loss, stdout)
		}
	}
	// The pairs of the loaded reward model are the first run's (200 of them, not --pairs 150), and
	// both runs start from the same π_ref.
	a, err := rlhf.ReadDPOSummary(filepath.Join(dir, "dpo", rlhf.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := rlhf.ReadDPOSummary(filepath.Join(dir, "ipo", rlhf.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if a.RefGold != b.RefGold || a.Pairs != b.Pairs || a.SamplesStart[0] != b.SamplesStart[0] {
		t.Errorf("the ipo run loaded π_ref and the reward model of the dpo run but starts elsewhere: %v/%v, %d/%d pairs",
			a.RefGold, b.RefGold, a.Pairs, b.Pairs)
	}
}

func TestRLHFDPOBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rlhf", "dpo", "--loss", "kto"}, `loss "kto"`},
		{[]string{"rlhf", "dpo", "--beta", "0"}, "beta 0"},
		{[]string{"rlhf", "dpo", "--beta", "-1"}, "beta -1"},
		{[]string{"rlhf", "dpo", "--logp", "max"}, `logp "max"`},
		{[]string{"rlhf", "dpo", "--epochs", "0"}, "epochs 0"},
		{[]string{"rlhf", "dpo", "--label-noise", "-0.1"}, "--label-noise -0.1"},
		{[]string{"rlhf", "dpo", "--mass-every", "-2"}, "--mass-every -2"},
		{[]string{"rlhf", "drift", "--arms", "dpo"}, `arm "dpo"`},
		{[]string{"rlhf", "drift", "--arms", "dpo:0.1,dpo:0.1"}, "appears twice"},
		{[]string{"rlhf", "drift", "--seeds", "1,x"}, `--seeds "1,x"`},
		{[]string{"rlhf", "drift", "--rm", "x"}, "--sft/--rm"},
	} {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRLHFDriftWritesItsReport: a one-seed, one-epoch drift of two arms writes its table, its
// charts and both runs.
func TestRLHFDriftWritesItsReport(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"rlhf", "drift", "--seeds", "2", "--arms", "dpo:0.1,ipo-sum:0.1", "--epochs", "1", "--batch", "32",
		"--out", dir}, tinyRLHF...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"drift.md", "drift.json", "drift-kl.png", "seed-2/dpo-beta-0.1/summary.json", "seed-2/ipo-sum-beta-0.1/metrics.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "| dpo β 0.1 | 1 |") || !strings.Contains(stdout, "| ipo (sum) β 0.1 | 1 |") {
		t.Errorf("table:\n%s", stdout)
	}
	// --resume redoes the report from the finished runs without training them again.
	metrics := filepath.Join(dir, "seed-2", "dpo-beta-0.1", rlhf.MetricsFile)
	before, err := os.Stat(metrics)
	if err != nil {
		t.Fatal(err)
	}
	code, again, stderr := vaeRunCLI(append(args, "--resume")...)
	table := func(s string) string { return s[:strings.LastIndex(s, "wrote ")] } // the last line has the time
	if code != 0 || table(again) != table(stdout) {
		t.Errorf("--resume: exit %d, %s\n%s", code, stderr, again)
	}
	if after, err := os.Stat(metrics); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("--resume trained a finished run again (%v)", err)
	}
}

// TestRLHFFrontier: a tiny sweep, then the frontier on it with one DPO and one IPO arm; again
// with --resume (nothing trains: the DPO runs are kept) and another method's runs (--method,
// here the DPO runs of seed 1 found by their files) — every method gets its rows and its fit.
func TestRLHFFrontier(t *testing.T) {
	dir := t.TempDir()
	sweep, out := filepath.Join(dir, "sweep"), filepath.Join(dir, "frontier")
	args := append([]string{"rlhf", "sweep", "--betas", "0,0.5", "--seeds", "1,2", "--updates", "4", "--batch", "16",
		"--minibatch", "32", "--pool", "300", "--out", sweep}, tinyRLHF...)
	if code, _, stderr := vaeRunCLI(args...); code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	args = append([]string{"rlhf", "frontier", "--sweep", sweep, "--out", out, "--arms", "dpo:0.1,ipo:1", "--quiet"}, tinyDPO...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("frontier: exit %d: %s", code, stderr)
	}
	for _, s := range []string{"| ppo | β = ", "| dpo | β = 0.1 | 2 |", "| ipo | β = 1 | 2 |", "| best-of-n | n = ", "| ppo | 0.5 | 2 |"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("the table lacks %q:\n%s", s, stdout)
		}
	}
	for _, f := range []string{"frontier-methods.md", "frontier-methods.csv", "frontier-methods-gold.png", "seed-2/ipo-beta-1/summary.json", "run.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	metrics := filepath.Join(out, "seed-1", "dpo-beta-0.1", rlhf.MetricsFile)
	before, err := os.Stat(metrics)
	if err != nil {
		t.Fatal(err)
	}
	// Into the same directory without --resume: refused.
	if code, _, stderr := vaeRunCLI(args...); code != 2 || !strings.Contains(stderr, "--force") {
		t.Errorf("again without --resume: exit %d, %s", code, stderr)
	}
	args = append(args, "--resume", "--method", "other="+filepath.Join(out, "seed-1"))
	code, stdout, stderr = vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("frontier --resume: exit %d: %s", code, stderr)
	}
	if after, err := os.Stat(metrics); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("--resume trained a finished run again (%v)", err)
	}
	if !strings.Contains(stdout, "| other | 0.1 | 1 |") || !strings.Contains(stdout, "| other | 1 | 1 |") {
		t.Errorf("the other method's runs are missing:\n%s", stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rlhf", "frontier"}, "--sweep"},
		{[]string{"rlhf", "frontier", "--sweep", sweep, "--method", "x"}, "NAME=DIR"},
		{[]string{"rlhf", "frontier", "--sweep", sweep, "--arms", "ipo:0"}, "dpo.beta = 0"},
		{[]string{"rlhf", "frontier", "--sweep", filepath.Join(dir, "nothing"), "--out", filepath.Join(dir, "x")}, "nothing"},
	} {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRLHFFrontierBadFlags: the frontier's configuration is checked by the library
// (rlhf.FrontierConfig.Validate) and each error names the frontier's flag with the value given,
// as every rlhf command does (a bad --lr was reported as the DPO stage's "dpo.lr"), before the
// sweep is read or --out is created.
func TestRLHFFrontierBadFlags(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "frontier")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lr", "-1"}, "klppo rlhf frontier: --lr -1: want a number in (0, 1]"},
		{[]string{"--epochs", "0"}, "--epochs 0: want 1 to 100000"},
		{[]string{"--batch", "0"}, "--batch 0: want 1 to 10000000 pairs"},
		{[]string{"--evals-per-epoch", "0"}, "--evals-per-epoch 0: want 1 to 1000000"},
		{[]string{"--eval-samples", "0"}, "--eval-samples 0: want 1 to 1048576 sequences"},
		{[]string{"--mass-every", "-2"}, "--mass-every -2: want ≥ −1"},
		{[]string{"--parallel", "0"}, "--parallel 0: want 1 to 256"},
		{[]string{"--batch", "20000000"}, "--batch 20000000: want 1 to 10000000 pairs"},
		{[]string{"--eval-samples", "2000000"}, "--eval-samples 2000000: want 1 to 1048576 sequences"},
		{[]string{"--method", "bon=x"}, "--method bon=x: bon: is the frontier's name of best-of-n"},
		{[]string{"--fit-max-d", "NaN"}, "--fit-max-d NaN: want a finite number"},
		{[]string{"--sweep", ""}, `--sweep "": give the directory of a finished 'klppo rlhf sweep'`},
	} {
		args := append([]string{"rlhf", "frontier", "--sweep", filepath.Join(dir, "no-sweep"), "--out", out}, tc.args...)
		code, _, stderr := vaeRunCLI(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s was created (%v)", tc.args, out, err)
		}
	}
}
