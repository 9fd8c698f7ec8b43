package nn

import (
	"testing"

	"gorgonia.org/tensor"
)

// cartPoleGrads are gradient tensors of the shapes of klppo's CartPole actor and critic
// (4→64→64→2 and 4→64→64→1, float32): the tensors PPO clips every minibatch.
func cartPoleGrads() []*tensor.Dense {
	var gs []*tensor.Dense
	for _, out := range []int{2, 1} {
		for _, shape := range [][]int{{4, 64}, {64}, {64, 64}, {64}, {64, out}, {out}} {
			g := NewDense(tensor.Float32, shape, nil)
			for i, s := 0, g.Float32s(); i < len(s); i++ {
				s[i] = float32(i%7) * 0.01
			}
			gs = append(gs, g)
		}
	}
	return gs
}

// BenchmarkClipGradNorm measures the global norm of the CartPole gradients (no clipping).
func BenchmarkClipGradNorm(b *testing.B) {
	gs := cartPoleGrads()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ClipGradNorm(gs, 1e9); err != nil {
			b.Fatal(err)
		}
	}
}
