package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessGrowsWithWork: busy work adds CPU time; sleeping adds (almost) none.
func TestProcessGrowsWithWork(t *testing.T) {
	c0, ok := Process()
	if !ok {
		if runtime.GOOS == "linux" {
			t.Fatal("no CPU time on linux")
		}
		t.Skip("no CPU time on " + runtime.GOOS)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 1.0
	for time.Now().Before(deadline) {
		x = x*1.0000001 + 1e-9
	}
	c1, _ := Process()
	if c1-c0 < 10*time.Millisecond {
		t.Errorf("50 ms of busy work added %v of CPU time (x = %v)", c1-c0, x)
	}
	time.Sleep(50 * time.Millisecond)
	c2, _ := Process()
	if c2-c1 > 40*time.Millisecond {
		t.Errorf("50 ms of sleep added %v of CPU time", c2-c1)
	}
}
