//go:build !amd64 || amd64.v3

package nn

var haveVecMath64 = false

func exp64AVX2(dst, src *float64, n int) int { panic("nn: exp64AVX2 without AVX2") }
func tanh64AVX2(dst, src *float64, n int)    { panic("nn: tanh64AVX2 without AVX2") }
func tanh32x64AVX2(dst, src *float32, n int) { panic("nn: tanh32x64AVX2 without AVX2") }
