package kl

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomProbs draws a probability vector of length n; with zeros > 0 about that fraction of
// entries is exactly 0 (at least one entry stays positive).
func randomProbs(r *rand.Rand, n int, zeros float64) []float64 {
	p := make([]float64, n)
	var s float64
	for i := range p {
		if r.Float64() < zeros {
			continue
		}
		p[i] = r.ExpFloat64()
		s += p[i]
	}
	if s == 0 {
		p[r.IntN(n)] = 1
		s = 1
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

func TestCategoricalKnownValues(t *testing.T) {
	ln := math.Log
	tests := []struct {
		name    string
		p, q    []float64
		kl, rkl float64 // KL(P‖Q), KL(Q‖P)
		js      float64
	}{
		// The explainer's coin (reference.md: 0.0822829 nats); the reverse and JS from the formula.
		{"coin", []float64{0.7, 0.3}, []float64{0.5, 0.5},
			0.7*ln(0.7/0.5) + 0.3*ln(0.3/0.5), 0.5*ln(0.5/0.7) + 0.5*ln(0.5/0.3),
			0.5*(0.7*ln(0.7/0.6)+0.3*ln(0.3/0.4)) + 0.5*(0.5*ln(0.5/0.6)+0.5*ln(0.5/0.4))},
		{"equal", []float64{0.2, 0.3, 0.5}, []float64{0.2, 0.3, 0.5}, 0, 0, 0},
		// P has a zero where Q has mass: 0·ln 0 = 0 forward, +Inf backward.
		{"p has a zero", []float64{0.5, 0.5, 0}, []float64{0.25, 0.25, 0.5},
			ln(2), math.Inf(1), 0.5*(2*0.5*ln(0.5/0.375)) + 0.5*(2*0.25*ln(0.25/0.375)+0.5*ln(2))},
		// Both zero at the same outcome: that outcome contributes nothing.
		{"shared zero", []float64{1, 0}, []float64{1, 0}, 0, 0, 0},
		// Disjoint supports: KL infinite both ways, JS exactly ln 2.
		{"disjoint", []float64{1, 0}, []float64{0, 1}, math.Inf(1), math.Inf(1), math.Ln2},
		{"uniform vs point", []float64{0.25, 0.25, 0.25, 0.25}, []float64{1, 0, 0, 0},
			math.Inf(1), ln(4), 0.5*(ln(2)*0.75+0.25*ln(0.25/0.625)) + 0.5*ln(1/0.625)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(what string, got float64, err error, want float64) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if !closeRel(got, want, 1e-13) && math.Abs(got-want) > 1e-16 {
					t.Errorf("%s = %.17g, want %.17g", what, got, want)
				}
			}
			v, err := KL(tc.p, tc.q)
			check("KL", v, err, tc.kl)
			v, err = ReverseKL(tc.p, tc.q)
			check("ReverseKL", v, err, tc.rkl)
			v, err = KL(tc.q, tc.p)
			check("KL swapped", v, err, tc.rkl)
			v, err = JS(tc.p, tc.q)
			check("JS", v, err, tc.js)
			v, err = JS(tc.q, tc.p)
			check("JS swapped", v, err, tc.js)
		})
	}
}

// TestCoinMatchesReference pins the explainer's numbers quoted in reference.md.
func TestCoinMatchesReference(t *testing.T) {
	v, err := KL([]float64{0.7, 0.3}, []float64{0.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(v-0.0822829) > 5e-8 || math.Abs(ToBits(v)-0.118709) > 5e-7 || Bits.From(v) != ToBits(v) {
		t.Errorf("coin: %.9g nats, %.9g bits; want 0.0822829 nats, 0.118709 bits", v, ToBits(v))
	}
	if Nats.From(v) != v || Nats.String() != "nats" || Bits.String() != "bits" {
		t.Error("Unit conversions or names are wrong")
	}
}

func TestCategoricalInvalidInput(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		p, q    []float64
		arg     string
		index   int
		of      string
		message string // a substring of the error message
	}{
		{"negative", []float64{1.2, -0.2}, []float64{0.5, 0.5}, "p", 1, "", "p[1] = -0.2"},
		{"NaN in q", []float64{0.5, 0.5}, []float64{nan, 0.5}, "q", 0, "", "q[0] = NaN"},
		{"Inf", []float64{math.Inf(1), 0.5}, []float64{0.5, 0.5}, "p", 0, "", "p[0] = +Inf"},
		{"lengths differ", []float64{0.5, 0.5}, []float64{0.2, 0.3, 0.5}, "q", -1, "len", "len(q) = 3"},
		{"sum not 1", []float64{0.5, 0.4}, []float64{0.5, 0.5}, "p", -1, "sum", "sum(p) = 0.9"},
		{"sum just over tolerance", []float64{0.5, 0.5}, []float64{0.5, 0.5 + 2e-6}, "q", -1, "sum", "sum(q) = 1.000002"},
		{"empty", nil, nil, "p", -1, "len", "len(p) = 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fns := map[string]func() (float64, error){
				"KL":           func() (float64, error) { return KL(tc.p, tc.q) },
				"ReverseKL":    func() (float64, error) { return ReverseKL(tc.p, tc.q) },
				"JS":           func() (float64, error) { return JS(tc.p, tc.q) },
				"CrossEntropy": func() (float64, error) { return CrossEntropy(tc.p, tc.q) },
			}
			for name, f := range fns {
				_, err := f()
				var ae *ArgError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: error %v is not an *ArgError", name, err)
				}
				if ae.Arg != tc.arg || ae.Index != tc.index || ae.Of != tc.of {
					t.Errorf("%s: error names %s[%d] (of %q), want %s[%d] (of %q)", name, ae.Arg, ae.Index, ae.Of, tc.arg, tc.index, tc.of)
				}
				if !strings.Contains(err.Error(), tc.message) {
					t.Errorf("%s: error %q does not contain %q", name, err, tc.message)
				}
			}
		})
	}
	// Within the tolerance is accepted as given (no silent normalisation).
	if _, err := KL([]float64{0.5, 0.5 + 5e-7}, []float64{0.5, 0.5}); err != nil {
		t.Errorf("sum within 1e-6 rejected: %v", err)
	}
	if _, err := Entropy([]float64{-0.1, 1.1}); err == nil {
		t.Error("Entropy accepted a negative probability")
	}
}

func TestCategoricalProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + r.IntN(20)
		zeros := []float64{0, 0.3}[trial%2]
		p, q := randomProbs(r, n, zeros), randomProbs(r, n, zeros)
		kl, err1 := KL(p, q)
		pp, err2 := KL(p, p)
		js, err3 := JS(p, q)
		jsSwap, err4 := JS(q, p)
		hp, err5 := Entropy(p)
		hpq, err6 := CrossEntropy(p, q)
		for _, err := range []error{err1, err2, err3, err4, err5, err6} {
			if err != nil {
				t.Fatalf("p=%v q=%v: %v", p, q, err)
			}
		}
		if !(kl >= 0) {
			t.Fatalf("KL(P‖Q) = %g < 0 for p=%v q=%v", kl, p, q)
		}
		if pp != 0 {
			t.Fatalf("KL(P‖P) = %g ≠ 0 for p=%v", pp, p)
		}
		if !(js >= 0 && js <= math.Ln2) || math.Abs(js-jsSwap) > 1e-15*math.Max(js, 1e-300)+1e-300 {
			t.Fatalf("JS(P,Q) = %g, JS(Q,P) = %g: not symmetric in [0, ln 2]", js, jsSwap)
		}
		if math.IsInf(kl, 1) != math.IsInf(hpq, 1) {
			t.Fatalf("KL = %g but H(P,Q) = %g", kl, hpq)
		}
		if !math.IsInf(kl, 1) && math.Abs(hpq-(hp+kl)) > 1e-12*math.Max(1, hpq) {
			t.Fatalf("H(P,Q) = %.17g ≠ H(P) + KL = %.17g", hpq, hp+kl)
		}
		// The logits form agrees with the probabilities form.
		pl, ql := make([]float64, n), make([]float64, n)
		for i := range p {
			pl[i], ql[i] = math.Log(p[i])+3, math.Log(q[i])-7 // −Inf for a zero probability
		}
		klL, err := KLLogits(pl, ql)
		if err != nil {
			t.Fatal(err)
		}
		if !closeRel(klL, kl, 1e-12) && math.Abs(klL-kl) > 1e-14 {
			t.Fatalf("KLLogits = %.17g, KL = %.17g", klL, kl)
		}
		jsL, _ := JSLogits(pl, ql)
		hL, _ := EntropyLogits(pl)
		hpqL, _ := CrossEntropyLogits(pl, ql)
		rL, _ := ReverseKLLogits(pl, ql)
		rkl, _ := KL(q, p)
		for _, c := range [][2]float64{{jsL, js}, {hL, hp}, {hpqL, hpq}, {rL, rkl}} {
			if !closeRel(c[0], c[1], 1e-12) && math.Abs(c[0]-c[1]) > 1e-14 {
				t.Fatalf("logits form %.17g vs probabilities form %.17g", c[0], c[1])
			}
		}
	}
}

// TestKLNearlyEqual checks the small-divergence regime against the χ² expansion
// KL ≈ Σ (pᵢ−qᵢ)²/(2qᵢ), whose error is O(δ³): a naive Σ p ln(p/q) loses most digits here.
func TestKLNearlyEqual(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, delta := range []float64{1e-3, 1e-5, 1e-7} {
		q := randomProbs(r, 10, 0)
		p := make([]float64, len(q))
		var s float64
		for i := range q {
			p[i] = q[i] * (1 + delta*(r.Float64()-0.5))
			s += p[i]
		}
		var chi2 float64
		for i := range p {
			p[i] /= s
		}
		for i := range p {
			chi2 += (p[i] - q[i]) * (p[i] - q[i]) / (2 * q[i])
		}
		got, err := KL(p, q)
		if err != nil {
			t.Fatal(err)
		}
		if !closeRel(got, chi2, 5*delta) {
			t.Errorf("δ=%g: KL = %.10g, χ²/2 = %.10g", delta, got, chi2)
		}
		gotL, _ := KLLogits(logs(p), logs(q))
		if !closeRel(gotL, chi2, 5*delta) {
			t.Errorf("δ=%g: KLLogits = %.10g, χ²/2 = %.10g", delta, gotL, chi2)
		}
		// JS ≈ χ²-like expansion Σ (p−q)²/(8m) near equality.
		var want float64
		for i := range p {
			m := (p[i] + q[i]) / 2
			want += (p[i] - q[i]) * (p[i] - q[i]) / (8 * m)
		}
		js, _ := JS(p, q)
		if !closeRel(js, want, 5*delta) {
			t.Errorf("δ=%g: JS = %.10g, want ≈ %.10g", delta, js, want)
		}
	}
}

// logs returns ln pᵢ (logSafe: math.Log is wrong for subnormal pᵢ on amd64).
func logs(p []float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = logSafe(v)
	}
	return out
}

func TestLogitsExtreme(t *testing.T) {
	tests := []struct {
		name   string
		pl, ql []float64
		want   float64
	}{
		// exp(800) overflows: only a row-max log-softmax gets the exact 900.
		{"issue case", []float64{800, 0, -800}, []float64{0, 900, 1}, 900},
		{"shift invariance", []float64{1000, 1000}, []float64{-1000, -1000}, 0},
		// A −Inf logit is a zero probability.
		{"masked in p", []float64{0, math.Inf(-1)}, []float64{0, 0}, math.Ln2},
		{"masked in q", []float64{0, 0}, []float64{0, math.Inf(-1)}, math.Inf(1)},
		{"masked in both", []float64{0, math.Inf(-1)}, []float64{5, math.Inf(-1)}, 0},
	}
	for _, tc := range tests {
		got, err := KLLogits(tc.pl, tc.ql)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !closeRel(got, tc.want, 1e-15) && math.Abs(got-tc.want) > 1e-300 {
			t.Errorf("%s: KLLogits = %.17g, want %g", tc.name, got, tc.want)
		}
		got32, err := KLLogits(f32(tc.pl), f32(tc.ql))
		if err != nil || !closeRel(got32, tc.want, 1e-15) && math.Abs(got32-tc.want) > 1e-300 {
			t.Errorf("%s: float32 KLLogits = %.17g, %v", tc.name, got32, err)
		}
	}
	// Reverse of the issue case: Q=[0,900,1] puts mass 1 on outcome 2 where P has log-prob −800.
	r, _ := ReverseKLLogits([]float64{800, 0, -800}, []float64{0, 900, 1})
	if math.IsNaN(r) || math.IsInf(r, 0) || math.Abs(r-800) > 1e-9 {
		t.Errorf("reverse of the issue case = %.17g, want ≈ 800", r)
	}
	for _, bad := range [][]float64{{math.NaN(), 0}, {math.Inf(1), 0}, {math.Inf(-1), math.Inf(-1)}, {}} {
		_, err := KLLogits(bad, []float64{0, 0}[:len(bad)])
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != "p_logits" {
			t.Errorf("KLLogits(%v): error %v, want one naming p_logits", bad, err)
		}
	}
	if _, err := KLLogits([]float64{0, 1}, []float64{0}); err == nil || !strings.Contains(err.Error(), "len(q_logits) = 1") {
		t.Errorf("length mismatch: %v", err)
	}
	ls, err := LogSoftmax([]float64{800, 0, -800})
	if err != nil || ls[0] != 0 || ls[1] != -800 || ls[2] != -1600 {
		t.Errorf("LogSoftmax = %v, %v", ls, err)
	}
}

func f32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func TestFloat32MatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 200; trial++ {
		p32, q32 := f32(randomProbs(r, 8, 0.2)), f32(randomProbs(r, 8, 0))
		p64, q64 := make([]float64, 8), make([]float64, 8)
		for i := range p32 {
			p64[i], q64[i] = float64(p32[i]), float64(q32[i])
		}
		a, err1 := KL(p32, q32)
		b, err2 := KL(p64, q64)
		if err1 != nil || err2 != nil || a != b {
			t.Fatalf("float32 %v (%v) vs float64 %v (%v)", a, err1, b, err2)
		}
	}
}

func TestSmoothAndNormalize(t *testing.T) {
	q := []float64{0.5, 0.5, 0}
	p := []float64{0.2, 0.3, 0.5}
	if v, _ := KL(p, q); !math.IsInf(v, 1) {
		t.Fatalf("KL with q=0 under p>0 = %g, want +Inf", v)
	}
	qs, err := Smooth(q, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.501 / 1.003, 0.501 / 1.003, 0.001 / 1.003}
	for i := range want {
		if math.Abs(qs[i]-want[i]) > 1e-15 {
			t.Errorf("Smooth = %v, want %v", qs, want)
		}
	}
	v, err := KL(p, qs)
	if err != nil || math.IsInf(v, 0) || math.Abs(v-(0.2*math.Log(0.2/want[0])+0.3*math.Log(0.3/want[1])+0.5*math.Log(0.5/want[2]))) > 1e-12 {
		t.Errorf("KL(p, smoothed q) = %g, %v", v, err)
	}
	w, err := Normalize([]float32{2, 6, 0})
	if err != nil || w[0] != 0.25 || w[1] != 0.75 || w[2] != 0 {
		t.Errorf("Normalize = %v, %v", w, err)
	}
	for _, tc := range []struct {
		f   func() error
		arg string
	}{
		{func() error { _, err := Smooth(q, 0); return err }, "eps"},
		{func() error { _, err := Smooth(q, math.NaN()); return err }, "eps"},
		{func() error { _, err := Smooth([]float64{-1, 2}, 0.1); return err }, "w"},
		{func() error { _, err := Normalize([]float64{0, 0}); return err }, "w"},
		{func() error { _, err := Normalize([]float64{1, math.NaN()}); return err }, "w"},
	} {
		var ae *ArgError
		if err := tc.f(); !errors.As(err, &ae) || ae.Arg != tc.arg {
			t.Errorf("error %v, want one naming %s", err, tc.arg)
		}
	}
}

// TestJSNearlyDisjoint checks JS where one outcome is almost impossible under P and likely under
// Q, the case where ½p·ln(2p/(p+q)) used to be computed as ½p·log1p(t) with t → −1 (−Inf,
// clamped to 0). References: mpmath at 60 digits from the exact float64 inputs
// (testdata/gen_highprec.py computes the same sums).
func TestJSNearlyDisjoint(t *testing.T) {
	tests := []struct {
		name string
		p, q []float64
		want float64
	}{
		{"issue 9: (1e-20,1) vs (1,1e-20)", []float64{1e-20, 1}, []float64{1, 1e-20}, 0.69314718055994530895},
		{"issue 9: (1e-17,1) vs (.5,.5)", []float64{1e-17, 1}, []float64{.5, .5}, 0.21576155433883550179},
		{"disjoint", []float64{0, 1}, []float64{1, 0}, math.Ln2},
		{"one tiny outcome", []float64{1e-300, 1}, []float64{0.25, 0.75}, 0.095602588947032611},
		{"subnormal", []float64{5e-324, 1}, []float64{1, 5e-324}, math.Ln2},
	}
	for _, tc := range tests {
		for form, f := range map[string]func() (float64, error){
			"probs":  func() (float64, error) { return JS(tc.p, tc.q) },
			"swap":   func() (float64, error) { return JS(tc.q, tc.p) },
			"logits": func() (float64, error) { return JSLogits(logs(tc.p), logs(tc.q)) },
		} {
			got, err := f()
			if err != nil {
				t.Fatalf("%s (%s): %v", tc.name, form, err)
			}
			if !closeRel(got, tc.want, 1e-14) {
				t.Errorf("%s (%s): JS = %.17g, want %.17g", tc.name, form, got, tc.want)
			}
		}
	}
}
