package kl

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestClosedFormsKnownValues checks hand-derived values (not outputs of this package).
func TestClosedFormsKnownValues(t *testing.T) {
	ln := math.Log
	eg := 0.5772156649015329 // Euler–Mascheroni γ
	kl := func(v float64, err error) float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		// The explainer's two peaks: (μ_p − μ_q)²/(2σ²) = 36/2, both ways.
		{"normal two peaks", kl(Normal{-3, 1}.KL(Normal{3, 1})), 18},
		{"normal two peaks reverse", kl(Normal{3, 1}.KL(Normal{-3, 1})), 18},
		{"normal width", kl(Normal{0, 1}.KL(Normal{0, 2})), ln(2) + 1.0/8 - 0.5},
		{"normal width reverse", kl(Normal{0, 2}.KL(Normal{0, 1})), ln(0.5) + 2 - 0.5},
		{"normal identical", kl(Normal{1.5, 0.3}.KL(Normal{1.5, 0.3})), 0},
		{"diag = sum of normals", kl(DiagNormal{Mu: []float64{-3, 0}, Sigma: []float64{1, 1}}.KL(
			DiagNormal{Mu: []float64{3, 0}, Sigma: []float64{1, 2}})), 18 + ln(2) + 1.0/8 - 0.5},
		{"diag log sigma", kl(DiagNormal{Mu: []float64{-3, 0}, LogSigma: []float64{0, 0}}.KL(
			DiagNormal{Mu: []float64{3, 0}, LogSigma: []float64{0, ln(2)}})), 18 + ln(2) + 1.0/8 - 0.5},
		{"diag mixed", kl(DiagNormal{Mu: []float64{0}, Sigma: []float64{1}}.KL(
			DiagNormal{Mu: []float64{0}, LogSigma: []float64{ln(2)}})), ln(2) + 1.0/8 - 0.5},
		// VAE: μ = 1, σ² = e: −½(1 + 1 − 1 − e).
		{"vae", kl(VAEPriorKL([]float64{1}, []float64{1})), -0.5 * (1 + 1 - 1 - math.E)},
		{"vae at prior", kl(VAEPriorKL([]float32{0, 0}, []float32{0, 0})), 0},
		{"bernoulli", kl(Bernoulli{0.7}.KL(Bernoulli{0.5})), 0.7*ln(1.4) + 0.3*ln(0.6)},
		{"bernoulli a=0", kl(Bernoulli{0}.KL(Bernoulli{0.25})), -ln(0.75)},
		{"bernoulli a=1", kl(Bernoulli{1}.KL(Bernoulli{0.25})), -ln(0.25)},
		{"bernoulli a=b=0", kl(Bernoulli{0}.KL(Bernoulli{0})), 0},
		{"bernoulli a=b=1", kl(Bernoulli{1}.KL(Bernoulli{1})), 0},
		{"bernoulli b=0", kl(Bernoulli{0.1}.KL(Bernoulli{0})), math.Inf(1)},
		{"bernoulli b=1", kl(Bernoulli{0.9}.KL(Bernoulli{1})), math.Inf(1)},
		// Beta(1,1) is uniform; KL(U‖Beta(2,1)) = E_U[−ln 2x] = −ln 2 + 1; Beta(2,1)‖U = E[ln 2x], x~Beta(2,1) = ln 2 − ½.
		{"beta uniform", kl(Beta{1, 1}.KL(Beta{2, 1})), 1 - ln(2)},
		{"beta reverse", kl(Beta{2, 1}.KL(Beta{1, 1})), ln(2) - 0.5},
		// Dirichlet(1,1) = Beta(1,1) on the first coordinate.
		{"dirichlet = beta", kl(Dirichlet{[]float64{1, 1}}.KL(Dirichlet{[]float64{2, 1}})), 1 - ln(2)},
		{"poisson", kl(Poisson{2}.KL(Poisson{3})), 2*ln(2.0/3) - 2 + 3},
		{"exponential", kl(Exponential{2}.KL(Exponential{1})), ln(2) + 0.5 - 1},
		// Gamma(1, r) is Exponential(r).
		{"gamma = exponential", kl(Gamma{1, 2}.KL(Gamma{1, 1})), ln(2) + 0.5 - 1},
		// Gamma(2,1)‖Exp(1): E[ln(x e^{−x}) − ln e^{−x}] = E[ln x] = ψ(2) = 1 − γ.
		{"gamma shape", kl(Gamma{2, 1}.KL(Gamma{1, 1})), 1 - eg},
	}
	for _, tc := range tests {
		if !closeRel(tc.got, tc.want, 1e-14) && math.Abs(tc.got-tc.want) > 1e-15 {
			t.Errorf("%s: got %.17g, want %.17g", tc.name, tc.got, tc.want)
		}
	}
}

// TestClosedFormsSmallDivergence checks precision where the textbook formulas cancel: nearly
// equal parameters, against second-order (Fisher information) expansions.
func TestClosedFormsSmallDivergence(t *testing.T) {
	const h = 1e-6
	tests := []struct {
		name      string
		got, want float64
	}{
		// KL ≈ ½ I(θ) h² for a parameter change h.
		{"normal sigma", must(Normal{0, 1}.KL(Normal{0, 1 + h})), h * h}, // I(σ) = 2/σ²
		{"normal mu", must(Normal{0, 1}.KL(Normal{h, 1})), h * h / 2},
		{"exponential", must(Exponential{1}.KL(Exponential{1 + h})), h * h / 2}, // I(λ) = 1/λ²
		{"poisson", must(Poisson{2}.KL(Poisson{2 + h})), h * h / 4},             // I(λ) = 1/λ
		{"bernoulli", must(Bernoulli{0.5}.KL(Bernoulli{0.5 + h})), 2 * h * h},   // I = 1/(p(1−p))
		{"vae", must(VAEPriorKL([]float64{0}, []float64{h})), h * h / 4},
	}
	for _, tc := range tests {
		if !closeRel(tc.got, tc.want, 1e-5) {
			t.Errorf("%s: got %.10g, want ≈ %.10g", tc.name, tc.got, tc.want)
		}
	}
}

func must(v float64, err error) float64 {
	if err != nil {
		panic(err) // test helper only
	}
	return v
}

// TestClosedFormsMonteCarlo estimates KL(P‖Q) = E_P[ln p(x) − ln q(x)] by sampling P with
// gonum's distributions and compares it with the closed form within 5 standard errors.
func TestClosedFormsMonteCarlo(t *testing.T) {
	const n = 40000
	src := rand.NewPCG(11, 12)
	type uv interface {
		Rand() float64
		LogProb(float64) float64
	}
	tests := []struct {
		name  string
		exact float64
		p, q  uv
	}{
		{"normal", must(Normal{0.5, 0.8}.KL(Normal{-0.3, 1.3})), distuv.Normal{Mu: 0.5, Sigma: 0.8, Src: src}, distuv.Normal{Mu: -0.3, Sigma: 1.3}},
		{"beta", must(Beta{2.5, 1.5}.KL(Beta{1.2, 3})), distuv.Beta{Alpha: 2.5, Beta: 1.5, Src: src}, distuv.Beta{Alpha: 1.2, Beta: 3}},
		{"gamma", must(Gamma{3, 2}.KL(Gamma{1.5, 0.7})), distuv.Gamma{Alpha: 3, Beta: 2, Src: src}, distuv.Gamma{Alpha: 1.5, Beta: 0.7}},
		{"poisson", must(Poisson{4}.KL(Poisson{6.5})), distuv.Poisson{Lambda: 4, Src: src}, distuv.Poisson{Lambda: 6.5}},
		{"exponential", must(Exponential{2}.KL(Exponential{0.5})), distuv.Exponential{Rate: 2, Src: src}, distuv.Exponential{Rate: 0.5}},
		{"bernoulli", must(Bernoulli{0.3}.KL(Bernoulli{0.6})), distuv.Bernoulli{P: 0.3, Src: src}, distuv.Bernoulli{P: 0.6}},
	}
	for _, tc := range tests {
		var s, s2 float64
		for i := 0; i < n; i++ {
			x := tc.p.Rand()
			d := tc.p.LogProb(x) - tc.q.LogProb(x)
			s += d
			s2 += d * d
		}
		mean := s / n
		se := math.Sqrt((s2/n - mean*mean) / n)
		if math.Abs(mean-tc.exact) > 5*se {
			t.Errorf("%s: Monte Carlo %.5f ± %.5f, closed form %.5f", tc.name, mean, se, tc.exact)
		}
	}
	// Dirichlet: sample as normalised gammas; log density ln Γ(α₀) − Σ ln Γ(αᵢ) + Σ (αᵢ−1) ln xᵢ.
	ap, aq := []float64{2, 3, 0.7}, []float64{1, 1, 4}
	exact := must(Dirichlet{ap}.KL(Dirichlet{aq}))
	dirLogProb := func(a, x []float64) float64 {
		var a0, v float64
		for i := range a {
			a0 += a[i]
			lg, _ := math.Lgamma(a[i])
			v += (a[i]-1)*math.Log(x[i]) - lg
		}
		lg0, _ := math.Lgamma(a0)
		return v + lg0
	}
	gammas := make([]distuv.Gamma, len(ap))
	for i, a := range ap {
		gammas[i] = distuv.Gamma{Alpha: a, Beta: 1, Src: src}
	}
	var s, s2 float64
	x := make([]float64, 3)
	for i := 0; i < n; i++ {
		var sum float64
		for j := range x {
			x[j] = gammas[j].Rand()
			sum += x[j]
		}
		for j := range x {
			x[j] /= sum
		}
		d := dirLogProb(ap, x) - dirLogProb(aq, x)
		s += d
		s2 += d * d
	}
	mean := s / n
	se := math.Sqrt((s2/n - mean*mean) / n)
	if math.Abs(mean-exact) > 5*se {
		t.Errorf("dirichlet: Monte Carlo %.5f ± %.5f, closed form %.5f", mean, se, exact)
	}
}

func TestClosedFormsInvalidInput(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name string
		f    func() (float64, error)
		arg  string
		msg  string
	}{
		{"sigma 0", func() (float64, error) { return Normal{0, 0}.KL(Normal{0, 1}) }, "sigma_p", "sigma_p = 0"},
		{"sigma negative", func() (float64, error) { return Normal{0, 1}.KL(Normal{0, -2}) }, "sigma_q", "sigma_q = -2"},
		{"mu NaN", func() (float64, error) { return Normal{nan, 1}.KL(Normal{0, 1}) }, "mu_p", "mu_p = NaN"},
		{"sigma Inf", func() (float64, error) { return Normal{0, inf}.KL(Normal{0, 1}) }, "sigma_p", "+Inf"},
		{"diag sigma", func() (float64, error) {
			return DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1, 0}}.KL(DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1, 1}})
		}, "sigma_p", "sigma_p[1] = 0"},
		{"diag lengths", func() (float64, error) {
			return DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1}}.KL(DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1, 1}})
		}, "sigma_p", "len(sigma_p) = 1"},
		{"diag dims", func() (float64, error) {
			return DiagNormal{Mu: []float64{0}, Sigma: []float64{1}}.KL(DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1, 1}})
		}, "mu_q", "len(mu_q) = 2"},
		{"diag both scales", func() (float64, error) {
			return DiagNormal{Mu: []float64{0}, Sigma: []float64{1}, LogSigma: []float64{0}}.KL(DiagNormal{Mu: []float64{0}, Sigma: []float64{1}})
		}, "log_sigma_p", "not both"},
		{"diag no scale", func() (float64, error) {
			return DiagNormal{Mu: []float64{0}, Sigma: []float64{1}}.KL(DiagNormal{Mu: []float64{0}})
		}, "sigma_q", "give sigma_q"},
		{"vae logvar", func() (float64, error) { return VAEPriorKL([]float64{0, 0}, []float64{0, inf}) }, "logvar", "logvar[1] = +Inf"},
		{"vae lengths", func() (float64, error) { return VAEPriorKL([]float64{0, 0}, []float64{0}) }, "logvar", "len(logvar) = 1"},
		{"bernoulli >1", func() (float64, error) { return Bernoulli{1.5}.KL(Bernoulli{0.5}) }, "p", "p = 1.5"},
		{"bernoulli NaN", func() (float64, error) { return Bernoulli{0.5}.KL(Bernoulli{nan}) }, "q", "q = NaN"},
		{"beta alpha", func() (float64, error) { return Beta{0, 1}.KL(Beta{1, 1}) }, "alpha_p", "alpha_p = 0"},
		{"beta beta", func() (float64, error) { return Beta{1, 1}.KL(Beta{1, -3}) }, "beta_q", "beta_q = -3"},
		{"dirichlet", func() (float64, error) { return Dirichlet{[]float64{1, 0}}.KL(Dirichlet{[]float64{1, 1}}) }, "alpha_p", "alpha_p[1] = 0"},
		{"dirichlet short", func() (float64, error) { return Dirichlet{[]float64{1, 1}}.KL(Dirichlet{[]float64{1}}) }, "alpha_q", "len(alpha_q) = 1"},
		{"dirichlet lengths", func() (float64, error) { return Dirichlet{[]float64{1, 1}}.KL(Dirichlet{[]float64{1, 1, 1}}) }, "alpha_q", "len(alpha_q) = 3"},
		{"poisson", func() (float64, error) { return Poisson{0}.KL(Poisson{1}) }, "rate_p", "rate_p = 0"},
		{"exponential", func() (float64, error) { return Exponential{1}.KL(Exponential{-1}) }, "rate_q", "rate_q = -1"},
		{"gamma shape", func() (float64, error) { return Gamma{-1, 1}.KL(Gamma{1, 1}) }, "shape_p", "shape_p = -1"},
		{"gamma rate", func() (float64, error) { return Gamma{1, 1}.KL(Gamma{1, 0}) }, "rate_q", "rate_q = 0"},
	}
	for _, tc := range tests {
		_, err := tc.f()
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != tc.arg || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want an *ArgError naming %s containing %q", tc.name, err, tc.arg, tc.msg)
		}
	}
}

func TestClosedFormsSelfIsZeroAndAsymmetric(t *testing.T) {
	pairs := []struct {
		name   string
		pp, pq float64 // KL(P‖P), KL(P‖Q)
		qp     float64 // KL(Q‖P)
	}{
		{"normal", must(Normal{1, 2}.KL(Normal{1, 2})), must(Normal{1, 2}.KL(Normal{0, 1})), must(Normal{0, 1}.KL(Normal{1, 2}))},
		{"beta", must(Beta{2, 5}.KL(Beta{2, 5})), must(Beta{2, 5}.KL(Beta{3, 1})), must(Beta{3, 1}.KL(Beta{2, 5}))},
		{"gamma", must(Gamma{2, 5}.KL(Gamma{2, 5})), must(Gamma{2, 5}.KL(Gamma{3, 1})), must(Gamma{3, 1}.KL(Gamma{2, 5}))},
		{"dirichlet", must(Dirichlet{[]float64{1, 2, 3}}.KL(Dirichlet{[]float64{1, 2, 3}})),
			must(Dirichlet{[]float64{1, 2, 3}}.KL(Dirichlet{[]float64{2, 2, 2}})), must(Dirichlet{[]float64{2, 2, 2}}.KL(Dirichlet{[]float64{1, 2, 3}}))},
		{"poisson", must(Poisson{3}.KL(Poisson{3})), must(Poisson{3}.KL(Poisson{1})), must(Poisson{1}.KL(Poisson{3}))},
	}
	for _, tc := range pairs {
		if math.Abs(tc.pp) > 1e-14 {
			t.Errorf("%s: KL(P‖P) = %g", tc.name, tc.pp)
		}
		if !(tc.pq > 0 && tc.qp > 0) || math.Abs(tc.pq-tc.qp) < 1e-6 {
			t.Errorf("%s: KL(P‖Q) = %g, KL(Q‖P) = %g: want both > 0 and different", tc.name, tc.pq, tc.qp)
		}
	}
}

func TestDigamma(t *testing.T) {
	const eg = 0.57721566490153286061
	tests := []struct{ x, want float64 }{
		{1, -eg},
		{0.5, -eg - 2*math.Ln2},
		{2, 1 - eg},
		{10, 1 + 1.0/2 + 1.0/3 + 1.0/4 + 1.0/5 + 1.0/6 + 1.0/7 + 1.0/8 + 1.0/9 - eg},
		{1.5, 2 - eg - 2*math.Ln2},
		{-0.5, 2 - eg - 2*math.Ln2}, // reflection: ψ(−½) = ψ(3/2) + π cot(π/2)·… = ψ(3/2)
		{0.25, -eg - math.Pi/2 - 3*math.Ln2},
		{1e-8, -1e8 - eg + math.Pi*math.Pi/6*1e-8},
	}
	for _, tc := range tests {
		if got := Digamma(tc.x); !closeRel(got, tc.want, 4e-15) && math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("Digamma(%g) = %.17g, want %.17g", tc.x, got, tc.want)
		}
	}
	// Recurrence ψ(x+1) = ψ(x) + 1/x across the switch to the asymptotic series, and gonum.
	for x := 0.01; x < 50; x *= 1.37 {
		if d := Digamma(x+1) - Digamma(x) - 1/x; math.Abs(d) > 1e-13*math.Max(1, 1/x) {
			t.Errorf("recurrence at %g off by %g", x, d)
		}
		if d := Digamma(x) - mathext.Digamma(x); math.Abs(d) > 1e-9*math.Max(1, math.Abs(Digamma(x))) {
			t.Errorf("Digamma(%g) = %.17g, gonum %.17g", x, Digamma(x), mathext.Digamma(x))
		}
	}
	if !math.IsNaN(Digamma(-2)) || !math.IsInf(Digamma(0), -1) || !math.IsInf(Digamma(math.Inf(1)), 1) || !math.IsNaN(Digamma(math.NaN())) {
		t.Error("Digamma special values are wrong")
	}
}

// TestClosedFormsLargeParameters checks the closed forms where the textbook formulas cancel
// catastrophically: huge concentrations (Beta, Dirichlet, Gamma) and parameter ratios within a
// few ulps of 1 scaled by a huge rate (Poisson, Exponential, Normal), plus locations whose
// difference overflows. References: mpmath at 60 digits from the exact float64 inputs
// (testdata/gen_highprec.py holds the formulas).
func TestClosedFormsLargeParameters(t *testing.T) {
	tests := []struct {
		name string
		kl   func() (float64, error)
		want float64
	}{
		{"issue 9: Beta(1e16,1e16)‖Beta(1,1)", func() (float64, error) { return Beta{1e16, 1e16}.KL(Beta{1, 1}) }, 18.041462981587610719},
		{"issue 9: Beta(3e12,2e12)‖Beta(1.5,0.7)", func() (float64, error) { return Beta{3e12, 2e12}.KL(Beta{1.5, 0.7}) }, 13.938512293223355244},
		{"issue 9: Dir(4e13,1e13,5e13)‖Dir(1,2,3)", func() (float64, error) {
			return Dirichlet{[]float64{4e13, 1e13, 5e13}}.KL(Dirichlet{[]float64{1, 2, 3}})
		}, 30.948860630113292740},
		{"Beta huge vs huge, close", func() (float64, error) { return Beta{1e16, 1e16}.KL(Beta{1.00000001e16, 1e16}) }, 0.24999999875000002604},
		{"Beta huge vs huge", func() (float64, error) { return Beta{1e16, 1e16}.KL(Beta{2e16, 2e16}) }, 0.15342640972002735154},
		{"Beta uniform vs huge", func() (float64, error) { return Beta{1, 1}.KL(Beta{1e16, 1e16}) }, 6137056388801074.6565},
		{"Beta scaled concentration", func() (float64, error) { return Beta{3e12, 2e12}.KL(Beta{3.0003e12, 2.0002e12}) }, 2.4998333458328611417e-09},
		{"Gamma(1e16,1e16)‖Gamma(1,1)", func() (float64, error) { return Gamma{1e16, 1e16}.KL(Gamma{1, 1}) }, 18.001742210747692764},
		{"Gamma(3e12,2e12)‖Gamma(1.5,0.7)", func() (float64, error) { return Gamma{3e12, 2e12}.KL(Gamma{1.5, 0.7}) }, 13.801910685204457454},
		{"Poisson 1e16, ratio 1+1e-8", func() (float64, error) { return Poisson{1e16}.KL(Poisson{1.00000001e16}) }, 0.49999999666666669167},
		{"Exponential 3 vs 3.000000003", func() (float64, error) { return Exponential{3}.KL(Exponential{3.000000003}) }, 4.9999993437730324596e-19},
		{"Normal sigma 3 vs 3.000000003", func() (float64, error) { return Normal{0, 3}.KL(Normal{0, 3.000000003}) }, 9.9999986775460668954e-19},
		{"Normal mu ±1.7e308, sigma 1e308", func() (float64, error) { return Normal{1.7e308, 1e308}.KL(Normal{-1.7e308, 1e308}) }, 5.7799999999999994571},
	}
	for _, tc := range tests {
		got, err := tc.kl()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !closeRel(got, tc.want, 1e-12) {
			t.Errorf("%s: got %.17g, want %.17g (rel %.2g)", tc.name, got, tc.want, math.Abs(got-tc.want)/tc.want)
		}
	}
}

// TestDiagNormalLogSigmaEdges: scales given as ln σ whose exponentials overflow or underflow.
func TestDiagNormalLogSigmaEdges(t *testing.T) {
	tests := []struct {
		name               string
		mu1, ls1, mu2, ls2 float64
		want               float64
	}{
		// Equal means, σ₂ = e⁻⁸⁰⁰ (1/σ₂ overflows): only the scale term, ½(e^0 − 1 − 0) = 0.
		{"equal means, tiny sigma", 0, -800, 0, -800, 0},
		// Δμ = 1e-300, σ₂ = e⁻⁸⁰⁰: z = 1e-300·e⁸⁰⁰ = e^(800 − 690.7755…).
		{"tiny difference, tiny sigma", 1e-300, -800, 0, -800, 0.5 * math.Exp(2*(800+math.Log(1e-300)))},
	}
	for _, tc := range tests {
		got, err := DiagNormal{Mu: []float64{tc.mu1}, LogSigma: []float64{tc.ls1}}.KL(DiagNormal{Mu: []float64{tc.mu2}, LogSigma: []float64{tc.ls2}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !closeRel(got, tc.want, 1e-12) && !(tc.want == 0 && got == 0) {
			t.Errorf("%s: got %.17g, want %.17g", tc.name, got, tc.want)
		}
	}
}
