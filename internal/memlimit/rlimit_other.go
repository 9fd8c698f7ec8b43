//go:build !unix

package memlimit

// rlimitAS: no address-space limit outside unix.
func rlimitAS() (uint64, bool) { return 0, false }
