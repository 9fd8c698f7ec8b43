package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessGrowsWithWork: busy work adds CPU time (however busy the machine is, the loop
// spins until 20 ms of it have been counted, within 30 s of wall time); sleeping adds less than
// the sleep itself.
func TestProcessGrowsWithWork(t *testing.T) {
	c0, ok := Process()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("no CPU time on linux")
		}
		t.Skip("no CPU time on " + runtime.GOOS)
	}
	deadline := time.Now().Add(30 * time.Second)
	x, c1 := 1.0, c0
	for c1-c0 < 20*time.Millisecond {
		for i := 0; i < 1e5; i++ {
			x = x*1.0000001 + 1e-9
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s of busy work added only %v of CPU time (x = %v)", c1-c0, x)
		}
		c1, _ = Process()
	}
	time.Sleep(200 * time.Millisecond)
	c2, _ := Process()
	if c2-c1 > 150*time.Millisecond {
		t.Errorf("200 ms of sleep added %v of CPU time", c2-c1)
	}
}
