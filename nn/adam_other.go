//go:build !amd64 || amd64.v3

package nn

var haveAdamAVX2 = false

func adamStep32AVX2(p, grad *float32, m, v *float64, n int, c *[6]float64) {
	panic("nn: adamStep32AVX2 without AVX2")
}
