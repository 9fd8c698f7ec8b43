//go:build amd64

package nn

import "golang.org/x/sys/cpu"

// haveGemmAVX2 selects the AVX2 tiles of gemm_amd64.s.
var haveGemmAVX2 = cpu.X86.HasAVX2

//go:noescape
func axpyTile4x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func axpyTile4x8(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func axpy8(n8 int, alpha float32, x, y *float32)

//go:noescape
func dotTile1x4(k16 int, x, y *float32, ldy int, out *[4]float32)

//go:noescape
func anyZero8(p *float32, n int) bool

//go:noescape
func sparseAxpy64(c *float32, vals *float32, offs *int, nnz int, b *float32)

//go:noescape
func sparseAxpy8(c *float32, vals *float32, offs *int, nnz int, b *float32)

//go:noescape
func nonzeros(dst *int32, a *float32, n int) (count int)

//go:noescape
func dotRows4(x *float32, lda int, y *float32, k, t int, out *[4]float32)

// lane0Mask keeps lanes 0 and 4 of a float32 vector (dotRows4's single products).
var lane0Mask = [8]uint32{0xffffffff, 0, 0, 0, 0xffffffff, 0, 0, 0}
