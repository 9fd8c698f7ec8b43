//go:build unix

package env

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time consumed by the process so far (ok false when the
// platform cannot tell).
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
