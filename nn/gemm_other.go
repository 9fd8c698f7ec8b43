//go:build !amd64

package nn

var haveGemmAVX2 = false

func axpyTile4x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int) {
	panic("nn: axpyTile4x16 without AVX2")
}

func axpyTile4x8(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int) {
	panic("nn: axpyTile4x8 without AVX2")
}

func axpy8(n8 int, alpha float32, x, y *float32) { panic("nn: axpy8 without AVX2") }

func dotTile1x4(k16 int, x, y *float32, ldy int, out *[4]float32) {
	panic("nn: dotTile1x4 without AVX2")
}

func anyZero8(p *float32, n int) bool { panic("nn: anyZero8 without AVX2") }

func sparseAxpy64(c *float32, vals *float32, offs *int, nnz int, b *float32) {
	panic("nn: sparseAxpy64 without AVX2")
}

func sparseAxpy8(c *float32, vals *float32, offs *int, nnz int, b *float32) {
	panic("nn: sparseAxpy8 without AVX2")
}

func nonzeros(dst *int32, a *float32, n int) int { panic("nn: nonzeros without AVX2") }

func dotRows4(x *float32, lda int, y *float32, k, t int, out *[4]float32) {
	panic("nn: dotRows4 without AVX2")
}
