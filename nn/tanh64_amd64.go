//go:build amd64 && !amd64.v3

package nn

import "golang.org/x/sys/cpu"

// haveVecMath64 selects the kernels of tanh64_amd64.s: they need AVX2 and FMA, and with FMA
// math.Exp takes the fused branch they reproduce.
var haveVecMath64 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func exp64AVX2(dst, src *float64, n int) (done int)

//go:noescape
func tanh64AVX2(dst, src *float64, n int)

//go:noescape
func tanh32x64AVX2(dst, src *float32, n int)
