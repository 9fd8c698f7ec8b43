package rlhf

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFakeRun writes a run directory as any method would: metrics.csv with kl, gold_reward and
// proxy_reward columns (in another order, among other columns) and summary.json with seed,
// ref_gold, ref_proxy and the setting under key.
func writeFakeRun(t *testing.T, dir string, seed uint64, key string, setting, refGold float64, kl, gold []float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("step,gold_reward,entropy,kl,proxy_reward\n")
	for i := range kl {
		fmt.Fprintf(&b, "%d,%.17g,1,%.17g,%.17g\n", i, gold[i], kl[i], 2*gold[i])
	}
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf(`{"seed": %d, %q: %g, "ref_gold": %g, "ref_proxy": 0.5, "final_gold": 123}`, seed, key, setting, refGold)
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPathWindow(t *testing.T) {
	for n, want := range map[int]int{1: 3, 33: 3, 90: 3, 120: 5, 150: 5, 210: 7, 300: 11} {
		if got := PathWindow(n); got != want {
			t.Errorf("PathWindow(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestFrontierFromRunFiles: runs of two methods found by DiscoverRuns (the one under kl_coef, the
// other under beta; SFT-like directories without a seed are skipped), each run sitting at one
// d = √KL on Gao's RL law with known α, β: the per-method fits recover them; the final, peak and
// per-setting numbers follow their definitions; the tables and charts are written.
func TestFrontierFromRunFiles(t *testing.T) {
	root := t.TempDir()
	law := map[string]GaoFit{"ppo": {Kind: "rl", Alpha: 0.8, Beta: 0.4}, "grpo": {Kind: "rl", Alpha: 0.5, Beta: 0.2}}
	for m, key := range map[string]string{"ppo": "kl_coef", "grpo": "beta"} {
		for _, seed := range []uint64{1, 2} {
			ref := 0.01 * float64(seed)
			for k, d := range []float64{0.5, 1, 2, 3} {
				kl, gold := make([]float64, 12), make([]float64, 12)
				for i := range kl {
					kl[i], gold[i] = d*d, ref+law[m].Eval(d)
				}
				writeFakeRun(t, filepath.Join(root, m, fmt.Sprintf("seed-%d", seed), fmt.Sprintf("run-%d", k)), seed, key, float64(k), ref, kl, gold)
			}
		}
		// A stage directory (no seed in its summary): not a run.
		if err := os.MkdirAll(filepath.Join(root, m, "seed-1", "sft"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{MetricsFile, SummaryFile} {
			if err := os.WriteFile(filepath.Join(root, m, "seed-1", "sft", f), []byte("epoch,train_ce_token\n1,2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var refs []FrontierRunRef
	for _, m := range []string{"ppo", "grpo"} {
		rs, err := DiscoverRuns(m, filepath.Join(root, m))
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 8 || rs[0].Seed != 1 || rs[0].Setting != 0 || rs[7].Seed != 2 || rs[7].Setting != 3 {
			t.Fatalf("%s: discovered %+v", m, rs)
		}
		refs = append(refs, rs...)
	}
	// A path with a peak: gold 0, 0.3, 0.9, 0.6, 0 … smoothed over 3 rows is 0.15, 0.4, 0.6, 0.5,
	// 0.2 …: the peak is 0.6 at row 2 (not the single best row's 0.9), where the smoothed KL is 2.
	peakDir := filepath.Join(root, "dpo", "seed-1", "run")
	writeFakeRun(t, peakDir, 1, "beta", 0.1, 0, []float64{1, 1, 4, 1, 1, 1, 1, 1, 1, 1}, []float64{0, 0.3, 0.9, 0.6, 0, 0, 0, 0, 0, 0.1})
	refs = append(refs, FrontierRunRef{Method: "dpo", Setting: 0.1, Seed: 1, Dir: peakDir})
	f, err := NewFrontier(refs, nil, nil, 2.5)
	if err != nil {
		t.Fatal(err)
	}
	for m, want := range law {
		got := f.Fits[m]
		// d = 3 lies beyond fit_max_d 2.5: 3 distances × 2 seeds × 12 rows
		if got == nil || math.Abs(got.Alpha-want.Alpha) > 1e-9 || math.Abs(got.Beta-want.Beta) > 1e-9 || got.N != 72 {
			t.Errorf("%s: fit %+v, want α %v β %v on 72 rows", m, got, want.Alpha, want.Beta)
		}
	}
	var peak FrontierRun
	for _, r := range f.Runs {
		if r.Method == "dpo" {
			peak = r
		}
	}
	if peak.PeakRow != 2 || math.Abs(peak.PeakGold-0.6) > 1e-12 || math.Abs(peak.PeakKL-2) > 1e-12 || peak.FinalGold != 0.1 || peak.FinalKL != 1 {
		t.Errorf("peak run: row %d, peak %v at KL %v, final %v at KL %v; want row 2, 0.6 at 2, final 0.1 at 1",
			peak.PeakRow, peak.PeakGold, peak.PeakKL, peak.FinalGold, peak.FinalKL)
	}
	// The dpo fit is on the path smoothed over 3 rows, worked out by hand: KL 1, 2, 2, 2, 1, …, 1
	// and gold 0.15, 0.4, 0.6, 0.5, 0.2, 0, 0, 0, 1/30, 0.05.
	r2 := math.Sqrt(2)
	want, err := FitGao("rl", []float64{1, r2, r2, r2, 1, 1, 1, 1, 1, 1}, []float64{0.15, 0.4, 0.6, 0.5, 0.2, 0, 0, 0, 1.0 / 30, 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Fits["dpo"]; got == nil || math.Abs(got.Alpha-want.Alpha) > 1e-12 || math.Abs(got.Beta-want.Beta) > 1e-12 || got.N != 10 {
		t.Errorf("dpo fit %+v, want %+v", got, want)
	}
	best := f.Best()
	if len(best) != 3 || best[0].Method != "ppo" || best[2].Method != "dpo" {
		t.Fatalf("best rows %+v", best)
	}
	// PPO's law peaks at d* = e^(α/β − 1) = e: of the settings (d = 0.5, 1, 2, 3) d = 3 is best.
	if best[0].Setting != 3 || best[0].Seeds != 2 || math.Abs(best[0].PeakGold-(0.015+law["ppo"].Eval(3))) > 1e-12 {
		t.Errorf("ppo's best row %+v", best[0])
	}
	md, err := f.Save(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| ppo | β = 3 | 2 |", "d(0.80 − 0.40 ln d), RMSE 0.000", "| grpo | β = 3 |", "| dpo | 0.1 | 1 | 0.600 ± 0.000 | 2.00 | 0.100"} {
		if !strings.Contains(md, s) {
			t.Errorf("the table lacks %q:\n%s", s, md)
		}
	}
	for _, file := range []string{"frontier-methods.json", "frontier-methods.csv", "frontier-methods.md", "frontier-methods-gold.png", "frontier-methods-gold-zoom.png"} {
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Error(err)
		}
	}
}

func TestGaoLawText(t *testing.T) {
	for _, tc := range []struct {
		f    GaoFit
		want string
	}{
		{GaoFit{Kind: "rl", Alpha: 0.453, Beta: 0.459}, "d(0.45 − 0.46 ln d)"},
		{GaoFit{Kind: "rl", Alpha: 0.37, Beta: -0.3}, "d(0.37 + 0.30 ln d)"},
		{GaoFit{Kind: "bon", Alpha: 0.806, Beta: 0.31}, "d(0.81 − 0.31 d)"},
	} {
		if got := tc.f.Law(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestFrontierConfigValidate: every field of the frontier's configuration is the library's to
// check, and each failure is a *ConfigError naming the field as the configuration spells it — the
// DPO template's learning rate is "grid.dpo.lr", not the DPO command's "dpo.lr". RunFrontier
// refuses an invalid configuration before it reads the sweep or writes anything.
func TestFrontierConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*FrontierConfig)
		field string // "" = valid
	}{
		{"default", func(c *FrontierConfig) {}, ""},
		{"another method", func(c *FrontierConfig) { c.Methods = map[string]string{"grpo": "runs/leash", "rloo": "x"} }, ""},
		{"fit over every row", func(c *FrontierConfig) { c.FitMaxD = 0 }, ""},
		{"fit up to d = 2", func(c *FrontierConfig) { c.FitMaxD = 2 }, ""},
		{"no sweep", func(c *FrontierConfig) { c.Sweep = "" }, "sweep"},
		{"no arms", func(c *FrontierConfig) { c.Grid.Arms = nil }, "grid.arms"},
		{"an arm twice", func(c *FrontierConfig) { c.Grid.Arms = append(c.Grid.Arms, c.Grid.Arms[0]) }, "grid.arms"},
		{"an arm with β 0", func(c *FrontierConfig) { c.Grid.Arms[0].Beta = 0 }, "grid.arms"},
		{"parallel 0", func(c *FrontierConfig) { c.Grid.Parallel = 0 }, "grid.parallel"},
		{"lr −1", func(c *FrontierConfig) { c.Grid.DPO.LR = -1 }, "grid.dpo.lr"},
		{"lr NaN", func(c *FrontierConfig) { c.Grid.DPO.LR = math.NaN() }, "grid.dpo.lr"},
		{"epochs 0", func(c *FrontierConfig) { c.Grid.DPO.Epochs = 0 }, "grid.dpo.epochs"},
		{"batch 0", func(c *FrontierConfig) { c.Grid.DPO.Batch = 0 }, "grid.dpo.batch"},
		{"gradient norm 0", func(c *FrontierConfig) { c.Grid.DPO.MaxGrad = 0 }, "grid.dpo.max_grad_norm"},
		{"evaluations 0", func(c *FrontierConfig) { c.Grid.DPO.EvalsPerEpoch = 0 }, "grid.dpo.evals_per_epoch"},
		{"evaluation samples 0", func(c *FrontierConfig) { c.Grid.DPO.EvalSamples = 0 }, "grid.dpo.eval_samples"},
		{"mass every −2", func(c *FrontierConfig) { c.Grid.DPO.MassEvery = -2 }, "grid.dpo.mass_every"},
		{"reference samples 0", func(c *FrontierConfig) { c.Grid.DPO.RefSamples = 0 }, "grid.dpo.ref_samples"},
		{"a method without a name", func(c *FrontierConfig) { c.Methods = map[string]string{"": "x"} }, "methods"},
		{"a method without a directory", func(c *FrontierConfig) { c.Methods = map[string]string{"grpo": ""} }, "methods"},
		{"a method named bon", func(c *FrontierConfig) { c.Methods = map[string]string{"bon": "x"} }, "methods"},
		{"a method name with a comma", func(c *FrontierConfig) { c.Methods = map[string]string{"a,b": "x"} }, "methods"},
		{"a method name with a bar", func(c *FrontierConfig) { c.Methods = map[string]string{"a|b": "x"} }, "methods"},
		{"fit range NaN", func(c *FrontierConfig) { c.FitMaxD = math.NaN() }, "fit_max_d"},
		{"fit range +Inf", func(c *FrontierConfig) { c.FitMaxD = math.Inf(1) }, "fit_max_d"},
	} {
		c := DefaultFrontierConfig("runs/sweep")
		tc.edit(&c)
		wantField(t, tc.name, c.Validate(), tc.field)
	}
	c := DefaultFrontierConfig(filepath.Join(t.TempDir(), "no-sweep"))
	c.Grid.DPO.LR = -1
	dir := t.TempDir()
	_, _, err := RunFrontier(context.Background(), c, dir, DPOGridOptions{})
	if err == nil || !strings.Contains(err.Error(), "grid.dpo.lr = -1: want a number in (0, 1]") {
		t.Errorf("RunFrontier with lr −1 and no sweep: %v, want the lr named first", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
		t.Errorf("RunFrontier wrote %v (%v) before refusing", ents, err)
	}
}
