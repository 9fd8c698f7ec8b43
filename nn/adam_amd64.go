//go:build amd64 && !amd64.v3

package nn

import "golang.org/x/sys/cpu"

// haveAdamAVX2 selects adamStep32AVX2 (adam_amd64.s) for float32 parameters.
var haveAdamAVX2 = cpu.X86.HasAVX2

//go:noescape
func adamStep32AVX2(p, grad *float32, m, v *float64, n int, c *[6]float64)
