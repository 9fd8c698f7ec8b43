//go:build amd64

package kl

import "golang.org/x/sys/cpu"

// fastHaveAVX2 selects the assembly kernels (fast_amd64.s) for float32 rows.
var fastHaveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func fastSumsAVX2(x, y *float32, n int, mx, my float32, acc *[12]float64)

//go:noescape
func fastMax2AVX2(x, y *float32, n int, out *[2]float32)
