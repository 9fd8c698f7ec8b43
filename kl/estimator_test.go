package kl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// meanSE returns the sample mean and its standard error.
func meanSE(x []float64) (mean, se float64) {
	var s, s2 float64
	for _, v := range x {
		s += v
		s2 += v * v
	}
	n := float64(len(x))
	mean = s / n
	return mean, math.Sqrt(math.Max(s2/n-mean*mean, 0) / n)
}

// TestEstimatorsMonteCarlo samples x ~ Q and checks the means of k1, k2, k3 (over
// ℓ = ln p(x) − ln q(x)) against the exact KL(Q‖P): k1 and k3 are unbiased, k2 is biased
// (a known amount here) but close when the divergence is small.
func TestEstimatorsMonteCarlo(t *testing.T) {
	const n = 100000
	r := rand.New(rand.NewPCG(21, 22))
	tests := []struct {
		name   string
		q, p   Normal
		k2Mean float64 // analytic E_Q[½ℓ²]: ℓ = Δx − Δ²/2 for unit variances and shift Δ
	}{
		// Q = N(0,1), P = N(Δ,1): ℓ = Δx − Δ²/2, E[½ℓ²] = ½(Δ² + Δ⁴/4).
		{"large KL", Normal{0, 1}, Normal{1, 1}, 0.5 * (1 + 1.0/4)},
		{"small KL", Normal{0, 1}, Normal{0.1, 1}, 0.5 * (0.01 + 0.0001/4)},
	}
	for _, tc := range tests {
		exact := must(tc.q.KL(tc.p))
		lr := make([]float64, n)
		for i := range lr {
			x := tc.q.Mu + tc.q.Sigma*r.NormFloat64()
			lr[i] = tc.p.LogProb(x) - tc.q.LogProb(x)
		}
		samples := map[Estimator][]float64{}
		for _, e := range []Estimator{K1, K2, K3} {
			s := make([]float64, n)
			for i, l := range lr {
				s[i] = e.Sample(l)
			}
			samples[e] = s
			got, err := Estimate(e, lr)
			if err != nil {
				t.Fatal(err)
			}
			if m, _ := meanSE(s); math.Abs(got-m) > 1e-12*math.Abs(m) {
				t.Errorf("%s %v: Estimate = %g, mean of samples %g", tc.name, e, got, m)
			}
		}
		m1, se1 := meanSE(samples[K1])
		m2, se2 := meanSE(samples[K2])
		m3, se3 := meanSE(samples[K3])
		if math.Abs(m1-exact) > 5*se1 {
			t.Errorf("%s: mean k1 = %.6g ± %.2g, exact %.6g (k1 is unbiased)", tc.name, m1, se1, exact)
		}
		if math.Abs(m3-exact) > 5*se3 {
			t.Errorf("%s: mean k3 = %.6g ± %.2g, exact %.6g (k3 is unbiased)", tc.name, m3, se3, exact)
		}
		if math.Abs(m2-tc.k2Mean) > 5*se2 {
			t.Errorf("%s: mean k2 = %.6g ± %.2g, analytic %.6g", tc.name, m2, se2, tc.k2Mean)
		}
		bias := (tc.k2Mean - exact) / exact
		switch tc.name {
		case "large KL": // 25% too high: detectably biased
			if m2-exact < 10*se2 || bias < 0.2 {
				t.Errorf("%s: k2 = %.6g should be clearly above %.6g", tc.name, m2, exact)
			}
		case "small KL": // within 1%
			if math.Abs(m2-exact) > 0.01*exact {
				t.Errorf("%s: k2 = %.6g should be within 1%% of %.6g", tc.name, m2, exact)
			}
			// Schulman's point: k3 is much less noisy than k1 when Q ≈ P.
			if se3 > se1/5 {
				t.Errorf("%s: k3's standard error %.3g is not well below k1's %.3g", tc.name, se3, se1)
			}
		}
	}
}

// TestEstimatorsCategorical checks k1 and k3 on a categorical Q and P, sampling Q.
func TestEstimatorsCategorical(t *testing.T) {
	const n = 100000
	r := rand.New(rand.NewPCG(23, 24))
	q := []float64{0.1, 0.2, 0.3, 0.4}
	p := []float64{0.25, 0.25, 0.25, 0.25}
	exact := must(KL(q, p)) // KL(Q‖P)
	logP, logQ := make([]float64, n), make([]float64, n)
	for i := range logP {
		u, k := r.Float64(), 0
		for c := q[0]; u > c && k < len(q)-1; c += q[k] {
			k++
		}
		logP[i], logQ[i] = math.Log(p[k]), math.Log(q[k])
	}
	for _, e := range []Estimator{K1, K3} {
		got, err := EstimateFromLogProbs(e, logP, logQ)
		if err != nil {
			t.Fatal(err)
		}
		s := make([]float64, n)
		for i := range s {
			s[i] = e.Sample(logP[i] - logQ[i])
		}
		_, se := meanSE(s)
		if math.Abs(got-exact) > 5*se {
			t.Errorf("%v: %.6g ± %.2g, exact %.6g", e, got, se, exact)
		}
	}
}

func TestEstimatorSigns(t *testing.T) {
	for _, l := range []float64{-50, -3, -1e-9, 0, 1e-12, 0.3, 5, 40} {
		if K2.Sample(l) < 0 || K3.Sample(l) < 0 {
			t.Errorf("ℓ=%g: k2 = %g, k3 = %g; both must be ≥ 0", l, K2.Sample(l), K3.Sample(l))
		}
		if l > 0 && K1.Sample(l) >= 0 {
			t.Errorf("ℓ=%g: k1 = %g should be negative", l, K1.Sample(l))
		}
	}
	// k3 near ℓ = 0 keeps its digits: e^ℓ − 1 − ℓ ≈ ℓ²/2.
	if got := K3.Sample(1e-8); math.Abs(got-0.5e-16) > 1e-24 {
		t.Errorf("k3(1e-8) = %g, want 5e-17", got)
	}
	if K1.String() != "k1" || K2.String() != "k2" || K3.String() != "k3" || !math.IsNaN(Estimator(9).Sample(1)) {
		t.Error("estimator names or unknown-estimator value wrong")
	}
	for _, tc := range []struct {
		f   func() error
		arg string
	}{
		{func() error { _, err := Estimate(Estimator(0), []float64{1}); return err }, "estimator"},
		{func() error { _, err := Estimate(K1, []float64{}); return err }, "log_ratio"},
		{func() error { _, err := Estimate(K3, []float64{0, math.NaN()}); return err }, "log_ratio"},
		{func() error { _, err := EstimateFromLogProbs(K3, []float64{0}, []float64{0, 1}); return err }, "log_q"},
		{func() error { _, err := EstimateFromLogProbs(K3, []float64{0}, []float64{math.Inf(-1)}); return err }, "log_q"},
	} {
		var ae *ArgError
		if err := tc.f(); !errors.As(err, &ae) || ae.Arg != tc.arg {
			t.Errorf("error %v, want one naming %s", err, tc.arg)
		}
	}
}

// TestEstimatorDeriv checks Deriv against central differences of Sample, and RLHF against
// Sample/Deriv at the negated log-ratio (and against the RLHF papers' formulas in l).
func TestEstimatorDeriv(t *testing.T) {
	const h = 1e-6
	for _, e := range []Estimator{K1, K2, K3} {
		for _, l := range []float64{-4, -1, -0.2, 0, 1e-3, 0.7, 3} {
			fd := (e.Sample(l+h) - e.Sample(l-h)) / (2 * h)
			if got := e.Deriv(l); math.Abs(got-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%v.Deriv(%g) = %.10g, central difference %.10g", e, l, got, fd)
			}
			logPi, logRef := -1.3, -1.3-l // l = logPi − logRef in the RLHF papers' sign
			v, d := e.RLHF(logPi, logRef)
			want := map[Estimator][2]float64{
				K1: {l, 1},
				K2: {0.5 * l * l, l},
				K3: {math.Exp(-l) - 1 + l, 1 - math.Exp(-l)},
			}[e]
			if math.Abs(v-want[0]) > 1e-12*math.Max(1, math.Abs(want[0])) || math.Abs(d-want[1]) > 1e-12*math.Max(1, math.Abs(want[1])) {
				t.Errorf("%v.RLHF at l=%g = (%g, %g), want (%g, %g)", e, l, v, d, want[0], want[1])
			}
			fdPi := (first(e.RLHF(logPi+h, logRef)) - first(e.RLHF(logPi-h, logRef))) / (2 * h)
			if math.Abs(d-fdPi) > 1e-6*math.Max(1, math.Abs(fdPi)) {
				t.Errorf("%v.RLHF at l=%g: d/dlogπ = %g, central difference %g", e, l, d, fdPi)
			}
		}
	}
	if !math.IsNaN(Estimator(7).Deriv(0)) {
		t.Error("unknown estimator: Deriv should be NaN")
	}
}

func first(a, _ float64) float64 { return a }

// TestShiftedNormalMoments checks the closed forms against Monte Carlo and against the two rows
// of Schulman's table (bias/KL and std/KL as he printed them, to his rounding).
func TestShiftedNormalMoments(t *testing.T) {
	const n = 200000
	r := rand.New(rand.NewPCG(31, 32))
	for _, delta := range []float64{0.1, 1, -0.5} {
		q, p := Normal{0, 1}, Normal{delta, 1}
		lr := make([]float64, n)
		for i := range lr {
			x := r.NormFloat64()
			lr[i] = p.LogProb(x) - q.LogProb(x)
		}
		for _, e := range []Estimator{K1, K2, K3} {
			mean, std, err := e.ShiftedNormalMoments(delta)
			if err != nil {
				t.Fatal(err)
			}
			s := make([]float64, n)
			for i, l := range lr {
				s[i] = e.Sample(l)
			}
			m, se := meanSE(s)
			if math.Abs(m-mean) > 5*se {
				t.Errorf("δ=%g %v: MC mean %.6g ± %.2g, closed form %.6g", delta, e, m, se, mean)
			}
			sd := se * math.Sqrt(n)
			if math.Abs(sd-std) > 0.03*std { // the sample std's relative error is ≈ √(kurtosis/4n) ≪ 3%
				t.Errorf("δ=%g %v: MC std %.6g, closed form %.6g", delta, e, sd, std)
			}
		}
	}
	// Schulman's printed table: bias/true, std/true.
	for _, row := range []struct {
		delta float64
		want  [3][2]float64
		tol   float64
	}{
		{0.1, [3][2]float64{{0, 20}, {0.002, 1.42}, {0, 1.42}}, 0.006},
		{1, [3][2]float64{{0, 2}, {0.25, 1.73}, {0, 1.7}}, 0.006},
	} {
		kl := row.delta * row.delta / 2
		for i, e := range []Estimator{K1, K2, K3} {
			mean, std, err := e.ShiftedNormalMoments(row.delta)
			if err != nil {
				t.Fatal(err)
			}
			bias, rel := (mean-kl)/kl, std/kl
			if math.Abs(bias-row.want[i][0]) > row.tol || math.Abs(rel-row.want[i][1]) > row.tol*row.want[i][1] {
				t.Errorf("δ=%g %v: bias/KL %.4g std/KL %.4g, Schulman %v", row.delta, e, bias, rel, row.want[i])
			}
		}
	}
	for _, tc := range []struct {
		e     Estimator
		delta float64
		arg   string
	}{{K1, math.NaN(), "delta"}, {K3, 30, "delta"}, {Estimator(0), 1, "estimator"}} {
		var ae *ArgError
		if _, _, err := tc.e.ShiftedNormalMoments(tc.delta); !errors.As(err, &ae) || ae.Arg != tc.arg {
			t.Errorf("ShiftedNormalMoments(%v, %g): error %v, want one naming %s", tc.e, tc.delta, err, tc.arg)
		}
	}
}

// RLHF's estimators of KL(π‖π_ref) for one token with log π = −1, log π_ref = −2 (l = 1), and
// their derivatives in log π (what a loss term differentiates).
func ExampleEstimator_RLHF() {
	for _, e := range []Estimator{K1, K2, K3} {
		v, d := e.RLHF(-1, -2)
		fmt.Printf("%v: value %.4f, d/dlog π %.4f\n", e, v, d)
	}
	// Output:
	// k1: value 1.0000, d/dlog π 1.0000
	// k2: value 0.5000, d/dlog π 1.0000
	// k3: value 0.3679, d/dlog π 0.6321
}

// TestEstimatorNames: every estimator round-trips through its name, in text and JSON; unknown
// names and values are refused.
func TestEstimatorNames(t *testing.T) {
	for _, e := range []Estimator{K1, K2, K3, Exact} {
		got, err := ParseEstimator(e.String())
		if err != nil || got != e {
			t.Errorf("ParseEstimator(%q) = %v, %v", e.String(), got, err)
		}
		b, err := json.Marshal(struct{ E Estimator }{e})
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ E Estimator }
		if err := json.Unmarshal(b, &back); err != nil || back.E != e {
			t.Errorf("JSON %s → %v, %v", b, back.E, err)
		}
		if e.Sampled() == (e == Exact) {
			t.Errorf("%v.Sampled() = %v", e, e.Sampled())
		}
	}
	if _, err := ParseEstimator("k4"); err == nil {
		t.Error("ParseEstimator(k4) succeeded")
	}
	if _, err := json.Marshal(Estimator(9)); err == nil {
		t.Error("marshalling Estimator(9) succeeded")
	}
	if !math.IsNaN(Exact.Sample(0.3)) || !math.IsNaN(Exact.Deriv(0.3)) {
		t.Error("Exact is not a sample estimator: Sample and Deriv must be NaN")
	}
}
