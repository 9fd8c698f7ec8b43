package kl

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// LogSoftmaxInto writes the same values as LogSoftmax, allocates nothing, and refuses a dst of
// the wrong length or bad logits with an *ArgError naming the argument.
func TestLogSoftmaxInto(t *testing.T) {
	x := []float32{800, 0, -800, float32(math.Inf(-1))}
	want, err := LogSoftmax(x)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, len(x))
	if err := LogSoftmaxInto(dst, x); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("dst[%d] = %g, LogSoftmax gives %g", i, dst[i], want[i])
		}
	}
	if dst[0] != 0 || dst[2] != -1600 || !math.IsInf(dst[3], -1) {
		t.Errorf("LogSoftmaxInto(%v) = %v, want [0 −800 −1600 −Inf]", x, dst)
	}
	intoContract(t, "LogSoftmaxInto", LogSoftmaxInto[float32], dst, x)
}

// intoContract checks what LogSoftmaxInto and SoftmaxInto share: no allocation for a valid
// call into dst, and an *ArgError naming the argument for a dst of the wrong length and for
// bad logits.
func intoContract(t *testing.T, name string, into func([]float64, []float32) error, dst []float64, x []float32) {
	t.Helper()
	if n := testing.AllocsPerRun(20, func() {
		if err := into(dst, x); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%s allocates %v times per call", name, n)
	}
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		dst  []float64
		x    []float32
		arg  string
		text string
	}{
		{make([]float64, 2), []float32{1, 2, 3}, "dst", "len(dst) = 2"},
		{make([]float64, 2), []float32{1, float32(math.NaN())}, "logits", "logits[1] = NaN"},
		{make([]float64, 2), []float32{1, inf}, "logits", "logits[1] = +Inf"},
		{make([]float64, 1), []float32{-inf}, "logits", "every logit is −Inf"},
	} {
		err := into(tc.dst, tc.x)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != tc.arg || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s(len %d, %v) = %v, want an error naming %s with %q", name, len(tc.dst), tc.x, err, tc.arg, tc.text)
		}
	}
}

// Softmax against hand values and the direct formula exp(xᵢ)/Σⱼ exp(xⱼ); SoftmaxInto allocates
// nothing and refuses what LogSoftmaxInto refuses, naming the argument.
func TestSoftmax(t *testing.T) {
	inf := math.Inf(-1)
	for _, tc := range []struct {
		x, want []float64
		tol     float64
	}{
		{[]float64{0, math.Log(3)}, []float64{0.25, 0.75}, 1e-15},     // 1 : 3
		{[]float64{2, 2, 2, 2}, []float64{0.25, 0.25, 0.25, 0.25}, 0}, // equal logits
		{[]float64{800, 0, -800, inf}, []float64{1, 0, 0, 0}, 0},      // e⁻⁸⁰⁰ underflows; −Inf is exactly 0
		{[]float64{1, inf, math.Log(2)}, []float64{math.E / (math.E + 2), 0, 2 / (math.E + 2)}, 1e-15},
	} {
		got, err := Softmax(tc.x)
		if err != nil {
			t.Fatalf("Softmax(%v): %v", tc.x, err)
		}
		for i := range got {
			if !(math.Abs(got[i]-tc.want[i]) <= tc.tol) { // NaN fails too
				t.Errorf("Softmax(%v)[%d] = %.17g, want %.17g", tc.x, i, got[i], tc.want[i])
			}
		}
	}
	// Moderate logits: the direct formula is exact enough to compare with; a shift of every
	// logit changes nothing.
	x := []float64{3, 1, -4, 1, 5, -9, 2, 6}
	var z float64
	for _, v := range x {
		z += math.Exp(v)
	}
	shifted := make([]float64, len(x))
	for i, v := range x {
		shifted[i] = v - 37.5
	}
	p, err1 := Softmax(x)
	ps, err2 := Softmax(shifted)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	sum := 0.0
	for i, v := range x {
		if want := math.Exp(v) / z; !(math.Abs(p[i]-want) <= 1e-15 && math.Abs(ps[i]-want) <= 1e-15) {
			t.Errorf("Softmax(x)[%d] = %.17g (shifted %.17g), exp(x)/Σexp = %.17g", i, p[i], ps[i], want)
		}
		sum += p[i]
	}
	if !(math.Abs(sum-1) <= 1e-15) {
		t.Errorf("Σ softmax = %.17g", sum)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	intoContract(t, "SoftmaxInto", SoftmaxInto[float32], make([]float64, len(x)), x32)
}

// KLLogitsBuf gives exactly KLLogits's value (extreme, masked and ordinary rows), allocates
// nothing once buf is large enough, works with a short or nil buf, and reports bad logits as
// KLLogits does.
func TestKLLogitsBuf(t *testing.T) {
	inf := math.Inf(-1)
	pairs := [][2][]float64{
		{{800, 0, -800}, {0, 900, 1}},
		{{0.1, -0.2}, {0.1000001, -0.2}},
		{{1, inf, 2}, {0, 0, 0}},
		{{3, 1, 4, 1, 5}, {-2, 7, 1, 8, -2}},
	}
	buf := make([]float64, 10)
	for _, pq := range pairs {
		want, err := KLLogits(pq[0], pq[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]float64{buf, nil, make([]float64, 1)} {
			got, err := KLLogitsBuf(b, pq[0], pq[1])
			if err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("KLLogitsBuf(len %d, %v, %v) = %v, %v; KLLogits gives %v", len(b), pq[0], pq[1], got, err, want)
			}
		}
	}
	p, q := pairs[3][0], pairs[3][1]
	if n := testing.AllocsPerRun(20, func() {
		if _, err := KLLogitsBuf(buf, p, q); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("KLLogitsBuf allocates %v times per call with a large enough buf", n)
	}
	_, err := KLLogitsBuf(buf, []float64{1, math.NaN()}, []float64{0, 0})
	var ae *ArgError
	if !errors.As(err, &ae) || ae.Arg != "p_logits" {
		t.Errorf("KLLogitsBuf with a NaN logit: %v, want an *ArgError naming p_logits", err)
	}
}

// TestSigmoidSoftplus checks the two Bernoulli-logit functions against direct formulas where
// those are exact enough, their symmetries, and the extremes where the direct formulas fail.
func TestSigmoidSoftplus(t *testing.T) {
	for _, x := range []float64{-30, -5, -1, -1e-9, 0, 1e-9, 0.3, 2, 30} {
		if want := 1 / (1 + math.Exp(-x)); math.Abs(Sigmoid(x)-want) > 1e-15 {
			t.Errorf("Sigmoid(%v) = %v, want %v", x, Sigmoid(x), want)
		}
		if got := Sigmoid(x) + Sigmoid(-x); math.Abs(got-1) > 1e-15 {
			t.Errorf("σ(%v) + σ(−%v) = %v, want 1", x, x, got)
		}
		if want := math.Log(1 + math.Exp(x)); math.Abs(Softplus(x)-want) > 1e-14*(1+want) {
			t.Errorf("Softplus(%v) = %v, want %v", x, Softplus(x), want)
		}
		// softplus(x) − softplus(−x) = x, and −ln σ(x) = softplus(−x)
		if got := Softplus(x) - Softplus(-x); math.Abs(got-x) > 1e-14*(1+math.Abs(x)) {
			t.Errorf("softplus(%v) − softplus(−%v) = %v", x, x, got)
		}
		if got := -math.Log(Sigmoid(x)); math.Abs(got-Softplus(-x)) > 1e-13*(1+got) {
			t.Errorf("−ln σ(%v) = %v, softplus = %v", x, got, Softplus(-x))
		}
	}
	// Where 1 + e^x overflows or e^(−x) underflows, the stable forms stay exact.
	if got := Softplus(800); got != 800 {
		t.Errorf("Softplus(800) = %v, want 800", got)
	}
	if got := Softplus(-800); got != 0 || math.Signbit(got) {
		t.Errorf("Softplus(−800) = %v, want +0", got)
	}
	if got := Softplus(-40); math.Abs(got-math.Exp(-40)) > 1e-30 {
		t.Errorf("Softplus(−40) = %v, want e^−40 = %v", got, math.Exp(-40))
	}
	if got := Sigmoid(-800); got != 0 {
		t.Errorf("Sigmoid(−800) = %v, want 0", got)
	}
	if got := Sigmoid(-745); !(got > 0 && got < 1e-320) {
		t.Errorf("Sigmoid(−745) = %v, want the subnormal e^−745", got)
	}
}

// TestLogProbFunctions: from log-probabilities, KLLogProbs and EntropyLogProbs equal KLLogits and
// EntropyLogits of the logits they came from, and refuse NaN, +Inf and unequal lengths.
func TestLogProbFunctions(t *testing.T) {
	pl, ql := []float64{0.3, -1, 2, 0.1}, []float64{-0.5, 0.4, 0.2, 1}
	lp, _ := LogSoftmax(pl)
	lq, _ := LogSoftmax(ql)
	want, _ := KLLogits(pl, ql)
	if got, err := KLLogProbs(lp, lq); err != nil || got != want {
		t.Errorf("KLLogProbs = %v, %v; KLLogits = %v", got, err, want)
	}
	wantH, _ := EntropyLogits(pl)
	if got, err := EntropyLogProbs(lp); err != nil || math.Abs(got-wantH) > 1e-15 {
		t.Errorf("EntropyLogProbs = %v, %v; EntropyLogits = %v", got, err, wantH)
	}
	// a zero probability in Q under P > 0
	if got, _ := KLLogProbs([]float64{0, math.Inf(-1)}, []float64{math.Inf(-1), 0}); !math.IsInf(got, 1) {
		t.Errorf("KL with Q = 0 where P = 1: %v, want +Inf", got)
	}
	for _, bad := range [][2][]float64{{{0, math.NaN()}, {0, 0}}, {{0, 0}, {math.Inf(1), 0}}, {{0}, {0, 0}}} {
		if _, err := KLLogProbs(bad[0], bad[1]); err == nil {
			t.Errorf("KLLogProbs(%v, %v) succeeded", bad[0], bad[1])
		}
	}
	if _, err := EntropyLogProbs([]float64{math.NaN()}); err == nil {
		t.Error("EntropyLogProbs(NaN) succeeded")
	}
}
