package ppo

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var (
	long          = flag.Bool("long", false, "run the long learning acceptance tests (minutes)")
	learnSeeds    = flag.Int("learn.seeds", 5, "seeds per penalty in the -long learning tests")
	learnPenalty  = flag.String("learn.penalties", "kl-adaptive:0.01,clip:0.2", "comma-separated penalties for TestLearnCartPole")
	pendulumSeeds = flag.Int("learn.pendulum-seeds", 10, "seeds of TestLearnPendulum")
)

// TestLearnCartPole is the CartPole-v1 learning bar (run with -long): CleanRL's hyperparameters
// (PresetCleanRL, also CartPole-v1's defaults), 500k steps, every seed's final_return ≥ 475 and
// the median first step at which the 10-episode mean reaches 475 at most 200k, for each penalty.
func TestLearnCartPole(t *testing.T) {
	if !*long {
		t.Skip("learning acceptance runs take minutes: go test ./ppo -run Learn -long")
	}
	for _, pen := range strings.Split(*learnPenalty, ",") {
		t.Run(pen, func(t *testing.T) {
			var firsts []int
			for seed := 1; seed <= *learnSeeds; seed++ {
				cfg, err := PresetConfig(PresetCleanRL, "CartPole-v1")
				if err != nil {
					t.Fatal(err)
				}
				cfg.Penalty, cfg.Seed = pen, uint64(seed)
				s, err := Train(context.Background(), cfg, filepath.Join(t.TempDir(), fmt.Sprint(seed)), Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s seed %d: final_return %.1f, first step ≥ 475: %d, %.1f s, %.0f SPS", pen, seed, s.FinalReturn, s.FirstStepReturnGE, s.WallS, s.SPS)
				if !(s.FinalReturn >= 475) {
					t.Errorf("%s seed %d: final_return %.1f < 475", pen, seed, s.FinalReturn)
				}
				f := s.FirstStepReturnGE
				if f < 0 {
					f = 1 << 30
				}
				firsts = append(firsts, f)
			}
			sort.Ints(firsts)
			med := firsts[len(firsts)/2]
			if len(firsts)%2 == 0 {
				med = (firsts[len(firsts)/2-1] + firsts[len(firsts)/2]) / 2
			}
			t.Logf("%s: median first step with 10-episode mean ≥ 475: %d", pen, med)
			if med > 200_000 {
				t.Errorf("%s: median first step %d > 200000", pen, med)
			}
		})
	}
}

// TestLearnAcrobot checks Acrobot-v1 with the CleanRL defaults (run with -long): final_return ≥ −100.
func TestLearnAcrobot(t *testing.T) {
	if !*long {
		t.Skip("learning acceptance runs take minutes: go test ./ppo -run Learn -long")
	}
	cfg, err := DefaultConfig("Acrobot-v1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Train(context.Background(), cfg, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Acrobot-v1 %s: final_return %.1f, %.1f s", cfg.Penalty, s.FinalReturn, s.WallS)
	if !(s.FinalReturn >= -100) {
		t.Errorf("final_return %.1f < −100", s.FinalReturn)
	}
}

// TestLearnPendulum is the Pendulum-v1 learning bar (run with -long) and a check of the default
// `klppo train` run (DefaultEnvID is Pendulum-v1): 200k steps with the env's defaults on seeds
// 1…N (-learn.pendulum-seeds, 10), two single-threaded runs at a time. The final return (mean of
// the last 10 episodes) must reach −200 on all but at most N/10 seeds, the median must be ≥ −170,
// every seed's beta_active_frac ≥ 0.8 and the mean kl_in_band_frac over the seeds ≥ 0.5.
//
// go test does not install nn.FastBLAS, so these runs differ from the CLI's in float rounding
// (docs/training.md lists the CLI's): measured here 9 of 10 seeds ≥ −200, median −167.4,
// kl_in_band_frac 0.42–0.66 (mean 0.55; seed 1 0.49, where the CLI's run has 0.58). The previous
// defaults (γ 0.9, 4 × 1024 steps, lr annealed) fail it: 7 of 10, median −185.8, mean in band
// 0.46 with the CLI.
func TestLearnPendulum(t *testing.T) {
	if !*long {
		t.Skip("learning acceptance runs take minutes: go test ./ppo -run Learn -long")
	}
	n := *pendulumSeeds
	type result struct {
		seed int
		s    Summary
		err  error
	}
	seeds, out := make(chan int), make(chan result)
	for range 2 {
		go func() {
			for seed := range seeds {
				cfg, err := DefaultConfig("Pendulum-v1")
				if err != nil {
					out <- result{seed, Summary{}, err}
					continue
				}
				cfg.Seed = uint64(seed)
				s, err := Train(context.Background(), cfg, filepath.Join(t.TempDir(), fmt.Sprint(seed)), Options{SingleThreaded: true})
				out <- result{seed, s, err}
			}
		}()
	}
	go func() {
		for seed := 1; seed <= n; seed++ {
			seeds <- seed
		}
		close(seeds)
	}()
	var finals []float64
	failed, inBand := 0, 0.0
	for range n {
		r := <-out
		if r.err != nil {
			t.Fatalf("seed %d: %v", r.seed, r.err)
		}
		c := r.s.Constraint
		t.Logf("seed %2d: final_return %7.1f, kl_in_band_frac %.2f, beta_active_frac %.2f, max KL %.1f× d_targ, %.0f s",
			r.seed, r.s.FinalReturn, c.KLInBandFrac, c.BetaActiveFrac, c.KLMaxOverTarget, r.s.WallS)
		finals = append(finals, r.s.FinalReturn)
		if !(r.s.FinalReturn >= -200) {
			failed++
		}
		inBand += c.KLInBandFrac / float64(n)
		if !(c.BetaActiveFrac >= 0.8) {
			t.Errorf("seed %d: beta_active_frac %.2f, want ≥ 0.8", r.seed, c.BetaActiveFrac)
		}
	}
	sort.Float64s(finals)
	med := finals[n/2]
	if n%2 == 0 {
		med = (finals[n/2-1] + finals[n/2]) / 2
	}
	t.Logf("median final_return %.1f, worst %.1f, %d of %d seeds below −200; mean kl_in_band_frac %.3f", med, finals[0], failed, n, inBand)
	if !(inBand >= 0.5) {
		t.Errorf("mean kl_in_band_frac %.3f over %d seeds, want ≥ 0.5", inBand, n)
	}
	if failed > n/10 {
		t.Errorf("%d of %d seeds ended below −200 (at most %d may)", failed, n, n/10)
	}
	if !(med >= -170) {
		t.Errorf("median final_return %.1f < −170", med)
	}
}

// TestLearnCartPoleShort is the learning check of the default test run: 3 seeds × 60k steps of
// CartPole-v1 with CleanRL's hyperparameters (PresetCleanRL, kl-adaptive:0.01; CartPole-v1's
// defaults), single-threaded runs side by side. Every
// seed's mean return over its last 10 episodes must reach 100 — a uniformly random policy
// averages ≈22 and the untrained network ≈20–25, and a learner with a broken gradient,
// advantage or ratio stays far below. (Measured at commit time: 233.9, 172.6, 268.7.)
func TestLearnCartPoleShort(t *testing.T) {
	const seeds, steps, bar = 3, 60_000, 100.0
	type result struct {
		seed uint64
		s    Summary
		err  error
	}
	out := make(chan result, seeds)
	for seed := uint64(1); seed <= seeds; seed++ {
		go func() {
			cfg, err := PresetConfig(PresetCleanRL, "CartPole-v1")
			if err != nil {
				out <- result{seed, Summary{}, err}
				return
			}
			cfg.Seed, cfg.TotalTimesteps = seed, steps
			s, err := Train(context.Background(), cfg, filepath.Join(t.TempDir(), fmt.Sprint(seed)), Options{SingleThreaded: true})
			out <- result{seed, s, err}
		}()
	}
	for range seeds {
		r := <-out
		if r.err != nil {
			t.Fatalf("seed %d: %v", r.seed, r.err)
		}
		t.Logf("seed %d: mean return of the last 10 episodes after %d steps: %.1f (%d episodes, %.1f s)", r.seed, r.s.Steps, r.s.FinalReturn, r.s.Episodes, r.s.WallS)
		if !(r.s.FinalReturn >= bar) {
			t.Errorf("seed %d: final_return %.1f after %d steps, want ≥ %v", r.seed, r.s.FinalReturn, r.s.Steps, bar)
		}
	}
}

// TestDefaultRunPenaltyWorks checks, in the default test run, the contrast the README's first
// run and docs/training.md show. With the defaults of `klppo train` (DefaultEnvID) the adaptive
// penalty is at work from the start: over the first 8 updates the mean of KL/d_targ is of the
// order of 1 (between 0.3 and 5) and β never touches its bounds. With CleanRL's CartPole-v1
// settings the KL stays far below the target: over 30 updates the mean KL is below
// d_targ/5 and β has halved down to its floor.
func TestDefaultRunPenaltyWorks(t *testing.T) {
	type result struct {
		name string
		cfg  Config
		ms   []UpdateMetrics
		err  error
	}
	def, err := DefaultConfig(DefaultEnvID)
	if err != nil {
		t.Fatal(err)
	}
	def.TotalTimesteps = 8 * def.BatchSize()
	clean, err := PresetConfig(PresetCleanRL, "CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	clean.TotalTimesteps = 30 * clean.BatchSize()
	out := make(chan result, 2)
	for _, r := range []result{{name: "default", cfg: def}, {name: "cleanrl", cfg: clean}} {
		go func() {
			dir := filepath.Join(t.TempDir(), r.name)
			_, r.err = Train(context.Background(), r.cfg, dir, Options{SingleThreaded: true})
			if r.err == nil {
				r.ms, r.err = ReadMetrics(filepath.Join(dir, MetricsFile))
			}
			out <- r
		}()
	}
	for range 2 {
		r := <-out
		if r.err != nil {
			t.Fatalf("%s: %v", r.name, r.err)
		}
		pen, err := ParsePenalty(r.cfg.Penalty)
		if err != nil {
			t.Fatal(err)
		}
		c := MeasureKLConstraint(r.ms, pen, r.cfg.BetaMin, r.cfg.BetaMax)
		mean := 0.0
		for _, m := range r.ms {
			mean += m.KL / pen.Value
		}
		mean /= float64(len(r.ms))
		t.Logf("%s (%s): %d updates, mean KL/d_targ %.3f, in band %.2f, β off its bounds %.2f, on its floor %.2f",
			r.name, r.cfg.EnvID, c.Updates, mean, c.KLInBandFrac, c.BetaActiveFrac, c.BetaFloorFrac)
		switch r.name {
		case "default":
			if !(mean >= 0.3 && mean <= 5) || c.BetaActiveFrac != 1 {
				t.Errorf("default run: mean KL/d_targ %.3f (want 0.3–5), β off its bounds in %.2f of the updates (want all)", mean, c.BetaActiveFrac)
			}
		case "cleanrl":
			if !(mean < 0.2) || !(c.BetaFloorFrac > 0) || r.ms[len(r.ms)-1].Beta != r.cfg.BetaMin {
				t.Errorf("CleanRL's CartPole settings: mean KL/d_targ %.3f (want < 0.2), β on its floor in %.2f of the updates, last β %g (want the floor %g)",
					mean, c.BetaFloorFrac, r.ms[len(r.ms)-1].Beta, r.cfg.BetaMin)
			}
		}
	}
}
