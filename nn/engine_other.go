//go:build !amd64 || amd64.v3

package nn

var haveVecMathAVX2 = false

func exp32AVX2(dst, src *float32, n int)  { panic("nn: exp32AVX2 without AVX2") }
func tanh32AVX2(dst, src *float32, n int) { panic("nn: tanh32AVX2 without AVX2") }
