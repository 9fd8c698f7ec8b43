package env

import (
	"klppo/internal/cputime"
	"testing"
)

// timed runs f (b.N iterations of envSteps env-steps each) and reports, besides ns/op, the
// process CPU time per op and env-steps per CPU-second: on a machine shared with other jobs
// wall time shows the share of CPU the benchmark got, CPU time shows the cost of the code.
func timed(b *testing.B, envSteps int, f func() error) {
	b.ReportAllocs()
	c0, ok0 := cputime.Process()
	b.ResetTimer()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	c1, ok1 := cputime.Process()
	if ok0 && ok1 && c1 > c0 {
		b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(envSteps)*float64(b.N)/(c1-c0).Seconds(), "env-steps/cpu-s")
	}
	b.ReportMetric(float64(envSteps)*float64(b.N)/b.Elapsed().Seconds(), "env-steps/s")
}

// BenchmarkStep: one env-step of Make(id) (time limit included), resetting on episode end.
// env-steps/s = 1e9 / (ns/op).
func BenchmarkStep(b *testing.B) {
	for _, id := range classicIDs {
		b.Run(id, func(b *testing.B) {
			e, _ := Make(id)
			e.Reset(u64(1))
			acts := benchActions(e.ActionSpace(), 1024, 1)
			timed(b, 1, func() error { return runSingle(e, acts, b.N) })
		})
	}
}

// BenchmarkStepUnwrapped: the bare CartPole dynamics without the TimeLimit wrapper.
func BenchmarkStepUnwrapped(b *testing.B) {
	e := NewCartPole()
	e.Reset(u64(1))
	acts := benchActions(e.ActionSpace(), 1024, 1)
	timed(b, 1, func() error { return runSingle(e, acts, b.N) })
}

// BenchmarkVector8: one step of a Vector of 8 copies (8 env-steps per op), sequential and with
// 2 worker goroutines.
func BenchmarkVector8(b *testing.B) {
	for _, workers := range []int{1, 2} {
		for _, id := range classicIDs {
			name := id
			if workers > 1 {
				name += "/workers2"
			}
			b.Run(name, func(b *testing.B) {
				v := mustVector(b, id, 8)
				v.SetWorkers(workers)
				defer v.Close()
				v.Reset(u64(1))
				acts := benchActions(v.ActionSpace(), 8*1024, 1)
				timed(b, 8, func() error { return runVector(v, acts, b.N) })
			})
		}
	}
}

// BenchmarkVector8Normalized: Pendulum × 8 under the CleanRL continuous wrapper stack.
func BenchmarkVector8Normalized(b *testing.B) {
	w, err := WrapVectorContinuous(mustVector(b, "Pendulum-v1", 8), 0.99)
	if err != nil {
		b.Fatal(err)
	}
	w.Reset(u64(1))
	acts := benchActions(w.ActionSpace(), 8*1024, 1)
	timed(b, 8, func() error { return runVector(w, acts, b.N) })
}
