//go:build !unix

package env

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }
