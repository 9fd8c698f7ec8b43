package nn

import (
	"fmt"
	"klppo/internal/cputime"
	"testing"
	"time"

	"gorgonia.org/tensor"
)

// cpuLoop runs body b.N times and also reports the process CPU time per op ("cpu-ns/op"): on
// a machine shared with other jobs wall time shows the share of CPU the benchmark got, CPU time
// the cost of the code.
func cpuLoop(b *testing.B, body func()) {
	c0, ok0 := cputime.Process()
	for b.Loop() {
		body()
	}
	c1, ok1 := cputime.Process()
	if ok0 && ok1 && c1 > c0 {
		b.ReportMetric(float64(c1-c0)/float64(time.Nanosecond)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkForward is the acting path: plain-Go forward of a CleanRL-sized 4→64→64→2 tanh net.
func BenchmarkForward(b *testing.B) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, rows := range []int{1, 8} {
			b.Run(fmt.Sprintf("%v/batch%d", dt, rows), func(b *testing.B) {
				m, err := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: dt})
				if err != nil {
					b.Fatal(err)
				}
				x := randomBatch(seeded(2), rows*4)
				var ws Workspace
				b.ReportAllocs()
				cpuLoop(b, func() {
					if _, err := m.Forward(&ws, x, rows); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkTrainStep is one training step of a 4→64→64→2 tanh net on an MSE loss at batch 128:
// Let the inputs, forward+backward through the graph (Trainer.Run), ClipGradNorm, Adam.Step.
func BenchmarkTrainStep(b *testing.B) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		b.Run(fmt.Sprintf("%v/batch128", dt), func(b *testing.B) {
			const rows = 128
			m, err := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: dt})
			if err != nil {
				b.Fatal(err)
			}
			s := newMSEGraph(b, m, rows)
			defer s.tr.Close()
			ad, err := NewAdam(s.tr.Params(), AdamConfig{Eps: 1e-5})
			if err != nil {
				b.Fatal(err)
			}
			x := denseFrom(dt, []int{rows, 4}, randomBatch(seeded(2), rows*4))
			y := denseFrom(dt, []int{rows, 2}, randomBatch(seeded(3), rows*2))
			b.ReportAllocs()
			cpuLoop(b, func() {
				_, grads := s.run(b, x, y)
				if _, err := ClipGradNorm(grads, 0.5); err != nil {
					b.Fatal(err)
				}
				if err := ad.Step(2.5e-4, grads); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
