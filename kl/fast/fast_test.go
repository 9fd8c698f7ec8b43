package fast

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"klppo/kl"
)

// fastRefKL is an independent float64 reference: log-softmaxes with math.Exp, then
// Σ p (log p − log q), for finite logits.
func fastRefKL[F kl.Float](x, y []F) float64 {
	lse := func(v []F) float64 {
		m := math.Inf(-1)
		for _, e := range v {
			m = math.Max(m, float64(e))
		}
		s := 0.0
		for _, e := range v {
			s += math.Exp(float64(e) - m)
		}
		return m + math.Log(s)
	}
	lx, ly := lse(x), lse(y)
	kl := 0.0
	for i := range x {
		lp := float64(x[i]) - lx
		kl += math.Exp(lp) * (lp - (float64(y[i]) - ly))
	}
	return kl
}

func fastRandLogits(r *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * r.NormFloat64()
	}
	return v
}

func fastTo32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func TestFastExpNegAccuracy(t *testing.T) {
	worst, worstAt := 0.0, 0.0
	check := func(a float64) {
		got, want := fastExpNeg(a), math.Exp(a)
		if e := math.Abs(got-want) / want; e > worst {
			worst, worstAt = e, a
		}
	}
	for i := 0; i <= 2_000_000; i++ { // a grid over the whole used range [−700, 0]
		check(-700 * float64(i) / 2_000_000)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200_000; i++ { // and dense near 0, where the large weights are
		check(-r.ExpFloat64() * 0.1)
	}
	t.Logf("fastExpNeg: max relative error %.3g at %g", worst, worstAt)
	if worst > 2e-13 {
		t.Errorf("fastExpNeg: max relative error %.3g at %g, want ≤ 2e-13", worst, worstAt)
	}
	for _, a := range []float64{-700.5, -800, -1e9, math.Inf(-1)} {
		if got := fastExpNeg(a); !(got >= 0 && got <= math.Exp(-699)) {
			t.Errorf("fastExpNeg(%g) = %g, want within [0, e^-699]", a, got)
		}
	}
	if got := fastExpNeg(math.NaN()); !math.IsNaN(got) {
		t.Errorf("fastExpNeg(NaN) = %g, want NaN", got)
	}
	if got := fastExpNeg(0); got != 1 {
		t.Errorf("fastExpNeg(0) = %.17g, want 1", got)
	}
}

// TestFastExpAVX2Accuracy measures the assembly exp through fastSumsAVX2: lanes 0–7 hold the
// arguments and lanes 8–15 hold −87 (e^−87 ≈ 1.6e−38, negligible next to e^a for a ≥ −60), so
// acc[i] = e^a_i.
func TestFastExpAVX2Accuracy(t *testing.T) {
	if !fastHaveAVX2 {
		t.Skip("no AVX2+FMA on this CPU: the assembly kernels are not used")
	}
	worst, worstAt := 0.0, float32(0)
	var x, y [16]float32
	var acc [12]float64
	for i := 8; i < 16; i++ {
		x[i], y[i] = -87, -87
	}
	for k := 0; k <= 600_000; k += 8 {
		for i := 0; i < 8; i++ {
			x[i] = float32(-60 * float64(k+i) / 600_000)
			y[i] = x[i]
		}
		for i := 0; i < 8; i++ { // one argument at a time: the float64 lanes hold pairs of lanes
			var xi, yi [16]float32
			copy(xi[:], x[:])
			copy(yi[:], y[:])
			for j := 0; j < 8; j++ {
				if j != i {
					xi[j], yi[j] = -87, -87
				}
			}
			fastSumsAVX2(&xi[0], &yi[0], 16, 0, 0, &acc)
			sx := acc[0] + acc[1] + acc[2] + acc[3]
			sy := acc[4] + acc[5] + acc[6] + acc[7]
			want := math.Exp(float64(x[i])) + 15*math.Exp(-87)
			for _, got := range []float64{sx, sy} {
				if e := math.Abs(got-want) / want; e > worst {
					worst, worstAt = e, x[i]
				}
			}
			if st := acc[8] + acc[9] + acc[10] + acc[11]; st != 0 { // x − y = 0
				t.Fatalf("Σ e·(x−y) = %g, want 0", st)
			}
		}
	}
	t.Logf("AVX2 exp: max relative error %.3g at %g", worst, worstAt)
	if worst > 5e-7 {
		t.Errorf("AVX2 exp: max relative error %.3g at %g, want ≤ 5e-7", worst, worstAt)
	}
}

// TestFastExp64AVX2Accuracy measures the float64 assembly exp through fastSums64AVX2, one
// argument per call (the other seven lanes hold −700, e^−700 ≈ 1e−304).
func TestFastExp64AVX2Accuracy(t *testing.T) {
	if !fastHaveAVX2 {
		t.Skip("no AVX2+FMA on this CPU: the assembly kernels are not used")
	}
	worst, worstAt := 0.0, 0.0
	var acc [12]float64
	r := rand.New(rand.NewPCG(6, 6))
	for k := 0; k < 200_000; k++ {
		a := -700 * float64(k) / 200_000
		if k%2 == 1 {
			a = -r.ExpFloat64() // dense near 0
		}
		var x [8]float64
		for j := range x {
			x[j] = -700
		}
		x[k%8] = a
		fastSums64AVX2(&x[0], &x[0], 8, 0, 0, &acc)
		want := math.Exp(a) + 7*math.Exp(-700)
		for _, got := range []float64{acc[0] + acc[1] + acc[2] + acc[3], acc[4] + acc[5] + acc[6] + acc[7]} {
			if e := math.Abs(got-want) / want; e > worst {
				worst, worstAt = e, a
			}
		}
		if st := acc[8] + acc[9] + acc[10] + acc[11]; st != 0 {
			t.Fatalf("Σ e·(x−y) = %g, want 0", st)
		}
	}
	t.Logf("AVX2 float64 exp: max relative error %.3g at %g", worst, worstAt)
	if worst > 2e-14 {
		t.Errorf("AVX2 float64 exp: max relative error %.3g at %g, want ≤ 2e-14", worst, worstAt)
	}
}

type fastCase struct {
	name       string
	rows, cols int
	p, q       []float64
}

func fastCases() []fastCase {
	r := rand.New(rand.NewPCG(11, 12))
	var cases []fastCase
	for _, cols := range []int{1, 3, 15, 16, 17, 33, 1000, 5003} {
		for _, scale := range []float64{1, 10} {
			rows := 3
			cases = append(cases, fastCase{fmt.Sprintf("random %dx%d scale %g", rows, cols, scale), rows, cols,
				fastRandLogits(r, rows*cols, scale), fastRandLogits(r, rows*cols, scale)})
		}
		// Q close to P: a small KL that float32 must still resolve.
		p := fastRandLogits(r, 2*cols, 3)
		q := make([]float64, len(p))
		for i := range p {
			q[i] = p[i] + 0.05*r.NormFloat64() + 1.5 // a constant shift does not change Q
		}
		cases = append(cases, fastCase{fmt.Sprintf("Q near P 2x%d", cols), 2, cols, p, q})
	}
	// logit gaps of hundreds of nats, wide enough for the vector kernels
	gp, gq := make([]float64, 2*40), make([]float64, 2*40)
	for i := range gp {
		gp[i], gq[i] = -800+float64(i%7), float64(i%5)
	}
	gp[3], gq[5], gq[50] = 800, 900, 400
	cases = append(cases, fastCase{"gaps of hundreds 2x40", 2, 40, gp, gq})
	cases = append(cases, fastCase{"issue example 1x3", 1, 3, []float64{800, 0, -800}, []float64{0, 900, 1}})
	// maxima that rise from block to block (the running sums are rescaled), including a jump
	// of hundreds of nats and a maximum in the last, partial block
	const wide = 3*fastBlock + 21
	rp, rq := make([]float64, 3*wide), make([]float64, 3*wide)
	for i := 0; i < wide; i++ {
		u := float64(i) / wide
		rp[i], rq[i] = -10+20*u+0.3*r.NormFloat64(), 5-10*u+0.3*r.NormFloat64() // rising P, falling Q
		rp[wide+i], rq[wide+i] = -500+0.5*r.NormFloat64(), 2*r.NormFloat64()
		if i >= fastBlock {
			rp[wide+i] = 3 * r.NormFloat64() // after the first block, 500 nats higher
		}
		rp[2*wide+i], rq[2*wide+i] = r.NormFloat64(), r.NormFloat64()
	}
	rp[3*wide-1], rq[3*wide-2] = 40, 30 // the largest logits are in the tail
	cases = append(cases, fastCase{"rising maxima", 3, wide, rp, rq})
	return cases
}

// TestFastKLMatchesExact compares every row with the package's exact KLLogits (float64, from
// log-softmaxes) on the same inputs: float64 logits to 1e-12 relative, float32 logits to 1e-5
// relative (the AVX2 kernel computes in float32) with an absolute floor of 1e-7 nats (on rows of a
// few dozen logits, float32 rounding of the exponentials limits the absolute accuracy to a few
// 1e-8 nats; wide rows average it out, see TestFastKLRLHFShape).
func TestFastKLMatchesExact(t *testing.T) {
	f := New(2)
	for _, c := range fastCases() {
		t.Run(c.name, func(t *testing.T) {
			p32, q32 := fastTo32(c.p), fastTo32(c.q)
			got64 := make([]float64, c.rows)
			got32 := make([]float64, c.rows)
			if err := f.KLLogits64(got64, c.p, c.q, c.rows, c.cols); err != nil {
				t.Fatal(err)
			}
			if err := f.KLLogits32(got32, p32, q32, c.rows, c.cols); err != nil {
				t.Fatal(err)
			}
			for r := 0; r < c.rows; r++ {
				lo, hi := r*c.cols, (r+1)*c.cols
				want64, err := kl.KLLogits(c.p[lo:hi], c.q[lo:hi])
				if err != nil {
					t.Fatal(err)
				}
				want32, err := kl.KLLogits(p32[lo:hi], q32[lo:hi])
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got64[r]-want64) > 1e-12*math.Abs(want64)+1e-13 {
					t.Errorf("row %d float64: %.17g, exact %.17g", r, got64[r], want64)
				}
				if math.Abs(got32[r]-want32) > 1e-5*math.Abs(want32)+1e-7 {
					t.Errorf("row %d float32: %.17g, exact %.17g (rel err %.3g)", r, got32[r], want32,
						math.Abs(got32[r]-want32)/math.Abs(want32))
				}
				// the pure-Go kernels (used without AVX2); the float32 one computes in float64
				if g := fastRow64(c.p[lo:hi], c.q[lo:hi]); math.Abs(g-want64) > 1e-12*math.Abs(want64)+1e-13 {
					t.Errorf("row %d pure-Go float64: %.17g, exact %.17g", r, g, want64)
				}
				if g := fastRow32(p32[lo:hi], q32[lo:hi]); math.Abs(g-want32) > 1e-11*math.Abs(want32)+1e-13 {
					t.Errorf("row %d pure-Go float32: %.17g, exact %.17g", r, g, want32)
				}
				// the AVX2 float32 row too (on an AVX-512 machine the KL above ran the AVX-512 one)
				if fastHaveAVX2 {
					if g := fastRow32AVX2(p32[lo:hi], q32[lo:hi]); math.Abs(g-want32) > 1e-5*math.Abs(want32)+1e-7 {
						t.Errorf("row %d AVX2 float32: %.17g, exact %.17g", r, g, want32)
					}
				}
			}
		})
	}
}

// TestFastKLRLHFShape checks the accuracy target on rows of the benchmark's width:
// float32 logits within 1e-4 relative of a float64 computation (math.Exp) on the same values,
// for independent P and Q (KL ≈ 4) and for Q a small perturbation of P (KL ≈ 1e-3); for a
// smaller perturbation (KL ≈ 5e-5) the bound checked is 1e-3.
func TestFastKLRLHFShape(t *testing.T) {
	const rows, cols = 4, 50257
	r := rand.New(rand.NewPCG(21, 22))
	p := fastRandLogits(r, rows*cols, 2)
	indep := fastRandLogits(r, rows*cols, 2)
	near := make([]float64, len(p))
	nearer := make([]float64, len(p))
	for i := range p {
		near[i] = p[i] + 0.05*r.NormFloat64()
		nearer[i] = p[i] + 0.01*r.NormFloat64()
	}
	f := New(0)
	for _, c := range []struct {
		name string
		q    []float64
		tol  float64
	}{{"independent", indep, 1e-4}, {"near", near, 1e-4}, {"nearer", nearer, 1e-3}} {
		p32, q32 := fastTo32(p), fastTo32(c.q)
		got := make([]float64, rows)
		if err := f.KLLogits32(got, p32, q32, rows, cols); err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for row := 0; row < rows; row++ {
			want := fastRefKL(p32[row*cols:(row+1)*cols], q32[row*cols:(row+1)*cols])
			e := math.Abs(got[row]-want) / want
			worst = math.Max(worst, e)
			if e > c.tol {
				t.Errorf("%s row %d: float32 fast %.10g, float64 reference %.10g (rel err %.3g)", c.name, row, got[row], want, e)
			}
		}
		t.Logf("%s (KL ≈ %.3g): max relative error %.3g", c.name, got[0], worst)
	}
}

func TestFastKLSameIsZero(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	p := fastRandLogits(r, 3*1000, 4)
	got := make([]float64, 3)
	f := New(2)
	if err := f.KLLogits64(got, p, p, 3, 1000); err != nil {
		t.Fatal(err)
	}
	got32 := make([]float64, 3)
	p32 := fastTo32(p)
	if err := f.KLLogits32(got32, p32, p32, 3, 1000); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != 0 || got32[i] != 0 {
			t.Errorf("row %d: KL(P‖P) = %g (float64), %g (float32), want 0", i, got[i], got32[i])
		}
	}
}

// TestFastKLNonFinite: −Inf logits are zero probabilities (through the exact path), NaN and
// +Inf are errors naming the row and the argument.
func TestFastKLNonFinite(t *testing.T) {
	const cols = 40
	base := func() ([]float64, []float64) {
		r := rand.New(rand.NewPCG(9, 9))
		return fastRandLogits(r, 2*cols, 1), fastRandLogits(r, 2*cols, 1)
	}
	inf := math.Inf(1)
	tests := []struct {
		name    string
		edit    func(p, q []float64)
		wantInf bool   // row 1 must be +Inf
		wantErr string // else error text
	}{
		{"q has −Inf where p is finite", func(p, q []float64) { q[cols+7] = -inf }, true, ""},
		{"p has −Inf", func(p, q []float64) { p[cols+7] = -inf }, false, ""},
		{"both −Inf at the same place", func(p, q []float64) { p[cols+7], q[cols+7] = -inf, -inf }, false, ""},
		{"NaN in p", func(p, q []float64) { p[cols+3] = math.NaN() }, false, "row 1"},
		{"+Inf in q", func(p, q []float64) { q[cols+3] = inf }, false, "q_logits"},
	}
	f := New(2)
	for _, tt := range tests {
		for _, dt := range []string{"float64", "float32"} {
			t.Run(tt.name+"/"+dt, func(t *testing.T) {
				p, q := base()
				tt.edit(p, q)
				got := make([]float64, 2)
				var err error
				if dt == "float64" {
					err = f.KLLogits64(got, p, q, 2, cols)
				} else {
					err = f.KLLogits32(got, fastTo32(p), fastTo32(q), 2, cols)
				}
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want, err := kl.KLLogits(p[cols:], q[cols:])
				if err != nil {
					t.Fatal(err)
				}
				if tt.wantInf != math.IsInf(got[1], 1) || math.Abs(got[1]-want) > 1e-5*math.Abs(want) && !math.IsInf(want, 1) {
					t.Errorf("row 1 = %g, exact %g", got[1], want)
				}
				if w0 := fastRefKL(p[:cols], q[:cols]); math.Abs(got[0]-w0) > 1e-5*w0 {
					t.Errorf("row 0 = %g, want %g (untouched row)", got[0], w0)
				}
			})
		}
	}
}

func TestFastKLBadInput(t *testing.T) {
	f := New(1)
	p := make([]float32, 6)
	tests := []struct {
		name    string
		err     error
		mention string
	}{
		{"short dst", f.KLLogits32(make([]float64, 1), p, p, 2, 3), "len(dst) = 1"},
		{"short p", f.KLLogits32(make([]float64, 2), p[:5], p, 2, 3), "len(p) = 5"},
		{"short q", f.KLLogits64(make([]float64, 2), make([]float64, 6), make([]float64, 4), 2, 3), "len(q) = 4"},
		{"zero cols", f.KLLogits32(nil, nil, nil, 0, 0), "cols = 0"},
		{"negative rows", f.KLLogits32(nil, nil, nil, -1, 3), "rows = -1"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.mention) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, tt.err, tt.mention)
		}
	}
	if err := f.KLLogits32(nil, nil, nil, 0, 5); err != nil {
		t.Errorf("zero rows: %v, want nil", err)
	}
}

func TestFastKLDense(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	p, q := fastRandLogits(r, 4*50, 2), fastRandLogits(r, 4*50, 2)
	f := New(0)
	want := make([]float64, 4)
	if err := f.KLLogits64(want, p, q, 4, 50); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 4)
	pd := tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(p))
	qd := tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(q))
	if err := f.KLLogitsDense(got, pd, qd); err != nil {
		t.Fatal(err)
	}
	got32 := make([]float64, 4)
	pd32 := tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(fastTo32(p)))
	qd32 := tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(fastTo32(q)))
	if err := f.KLLogitsDense(got32, pd32, qd32); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] || math.Abs(got32[i]-want[i]) > 1e-4*want[i] {
			t.Errorf("row %d: dense %g / %g (float32), slices %g", i, got[i], got32[i], want[i])
		}
	}
	view, err := pd.Slice(nil, tensor.S(0, 25))
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name    string
		p, q    *tensor.Dense
		mention string
	}{
		{"dtype mismatch", pd, qd32, "dtype"},
		{"shape mismatch", pd, tensor.New(tensor.WithShape(2, 100), tensor.WithBacking(q)), "shape"},
		{"vector", tensor.New(tensor.WithShape(200), tensor.WithBacking(p)), qd, "shape"},
		{"int", tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(make([]int, 200))),
			tensor.New(tensor.WithShape(4, 50), tensor.WithBacking(make([]int, 200))), "dtype"},
		{"view", view.(*tensor.Dense), view.(*tensor.Dense), "non-contiguous"},
		{"nil", nil, qd, "nil"},
	}
	for _, b := range bad {
		if err := f.KLLogitsDense(got, b.p, b.q); err == nil || !strings.Contains(err.Error(), b.mention) {
			t.Errorf("%s: error %v, want one mentioning %q", b.name, err, b.mention)
		}
	}
}

// TestFastKLThreadsAgree: each row is computed by the same code whatever goroutine runs it.
func TestFastKLThreadsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const rows, cols = 7, 3001
	p, q := fastTo32(fastRandLogits(r, rows*cols, 3)), fastTo32(fastRandLogits(r, rows*cols, 3))
	var first []float64
	for _, th := range []int{1, 2, 3, 16} {
		got := make([]float64, rows)
		if err := New(th).KLLogits32(got, p, q, rows, cols); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if got[i] != first[i] {
				t.Errorf("threads %d row %d: %v, threads 1: %v", th, i, got[i], first[i])
			}
		}
	}
}

func TestFastKLNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	const rows, cols = 8, 1024
	p32, q32 := fastTo32(fastRandLogits(r, rows*cols, 1)), fastTo32(fastRandLogits(r, rows*cols, 1))
	p64, q64 := fastRandLogits(r, rows*cols, 1), fastRandLogits(r, rows*cols, 1)
	dst := make([]float64, rows)
	f := New(2)
	var err error
	a32 := testing.AllocsPerRun(20, func() { err = errors.Join(err, f.KLLogits32(dst, p32, q32, rows, cols)) })
	a64 := testing.AllocsPerRun(20, func() { err = errors.Join(err, f.KLLogits64(dst, p64, q64, rows, cols)) })
	if err != nil {
		t.Fatal(err)
	}
	if a32 != 0 || a64 != 0 {
		t.Errorf("allocations per call: float32 %v, float64 %v, want 0", a32, a64)
	}
}

// fastBenchData returns (rows × cols) random logits from a fixed seed.
func fastBenchData(rows, cols int) (p, q []float64) {
	r := rand.New(rand.NewPCG(2026, 11))
	return fastRandLogits(r, rows*cols, 2), fastRandLogits(r, rows*cols, 2)
}

// BenchmarkFastKL times one call on an RLHF-sized pair of logits (256 × 50257).
// Run with: go test -run XXX -bench Fast ./kl/
func BenchmarkFastKL(b *testing.B) {
	const rows, cols = 256, 50257
	p, q := fastBenchData(rows, cols)
	p32, q32 := fastTo32(p), fastTo32(q)
	dst := make([]float64, rows)
	for _, threads := range []int{0, 1} {
		f := New(threads)
		b.Run(fmt.Sprintf("float32/%dx%d/threads=%d", rows, cols, f.Threads()), func(b *testing.B) {
			b.SetBytes(int64(8 * rows * cols))
			cpu0 := fastCPUTime()
			for b.Loop() {
				if err := f.KLLogits32(dst, p32, q32, rows, cols); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fastCPUTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		})
		b.Run(fmt.Sprintf("float64/%dx%d/threads=%d", rows, cols, f.Threads()), func(b *testing.B) {
			b.SetBytes(int64(16 * rows * cols))
			cpu0 := fastCPUTime()
			for b.Loop() {
				if err := f.KLLogits64(dst, p, q, rows, cols); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(fastCPUTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkFastKLGoKernel times the pure-Go row kernels (used on CPUs without AVX2+FMA) on the
// same 256 × 50257 logits, on one goroutine.
func BenchmarkFastKLGoKernel(b *testing.B) {
	const rows, cols = 256, 50257
	p, q := fastBenchData(rows, cols)
	p32, q32 := fastTo32(p), fastTo32(q)
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			for r := 0; r < rows; r++ {
				fastRow32(p32[r*cols:(r+1)*cols], q32[r*cols:(r+1)*cols])
			}
		}
	})
	b.Run("float64", func(b *testing.B) {
		for b.Loop() {
			for r := 0; r < rows; r++ {
				fastRow64(p[r*cols:(r+1)*cols], q[r*cols:(r+1)*cols])
			}
		}
	})
}

// BenchmarkFastKLExactRow times the exact KLLogits (math.Exp, allocating) on one 50257-wide row,
// for comparison with BenchmarkFastKL (per call = 256 rows).
func BenchmarkFastKLExactRow(b *testing.B) {
	p, q := fastBenchData(1, 50257)
	p32, q32 := fastTo32(p), fastTo32(q)
	for b.Loop() {
		if _, err := kl.KLLogits(p32, q32); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFastExpNeg(b *testing.B) {
	xs := make([]float64, 4096)
	for i := range xs {
		xs[i] = -20 * float64(i) / 4096
	}
	s := 0.0
	for b.Loop() {
		for _, x := range xs {
			s += fastExpNeg(x)
		}
	}
	if s == 0 {
		b.Fatal("no work")
	}
}

// TestFastAVX512Kernels: the one-pass kernel (sums relative to a reference that is not the
// maximum, and the maxima) gives the two-pass kernels' sums bit for bit and the true maxima, and
// the sums agree with a float64 computation with math.Exp.
func TestFastAVX512Kernels(t *testing.T) {
	if !fastHaveAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	r := rand.New(rand.NewPCG(31, 32))
	const n = 4096
	x, y := fastTo32(fastRandLogits(r, n, 3)), fastTo32(fastRandLogits(r, n, 3))
	var mm, mm2 [2]float32
	fastMax2AVX512(&x[0], &y[0], n, &mm)
	wx, wy := x[0], y[0]
	for i := range x {
		wx, wy = max(wx, x[i]), max(wy, y[i])
	}
	if mm[0] != wx || mm[1] != wy {
		t.Fatalf("fastMax2AVX512 = %v, want [%v %v]", mm, wx, wy)
	}
	mx, my := wx-3, wy-2 // below the maxima: some exponents are positive
	var a1, a2 [24]float64
	fastSumsAVX512(&x[0], &y[0], n, mx, my, &a1)
	fastSumsMaxAVX512(&x[0], &y[0], n, mx, my, &a2, &mm2)
	if a1 != a2 || mm2 != mm {
		t.Fatalf("one-pass kernel: sums %v maxima %v; two-pass: %v %v", a2, mm2, a1, mm)
	}
	var sx, sy, st float64
	for i := range x {
		a, b := float64(x[i]-mx), float64(y[i]-my)
		sx += math.Exp(a)
		sy += math.Exp(b)
		st += math.Exp(a) * (a - b)
	}
	sum := func(a []float64) float64 {
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"Σe^a", sum(a1[0:8]), sx}, {"Σe^b", sum(a1[8:16]), sy}, {"Σe^a(a−b)", sum(a1[16:24]), st}} {
		if math.Abs(c.got-c.want) > 1e-6*math.Abs(c.want) {
			t.Errorf("%s = %.9g, float64 %.9g", c.name, c.got, c.want)
		}
	}
}
