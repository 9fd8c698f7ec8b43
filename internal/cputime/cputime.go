// Package cputime reads the CPU time the process has consumed, the figure benchmarks on a
// shared machine report beside wall time: another job on the same cores slows the wall clock
// of a run but barely its CPU time.
package cputime

import "time"

// Process returns the user+system CPU time consumed by the process so far, all threads; ok is
// false where the platform cannot tell.
func Process() (d time.Duration, ok bool) { return process() }
