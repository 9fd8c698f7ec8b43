//go:build linux

package ppo

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestCheckMemoryHonoursRLIMITAS: an address-space limit (`ulimit -v`) is part of the memory the
// process may use; a config that needs more than it leaves is refused naming the fields.
func TestCheckMemoryHonoursRLIMITAS(t *testing.T) {
	c := tinyConfig(t, 1)
	c.NumEnvs, c.NumSteps, c.NumMinibatches = 1024, 1024, 4 // about 8 GiB: less than the machine has
	c.TotalTimesteps = c.BatchSize()
	need, err := c.MemoryEstimate()
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Fatal(err)
	}
	// The test process's own address space plus half of what the config needs.
	lim := syscall.Rlimit{Cur: uint64(vmSize(t)) + uint64(need/2), Max: old.Max}
	if lim.Cur > old.Max {
		t.Fatalf("hard RLIMIT_AS %d below %d", old.Max, lim.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Fatal(err)
	}
	err = c.CheckMemory()
	if rerr := syscall.Setrlimit(syscall.RLIMIT_AS, &old); rerr != nil {
		t.Fatal(rerr)
	}
	if err == nil || !strings.Contains(err.Error(), "num_envs = 1024") || !strings.Contains(err.Error(), "RLIMIT_AS") {
		t.Fatalf("CheckMemory under ulimit -v of need/2: %v; want a refusal naming num_envs and RLIMIT_AS", err)
	}
}

// vmSize returns the process's address space in bytes (VmSize of /proc/self/status).
func vmSize(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			f := strings.Fields(rest)
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatal("no VmSize")
	return 0
}
