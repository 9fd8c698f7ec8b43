//go:build unix

package fast

import (
	"syscall"
	"time"
)

// fastCPUTime is the process's user+system CPU time (all threads), for benchmarks that report
// CPU time per call next to wall time (the shared machine's wall times vary with its load).
func fastCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
