package nn

import (
	"runtime/metrics"
	"testing"

	"gorgonia.org/tensor"
)

// goroutinesCreated is the process's count of goroutines created so far.
func goroutinesCreated(t *testing.T) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Skip("runtime/metrics has no /sched/goroutines-created:goroutines")
	}
	return s[0].Value.Uint64()
}

// TestTrainerRunsTapeOnCallingGoroutine guards the patch of gorgonia carried in
// third_party/gorgonia (see its README.md): tapeMachine.RunAll runs the tape on the calling
// goroutine. Unpatched, every RunAll locks the caller's OS thread and starts a goroutine for the
// tape, so that two trainings in one process keep only ≈ 1.35 of 2 cores busy
// (docs/performance.md); here 200 runs would create at least 200 goroutines.
func TestTrainerRunsTapeOnCallingGoroutine(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 3, Hidden: []int{8}, Out: 2, Dtype: tensor.Float32})
	if err != nil {
		t.Fatal(err)
	}
	s := newMSEGraph(t, m, 4)
	x := denseFrom(tensor.Float32, []int{4, 3}, randomBatch(seeded(2), 12))
	y := denseFrom(tensor.Float32, []int{4, 2}, randomBatch(seeded(3), 8))
	s.run(t, x, y) // first run outside the count
	const runs = 200
	before := goroutinesCreated(t)
	for i := 0; i < runs; i++ {
		s.run(t, x, y)
	}
	if created := goroutinesCreated(t) - before; created >= runs/4 {
		t.Fatalf("%d runs of the tape machine created %d goroutines: RunAll does not run the tape on the calling goroutine (is the replace of gorgonia.org/gorgonia by third_party/gorgonia in go.mod?)", runs, created)
	}
}
