package kl

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzCategorical builds two valid probability vectors from bytes, normalises them, and checks
// that no categorical function returns NaN, that KL ≥ 0, JS is symmetric in [0, ln 2] and at
// least its disjoint-mass bound, H(P,Q) = H(P) + KL(P‖Q), smoothing makes KL finite, and the
// logits forms agree. With the high bit of the first byte clear each byte is a weight (so exact
// zeros are common); with it set each byte b is the weight 2^(−4b), down to 2⁻¹⁰²⁰, which
// makes nearly disjoint vectors (1e-20 against 1) the common case.
func FuzzCategorical(f *testing.F) {
	f.Add([]byte{2, 7, 3, 5, 5})                 // the coin, 0.7/0.3 vs 0.5/0.5
	f.Add([]byte{2, 1, 0, 0, 1})                 // disjoint supports
	f.Add([]byte{3, 0, 0, 9, 1, 1, 0})           // zeros in both
	f.Add([]byte{4, 255, 1, 1, 1, 1, 1, 1, 255}) // peaked vs peaked elsewhere
	f.Add([]byte{1, 5, 9})                       // a single outcome
	f.Add([]byte{0x82, 17, 0, 0, 17})            // (2⁻⁶⁸, 1) vs (1, 2⁻⁶⁸): issue 9's JS = 0
	f.Add([]byte{0x82, 14, 0, 1, 1})             // (2⁻⁵⁶, 1) vs (½, ½)
	f.Add([]byte{0x83, 255, 0, 200, 0, 255, 3})  // weights down to 2⁻¹⁰²⁰
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		logScale := data[0]&0x80 != 0
		n := 1 + int(data[0]&0x7f)%32
		data = data[1:]
		if len(data) < 2*n {
			n = len(data) / 2
		}
		weight := func(b byte) float64 {
			if logScale {
				return math.Ldexp(1, -4*int(b))
			}
			return float64(b)
		}
		wp, wq := make([]float64, n), make([]float64, n)
		for i := 0; i < n; i++ {
			wp[i], wq[i] = weight(data[i]), weight(data[n+i])
		}
		p, err1 := Normalize(wp)
		q, err2 := Normalize(wq)
		if err1 != nil || err2 != nil {
			return // all-zero weights: not a distribution
		}
		checkCategorical(t, p, q)
	})
}

func checkCategorical(t *testing.T, p, q []float64) {
	t.Helper()
	vals := map[string]float64{}
	for name, f := range map[string]func() (float64, error){
		"KL": func() (float64, error) { return KL(p, q) }, "ReverseKL": func() (float64, error) { return ReverseKL(p, q) },
		"JS": func() (float64, error) { return JS(p, q) }, "JSswap": func() (float64, error) { return JS(q, p) },
		"H": func() (float64, error) { return Entropy(p) }, "Hpq": func() (float64, error) { return CrossEntropy(p, q) },
		"KLlogits": func() (float64, error) { return KLLogits(logs(p), logs(q)) },
		"JSlogits": func() (float64, error) { return JSLogits(logs(p), logs(q)) },
		"KL32":     func() (float64, error) { return KL(f32(p), f32(q)) },
	} {
		v, err := f()
		if err != nil {
			t.Fatalf("%s(p=%v, q=%v): unexpected error %v", name, p, q, err)
		}
		if math.IsNaN(v) {
			t.Fatalf("%s(p=%v, q=%v) = NaN", name, p, q)
		}
		vals[name] = v
	}
	kl, js := vals["KL"], vals["JS"]
	if kl < 0 || vals["ReverseKL"] < 0 {
		t.Fatalf("negative KL: %v", vals)
	}
	if js < 0 || js > math.Ln2 || math.Abs(js-vals["JSswap"]) > 1e-15 {
		t.Fatalf("JS out of range or asymmetric: %v", vals)
	}
	// Each outcome's JS term is ≥ ½·|p−q|·ln 2 − … ; a simple bound that the old clamped form
	// broke: the mass of P where Q is ≤ 2⁻⁵⁰·P (and vice versa) contributes at least
	// ½·ln(2/(1+2⁻⁵⁰))·that mass ≈ ½ ln 2 per unit of mass.
	var disjoint float64
	for i := range p {
		if q[i] <= p[i]*0x1p-50 {
			disjoint += p[i]
		}
		if p[i] <= q[i]*0x1p-50 {
			disjoint += q[i]
		}
	}
	if lb := 0.5 * math.Ln2 * disjoint * (1 - 1e-12); js < lb || vals["JSlogits"] < lb {
		t.Fatalf("JS = %v (logits %v) below the disjoint-mass bound %v: %v", js, vals["JSlogits"], lb, vals)
	}
	if math.IsInf(kl, 1) != math.IsInf(vals["Hpq"], 1) || !math.IsInf(kl, 1) && math.Abs(vals["Hpq"]-vals["H"]-kl) > 1e-12*math.Max(1, vals["Hpq"]) {
		t.Fatalf("H(P,Q) ≠ H(P) + KL: %v", vals)
	}
	if !closeRel(vals["KLlogits"], kl, 1e-10) && math.Abs(vals["KLlogits"]-kl) > 1e-13 {
		t.Fatalf("KLLogits %v vs KL %v", vals["KLlogits"], kl)
	}
	qs, err := Smooth(q, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := KL(p, qs); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		t.Fatalf("KL(p, Smooth(q)) = %v, %v", v, err)
	}
}

// FuzzCategoricalLogits decodes arbitrary float64 logits (any bit pattern: NaN, ±Inf, huge,
// subnormal). Invalid logits (NaN, +Inf, all −Inf) must give an error; every other input must
// give a finite or +Inf value, never NaN, with KL ≥ 0 and JS ≤ ln 2, in float64 and float32.
func FuzzCategoricalLogits(f *testing.F) {
	enc := func(x ...float64) []byte {
		b := make([]byte, 8*len(x))
		for i, v := range x {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	f.Add(enc(800, 0, -800, 0, 900, 1))
	f.Add(enc(1e308, -1e308, -1e308, 1e308))
	f.Add(enc(math.Inf(-1), 0, 0, math.Inf(-1)))
	f.Add(enc(math.NaN(), 0, 0, 0))
	f.Add(enc(5e-324, 0, 1, 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 16
		if n == 0 {
			return
		}
		x := make([]float64, 2*n)
		for i := range x {
			x[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		pl, ql := x[:n], x[n:]
		valid := func(v []float64) bool {
			ok := false
			for _, e := range v {
				if math.IsNaN(e) || math.IsInf(e, 1) {
					return false
				}
				ok = ok || !math.IsInf(e, -1)
			}
			return ok
		}
		want := valid(pl) && valid(ql)
		for name, f := range map[string]func() (float64, error){
			"KL":   func() (float64, error) { return KLLogits(pl, ql) },
			"RKL":  func() (float64, error) { return ReverseKLLogits(pl, ql) },
			"JS":   func() (float64, error) { return JSLogits(pl, ql) },
			"H":    func() (float64, error) { return EntropyLogits(pl) },
			"Hpq":  func() (float64, error) { return CrossEntropyLogits(pl, ql) },
			"KL32": func() (float64, error) { return KLLogits(f32(pl), f32(ql)) },
		} {
			v, err := f()
			if name == "H" {
				if (err == nil) != valid(pl) {
					t.Fatalf("EntropyLogits(%v): err = %v", pl, err)
				}
			} else if name == "KL32" {
				// float32 conversion can turn huge finite logits into ±Inf.
				if err == nil && (math.IsNaN(v) || v < 0) {
					t.Fatalf("float32 KLLogits(%v, %v) = %v", pl, ql, v)
				}
				continue
			} else if (err == nil) != want {
				t.Fatalf("%s(%v, %v): err = %v, valid = %v", name, pl, ql, err, want)
			}
			if err != nil {
				continue
			}
			if math.IsNaN(v) || (name != "H" && name != "Hpq" && v < 0) || (name == "JS" && v > math.Ln2) {
				t.Fatalf("%s(%v, %v) = %v", name, pl, ql, v)
			}
		}
	})
}
