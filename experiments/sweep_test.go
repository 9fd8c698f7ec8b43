package experiments

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

func testSweep() Sweep {
	return Sweep{Name: "t", Env: "CartPole-v1", Penalties: []string{"clip:0.2", "kl-fixed:1", "none"}, Seeds: SeedRange(3), Steps: 1000}
}

func TestNormalise(t *testing.T) {
	cases := []struct {
		name   string
		means  []float64
		random float64
		want   []float64
	}{
		// best 50, random 20, scale 30: (10−20)/30, (30−20)/30, 1
		{"paper-like", []float64{10, 30, 50}, 20, []float64{-1.0 / 3, 1.0 / 3, 1}},
		// negative returns (Acrobot-like): random −500, best −100, scale 400
		{"negative", []float64{-500, -300, -100}, -500, []float64{0, 0.5, 1}},
		// a setting without finished runs stays NaN and does not change the best
		{"nan", []float64{math.NaN(), 4, 2}, 0, []float64{math.NaN(), 1, 0.5}},
		// nobody beats the random policy: undefined
		{"degenerate", []float64{5, 3}, 5, []float64{math.NaN(), math.NaN()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Normalise(c.means, c.random)
			for i := range c.want {
				if math.IsNaN(c.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && !near(got[i], c.want[i], 1e-12)) {
					t.Fatalf("Normalise(%v, %v) = %v, want %v", c.means, c.random, got, c.want)
				}
			}
		})
	}
}

func TestMeanSE(t *testing.T) {
	m := NewMeanSE([]float64{1, 2, 3, 4, math.NaN()})
	// mean 2.5; sd = sqrt(((1.5²+0.5²)·2)/3) = sqrt(5/3); SE = sd/2
	if m.N != 4 || m.Mean != 2.5 || !near(m.SE, math.Sqrt(5.0/3)/2, 1e-12) {
		t.Fatalf("NewMeanSE = %+v", m)
	}
	if one := NewMeanSE([]float64{7}); one.Mean != 7 || !math.IsNaN(one.SE) {
		t.Fatalf("one value: %+v, want mean 7 and SE NaN", one)
	}
}

func TestReturnCurveAndFirstSolved(t *testing.T) {
	// episodes end at 100, 200, …, 1000 with returns 0, 1, …, 9
	var steps []int
	var rets []float64
	for u := 0; u < 10; u++ {
		steps = append(steps, 100*(u+1))
		rets = append(rets, float64(u))
	}
	c := ReturnCurve(steps, rets, 1000, 10) // x = 100, 200, …, 1000
	for k, v := range c {
		if want := float64(k) / 2; v != want { // mean of 0..k
			t.Fatalf("R(x_%d) = %v, want %v", k+1, v, want)
		}
	}
	c = ReturnCurve(steps, rets, 1000, 20) // x = 50 has no episode yet
	if !math.IsNaN(c[0]) || c[1] != 0 {
		t.Fatalf("R(50), R(100) = %v, %v; want NaN, 0", c[0], c[1])
	}
	// trailing-10 mean of 0..i is i/2 ≥ 2 first at i = 4 (step 500)
	if got := firstSolved(steps, rets, 2); got != 500 {
		t.Fatalf("firstSolved = %d, want 500", got)
	}
	if got := firstSolved(steps, rets, 100); got != -1 {
		t.Fatalf("firstSolved unreachable = %d, want -1", got)
	}
	if got := firstSolved(steps, rets, math.NaN()); got != -1 {
		t.Fatalf("firstSolved without threshold = %d, want -1", got)
	}
}

// TestSweepStatistics checks every aggregate against hand computation on the fake's known curves.
// Seed s, update u (0…9, step 100(u+1)) finishes one episode of return b+s+u (b depends on the setting).
func TestSweepStatistics(t *testing.T) {
	s := testSweep()
	bClip := fakeReturn("clip:0.2", 0, 0)
	random := -3.0
	threshold := bClip + 1 + 2 // clip seeds 1, 2, 3 first reach it at steps 500, 300, 100
	res, err := Run(context.Background(), s, Options{OutDir: t.TempDir(), Parallel: 2, Runner: &fakeRunner{}, Baseline: fixedBaseline(random, threshold)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 9 {
		t.Fatalf("%d runs, want 9", len(res.Runs))
	}
	for _, r := range res.Runs {
		b := fakeReturn(r.Setting, 0, 0)
		sd := float64(r.Seed)
		// last 10 and last 100 episodes are all 10: mean b+s+4.5
		if r.Status != StatusOK || !near(r.Last100Return, b+sd+4.5, 1e-12) || !near(r.FinalReturn, b+sd+4.5, 1e-12) {
			t.Fatalf("run %+v: want ok, last100 = final = %v", r, b+sd+4.5)
		}
		// AUC on the grid x = 10, 20, …, 1000: points 1–9 precede the first episode; 10 points each see
		// episodes 0..u for u = 0…8 (mean b+s+u/2) and x = 1000 sees all ten: (10·Σu/2 + 4.5)/91 = 184.5/91
		if want := b + sd + 184.5/91; !near(r.AUCReturn, want, 1e-12) {
			t.Fatalf("run %s/%d AUC = %v, want %v", r.Setting, r.Seed, r.AUCReturn, want)
		}
		// KL of update u is 0.001(u+1)s: mean 0.0055s, max 0.01s
		if !near(r.KLMean, 0.0055*sd, 1e-12) || !near(r.KLMax, 0.01*sd, 1e-12) || r.ClipFracMean != 0.25 {
			t.Fatalf("run %s/%d KL mean/max/clip = %v/%v/%v", r.Setting, r.Seed, r.KLMean, r.KLMax, r.ClipFracMean)
		}
		// β = 2^(u mod 3): 1,2,4,1,2,4,1,2,4,1 → 2.2; NaN for settings without β
		if usesBeta(r.Setting) != !math.IsNaN(r.BetaMean) || (usesBeta(r.Setting) && !near(r.BetaMean, 2.2, 1e-12)) {
			t.Fatalf("run %s/%d β mean = %v", r.Setting, r.Seed, r.BetaMean)
		}
	}
	best := math.Inf(-1)
	for _, p := range s.Penalties {
		best = math.Max(best, fakeReturn(p, 0, 0)+6.5)
	}
	for _, st := range res.Settings {
		b := fakeReturn(st.Setting, 0, 0)
		// over seeds 1, 2, 3 of b+s+4.5: mean b+6.5, SE = sd(1,2,3)/√3 = 1/√3
		if st.Runs != 3 || !near(st.Last100.Mean, b+6.5, 1e-12) || !near(st.Last100.SE, 1/math.Sqrt(3), 1e-12) {
			t.Fatalf("%s: %+v", st.Setting, st.Last100)
		}
		wantScore := (b + 6.5 - random) / (best - random)
		if !near(st.Score.Mean, wantScore, 1e-12) || !near(st.Score.SE, 1/math.Sqrt(3)/(best-random), 1e-12) {
			t.Fatalf("%s: score %+v, want %v", st.Setting, st.Score, wantScore)
		}
		if !near(st.KLMean, 0.011, 1e-12) || !near(st.KLMax, 0.02, 1e-12) {
			t.Fatalf("%s: KL mean/max %v/%v, want 0.011/0.02", st.Setting, st.KLMean, st.KLMax)
		}
	}
	clip := res.Settings[0]
	if clip.Solved != 3 || clip.MedianSolved != 300 {
		t.Fatalf("clip solved %d at median %v, want 3 at 300", clip.Solved, clip.MedianSolved)
	}
	table := res.Table(false)
	if !strings.Contains(table, "3/3 @ 300") || !strings.Contains(table, "1.00 ±") {
		t.Fatalf("table lacks the solved column or the best score:\n%s", table)
	}
}

func readRuns(t *testing.T, dir string) map[string]RunRecord {
	t.Helper()
	recs, err := ReadRunsCSV(filepath.Join(dir, RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]RunRecord{}
	for _, r := range recs {
		m[runKey(r.Setting, r.Seed)] = r
	}
	return m
}

func TestFailureIsolation(t *testing.T) {
	s := testSweep()
	dir := t.TempDir()
	fake := &fakeRunner{failPrefix: "kl-fixed", failSeed: 2}
	res, err := Run(context.Background(), s, Options{OutDir: dir, Parallel: 2, Runner: fake, Baseline: fixedBaseline(0, math.NaN())})
	if err != nil {
		t.Fatalf("a failing run stopped the sweep: %v", err)
	}
	runs := readRuns(t, dir)
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
			r := runs[runKey(p, seed)]
			if p == "kl-fixed:1" && seed == 2 {
				if r.Status != StatusFailed || !strings.Contains(r.Error, "diverged") {
					t.Fatalf("failed run recorded as %q %q", r.Status, r.Error)
				}
				continue
			}
			if r.Status != StatusOK {
				t.Fatalf("%s seed %d: status %q (%s)", p, seed, r.Status, r.Error)
			}
		}
	}
	if st := res.Settings[1]; st.Runs != 2 || st.Failed != 1 {
		t.Fatalf("kl-fixed: %d ok, %d failed; want 2, 1", st.Runs, st.Failed)
	}
	if !strings.Contains(res.Table(true), "2 (1 failed)") {
		t.Fatalf("table does not show the failure:\n%s", res.Table(true))
	}
	// resuming retries the failed run from scratch and skips the others
	fake2 := &fakeRunner{}
	if _, err := Run(context.Background(), s, Options{OutDir: dir, Resume: true, Runner: fake2, Baseline: fixedBaseline(0, math.NaN())}); err != nil {
		t.Fatal(err)
	}
	if len(fake2.calls) != 1 || fake2.calls[0] != (fakeCall{"kl-fixed:1", 2, false, true}) {
		t.Fatalf("resume calls = %+v, want only kl-fixed:1 seed 2 with Force", fake2.calls)
	}
}

func sameRunFiles(t *testing.T, a, b string, s Sweep) {
	t.Helper()
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
			for _, f := range []string{"metrics.csv", "episodes.csv"} {
				x, err1 := os.ReadFile(filepath.Join(a, RunDir(p, seed), f))
				y, err2 := os.ReadFile(filepath.Join(b, RunDir(p, seed), f))
				if err1 != nil || err2 != nil {
					t.Fatalf("%s %d %s: %v %v", p, seed, f, err1, err2)
				}
				if !bytes.Equal(x, y) {
					t.Fatalf("%s seed %d: %s differs", p, seed, f)
				}
			}
		}
	}
}

func TestResumeSkipsFinishedRuns(t *testing.T) {
	s := testSweep()
	ref := t.TempDir()
	if _, err := Run(context.Background(), s, Options{OutDir: ref, Parallel: 1, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN())}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// runs go seed-major: (clip,1), (kl-fixed,1), (none,1), (clip,2) …; cancel half-way through the third
	onProgress := func(done, _ int64) {
		if done >= 2500 {
			cancel()
		}
	}
	_, err := Run(ctx, s, Options{OutDir: dir, Parallel: 1, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN()), OnProgress: onProgress})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep returned %v, want context.Canceled", err)
	}
	runs := readRuns(t, dir)
	want := map[string]string{runKey("clip:0.2", 1): StatusOK, runKey("kl-fixed:1", 1): StatusOK, runKey("none", 1): StatusInterrupted}
	for k, r := range runs {
		w, ok := want[k]
		if !ok {
			w = StatusPending
		}
		if r.Status != w {
			t.Fatalf("after interrupt %s/%d is %q, want %q", r.Setting, r.Seed, r.Status, w)
		}
	}

	// without resume or force the sweep refuses the folder
	if _, err := Run(context.Background(), s, Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN())}); err == nil {
		t.Fatal("a second sweep into the same folder without resume/force was accepted")
	}

	// resuming with another budget is refused, naming the field
	other := s
	other.Steps = 2000
	if _, err := Run(context.Background(), other, Options{OutDir: dir, Resume: true, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN())}); err == nil || !strings.Contains(err.Error(), "field steps") {
		t.Fatalf("resume with other steps: %v, want an error naming steps", err)
	}

	fake := &fakeRunner{}
	var skipped int
	res, err := Run(context.Background(), s, Options{OutDir: dir, Parallel: 2, Resume: true, Runner: fake, Baseline: fixedBaseline(0, math.NaN()),
		OnRunDone: func(RunRecord, int, int) { skipped++ }})
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1} {
		for _, p := range []string{"clip:0.2", "kl-fixed:1"} {
			if c := fake.callsFor(p, seed); len(c) != 0 {
				t.Fatalf("finished run %s/%d was run again: %+v", p, seed, c)
			}
		}
	}
	if c := fake.callsFor("none", 1); len(c) != 1 || !c[0].Resume {
		t.Fatalf("interrupted run none/1 calls %+v, want one with Resume", c)
	}
	if c := fake.callsFor("clip:0.2", 3); len(c) != 1 || c[0].Resume || c[0].Force {
		t.Fatalf("pending run clip:0.2/3 calls %+v, want one fresh", c)
	}
	if len(fake.calls) != 7 || skipped != 9 {
		t.Fatalf("resume made %d calls and reported %d runs, want 7 and 9", len(fake.calls), skipped)
	}
	for _, r := range res.Runs {
		if r.Status != StatusOK {
			t.Fatalf("after resume %s/%d is %q", r.Setting, r.Seed, r.Status)
		}
	}
	sameRunFiles(t, ref, dir, s)
}

func TestParallelEqualsSerialFake(t *testing.T) {
	s := testSweep()
	serial, par := t.TempDir(), t.TempDir()
	for _, c := range []struct {
		dir string
		p   int
	}{{serial, 1}, {par, 4}} {
		if _, err := Run(context.Background(), s, Options{OutDir: c.dir, Parallel: c.p, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN())}); err != nil {
			t.Fatal(err)
		}
	}
	sameRunFiles(t, serial, par, s)
	a, _ := os.ReadFile(filepath.Join(serial, TableFile))
	b, _ := os.ReadFile(filepath.Join(par, TableFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("table.md differs between serial and parallel sweeps")
	}
}

func TestForceStartsOver(t *testing.T) {
	s := testSweep()
	dir := t.TempDir()
	opts := Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN())}
	if _, err := Run(context.Background(), s, opts); err != nil {
		t.Fatal(err)
	}
	fake := &fakeRunner{}
	opts.Runner, opts.Force = fake, true
	if _, err := Run(context.Background(), s, opts); err != nil {
		t.Fatal(err)
	}
	if len(fake.calls) != 9 || !fake.calls[0].Force {
		t.Fatalf("force: %d calls (first %+v), want 9 with Force", len(fake.calls), fake.calls[0])
	}
}

func TestSweepValidationNamesTheField(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Sweep)
		want string
	}{
		{"no env", func(s *Sweep) { s.Env = "" }, "env"},
		{"no penalties", func(s *Sweep) { s.Penalties = nil }, "penalties"},
		{"bad penalty", func(s *Sweep) { s.Penalties = []string{"clip:0.2", "bad:1"} }, `penalties[1] "bad:1"`},
		{"duplicate penalty", func(s *Sweep) { s.Penalties = []string{"clip:0.2", "clip: 0.2"} }, "same setting"},
		{"no seeds", func(s *Sweep) { s.Seeds = nil }, "seeds"},
		{"duplicate seed", func(s *Sweep) { s.Seeds = []uint64{1, 1} }, "seeds: 1 appears twice"},
		{"steps", func(s *Sweep) { s.Steps = 0 }, "steps: 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSweep()
			c.edit(&s)
			_, err := Run(context.Background(), s, Options{OutDir: t.TempDir(), Runner: &fakeRunner{}, Baseline: fixedBaseline(0, 1)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestChartsWritten(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), testSweep(), Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, 1)}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ReturnsPlot, KLPlot, BetaPlot} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) > 300_000 {
			t.Fatalf("%s: not a small PNG (%d bytes)", f, len(b))
		}
	}
	// no KL setting: no beta.png
	dir2 := t.TempDir()
	s := testSweep()
	s.Penalties = []string{"clip:0.2", "none"}
	if _, err := Run(context.Background(), s, Options{OutDir: dir2, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir2, BetaPlot)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("beta.png written for a sweep without β: %v", err)
	}
}

func TestRunDir(t *testing.T) {
	for spec, want := range map[string]string{
		"clip:0.2":                   "clip_0.2/seed-3",
		"kl-adaptive:0.01+stop:0.02": "kl-adaptive_0.01+stop_0.02/seed-3",
		"none":                       "none/seed-3",
	} {
		if got := filepath.ToSlash(RunDir(spec, 3)); got != want {
			t.Errorf("RunDir(%q, 3) = %q, want %q", spec, got, want)
		}
	}
}
