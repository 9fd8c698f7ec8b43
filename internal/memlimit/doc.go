// Package memlimit tells how much memory the process may still allocate, so that a command can
// refuse a configuration the machine cannot hold (naming the flag or field that sets its size)
// instead of being killed by the kernel or by Go's "fatal error: out of memory" half-way through.
//
// Available takes the smallest of every limit that applies to the process:
//
//   - the memory the system reports available (MemAvailable in /proc/meminfo);
//   - the cgroup's limit minus its usage (cgroup v2 memory.max − memory.current, or v1
//     memory.limit_in_bytes − memory.usage_in_bytes), as in a container;
//   - the address-space limit RLIMIT_AS (`ulimit -v`) minus the address space in use (VmSize);
//   - the Go runtime's soft memory limit (GOMEMLIMIT or debug.SetMemoryLimit).
//
// Typical use, before any large allocation:
//
//	need := estimateBytes(cfg)
//	if err := memlimit.Check(need); err != nil {
//		return fmt.Errorf("--hidden %v: %w", cfg.Hidden, err) // "needs about 80.0 GiB but 21.3 GiB are available"
//	}
package memlimit
