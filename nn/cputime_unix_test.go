//go:build unix

package nn

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time the process has consumed (ok false if unknown).
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
