package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/chewxy/math32"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// vecMathInputs returns every stride-th float32 bit pattern plus the edge cases of math32's Exp
// and Tanh (zeros, infinities, NaN, subnormals, and a few ulps around 0.625, 44.01, the exp
// overflow and underflow thresholds), in a length that is not a multiple of 8.
func vecMathInputs(stride uint32) []float32 {
	var xs []float32
	for b := uint64(0); b < 1<<32; b += uint64(stride) {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	edges := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
		0.625, -0.625, 44.014845, -44.014845, 88.72284, 88.7, 89, -87.33655, -103.97, -88, 1, -1, 0.5, 2}
	for _, e := range edges {
		xs = append(xs, e)
		for d := int32(-3); d <= 3; d++ {
			xs = append(xs, math.Float32frombits(uint32(int32(math.Float32bits(e))+d)))
		}
	}
	return append(xs, 0.3)
}

// TestVecMathMatchesMath32: the AVX2 exp and tanh kernels return math32.Exp's and math32.Tanh's
// bits on every 4099th float32 bit pattern (about a million values) and the edge cases.
func TestVecMathMatchesMath32(t *testing.T) {
	if !haveVecMathAVX2 {
		t.Skip("no AVX2")
	}
	xs := vecMathInputs(4099)
	got := make([]float32, len(xs))
	for _, k := range []struct {
		name   string
		kernel func(dst, src *float32, n int)
		scalar func(float32) float32
	}{{"exp", exp32AVX2, math32.Exp}, {"tanh", tanh32AVX2, math32.Tanh}} {
		n8 := len(xs) &^ 7
		k.kernel(&got[0], &xs[0], n8)
		for i := 0; i < n8; i++ {
			if want := k.scalar(xs[i]); math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("%s(%v) (bits %#x) = %v (%#x), math32 gives %v (%#x)", k.name, xs[i], math.Float32bits(xs[i]),
					got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
			}
		}
	}
}

// TestEngineTanhExp runs tanh and exp through gorgonia with the engine of NewTrainer's machines
// (in place, into a clone and into a reuse tensor, and on a length that is not a multiple of 8)
// and compares them with math32 element by element.
func TestEngineTanhExp(t *testing.T) {
	for _, n := range []int{3, 8, 37} {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(i)*0.37 - 6
		}
		for _, tc := range []struct {
			name   string
			scalar func(float32) float32
			apply  func(e engine, a tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error)
		}{
			{"tanh", math32.Tanh, func(e engine, a tensor.Tensor, o ...tensor.FuncOpt) (tensor.Tensor, error) { return e.Tanh(a, o...) }},
			{"exp", math32.Exp, func(e engine, a tensor.Tensor, o ...tensor.FuncOpt) (tensor.Tensor, error) { return e.Exp(a, o...) }},
		} {
			for _, mode := range []string{"safe", "unsafe", "reuse"} {
				a := tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float32(nil), xs...)))
				var opts []tensor.FuncOpt
				reuse := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n))
				switch mode {
				case "unsafe":
					opts = append(opts, tensor.UseUnsafe())
				case "reuse":
					opts = append(opts, tensor.WithReuse(reuse))
				}
				r, err := tc.apply(engine{}, a, opts...)
				if err != nil {
					t.Fatal(err)
				}
				got := r.Data().([]float32)
				for i, x := range xs {
					if want := tc.scalar(x); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("%s %s n=%d: [%d] = %v, math32 %v", tc.name, mode, n, i, got[i], want)
					}
				}
				in := a.Data().([]float32)
				switch mode {
				case "safe":
					if r == tensor.Tensor(a) || in[1] != xs[1] {
						t.Fatalf("%s safe: the input was overwritten", tc.name)
					}
				case "unsafe":
					if r != tensor.Tensor(a) {
						t.Fatalf("%s unsafe: the result is not the input", tc.name)
					}
				case "reuse":
					if r != tensor.Tensor(reuse) || in[1] != xs[1] {
						t.Fatalf("%s reuse: the result is not the reuse tensor, or the input changed", tc.name)
					}
				}
			}
		}
	}
	var _ gorgonia.VM // the engine serves gorgonia's tape machines (NewTrainer)
}

// TestEngineTanhExp64: float64 tanh and exp through the engine (in place, into a clone, into a
// reuse tensor, lengths around the 4-wide groups, arguments in exp's fallback range) give the
// standard engine's bits, which are math.Tanh's and math.Exp's.
func TestEngineTanhExp64(t *testing.T) {
	for _, n := range []int{1, 4, 7, 37} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(i)*1.37 - 25
		}
		xs[0] = -800 // exp underflows: the group goes to math.Exp
		for _, tc := range []struct {
			name  string
			apply func(e tensor.Engine, a tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error)
		}{
			{"tanh", func(e tensor.Engine, a tensor.Tensor, o ...tensor.FuncOpt) (tensor.Tensor, error) {
				return e.(tensor.Tanher).Tanh(a, o...)
			}},
			{"exp", func(e tensor.Engine, a tensor.Tensor, o ...tensor.FuncOpt) (tensor.Tensor, error) {
				return e.(tensor.Exper).Exp(a, o...)
			}},
		} {
			want, err := tc.apply(tensor.StdEng{}, tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float64(nil), xs...))))
			if err != nil {
				t.Fatal(err)
			}
			for _, mode := range []string{"safe", "unsafe", "reuse"} {
				a := tensor.New(tensor.WithShape(n), tensor.WithBacking(append([]float64(nil), xs...)))
				reuse := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(n))
				var opts []tensor.FuncOpt
				switch mode {
				case "unsafe":
					opts = append(opts, tensor.UseUnsafe())
				case "reuse":
					opts = append(opts, tensor.WithReuse(reuse))
				}
				r, err := tc.apply(engine{}, a, opts...)
				if err != nil {
					t.Fatal(err)
				}
				got, w := r.Data().([]float64), want.Data().([]float64)
				for i := range xs {
					if math.Float64bits(got[i]) != math.Float64bits(w[i]) {
						t.Fatalf("%s %s n=%d: [%d] = %v, standard engine %v", tc.name, mode, n, i, got[i], w[i])
					}
				}
				switch in := a.Data().([]float64); mode {
				case "safe":
					if r == tensor.Tensor(a) || in[1%n] != xs[1%n] {
						t.Fatalf("%s safe: the input was overwritten", tc.name)
					}
				case "unsafe":
					if r != tensor.Tensor(a) {
						t.Fatalf("%s unsafe: the result is not the input", tc.name)
					}
				case "reuse":
					if r != tensor.Tensor(reuse) {
						t.Fatalf("%s reuse: the result is not the reuse tensor", tc.name)
					}
				}
			}
		}
	}
	if haveVecMath64 { // the engine's own path, not the standard engine's, gave those bits
		a := tensor.New(tensor.WithShape(5), tensor.WithBacking([]float64{1, 2, 3, 4, 5}))
		if _, ok := unary(a, nil, nil, tanhInto64); !ok {
			t.Fatal("the engine declined a plain float64 tensor")
		}
	}
}

// TestEngineMatMulMatchesStdEng: with gonum's BLAS installed, the engine's MatMul gives every
// element the standard engine's bits, for plain and transposed (T()) operands, dense and one-hot
// A, and the shapes it declines (a head of 1 output, 1-row matrices); and it does go through
// the tiles for the shapes of an RLHF minibatch.
func TestEngineMatMulMatchesStdEng(t *testing.T) {
	if _, ok := tensor.WhichBLAS().(gonum.Implementation); !ok {
		t.Skip("another BLAS is installed")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	tiled := 0
	for _, sh := range [][3]int{{256, 64, 119}, {256, 25, 64}, {64, 25, 256}, {119, 64, 256}, {256, 64, 25},
		{256, 1, 64}, {1, 64, 64}, {64, 1, 256}, {256, 64, 1}, {17, 33, 48}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, oneHot := range []bool{false, true} {
					mk := func(r, c int, trans, hot bool) (*tensor.Dense, *tensor.Dense) {
						if trans {
							r, c = c, r
						}
						d := make([]float32, r*c)
						for i := range d {
							if !hot || rng.IntN(8) == 0 {
								d[i] = float32(rng.NormFloat64())
							}
						}
						std := tensor.New(tensor.WithShape(r, c), tensor.WithBacking(d))
						eng := tensor.New(tensor.WithShape(r, c), tensor.WithBacking(append([]float32(nil), d...)), tensor.WithEngine(engine{}))
						if trans {
							if err := std.T(); err != nil {
								t.Fatal(err)
							}
							if err := eng.T(); err != nil {
								t.Fatal(err)
							}
						}
						return std, eng
					}
					aS, aE := mk(m, k, tA, oneHot)
					bS, bE := mk(k, n, tB, false)
					want, err := tensor.MatMul(aS, bS)
					if err != nil {
						t.Fatal(err)
					}
					c := tensor.New(tensor.WithShape(m, n), tensor.WithBacking(make([]float32, m*n)), tensor.WithEngine(engine{}))
					did := matMulTiled(aE, bE, c)
					if did {
						tiled++
					}
					got, err := tensor.MatMul(aE, bE)
					if err != nil {
						t.Fatal(err)
					}
					w, g := want.Data().([]float32), got.Data().([]float32)
					for i := range w {
						if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
							t.Fatalf("%v tA %v tB %v one-hot %v: c[%d] = %v, standard engine %v", sh, tA, tB, oneHot, i, g[i], w[i])
						}
					}
					if did && !equalBits(c.Float32s(), w) || !did && !equalBits(c.Float32s(), make([]float32, m*n)) {
						t.Fatalf("%v tA %v tB %v one-hot %v: matMulTiled (did %v) left C differing from the standard engine's product", sh, tA, tB, oneHot, did)
					}
				}
			}
		}
	}
	if haveGemmAVX2 && tiled == 0 {
		t.Fatal("no product went through the tiles")
	}
}

// TestEngineRepeatMatchesStdEng: the engine's RepeatReuse writes what the standard engine writes,
// for the two broadcast shapes it copies itself (in float32 and float64) and for shapes it
// declines, and it overwrites whatever the reuse tensor held.
func TestEngineRepeatMatchesStdEng(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, tc := range []struct {
			shape tensor.Shape
			axis  int
			rep   int
		}{{tensor.Shape{1, 5}, 0, 7}, {tensor.Shape{6, 1}, 1, 3}, {tensor.Shape{1, 1}, 0, 4}, {tensor.Shape{1, 1}, 1, 4},
			{tensor.Shape{2, 3}, 0, 2}, {tensor.Shape{2, 3}, 1, 2}, {tensor.Shape{4}, 0, 3}} {
			n := tc.shape.TotalSize()
			src := tensor.New(tensor.Of(dt), tensor.WithShape(tc.shape...), tensor.WithEngine(engine{}))
			for i := 0; i < n; i++ {
				if err := src.SetAt(castTo(dt, float64(i)*1.5-2), unravel(tc.shape, i)...); err != nil {
					t.Fatal(err)
				}
			}
			want, err := tensor.StdEng{}.Repeat(src, tc.axis, tc.rep)
			if err != nil {
				t.Fatal(err)
			}
			reuse := tensor.New(tensor.Of(dt), tensor.WithShape(want.Shape()...))
			if err := reuse.Memset(castTo(dt, 9)); err != nil {
				t.Fatal(err)
			}
			got, err := engine{}.RepeatReuse(src, reuse, tc.axis, tc.rep)
			if err != nil {
				t.Fatalf("%v %v axis %d ×%d: %v", dt, tc.shape, tc.axis, tc.rep, err)
			}
			if got != tensor.Tensor(reuse) || !got.Shape().Eq(want.Shape()) {
				t.Fatalf("%v %v axis %d ×%d: result %v, want the reuse tensor of shape %v", dt, tc.shape, tc.axis, tc.rep, got.Shape(), want.Shape())
			}
			if fmt.Sprint(got.Data()) != fmt.Sprint(want.Data()) {
				t.Fatalf("%v %v axis %d ×%d: %v, standard engine %v", dt, tc.shape, tc.axis, tc.rep, got.Data(), want.Data())
			}
		}
	}
	// The two broadcasts are the ones the engine copies itself.
	row := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float32{1, 2, 3}))
	if !repeatBroadcast(row, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(2, 3)), 0, []int{2}) {
		t.Fatal("a (1, 3) row repeated down axis 0 was declined")
	}
	col := tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{1, 2, 3}))
	if !repeatBroadcast(col, tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3, 4)), 1, []int{4}) {
		t.Fatal("a (3, 1) column repeated along axis 1 was declined")
	}
}

func unravel(s tensor.Shape, i int) []int {
	idx := make([]int, len(s))
	for d := len(s) - 1; d >= 0; d-- {
		idx[d] = i % s[d]
		i /= s[d]
	}
	return idx
}

func castTo(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}
