//go:build !unix

package fast

import "time"

// fastCPUTime is not measured on this platform (the cpu-ms/op metric reads 0).
func fastCPUTime() time.Duration { return 0 }
