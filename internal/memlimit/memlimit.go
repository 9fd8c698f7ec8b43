package memlimit

import (
	"fmt"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// unlimited is the smallest value a kernel file uses for "no limit" that we accept as such:
// cgroup v1 writes 9223372036854771712 (2⁶³ rounded down to a page), v2 writes "max".
const unlimited = 1 << 62

// Limit is one constraint on the memory the process may allocate.
type Limit struct {
	Source string // where it comes from, e.g. "MemAvailable", "cgroup memory.max", "RLIMIT_AS", "GOMEMLIMIT"
	Bytes  int64  // bytes still available under it
}

// system reads the machine; tests replace it.
type system struct {
	readFile func(name string) ([]byte, error)
	rlimitAS func() (uint64, bool) // the soft RLIMIT_AS, false when unlimited or unknown
	goLimit  func() int64          // the Go runtime's memory limit (math.MaxInt64 when unset)
}

var host = system{
	readFile: os.ReadFile,
	rlimitAS: rlimitAS,
	goLimit:  func() int64 { return debug.SetMemoryLimit(-1) },
}

// Limits returns every limit that applies to the process, in the order of the package doc.
func Limits() []Limit { return host.limits() }

// Available returns the bytes the process may still allocate: the smallest of Limits, and
// false when none is known.
func Available() (int64, bool) {
	return smallest(host.limits())
}

// Check returns nil when need bytes fit in Available (or when nothing is known), else an error
// such as "needs about 80.0 GiB but 21.3 GiB are available (MemAvailable)". Callers prefix it
// with the flag or field that sets the size.
func Check(need int64) error {
	ls := host.limits()
	have, ok := smallest(ls)
	if !ok || need <= have {
		return nil
	}
	src := ""
	for _, l := range ls {
		if l.Bytes == have {
			src = l.Source
			break
		}
	}
	return fmt.Errorf("needs about %s but %s are available (%s)", GiB(need), GiB(have), src)
}

// GiB formats n bytes as "12.3 GiB" (or MiB below 1 GiB).
func GiB(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

func smallest(ls []Limit) (int64, bool) {
	if len(ls) == 0 {
		return 0, false
	}
	m := ls[0].Bytes
	for _, l := range ls[1:] {
		m = min(m, l.Bytes)
	}
	return m, true
}

func (s system) limits() []Limit {
	var out []Limit
	if b, err := s.readFile("/proc/meminfo"); err == nil {
		if kb, ok := field(b, "MemAvailable:", "kB"); ok {
			out = append(out, Limit{"MemAvailable", kb * 1024})
		}
	}
	if l, ok := s.cgroup(); ok {
		out = append(out, l)
	}
	if lim, ok := s.rlimitAS(); ok && lim < unlimited {
		var used int64
		if b, err := s.readFile("/proc/self/status"); err == nil {
			if kb, ok := field(b, "VmSize:", "kB"); ok {
				used = kb * 1024
			}
		}
		out = append(out, Limit{"RLIMIT_AS (ulimit -v)", max(0, int64(lim)-used)})
	}
	if g := s.goLimit(); g < math.MaxInt64 {
		out = append(out, Limit{"GOMEMLIMIT", g})
	}
	return out
}

// cgroup returns the limit of the process's memory cgroup: v2 (the "0::PATH" line of
// /proc/self/cgroup; memory.max and memory.current under /sys/fs/cgroup/PATH, else at the root
// of /sys/fs/cgroup as seen from inside a container), else v1 (the "N:memory:PATH" line;
// memory.limit_in_bytes and memory.usage_in_bytes under /sys/fs/cgroup/memory).
func (s system) cgroup() (Limit, bool) {
	var v2, v1 string
	if b, err := s.readFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			if parts[0] == "0" && parts[1] == "" {
				v2 = parts[2]
			}
			for _, c := range strings.Split(parts[1], ",") {
				if c == "memory" {
					v1 = parts[2]
				}
			}
		}
	}
	try := func(root, dir, limitFile, usageFile, source string) (Limit, bool) {
		for _, d := range []string{path.Join(root, dir), root} {
			lim, ok := s.number(path.Join(d, limitFile))
			if !ok {
				continue
			}
			if lim >= unlimited {
				return Limit{}, false
			}
			used, _ := s.number(path.Join(d, usageFile)) // unknown usage: count the whole limit
			return Limit{source, max(0, lim-used)}, true
		}
		return Limit{}, false
	}
	if l, ok := try("/sys/fs/cgroup", v2, "memory.max", "memory.current", "cgroup memory.max"); ok {
		return l, true
	}
	return try("/sys/fs/cgroup/memory", v1, "memory.limit_in_bytes", "memory.usage_in_bytes", "cgroup memory.limit_in_bytes")
}

// number reads a file holding one integer; "max" counts as unlimited.
func (s system) number(name string) (int64, bool) {
	b, err := s.readFile(name)
	if err != nil {
		return 0, false
	}
	t := strings.TrimSpace(string(b))
	if t == "max" {
		return math.MaxInt64, true
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// field finds "KEY value unit" in a /proc file and returns value.
func field(b []byte, key, unit string) (int64, bool) {
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, key)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != unit {
			return 0, false
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}
