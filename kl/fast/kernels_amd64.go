//go:build amd64

package fast

import "golang.org/x/sys/cpu"

// fastHaveAVX2 selects the assembly kernels (kernels_amd64.s).
var fastHaveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func fastSumsAVX2(x, y *float32, n int, mx, my float32, acc *[12]float64)

//go:noescape
func fastMax2AVX2(x, y *float32, n int, out *[2]float32)

//go:noescape
func fastSums64AVX2(x, y *float64, n int, mx, my float64, acc *[12]float64)

//go:noescape
func fastMax64AVX2(x, y *float64, n int, out *[2]float64)

// fastHaveAVX512 selects the AVX-512 float32 kernels (sixteen lanes per register).
var fastHaveAVX512 = fastHaveAVX2 && cpu.X86.HasAVX512F

//go:noescape
func fastSumsAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64)

//go:noescape
func fastMax2AVX512(x, y *float32, n int, out *[2]float32)

//go:noescape
func fastSumsMaxAVX512(x, y *float32, n int, mx, my float32, acc *[24]float64, out *[2]float32)
