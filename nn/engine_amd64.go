//go:build amd64 && !amd64.v3

package nn

import "golang.org/x/sys/cpu"

// haveVecMathAVX2 selects the exp and tanh kernels of engine_amd64.s.
var haveVecMathAVX2 = cpu.X86.HasAVX2

//go:noescape
func exp32AVX2(dst, src *float32, n int)

//go:noescape
func tanh32AVX2(dst, src *float32, n int)
