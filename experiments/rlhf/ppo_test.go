package rlhf

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/kl"
	"klppo/ppo"
)

// TestTokenRewardHandExample works the per-token KL reward out by hand for a 3-token completion
// with score 2 and β = 0.1: l = ln π − ln π_ref = (0.5, −1, 0).
func TestTokenRewardHandExample(t *testing.T) {
	logPi := []float64{-1, -2, -0.5}
	logRef := []float64{-1.5, -1, -0.5}
	score := []float64{0, 0, 2}
	for _, tc := range []struct {
		est  kl.Estimator
		in   ppo.KLRefPlacement
		want []float64
	}{
		// k1: r = score − β·l
		{kl.K1, ppo.KLInReward, []float64{-0.05, 0.1, 2}},
		// k2: r = score − β·l²/2
		{kl.K2, ppo.KLInReward, []float64{-0.0125, -0.05, 2}},
		// k3: r = score − β·(e^(−l) − 1 + l): e^(−0.5) − 0.5 = 0.1065307, e − 2 = 0.7182818
		{kl.K3, ppo.KLInReward, []float64{-0.1 * (math.Exp(-0.5) - 0.5), -0.1 * (math.E - 2), 2}},
		// in the loss the reward is the score alone
		{kl.K1, ppo.KLInLoss, []float64{0, 0, 2}},
	} {
		klr := ppo.KLRef{Estimator: tc.est, In: tc.in, Beta: 0.1}
		for i := range logPi {
			got, err := TokenReward(klr, ppo.KLRefToken{LogPi: logPi[i], LogRef: logRef[i], LogOld: logPi[i]}, score[i])
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want[i]) > 1e-12 {
				t.Errorf("%s-%s token %d: r = %.9f, want %.9f", tc.est, tc.in, i, got, tc.want[i])
			}
		}
	}
	// The exact estimator: a 2-word vocabulary with π = (0.8, 0.2), π_ref = (0.5, 0.5):
	// KL = 0.8 ln 1.6 + 0.2 ln 0.4 whatever the sampled token.
	klr := ppo.KLRef{Estimator: kl.Exact, In: ppo.KLInReward, Beta: 0.5}
	row, ref := []float64{math.Log(0.8), math.Log(0.2)}, []float64{math.Log(0.5), math.Log(0.5)}
	got, err := TokenReward(klr, ppo.KLRefToken{LogPi: row[1], LogRef: ref[1], LogOld: row[1], LogPiRow: row, LogRefRow: ref}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 - 0.5*(0.8*math.Log(1.6)+0.2*math.Log(0.4)); math.Abs(got-want) > 1e-12 {
		t.Errorf("exact: r = %v, want %v", got, want)
	}
}

// randomModel is a tiny float64 model with weights perturbed away from the near-uniform init.
func randomModel(t *testing.T, seed uint64, v, maxLen int) *Model {
	t.Helper()
	m, err := NewModel(rand.New(rand.NewPCG(seed, 1)), ModelConfig{V: v, MaxLen: maxLen, Hidden: []int{6}, DType: "float64", Act: "tanh"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.AC.PolicyParams() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += rng.NormFloat64()
		}
	}
	return m
}

// TestSequenceKLEqualsEnumeratedKL: for two tiny autoregressive models (3 words, sequences cut
// at 4 tokens) the expectation under π of the sum of per-position full-vocabulary KLs equals the
// KL between their sequence distributions, computed by enumerating every sequence; so does the
// expectation of the k1 sum, and that of the k3 sum (unbiased too).
func TestSequenceKLEqualsEnumeratedKL(t *testing.T) {
	const V, L = 3, 4
	pi, ref := randomModel(t, 1, V, L), randomModel(t, 2, V, L)
	var total, klSeq, eExact, eK1, eK3 float64
	n := 0
	var walk func(x []int) error
	walk = func(x []int) error {
		if pi.Cfg.Done(x) {
			lp, err := pi.LogProb(x)
			if err != nil {
				return err
			}
			lq, err := ref.LogProb(x)
			if err != nil {
				return err
			}
			p := math.Exp(lp)
			exact, k1, k3, err := SequenceKL(pi, ref, x)
			if err != nil {
				return err
			}
			total += p
			klSeq += p * (lp - lq)
			eExact += p * exact
			eK1 += p * k1
			eK3 += p * k3
			n++
			return nil
		}
		for w := 0; w < V; w++ {
			if err := walk(append(append([]int(nil), x...), w)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(nil); err != nil {
		t.Fatal(err)
	}
	if math.Abs(total-1) > 1e-12 {
		t.Fatalf("π sums to %v over %d sequences", total, n)
	}
	if !(klSeq > 0.05) {
		t.Fatalf("KL(π‖π_ref) = %v: models too close for a meaningful test", klSeq)
	}
	for name, v := range map[string]float64{"exact per-position sum": eExact, "k1 sum": eK1, "k3 sum": eK3} {
		if math.Abs(v-klSeq) > 1e-10 {
			t.Errorf("E_π[%s] = %.12f, enumerated KL(π‖π_ref) = %.12f", name, v, klSeq)
		}
	}
}

func TestGaoFitRecoversParameters(t *testing.T) {
	for _, kind := range []string{"rl", "bon"} {
		want := GaoFit{Kind: kind, Alpha: 0.8, Beta: 0.3}
		var d, r []float64
		for i := 1; i <= 40; i++ { // d up to 8: both laws peak within (rl at e^(0.8/0.3 − 1) ≈ 5.3)
			x := 0.2 * float64(i)
			d, r = append(d, x), append(r, want.Eval(x))
		}
		f, err := FitGao(kind, d, r)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(f.Alpha-0.8) > 1e-9 || math.Abs(f.Beta-0.3) > 1e-9 || f.RMSE > 1e-9 || !f.Peaked {
			t.Errorf("%s: fit %+v, want α 0.8 β 0.3", kind, f)
		}
		// The peak is a maximum of R: R(d*) ≥ R(d* ± 0.01) and R(d*) = PeakGain.
		if math.Abs(f.Eval(f.PeakD)-f.PeakGain) > 1e-9 || f.Eval(f.PeakD+0.01) > f.PeakGain || f.Eval(f.PeakD-0.01) > f.PeakGain {
			t.Errorf("%s: peak %v at d = %v is not the maximum", kind, f.PeakGain, f.PeakD)
		}
	}
	// The same law seen only up to d = 2 still rises there: its maximum at d ≈ 5.3 is an
	// extrapolation, which the fit does not report as a peak.
	law := GaoFit{Kind: "rl", Alpha: 0.8, Beta: 0.3}
	var d, r []float64
	for i := 1; i <= 10; i++ {
		d, r = append(d, 0.2*float64(i)), append(r, law.Eval(0.2*float64(i)))
	}
	if f, err := FitGao("rl", d, r); err != nil || f.Peaked || f.PeakD != 0 || math.Abs(f.MaxD-2) > 1e-12 {
		t.Errorf("fit on d ≤ 2: %+v, %v; want no peak, MaxD 2", f, err)
	}
	if _, err := FitGao("rl", []float64{1}, []float64{1}); err == nil {
		t.Error("a fit from one point succeeded")
	}
}

// tinyPrepare is a fast pipeline for tests (≈ 1 s).
func tinyPrepare(t *testing.T, dir string) Prepared {
	t.Helper()
	pc := DefaultPrepareConfig(7)
	pc.SFT.Train, pc.SFT.Test, pc.SFT.Epochs = 600, 100, 2
	pc.RM.Pairs, pc.RM.TestPairs, pc.RM.Epochs = 400, 100, 5
	p, err := Prepare(context.Background(), pc, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tinyPPO(beta float64) PPOConfig {
	c := DefaultPPOConfig(beta, 7)
	c.Updates, c.Batch, c.Minibatch, c.RefSamples = 4, 16, 32, 64
	return c
}

// TestPPODeterministic: the same seed gives bit-identical metrics (timings aside), for every
// placement of the KL; the files of the output contract are written.
func TestPPODeterministic(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	for _, name := range []string{"k1-reward", "exact-reward", "k3-loss", "exact-loss"} {
		cfg := tinyPPO(0.2)
		klr, err := ppo.ParseKLRef(name, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		cfg.KL = klr
		switch name {
		case "exact-loss":
			cfg.Ctl, cfg.Target = "prop", 1
		case "k3-loss":
			cfg.Ctl, cfg.Target = "adaptive", 0.5
		}
		var runs [2][]UpdateMetrics
		var sums [2]Summary
		for k := range runs {
			d := filepath.Join(dir, name, string(rune('a'+k)))
			s, err := RunPPO(context.Background(), p.Env, cfg, d, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ms, err := ReadMetrics(filepath.Join(d, MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			for i := range ms {
				ms[i].WallS, ms[i].TokensPerS, ms[i].RolloutS, ms[i].LearnS = 0, 0, 0, 0
			}
			runs[k], sums[k] = ms, s
			if _, err := ReadSummary(filepath.Join(d, SummaryFile)); err != nil {
				t.Fatal(err)
			}
		}
		if len(runs[0]) != cfg.Updates || !sums[0].Complete {
			t.Fatalf("%s: %d updates, complete %v", name, len(runs[0]), sums[0].Complete)
		}
		for i := range runs[0] {
			if runs[0][i] != runs[1][i] {
				t.Errorf("%s update %d differs:\n%+v\n%+v", name, i+1, runs[0][i], runs[1][i])
			}
		}
		if sums[0].FinalGold != sums[1].FinalGold || sums[0].RefProxy != sums[1].RefProxy {
			t.Errorf("%s: summaries differ", name)
		}
	}
}

// TestPPORaisesProxy: 25 updates without a leash raise the reward-model score well above π_ref's.
func TestPPORaisesProxy(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	cfg := tinyPPO(0)
	cfg.Updates, cfg.Batch, cfg.Minibatch, cfg.RefSamples = 25, 32, 128, 256
	s, err := RunPPO(context.Background(), p.Env, cfg, filepath.Join(dir, "ppo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(s.FinalProxy > s.RefProxy+0.5) || !(s.FinalKL > 0.5) {
		t.Errorf("proxy %v → %v, KL %v: PPO did not optimise the reward model", s.RefProxy, s.FinalProxy, s.FinalKL)
	}
}

// TestSweepParallelMatchesSerial: a tiny sweep (2 β × 1 seed + best-of-n) gives the same runs
// with 1 and 2 workers, and fits and writes its table, CSV and charts.
func TestSweepParallelMatchesSerial(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultSweepConfig()
	cfg.Betas, cfg.Seeds, cfg.BoNNs, cfg.BoNPool = []float64{0, 0.5}, []uint64{4}, []int{1, 2, 4, 8}, 2000
	cfg.PPO = tinyPPO(0)
	cfg.Prepare.SFT.Train, cfg.Prepare.SFT.Test, cfg.Prepare.SFT.Epochs = 600, 100, 2
	cfg.Prepare.RM.Pairs, cfg.Prepare.RM.TestPairs, cfg.Prepare.RM.Epochs = 400, 100, 5
	var res [2]*SweepResult
	for k, par := range []int{1, 2} {
		cfg.Parallel = par
		r, err := Sweep(context.Background(), cfg, filepath.Join(dir, string(rune('a'+k))), SweepOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res[k] = r
	}
	if len(res[0].Runs) != 2 || len(res[1].Runs) != 2 {
		t.Fatalf("runs: %d and %d, want 2", len(res[0].Runs), len(res[1].Runs))
	}
	for i := range res[0].Runs {
		a, b := res[0].Runs[i].Summary, res[1].Runs[i].Summary
		if a.FinalGold != b.FinalGold || a.FinalKL != b.FinalKL || a.FinalProxy != b.FinalProxy {
			t.Errorf("run %d: serial %+v, parallel %+v", i, a, b)
		}
	}
	table, err := res[1].Save(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sweep.json", "frontier.csv", "frontier.md", "frontier-gold.png", "frontier-proxy.png"} {
		if _, err := os.Stat(filepath.Join(dir, "b", f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(table, "| 0.5 | 1 |") || !strings.Contains(table, "n = 8") {
		t.Errorf("table:\n%s", table)
	}
}

// BenchmarkPPOUpdate measures one token-level PPO update of the default size (64 sequences, 4
// epochs of 256-token minibatches, k1 in the reward) from a small π_ref; it reports generated
// tokens per second of the whole update (rollout, π_ref pass, GAE, gradient steps).
func BenchmarkPPOUpdate(b *testing.B) {
	pc := DefaultPrepareConfig(7)
	pc.SFT.Train, pc.SFT.Test, pc.SFT.Epochs = 600, 100, 2
	pc.RM.Pairs, pc.RM.TestPairs, pc.RM.Epochs = 400, 100, 5
	p, err := Prepare(context.Background(), pc, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(p.Env.G, p.Env.Gold, p.Env.RM, p.Env.Ref, DefaultPPOConfig(0.5, 7))
	if err != nil {
		b.Fatal(err)
	}
	tokens := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, _, err := tr.Step(context.Background(), i+1)
		if err != nil {
			b.Fatal(err)
		}
		tokens += m.Tokens
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

// TestPPOInterruptKeepsTheRun: a run cancelled after its second update returns the error and
// still leaves metrics.csv with both rows and a summary.json marked incomplete.
func TestPPOInterruptKeepsTheRun(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := tinyPPO(0.2)
	cfg.Updates = 10
	run := filepath.Join(dir, "ppo")
	_, err := RunPPO(ctx, p.Env, cfg, run, func(m UpdateMetrics) {
		if m.Update == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled run returned no error")
	}
	ms, rerr := ReadMetrics(filepath.Join(run, MetricsFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	s, serr := ReadSummary(filepath.Join(run, SummaryFile))
	if serr != nil {
		t.Fatal(serr)
	}
	if len(ms) != 2 || s.Updates != 2 || s.Complete {
		t.Errorf("after the interrupt: %d metrics rows, summary updates %d complete %v; want 2, 2, false", len(ms), s.Updates, s.Complete)
	}
}
