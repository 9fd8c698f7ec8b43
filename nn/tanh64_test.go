package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecMath64Inputs returns float64 arguments for the exact exp and tanh kernels: random bit
// patterns of every exponent, a dense uniform sweep of [−50, 50] and of exp's whole finite range,
// and a few ulps around every edge of both functions (zeros, infinities, NaN, subnormals, tanh's
// 0.625 and MAXLOG/2, exp's overflow, underflow and denormal thresholds), shuffled so that edge
// lanes share groups of 4 with ordinary ones, in a length that is not a multiple of 4.
func vecMath64Inputs() []float64 {
	rng := rand.New(rand.NewPCG(64, 4))
	var xs []float64
	for range 200000 {
		xs = append(xs, math.Float64frombits(rng.Uint64()))
	}
	for range 200000 {
		xs = append(xs, 100*rng.Float64()-50)
	}
	for range 200000 {
		xs = append(xs, 1500*rng.Float64()-750)
	}
	const maxLog = 8.8029691931113054295988e+01
	edges := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 0x1p-1022, -0x1p-1022, math.MaxFloat64, -math.MaxFloat64,
		0.625, -0.625, 0.5 * maxLog, -0.5 * maxLog, 7.09782712893384e+02, 709.5, 709.43613930310391, -708.39641853226408,
		-708.4, -745.13321910194110, -744.44007192138122, -707.7, 1, -1, 0.5, 2, 1e-300, -1e-300}
	for _, e := range edges {
		for d := int64(-3); d <= 3; d++ {
			xs = append(xs, math.Float64frombits(uint64(int64(math.Float64bits(e))+d)))
		}
	}
	rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	if len(xs)%4 == 0 {
		xs = append(xs, 0.3)
	}
	return xs
}

// TestVecMath64MatchesMath: the float64 kernels return math.Exp's and math.Tanh's bits, and
// tanhInto32 float32(math.Tanh(float64(x)))'s, on every input, in place and not.
func TestVecMath64MatchesMath(t *testing.T) {
	if !haveVecMath64 {
		t.Log("no AVX2+FMA (or GOAMD64=v3): checking the scalar loops only")
	}
	xs := vecMath64Inputs()
	got := make([]float64, len(xs))
	for _, k := range []struct {
		name   string
		into   func(dst, src []float64)
		scalar func(float64) float64
	}{{"exp", expInto64, math.Exp}, {"tanh", tanhInto64, math.Tanh}} {
		k.into(got, xs)
		inPlace := append([]float64(nil), xs...)
		k.into(inPlace, inPlace)
		for i, x := range xs {
			want := math.Float64bits(k.scalar(x))
			if g := math.Float64bits(got[i]); g != want {
				t.Fatalf("%s(%v) (bits %#x) = %v (%#x), math gives %v (%#x)", k.name, x, math.Float64bits(x), got[i], g, k.scalar(x), want)
			}
			if g := math.Float64bits(inPlace[i]); g != want {
				t.Fatalf("%s in place (%v) = %v, math gives %v", k.name, x, inPlace[i], k.scalar(x))
			}
		}
	}
	xs32 := vecMathInputs(4099)
	got32 := make([]float32, len(xs32))
	tanhInto32(got32, xs32)
	for i, x := range xs32 {
		if want := float32(math.Tanh(float64(x))); math.Float32bits(got32[i]) != math.Float32bits(want) {
			t.Fatalf("tanhInto32(%v) (bits %#x) = %v, float32(math.Tanh) gives %v", x, math.Float32bits(x), got32[i], want)
		}
	}
}

func BenchmarkTanhInto32(b *testing.B) {
	xs := make([]float32, 64*64)
	for i := range xs {
		xs[i] = float32(i%97)/20 - 2.4
	}
	dst := make([]float32, len(xs))
	b.Run("scalar", func(b *testing.B) {
		for b.Loop() {
			for i, v := range xs {
				dst[i] = float32(math.Tanh(float64(v)))
			}
		}
	})
	b.Run("tanhInto32", func(b *testing.B) {
		for b.Loop() {
			tanhInto32(dst, xs)
		}
	})
}
