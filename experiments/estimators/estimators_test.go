package estimators

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"klppo/kl"
	"klppo/ppo"
)

// problems: the default, one with π far from π_ref, and one with a negative reward and large β.
func problems() map[string]Problem {
	return map[string]Problem{
		"default": Default(),
		"far": {Logits: []float64{2, -1, 0.5, 0.3}, RefLogits: []float64{-1, 1.5, 0, 0.2},
			Reward: []float64{1, 0.3, -0.5, 0.8}, Beta: 0.15},
		"two arms": {Logits: []float64{0.4, -0.4}, RefLogits: []float64{-1, 1}, Reward: []float64{-1, 2}, Beta: 2.5},
	}
}

func closeVec(a, b []float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return len(a) == len(b)
}

// TestExpectedGradientsFiniteDifferences checks every configuration's exact expected gradient
// (built from ppo.KLRef) against central differences of its enumerated expected surrogate
// (built from kl.Estimator), and ∇J, ∇KL(π‖π_ref), ∇KL(π_ref‖π) against central differences of
// J and the two KLs.
func TestExpectedGradientsFiniteDifferences(t *testing.T) {
	const h = 1e-5
	for pname, p := range problems() {
		ex, err := Analyse(p)
		if err != nil {
			t.Fatal(err)
		}
		fd := func(f func(theta []float64) float64) []float64 {
			g := make([]float64, len(p.Logits))
			for i := range g {
				up, dn := append([]float64{}, p.Logits...), append([]float64{}, p.Logits...)
				up[i] += h
				dn[i] -= h
				g[i] = (f(up) - f(dn)) / (2 * h)
			}
			return g
		}
		for _, cg := range ex.Configs {
			want := fd(func(theta []float64) float64 {
				v, err := ExpectedSurrogate(p, cg.Name, theta, p.Logits)
				if err != nil {
					t.Fatal(err)
				}
				return v
			})
			if !closeVec(cg.Grad, want, 1e-8) {
				t.Errorf("%s %s: expected gradient %v, finite differences %v", pname, cg.Name, cg.Grad, want)
			}
		}
		j := fd(func(theta []float64) float64 {
			v, _, err := Objective(p, theta)
			if err != nil {
				t.Fatal(err)
			}
			return v
		})
		jf := fd(func(theta []float64) float64 {
			_, v, err := Objective(p, theta)
			if err != nil {
				t.Fatal(err)
			}
			return v
		})
		fwd := make([]float64, len(j))
		for i := range fwd {
			fwd[i] = ex.GradReward[i] - p.Beta*ex.GradKLForward[i]
		}
		if !closeVec(ex.GradTrue, j, 1e-8) || !closeVec(fwd, jf, 1e-8) {
			t.Errorf("%s: ∇J %v vs FD %v; forward objective gradient %v vs FD %v", pname, ex.GradTrue, j, fwd, jf)
		}
	}
}

// TestIdentities checks which gradient each configuration follows, component by component
// against the closed forms, and that Analyse's verdicts say so.
func TestIdentities(t *testing.T) {
	for pname, p := range problems() {
		ex, err := Analyse(p)
		if err != nil {
			t.Fatal(err)
		}
		n := len(p.Logits)
		comb := func(a, b float64) []float64 {
			g := make([]float64, n)
			for i := range g {
				g[i] = ex.GradReward[i] - p.Beta*(a*ex.GradKLReverse[i]+b*ex.GradKLForward[i])
			}
			return g
		}
		want := map[string]struct {
			grad    []float64
			follows Follows
		}{
			"k1-reward":  {comb(1, 0), FollowsReverse},
			"k2-loss":    {comb(1, 0), FollowsReverse},
			"k3-loss-is": {comb(1, 0), FollowsReverse},
			"exact-loss": {comb(1, 0), FollowsReverse},
			"k3-loss":    {comb(0, 1), FollowsForward},
			"k1-loss":    {comb(0, 0), FollowsNone},
			"k3-reward":  {comb(1, -1), FollowsDifference},
		}
		for _, cg := range ex.Configs {
			w, ok := want[cg.Name]
			if !ok { // k2-reward: none of the four
				if cg.Follows != FollowsOther {
					t.Errorf("%s %s: follows %q, want %q", pname, cg.Name, cg.Follows, FollowsOther)
				}
				continue
			}
			if !closeVec(cg.Grad, w.grad, 1e-13) || cg.Follows != w.follows {
				t.Errorf("%s %s: gradient %v follows %q; want %v (%q)", pname, cg.Name, cg.Grad, cg.Follows, w.grad, w.follows)
			}
		}
		// The exact KL held constant in the reward is the same number for every x: on one
		// decision its score-function gradient is 0 (ppo.KLRef offers it for sequences).
		c, err := ppo.ParseKLRef("exact-reward", p.Beta)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newState(p.Logits, p.RefLogits, p.Reward)
		if err != nil {
			t.Fatal(err)
		}
		if g, err := s.expectedGrad(c); err != nil || !closeVec(g, comb(0, 0), 1e-13) {
			t.Errorf("%s exact-reward: %v %v, want ∇E[r]", pname, g, err)
		}
		if !closeVec(ex.GradTrue, comb(1, 0), 0) {
			t.Errorf("%s: grad_true is not ∇E[r] − β∇KL(π‖π_ref)", pname)
		}
	}
	// At π = π_ref every KL gradient vanishes: no verdict can tell the placements apart.
	p := Default()
	p.Logits = append([]float64{}, p.RefLogits...)
	ex, err := Analyse(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, cg := range ex.Configs {
		if cg.Follows != FollowsInseparable || !closeVec(cg.Grad, ex.GradReward, 1e-15) {
			t.Errorf("π = π_ref, %s: follows %q, gradient %v vs ∇E[r] %v", cg.Name, cg.Follows, cg.Grad, ex.GradReward)
		}
	}
}

// TestMonteCarloConverges checks that sampled means sit within a few standard errors of the
// exact values: the estimators' values (k1, k3 unbiased for KL(π‖π_ref); k2's exact mean is
// E_π[½l²]) and every configuration's gradient (unbiased for its own exact expectation).
func TestMonteCarloConverges(t *testing.T) {
	p := problems()["far"]
	ex, err := Analyse(p)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := MonteCarlo(p, ex, 8, 4000, 7)
	if err != nil {
		t.Fatal(err)
	}
	s, err := newState(p.Logits, p.RefLogits, p.Reward)
	if err != nil {
		t.Fatal(err)
	}
	var k2 float64
	for i, pi := range s.pi {
		l := s.lp[i] - s.lr[i]
		k2 += pi * l * l / 2
	}
	exactMean := map[string]float64{"k1": ex.KLReverse, "k2": k2, "k3": ex.KLReverse}
	for _, v := range mc.Values {
		if z := math.Abs(v.Mean-exactMean[v.Estimator]) / v.SE; z > 4.5 || v.SE <= 0 {
			t.Errorf("%s: mean %g ± %g, exact %g (z = %.2f)", v.Estimator, v.Mean, v.SE, exactMean[v.Estimator], z)
		}
	}
	if mc.Values[0].NegFrac == 0 || mc.Values[2].NegFrac != 0 {
		t.Errorf("k1 should sometimes be negative and k3 never: %v", mc.Values)
	}
	for _, g := range mc.Grads {
		if g.MaxZ > 4.5 {
			t.Errorf("%s: sampled gradient %v ± %v, exact %v (max z %.2f)", g.Config, g.Mean, g.SE, g.Expected, g.MaxZ)
		}
	}
	again, err := MonteCarlo(p, ex, 8, 4000, 7)
	if err != nil || again.Values[0].Mean != mc.Values[0].Mean {
		t.Errorf("MonteCarlo is not deterministic for a seed: %v, %v", err, again.Values[0])
	}
}

// TestOptimiseFixedPoints runs exact-gradient ascent on the default problem and checks each
// configuration's end point against the analytic optima.
func TestOptimiseFixedPoints(t *testing.T) {
	p := Default()
	runs, err := Optimise(p, OptimiseConfig{})
	if err != nil {
		t.Fatal(err)
	}
	piRev, err1 := ReverseOptimum(p)
	piFwd, err2 := ForwardOptimum(p)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if maxAbsDiff(piRev, piFwd) < 0.05 {
		t.Fatalf("test problem: the two optima %v and %v are too close to tell apart", piRev, piFwd)
	}
	best := 0
	for i, r := range p.Reward {
		if r > p.Reward[best] {
			best = i
		}
	}
	lr, err := newState(p.RefLogits, p.RefLogits, p.Reward)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		switch r.Config {
		case "k1-reward", "k2-loss", "k3-loss-is", "exact-loss":
			if !r.Converged || r.DistRev > 1e-6 {
				t.Errorf("%s: converged %v after %d, |π − π*|∞ = %.3g", r.Config, r.Converged, r.Iterations, r.DistRev)
			}
		case "k3-loss":
			if !r.Converged || r.DistFwd > 1e-6 {
				t.Errorf("%s: converged %v after %d, |π − π_fwd|∞ = %.3g", r.Config, r.Converged, r.Iterations, r.DistFwd)
			}
		case "k2-reward":
			if r.DistRev < 0.01 || r.DistFwd < 0.01 {
				t.Errorf("%s: distances %.3g and %.3g: should end at neither optimum", r.Config, r.DistRev, r.DistFwd)
			}
		case "k3-reward":
			// It climbs E[r] − β·KL(π‖π_ref) + β·KL(π_ref‖π), which is unbounded: some arm's
			// probability is driven to 0 and the run stops as diverged.
			if !r.Diverged || r.DistRev < 0.01 || r.DistFwd < 0.01 {
				t.Errorf("%s: diverged %v, distances %.3g and %.3g: should run off to the boundary", r.Config, r.Diverged, r.DistRev, r.DistFwd)
			}
			for i := 1; i < len(r.Curve); i++ {
				a, b := r.Curve[i-1], r.Curve[i]
				ja, jb := a.ExpectedR-p.Beta*(a.KL-a.KLForward), b.ExpectedR-p.Beta*(b.KL-b.KLForward)
				if jb < ja-1e-12 {
					t.Errorf("%s: E[r] − β·KL(π‖π_ref) + β·KL(π_ref‖π) fell from %g to %g at iteration %d", r.Config, ja, jb, b.Iter)
					break
				}
			}
			if last := r.Curve[len(r.Curve)-1]; last.KLForward < 100 {
				t.Errorf("%s: KL(π_ref‖π) = %g at the end, want → ∞", r.Config, last.KLForward)
			}
		case "k1-loss":
			// No fixed point: π climbs to the greedy arm, 1 − π(best) ~ 1/t.
			wantKL := -lr.lp[best]
			if r.Converged || r.Pi[best] < 1-1e-4 || math.Abs(r.KL-wantKL) > 1e-3 {
				t.Errorf("%s: π(best) = %.8f, KL = %.6f; want → 1 and → −log π_ref(best) = %.6f", r.Config, r.Pi[best], r.KL, wantKL)
			}
			for i := 1; i < len(r.Curve); i++ {
				if r.Curve[i].ExpectedR < r.Curve[i-1].ExpectedR-1e-12 {
					t.Errorf("%s: E[r] fell at iteration %d", r.Config, r.Curve[i].Iter)
					break
				}
			}
		}
	}
}

// TestOptima checks the analytic optima against their stationarity conditions and against the
// objectives they maximise.
func TestOptima(t *testing.T) {
	for pname, p := range problems() {
		piRev, err1 := ReverseOptimum(p)
		piFwd, err2 := ForwardOptimum(p)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		var sRev, sFwd float64
		for i := range piFwd {
			sRev += piRev[i]
			sFwd += piFwd[i]
		}
		if math.Abs(sRev-1) > 1e-14 || math.Abs(sFwd-1) > 1e-14 {
			t.Errorf("%s: sums %g %g", pname, sRev, sFwd)
		}
		for name, pi := range map[string][]float64{"reverse": piRev, "forward": piFwd} {
			q := p
			q.Logits = make([]float64, len(pi))
			for i, v := range pi {
				q.Logits[i] = math.Log(v)
			}
			ex, err := Analyse(q)
			if err != nil {
				t.Fatal(err)
			}
			g := ex.GradTrue
			if name == "forward" {
				g = ex.Configs[5].Grad // k3-loss
			}
			for _, v := range g {
				if math.Abs(v) > 1e-12 {
					t.Errorf("%s %s optimum: gradient %v not 0", pname, name, g)
					break
				}
			}
		}
	}
}

func TestSchulmanTable(t *testing.T) {
	rows, err := SchulmanTable(200000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if r.MaxZ > 4 {
			t.Errorf("δ=%g %s: measured bias/KL %.4g ± %.2g std/KL %.4g ± %.2g, closed forms %.4g %.4g", r.Delta, r.Estimator,
				r.BiasRel, r.BiasRelSE, r.StdRel, r.StdRelSE, r.ClosedBias, r.ClosedStd)
		}
	}
}

func TestValidate(t *testing.T) {
	nan := math.NaN()
	ok := Default()
	for _, tc := range []struct {
		mod   func(p *Problem)
		field string
	}{
		{func(p *Problem) { p.Reward = p.Reward[:3] }, "reward"},
		{func(p *Problem) { p.RefLogits = append(p.RefLogits, 1) }, "ref_logits"},
		{func(p *Problem) { p.Logits, p.RefLogits, p.Reward = []float64{1}, []float64{1}, []float64{1} }, "logits"},
		{func(p *Problem) { p.Beta = 0 }, "beta"},
		{func(p *Problem) { p.Beta = nan }, "beta"},
		{func(p *Problem) { p.Logits = []float64{0, nan, 0, 0, 0} }, "logits"},
		// past these bounds the report held NaN (with exit status 0)
		{func(p *Problem) { p.Logits = []float64{800, 0, 0, 0, 0} }, "logits"},
		{func(p *Problem) { p.RefLogits = []float64{400, 0, 0, 0, -400} }, "ref_logits"},
		{func(p *Problem) { p.Reward = []float64{1e200, 0, 0, 0, 0} }, "reward"},
		{func(p *Problem) { p.Beta = 1e300 }, "beta"},
	} {
		p := ok
		tc.mod(&p)
		var ie *InputError
		if _, err := Analyse(p); !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("error %v, want one naming %s", err, tc.field)
		}
	}
}

// TestOptimiseSampled checks that sampled-gradient ascent (Polyak-averaged) lands near the same
// points as the exact one for the configurations with a fixed point.
func TestOptimiseSampled(t *testing.T) {
	p := Default()
	runs, err := Optimise(p, OptimiseConfig{Samples: 16, Seed: 1, SampledIter: 10000, MaxIter: 2000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if !r.Sampled {
			continue
		}
		switch r.Config {
		case "k1-reward", "k2-loss", "k3-loss-is", "exact-loss":
			if r.DistRev > 0.02 {
				t.Errorf("sampled %s: |π − π*|∞ = %.3g", r.Config, r.DistRev)
			}
		case "k3-loss":
			if r.DistFwd > 0.02 {
				t.Errorf("sampled %s: |π − π_fwd|∞ = %.3g", r.Config, r.DistFwd)
			}
		}
	}
}

func TestWriteChart(t *testing.T) {
	p := Default()
	runs, err := Optimise(p, OptimiseConfig{MaxIter: 3000, Samples: 4, SampledIter: 500})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), ChartFile)
	if err := WriteChart(path, p, runs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10000 || string(b[1:4]) != "PNG" {
		t.Errorf("%s: %d bytes, not a PNG chart", path, len(b))
	}
}

func TestBadArguments(t *testing.T) {
	p := Default()
	if _, err := MonteCarlo(p, nil, 0, 10, 1); err == nil {
		t.Error("MonteCarlo with 0 samples: want an error")
	}
	if _, err := MonteCarlo(p, nil, 4, 1, 1); err == nil {
		t.Error("MonteCarlo with 1 trial: want an error")
	}
	if mc, err := MonteCarlo(p, nil, 4, 10, 1); err != nil || len(mc.Grads) != len(Configs) {
		t.Errorf("MonteCarlo with ex = nil: %v", err)
	}
	if _, err := Optimise(p, OptimiseConfig{LR: -1}); err == nil {
		t.Error("Optimise with LR < 0: want an error")
	}
	if err := WriteChart(filepath.Join(t.TempDir(), "x.png"), p, nil); err == nil {
		t.Error("WriteChart without runs: want an error")
	}
	if _, err := SchulmanTable(10, 1); err == nil {
		t.Error("SchulmanTable with 10 samples: want an error")
	}
	if _, err := ExpectedSurrogate(p, "k9-loss", p.Logits, p.Logits); err == nil {
		t.Error("ExpectedSurrogate of an unknown configuration: want an error")
	}
}

// TestOptimiseFixedPointsTwoArms repeats the fixed-point check on a second, two-armed problem.
func TestOptimiseFixedPointsTwoArms(t *testing.T) {
	p := problems()["two arms"]
	runs, err := Optimise(p, OptimiseConfig{MaxIter: 20000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		switch r.Config {
		case "k1-reward", "k2-loss", "k3-loss-is", "exact-loss":
			if !r.Converged || r.DistRev > 1e-6 {
				t.Errorf("%s: converged %v, |π − π*|∞ = %.3g", r.Config, r.Converged, r.DistRev)
			}
		case "k3-loss":
			if !r.Converged || r.DistFwd > 1e-6 {
				t.Errorf("%s: converged %v, |π − π_fwd|∞ = %.3g", r.Config, r.Converged, r.DistFwd)
			}
		}
	}
}

// TestOptimiseOverflowDiverges: a β so large that a step lr·g overflows float64 ends the run as
// Diverged with finite numbers (it used to fail the whole command with "logits[0] = NaN").
func TestOptimiseOverflowDiverges(t *testing.T) {
	p := Default()
	p.Beta = MaxScale
	runs, err := Optimise(p, OptimiseConfig{Samples: 4, Seed: 1, SampledIter: 50, MaxIter: 50})
	if err != nil {
		t.Fatalf("Optimise with β = MaxScale: %v", err)
	}
	diverged := 0
	for _, r := range runs {
		if r.Diverged {
			diverged++
		}
		finite := !math.IsNaN(r.ExpectedR) && !math.IsNaN(r.KL)
		for _, v := range r.Pi {
			finite = finite && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
		if !finite {
			t.Errorf("%s (sampled %v): π %v, E[r] %v, KL %v: want finite numbers", r.Config, r.Sampled, r.Pi, r.ExpectedR, r.KL)
		}
	}
	if diverged == 0 {
		t.Fatal("no run was reported as diverged")
	}
}

// TestBoundsKeepReportFinite: at the corners of the bounds of Validate (and with the tiniest
// β) every number Analyse and Optimise report is finite, except the relative bias and spread of
// an estimate whose KL is 0 (π = π_ref: undefined).
func TestBoundsKeepReportFinite(t *testing.T) {
	finite := func(v ...float64) bool {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	for _, lg := range [][]float64{{MaxLogit, -MaxLogit, 0}, {-MaxLogit, MaxLogit, 0}} {
		for _, ref := range [][]float64{{1, 0, -2}, {-MaxLogit, MaxLogit, 0}} {
			for _, r := range [][]float64{{0.2, 0, 1}, {MaxScale, -MaxScale, 0}} {
				for _, beta := range []float64{1e-300, 0.3, MaxScale} {
					p := Problem{Logits: lg, RefLogits: ref, Reward: r, Beta: beta}
					ex, err := Analyse(p)
					if err != nil {
						t.Fatalf("%+v: %v", p, err)
					}
					ok := finite(ex.GradTrue...) && finite(ex.Optimum...) && finite(ex.ForwardOpt...) && finite(ex.KLReverse, ex.KLForward, ex.J)
					for _, c := range ex.Configs {
						ok = ok && finite(c.Grad...)
					}
					runs, err := Optimise(p, OptimiseConfig{Samples: 2, Seed: 1, SampledIter: 20, MaxIter: 20})
					if err != nil {
						t.Fatalf("%+v: Optimise: %v", p, err)
					}
					for _, run := range runs {
						ok = ok && finite(run.Pi...) && finite(run.ExpectedR, run.KL, run.KLForward)
					}
					if !ok {
						t.Errorf("%+v: a reported number is not finite", p)
					}
				}
			}
		}
	}
}

// TestForwardOptimumTinyBeta: for β far below ulp(max r) the forward optimum is finite: arm x ≠
// argmax r gets β·π_ref(x)/(max r − r(x)) and the best arm the rest (it was NaN for β ≤ 1e-20:
// t + max r − r rounded the best arm's denominator to 0).
func TestForwardOptimumTinyBeta(t *testing.T) {
	for _, beta := range []float64{1e-20, 1e-100, 1e-300} {
		p := Default()
		p.Beta = beta
		pi, err := ForwardOptimum(p)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := kl.LogSoftmax(p.RefLogits)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range p.Reward[:4] { // arm 4 has the largest reward, 1
			want := beta * math.Exp(ref[i]) / (1 - r)
			if math.Abs(pi[i]-want) > 1e-12*want {
				t.Errorf("β = %g: π[%d] = %g, want %g", beta, i, pi[i], want)
			}
		}
		if pi[4] != 1 && math.Abs(pi[4]-1) > 1e-12 {
			t.Errorf("β = %g: π[4] = %g, want ≈ 1", beta, pi[4])
		}
	}
}
