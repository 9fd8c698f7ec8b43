package nn

import "math"

// Exact vectorised float64 exp and tanh for the plain-Go forward pass.
//
// MLP.Forward applies tanh in float64 — math.Tanh, also for a float32 MLP, whose activations are
// float32(math.Tanh(float64(x))) — and in the RLHF rollouts those calls are a quarter of the
// CPU time. tanh64_amd64.s computes the same functions 4 lanes at a time with AVX2 and FMA:
// archExp's FMA branch (the one math.Exp takes on any CPU with FMA) and tanh.go's formulas, step
// for step, so every result has math.Tanh's bits (TestVecMath64MatchesMath); on other CPUs and
// architectures the functions below are the scalar loops.

// tanhInto64 sets dst[i] = math.Tanh(src[i]); dst and src may be the same slice.
func tanhInto64(dst, src []float64) {
	vecInto(dst, src, haveVecMath64, 4, tanh64AVX2, math.Tanh)
}

// tanhInto32 sets dst[i] = float32(math.Tanh(float64(src[i]))); dst and src may be the same
// slice.
func tanhInto32(dst, src []float32) {
	vecInto(dst, src, haveVecMath64, 4, tanh32x64AVX2, func(x float32) float32 { return float32(math.Tanh(float64(x))) })
}

// vecInto sets dst[i] = scalar(src[i]) (len(dst) ≥ len(src)): when vec, through kernel — which
// must return scalar's bits — on the longest prefix that is a whole number of groups, and
// scalar on the rest.
func vecInto[T float32 | float64](dst, src []T, vec bool, group int, kernel func(dst, src *T, n int), scalar func(T) T) {
	i := 0
	if vec {
		if i = len(src) / group * group; i > 0 {
			kernel(&dst[0], &src[0], i)
		}
	}
	for ; i < len(src); i++ {
		dst[i] = scalar(src[i])
	}
}

// expInto64 sets dst[i] = math.Exp(src[i]); dst and src may be the same slice. Groups of 4 with
// an argument outside the kernel's range (|x| ≳ 708, Inf, NaN) are done by math.Exp.
func expInto64(dst, src []float64) {
	i := 0
	if haveVecMath64 {
		n4 := len(src) &^ 3
		for i < n4 {
			i += exp64AVX2(&dst[i], &src[i], n4-i)
			if i < n4 {
				for end := i + 4; i < end; i++ {
					dst[i] = math.Exp(src[i])
				}
			}
		}
	}
	for ; i < len(src); i++ {
		dst[i] = math.Exp(src[i])
	}
}

// vecConsts64 are the constants of tanh64_amd64.s, 4 copies each (the int32 rows 8 copies):
// exp's as archExp has them (float64 literals of exp_amd64.s), tanh's as tanh.go.
var vecConsts64 = func() (t [26][4]uint64) {
	f := math.Float64bits
	i32 := func(v int32) uint64 { return uint64(uint32(v))<<32 | uint64(uint32(v)) }
	const (
		log2e  = 1.4426950408889634073599246810018920
		ln2u   = 0.69314718055966295651160180568695068359375
		ln2l   = 0.28235290563031577122588448175013436025525412068e-12
		maxLog = 8.8029691931113054295988e+01 // tanh.go's MAXLOG, log(2**127)
	)
	rows := []uint64{
		0x7fffffffffffffff, 0x8000000000000000,
		f(log2e), f(ln2u), f(ln2l), f(0.0625),
		f(2.4801587301587301587e-5), f(1.9841269841269841270e-4), f(1.3888888888888888889e-3),
		f(8.3333333333333333333e-3), f(4.1666666666666666667e-2), f(1.6666666666666666667e-1),
		f(0.5), f(1.0), f(2.0), 1023, i32(1023), i32(-1022),
		f(0.5 * maxLog), f(0.625),
		f(-9.64399179425052238628e-1), f(-9.92877231001918586564e1), f(-1.61468768441708447952e3),
		f(1.12811678491632931402e2), f(2.23548839060100448583e3), f(4.84406305325125486048e3),
	}
	for i, v := range rows {
		for j := range t[i] {
			t[i][j] = v
		}
	}
	return t
}()
