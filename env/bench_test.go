package env

import (
	"testing"
)

// BenchmarkStep: one env-step of Make(id) (time limit included), resetting on episode end.
// env-steps/s = 1e9 / (ns/op).
func BenchmarkStep(b *testing.B) {
	for _, id := range classicIDs {
		b.Run(id, func(b *testing.B) {
			e, _ := Make(id)
			e.Reset(u64(1))
			acts := benchActions(e.ActionSpace(), 1024, 1)
			b.ReportAllocs()
			b.ResetTimer()
			if err := runSingle(e, acts, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkStepUnwrapped: the bare CartPole dynamics without the TimeLimit wrapper.
func BenchmarkStepUnwrapped(b *testing.B) {
	e := NewCartPole()
	e.Reset(u64(1))
	acts := benchActions(e.ActionSpace(), 1024, 1)
	b.ReportAllocs()
	b.ResetTimer()
	if err := runSingle(e, acts, b.N); err != nil {
		b.Fatal(err)
	}
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
				b.ReportAllocs()
				b.ResetTimer()
				if err := runVector(v, acts, b.N); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(8*float64(b.N)/b.Elapsed().Seconds(), "env-steps/s")
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
	b.ReportAllocs()
	b.ResetTimer()
	if err := runVector(w, acts, b.N); err != nil {
		b.Fatal(err)
	}
}
