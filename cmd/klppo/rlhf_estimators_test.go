package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/experiments/estimators"
	"klppo/kl"
)

func TestRLHFEstimatorsDefault(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"rlhf", "estimators", "--trials", "200", "--table-samples", "20000"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	verdict := map[string]estimators.Follows{
		"k1-reward": estimators.FollowsReverse, "k2-reward": estimators.FollowsOther, "k3-reward": estimators.FollowsDifference,
		"k1-loss": estimators.FollowsNone, "k2-loss": estimators.FollowsReverse, "k3-loss": estimators.FollowsForward,
		"k3-loss-is": estimators.FollowsReverse, "exact-loss": estimators.FollowsReverse,
	}
	for name, f := range verdict {
		found := false
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), name+" ") && strings.HasSuffix(line, f.Verdict()) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line for %s ending with the verdict %q in\n%s", name, f.Verdict(), s)
		}
	}
	for _, want := range []string{"1. Exact expected gradient", "2. Monte Carlo: 16 samples", "4. Schulman's table", "π* ∝ π_ref·exp(r/β)"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestRLHFEstimatorsJSON checks the --json contract's keys and its numbers against closed forms
// computed here from the flags.
func TestRLHFEstimatorsJSON(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"rlhf", "estimators", "--logits", "1,0,-1", "--ref-logits", "0,0.5,0", "--reward", "0,1,0.3", "--beta", "0.5",
		"--samples", "0", "--table-samples", "1000", "--json"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var j struct {
		Pi            []float64 `json:"pi"`
		PiRef         []float64 `json:"pi_ref"`
		KLReverse     *float64  `json:"kl_reverse"`
		KLForward     *float64  `json:"kl_forward"`
		GradTrue      []float64 `json:"grad_true"`
		GradKLReverse []float64 `json:"grad_kl_reverse"`
		GradKLForward []float64 `json:"grad_kl_forward"`
		Configs       map[string]struct {
			Grad []float64 `json:"grad"`
		} `json:"configs"`
		Optimum []float64 `json:"optimum"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	theta, ref, r, beta := []float64{1, 0, -1}, []float64{0, 0.5, 0}, []float64{0, 1, 0.3}, 0.5
	klr, err1 := kl.KLLogits(theta, ref)
	klf, err2 := kl.KLLogits(ref, theta)
	if err1 != nil || err2 != nil || j.KLReverse == nil || j.KLForward == nil {
		t.Fatalf("%v %v; kl keys %v %v", err1, err2, j.KLReverse, j.KLForward)
	}
	if math.Abs(*j.KLReverse-klr) > 1e-14 || math.Abs(*j.KLForward-klf) > 1e-14 {
		t.Errorf("kl_reverse %g kl_forward %g, want %g %g", *j.KLReverse, *j.KLForward, klr, klf)
	}
	if len(j.Configs) != len(estimators.Configs) {
		t.Errorf("configs %v, want the %d names %v", j.Configs, len(estimators.Configs), estimators.Configs)
	}
	for _, name := range estimators.Configs {
		if len(j.Configs[name].Grad) != 3 {
			t.Errorf("configs[%q].grad = %v", name, j.Configs[name].Grad)
		}
	}
	var z float64
	want := make([]float64, 3)
	for i := range want {
		want[i] = math.Exp(ref[i] + r[i]/beta)
		z += want[i]
	}
	for i := range want {
		pi, piRef := j.Pi[i], j.PiRef[i]
		if math.Abs(j.Optimum[i]-want[i]/z) > 1e-14 {
			t.Errorf("optimum %v, want π_ref·exp(r/β)/Z", j.Optimum)
		}
		if math.Abs(j.GradKLForward[i]-(pi-piRef)) > 1e-14 {
			t.Errorf("grad_kl_forward %v, want π − π_ref", j.GradKLForward)
		}
		if math.Abs(j.Configs["k1-reward"].Grad[i]-j.GradTrue[i]) > 1e-14 ||
			math.Abs(j.Configs["k3-loss"].Grad[i]-(j.GradTrue[i]+beta*(j.GradKLReverse[i]-j.GradKLForward[i]))) > 1e-14 {
			t.Errorf("k1-reward %v / k3-loss %v inconsistent with grad_true %v", j.Configs["k1-reward"].Grad, j.Configs["k3-loss"].Grad, j.GradTrue)
		}
	}
}

func TestRLHFEstimatorsBadInput(t *testing.T) {
	arms := strings.Repeat("0,", 999) + "0" // 1000 arms
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--reward", "1,2,3"}, "--reward"}, // default --ref-logits has 5 values
		{[]string{"--logits", "0,0", "--ref-logits", "0,0", "--reward", "0,1,2"}, "--reward"},
		{[]string{"--beta", "0"}, "--beta"},
		{[]string{"--beta", "-1"}, "--beta"},
		{[]string{"--beta", "NaN"}, "--beta"},
		{[]string{"--logits", "0,NaN,0,0,0"}, "--logits"},
		{[]string{"--logits", "0", "--ref-logits", "0", "--reward", "1"}, "--logits"},
		{[]string{"--ref-logits", "0", "--reward", "1"}, "--ref-logits"},
		{[]string{"--samples", "-1"}, "--samples"},
		{[]string{"--trials", "1"}, "--trials"},
		{[]string{"--out", "x"}, "--out"},
		{[]string{"--reward", "a,b"}, "-reward"},
		// memory follows these counts: refused before anything is allocated (they used to
		// crash with "fatal error: runtime: out of memory")
		{[]string{"--samples", "1000000000000"}, "--samples 1000000000000"},
		{[]string{"--trials", "100000000000"}, "--trials 100000000000"},
		{[]string{"--table-samples", "100000000000"}, "--table-samples 100000000000"},
		{[]string{"--trials", "1000000", "--ref-logits", arms, "--reward", arms}, "--trials 1000000"},
		// past these bounds the report held NaN with exit status 0
		{[]string{"--beta", "1e300"}, "--beta 1e+300: must be in (0, 1e+06]"},
		{[]string{"--logits", "800,0,0,0,0"}, "--logits 800,0,0,0,0: value 0 is 800: must be within ±150"},
		{[]string{"--reward", "1e200,0,0,0,0"}, "--reward 1e+200,0,0,0,0: value 0 is 1e+200"},
		// an empty --out used to mean "no chart" silently
		{[]string{"--optimise", "--out", ""}, `--out ""`},
		{[]string{"--out", ""}, `--out ""`},
		// a length mismatch names the flag the user gave and shows the default it was compared with
		{[]string{"--logits", "0,0"}, "--logits 0,0: 2 values, but --ref-logits (default 1,0.5,0,-0.5,-2) has 5"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"rlhf", "estimators"}, tc.args...), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.flag) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tc.args, code, errb.String(), tc.flag)
		}
	}
}

// TestRLHFEstimatorsOutIsAFile: --out naming a file is bad input (exit 2, naming --out) found
// before the work, not a failure after it (it was exit 1 once the optimiser had run).
func TestRLHFEstimatorsOutIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "FILE")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"rlhf", "estimators", "--optimise", "--out", file, "--samples", "0", "--table-samples", "100"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "--out "+file) || out.Len() != 0 {
		t.Errorf("exit %d, stderr %q, %d bytes of output; want 2 naming --out before any output", code, errb.String(), out.Len())
	}
}

func TestRLHFEstimatorsOptimise(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"rlhf", "estimators", "--optimise", "--max-iter", "3000", "--samples", "0", "--table-samples", "1000", "--out", dir}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "3. Gradient ascent") || !strings.Contains(out.String(), "converged") {
		t.Errorf("no optimiser table in\n%s", out.String())
	}
	if fi, err := os.Stat(filepath.Join(dir, estimators.ChartFile)); err != nil || fi.Size() < 10000 {
		t.Errorf("chart: %v", err)
	}
}
