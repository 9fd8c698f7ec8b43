package nn

import (
	"runtime"
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

// TestTrainerReusesProductBuffers guards the second patch of third_party/gorgonia: the buffers
// of matrix products (alloc instructions) are made once, not in every run. A forward and backward
// run of a 64-row batch through a 64→64→64 MLP allocated ≈ 213 KB unpatched, ≈ 62 KB patched (the
// rest is gorgonia's other values and bookkeeping); the bound lies halfway.
func TestTrainerReusesProductBuffers(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 64, Hidden: []int{64}, Out: 64, Dtype: tensor.Float32})
	if err != nil {
		t.Fatal(err)
	}
	s := newMSEGraph(t, m, 64)
	x := denseFrom(tensor.Float32, []int{64, 64}, randomBatch(seeded(2), 64*64))
	y := denseFrom(tensor.Float32, []int{64, 64}, randomBatch(seeded(3), 64*64))
	s.run(t, x, y)
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		s.run(t, x, y)
	}
	runtime.ReadMemStats(&after)
	perRun := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("%d bytes allocated per run", perRun)
	if perRun > 136<<10 {
		t.Fatalf("a run allocates %d bytes: the matrix products' buffers are not reused (is third_party/gorgonia's patch of alloc.exec in place?)", perRun)
	}
}
