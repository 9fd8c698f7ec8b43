//go:build unix

package memlimit

import (
	"syscall"
	"testing"
)

// TestHostRLIMITAS lowers the process's own soft address-space limit (as `ulimit -v` does) and
// checks that Available follows it.
func TestHostRLIMITAS(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Fatal(err)
	}
	before, _ := Available()
	b, err := host.readFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	vm, ok := field(b, "VmSize:", "kB")
	if !ok {
		t.Fatal("no VmSize in /proc/self/status")
	}
	const extra = 512 << 20
	lim := syscall.Rlimit{Cur: uint64(vm*1024) + 4*extra, Max: old.Max}
	if lim.Cur > old.Max {
		t.Fatalf("hard RLIMIT_AS %d below the test's %d", old.Max, lim.Cur)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Fatal(err)
	}
	got, ok := Available()
	ls := Limits()
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Fatal(err)
	}
	if !ok || got > 4*extra || got < extra {
		t.Fatalf("with ulimit -v at VmSize + 2 GiB: Available %d (%v), limits %+v; before %d", got, ok, ls, before)
	}
}
