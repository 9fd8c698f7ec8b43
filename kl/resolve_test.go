package kl

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseVector(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		in   string
		want []float64
		err  string
	}{
		{"0.7,0.3", []float64{0.7, 0.3}, ""},
		{" 0.7 , 0.3 ", []float64{0.7, 0.3}, ""},
		{"0.7 0.3\n", []float64{0.7, 0.3}, ""},
		{"1\n2\n3\n", []float64{1, 2, 3}, ""},
		{"1, 2 3,\t4", []float64{1, 2, 3, 4}, ""},
		{"-Inf,Inf,1e-300", []float64{-inf, inf, 1e-300}, ""},
		{"5", []float64{5}, ""},
		{"", nil, "no numbers"},
		{" \n\t", nil, "no numbers"},
		{"0.7,,0.3", nil, "empty field 2 of 3 between commas (after item 1)"},
		{"0.7,0.3,", nil, "empty field 3 of 3"},
		{",", nil, "empty field 1 of 2"},
		{"0.5 x 0.5", nil, `item 2: "x" is not a number`},
		{"0.5,0.5,1e999", nil, `item 3: "1e999" is not a number`},
	} {
		got, err := ParseVector(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseVector(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("ParseVector(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if v, err := ReadVector(strings.NewReader("1 2\n3,4\n")); err != nil || !slices.Equal(v, []float64{1, 2, 3, 4}) {
		t.Errorf("ReadVector = %v, %v", v, err)
	}
	boom := errors.New("boom")
	if _, err := ReadVector(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("ReadVector of a failing reader: %v, want it wrapped", err)
	}
}

func TestCategoricalSpecResolve(t *testing.T) {
	ninf := math.Inf(-1)
	for _, tc := range []struct {
		name  string
		spec  CategoricalSpec
		probs []float64
		logs  []float64 // nil: ln of probs
	}{
		{"probabilities", CategoricalSpec{Name: "p", Probs: []float64{0.75, 0.25, 0}}, []float64{0.75, 0.25, 0}, []float64{math.Log(0.75), math.Log(0.25), ninf}},
		{"weights", CategoricalSpec{Name: "p", Probs: []float64{3, 1, 0}, Normalize: true}, []float64{0.75, 0.25, 0}, nil},
		{"smoothed weights", CategoricalSpec{Name: "p", Probs: []float64{2, 0}, Smooth: 1}, []float64{0.75, 0.25}, nil},
		{"logits", CategoricalSpec{Name: "q", Logits: []float64{800, 0, ninf}}, []float64{1, math.Exp(-800), 0}, []float64{0, -800, ninf}},
		{"smoothed logits", CategoricalSpec{Name: "q", Logits: []float64{0, ninf}, Smooth: 1}, []float64{2.0 / 3, 1.0 / 3}, nil},
	} {
		lp, p, err := tc.spec.Resolve()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		want := tc.logs
		if want == nil {
			for _, v := range tc.probs {
				want = append(want, math.Log(v))
			}
		}
		for i := range tc.probs {
			if math.Abs(p[i]-tc.probs[i]) > 1e-15 || !(lp[i] == want[i] || math.Abs(lp[i]-want[i]) <= 1e-15*math.Abs(want[i])) {
				t.Errorf("%s: outcome %d: p = %g, log p = %g; want %g, %g", tc.name, i, p[i], lp[i], tc.probs[i], want[i])
			}
		}
	}
	// Errors name the argument the user gave.
	for _, tc := range []struct {
		spec CategoricalSpec
		arg  string
		text string
	}{
		{CategoricalSpec{Name: "p", Probs: []float64{0.7, 0.2}}, "p", "sum(p) = 0.9"},
		{CategoricalSpec{Name: "q", Probs: []float64{3, -1}, Normalize: true}, "q", "q[1] = -1"},
		{CategoricalSpec{Name: "q", Probs: []float64{3, -1}, Smooth: 0.1}, "q", "q[1] = -1"},
		{CategoricalSpec{Name: "p", Logits: []float64{math.NaN(), 0}}, "p_logits", "p_logits[0] = NaN"},
		{CategoricalSpec{Name: "p", Probs: []float64{1}, Smooth: -1}, "smooth", "smooth = -1"},
		{CategoricalSpec{Name: "p", Probs: []float64{1}, Smooth: math.NaN()}, "smooth", "smooth = NaN"},
	} {
		_, _, err := tc.spec.Resolve()
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != tc.arg || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%+v: error %v, want an *ArgError naming %s with %q", tc.spec, err, tc.arg, tc.text)
		}
	}
	for _, s := range []CategoricalSpec{{Name: "p"}, {Name: "p", Probs: []float64{1}, Logits: []float64{0}}} {
		if _, _, err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "probabilities or logits") {
			t.Errorf("%+v: error %v", s, err)
		}
	}
}

func TestResolvePairAndSupportGap(t *testing.T) {
	p := CategoricalSpec{Name: "p", Probs: []float64{0.5, 0.5, 0}}
	q := CategoricalSpec{Name: "q", Logits: []float64{0, math.Inf(-1), 0}}
	_, _, pp, qq, err := ResolvePair(p, q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pp, []float64{0.5, 0.5, 0}) || !slices.Equal(qq, []float64{0.5, 0, 0.5}) {
		t.Errorf("probabilities %v, %v", pp, qq)
	}
	if g := SupportGap(p, q); g != 1 {
		t.Errorf("SupportGap(P, Q) = %d, want 1 (P(1) = 0.5, Q(1) = 0)", g)
	}
	if g := SupportGap(q, p); g != 2 {
		t.Errorf("SupportGap(Q, P) = %d, want 2", g)
	}
	if g := SupportGap(p, p); g != -1 {
		t.Errorf("SupportGap(P, P) = %d, want -1", g)
	}
	smoothed := q
	smoothed.Smooth = 1e-3
	if g := SupportGap(p, smoothed); g != -1 {
		t.Errorf("SupportGap(P, smoothed Q) = %d, want -1", g)
	}
	// Logits 2e308 apart overflow to a −Inf log-probability, which is not a zero: KL is +Inf by
	// overflow, with no support gap.
	hugeP := CategoricalSpec{Name: "p", Logits: []float64{1e308, -1e308}}
	hugeQ := CategoricalSpec{Name: "q", Logits: []float64{-1e308, 1e308}}
	lp, lq, _, _, err := ResolvePair(hugeP, hugeQ)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := KLLogits(lp, lq); err != nil || !math.IsInf(v, 1) || SupportGap(hugeP, hugeQ) != -1 {
		t.Errorf("huge logits: KL = %g, %v, gap %d; want +Inf without a gap", v, err, SupportGap(hugeP, hugeQ))
	}
	_, _, _, _, err = ResolvePair(CategoricalSpec{Name: "p", Probs: []float64{1}}, CategoricalSpec{Name: "q", Logits: []float64{0, 0}})
	var ae *ArgError
	if !errors.As(err, &ae) || ae.Arg != "q_logits" || !strings.Contains(err.Error(), "lengths differ: len(p) = 1") {
		t.Errorf("length mismatch: %v", err)
	}
}
