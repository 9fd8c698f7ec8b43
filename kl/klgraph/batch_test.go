package klgraph

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"klppo/kl"
)

// randomRows returns rows×cols random probabilities, each row normalised with kl.Normalize;
// about a fraction zeros of the entries are exactly 0 (every row keeps one positive entry).
func randomRows(t *testing.T, r *rand.Rand, rows, cols int, zeros float64) []float64 {
	var out []float64
	for range rows {
		w := make([]float64, cols)
		w[r.IntN(cols)] = r.ExpFloat64()
		for k := range w {
			if r.Float64() >= zeros {
				w[k] = r.ExpFloat64()
			}
		}
		p, err := kl.Normalize(w)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p...)
	}
	return out
}

func must(v float64, err error) float64 {
	if err != nil {
		panic(err) // test helper only
	}
	return v
}

func TestTensorRows(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const rows, cols = 5, 4
	pd, qd := randomRows(t, r, rows, cols, 0.2), randomRows(t, r, rows, cols, 0)
	qd32 := make([]float32, len(qd)) // q in float32; q64 is its exact widening
	q64 := make([]float64, len(qd))
	for i, v := range qd {
		qd32[i] = float32(v)
		q64[i] = float64(qd32[i])
	}
	p := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(pd))
	q := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(qd))
	q32 := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(qd32))
	for _, f := range []struct {
		name string
		f    PairFunc
	}{{"KL", kl.KL[float64]}, {"ReverseKL", kl.ReverseKL[float64]}, {"JS", kl.JS[float64]}, {"CrossEntropy", kl.CrossEntropy[float64]}, {"Entropy", Unary(kl.Entropy[float64])}} {
		out, err := Rows(f.f, p, q)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if s := out.Shape(); len(s) != 1 || s[0] != rows {
			t.Fatalf("%s: shape %v", f.name, s)
		}
		got := out.Data().([]float64)
		var sum float64
		for i := 0; i < rows; i++ {
			want, _ := f.f(pd[i*cols:(i+1)*cols], qd[i*cols:(i+1)*cols])
			if got[i] != want {
				t.Errorf("%s row %d: %g, want %g", f.name, i, got[i], want)
			}
			sum += want
		}
		mean, err1 := Reduce(f.f, p, q, Mean)
		total, err2 := Reduce(f.f, p, q, Sum)
		if err1 != nil || err2 != nil || math.Abs(mean-sum/rows) > 1e-15 || math.Abs(total-sum) > 1e-15 {
			t.Errorf("%s: mean %g sum %g, want %g %g", f.name, mean, total, sum/rows, sum)
		}
		// A float32 q gives the same as its float64 widening.
		want0, _ := f.f(pd[:cols], q64[:cols])
		out32, err := Rows(f.f, p, q32)
		if err != nil || out32.Data().([]float64)[0] != want0 {
			t.Errorf("%s float32: %v, %v", f.name, out32, err)
		}
	}
	// Entropy of a 1-D tensor with q = nil.
	if v, err := Reduce(Unary(kl.EntropyLogits), tensor.New(tensor.WithBacking([]float64{0, 0})), nil, Sum); err != nil || math.Abs(v-math.Ln2) > 1e-15 {
		t.Errorf("entropy of uniform logits = %g, %v", v, err)
	}
	// Errors: bad row, shape mismatch, wrong dtype, 3-D.
	bad := append([]float64(nil), pd...)
	bad[2*cols+1] = -0.5
	_, err := Rows(kl.KL[float64], tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(bad)), q)
	var ae *kl.ArgError
	if !errors.As(err, &ae) || ae.Arg != "p" || ae.Index != 1 || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("bad row error: %v", err)
	}
	if _, err := Rows(kl.KL[float64], p, tensor.New(tensor.WithShape(rows, 2), tensor.WithBacking(qd[:rows*2]))); err == nil {
		t.Error("shape mismatch accepted")
	}
	if _, err := Rows(kl.KL[float64], tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 0})), nil); err == nil {
		t.Error("int tensor accepted")
	}
	if _, err := Rows(kl.KL[float64], tensor.New(tensor.WithShape(1, 2, 2), tensor.WithBacking(pd[:4])), nil); err == nil {
		t.Error("3-D tensor accepted")
	}
	if _, err := Reduce(kl.KL[float64], p, q, Reduction(7)); err == nil {
		t.Error("unknown reduction accepted")
	}
	// A transposed view is materialised: KL over the rows of (qᵀ)ᵀ equals KL over q's rows.
	qt := q.Clone().(*tensor.Dense)
	if err := qt.T(); err != nil {
		t.Fatal(err)
	}
	qtt := qt.Materialize().(*tensor.Dense)
	if err := qtt.T(); err != nil {
		t.Fatal(err)
	}
	a, err1 := Reduce(kl.KL[float64], p, qtt, Sum)
	b, err2 := Reduce(kl.KL[float64], p, q, Sum)
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("transposed view: %g (%v) vs %g (%v)", a, err1, b, err2)
	}
}

func TestBatchedGaussians(t *testing.T) {
	mu := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 1, -1, 2}))
	lv := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{0, 0.5, -1, 1}))
	out, err := VAEPriorRows(mu, lv)
	if err != nil {
		t.Fatal(err)
	}
	got := out.Data().([]float64)
	for i, want := range []float64{must(kl.VAEPriorKL([]float64{0, 1}, []float64{0, 0.5})), must(kl.VAEPriorKL([]float64{-1, 2}, []float64{-1, 1}))} {
		if got[i] != want {
			t.Errorf("VAEPriorRows[%d] = %g, want %g", i, got[i], want)
		}
	}
	// The VAE term is the diagonal-Gaussian KL to N(0, I) with σ = exp(logvar/2).
	zero := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(make([]float64, 4)))
	lsP := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 0.25, -0.5, 0.5}))
	d, err := DiagNormalRows(mu, lsP, zero, zero, LogSigmaScale)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range d.Data().([]float64) {
		if math.Abs(v-got[i]) > 1e-14 {
			t.Errorf("DiagNormalRows[%d] = %.17g, VAE term %.17g", i, v, got[i])
		}
	}
	if _, err := DiagNormalRows(mu, zero, zero, zero, SigmaScale); err == nil || !strings.Contains(err.Error(), "sigma_p[0] = 0") {
		t.Errorf("σ = 0 in a batch: %v", err)
	}
	if _, err := VAEPriorRows(mu, tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{0, 0}))); err == nil || !strings.Contains(err.Error(), "logvar") {
		t.Errorf("shape mismatch: %v", err)
	}
}
