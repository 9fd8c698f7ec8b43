package memlimit

import (
	"io/fs"
	"math"
	"strings"
	"testing"
)

// fake returns a system whose files are files, whose RLIMIT_AS is as (0: unlimited) and whose
// Go memory limit is goLimit (0: unset).
func fake(files map[string]string, as uint64, goLimit int64) system {
	return system{
		readFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		},
		rlimitAS: func() (uint64, bool) { return as, as != 0 },
		goLimit: func() int64 {
			if goLimit == 0 {
				return math.MaxInt64
			}
			return goLimit
		},
	}
}

const meminfo = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"

func TestLimitsSmallestWins(t *testing.T) {
	const gib = 1 << 30
	for _, tc := range []struct {
		name   string
		files  map[string]string
		as     uint64
		goLim  int64
		want   int64
		source string
	}{
		{"meminfo only", map[string]string{"/proc/meminfo": meminfo}, 0, 0, 20000000 * 1024, "MemAvailable"},
		{"cgroup v2 at the root", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "4294967296\n", "/sys/fs/cgroup/memory.current": "1073741824\n"}, 0, 0, 3 * gib, "cgroup memory.max"},
		{"cgroup v2 in a sub-group", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/user/job\n",
			"/sys/fs/cgroup/user/job/memory.max": "2147483648", "/sys/fs/cgroup/user/job/memory.current": "0"}, 0, 0, 2 * gib, "cgroup memory.max"},
		{"cgroup v2 max is no limit", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "max\n"}, 0, 0, 20000000 * 1024, "MemAvailable"},
		{"cgroup v1", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "4:memory:/box\n0::/\n",
			"/sys/fs/cgroup/memory/box/memory.limit_in_bytes": "5368709120", "/sys/fs/cgroup/memory/box/memory.usage_in_bytes": "1073741824"},
			0, 0, 4 * gib, "cgroup memory.limit_in_bytes"},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "4:memory:/\n",
			"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0, 0, 20000000 * 1024, "MemAvailable"},
		{"RLIMIT_AS minus VmSize", map[string]string{"/proc/meminfo": meminfo, "/proc/self/status": "Name:\tx\nVmSize:\t 1048576 kB\n"},
			3 * gib, 0, 2 * gib, "RLIMIT_AS (ulimit -v)"},
		{"GOMEMLIMIT", map[string]string{"/proc/meminfo": meminfo}, 0, gib, gib, "GOMEMLIMIT"},
		{"all four", map[string]string{"/proc/meminfo": meminfo, "/proc/self/cgroup": "0::/\n",
			"/sys/fs/cgroup/memory.max": "8589934592", "/proc/self/status": "VmSize: 0 kB\n"}, 6 * gib, 7 * gib, 6 * gib, "RLIMIT_AS (ulimit -v)"},
	} {
		s := fake(tc.files, tc.as, tc.goLim)
		ls := s.limits()
		got, ok := smallest(ls)
		if !ok || got != tc.want {
			t.Errorf("%s: available %d (%v), want %d; limits %+v", tc.name, got, ok, tc.want, ls)
			continue
		}
		var src string
		for _, l := range ls {
			if l.Bytes == got {
				src = l.Source
				break
			}
		}
		if src != tc.source {
			t.Errorf("%s: smallest limit from %q, want %q", tc.name, src, tc.source)
		}
	}
	if _, ok := smallest(fake(nil, 0, 0).limits()); ok {
		t.Error("no source at all: want unknown")
	}
}

func TestCheck(t *testing.T) {
	defer func(h system) { host = h }(host)
	host = fake(map[string]string{"/proc/meminfo": "MemAvailable: 1048576 kB\n"}, 0, 0)
	if err := Check(1 << 29); err != nil {
		t.Errorf("512 MiB of 1 GiB: %v", err)
	}
	err := Check(3 << 30)
	if err == nil || !strings.Contains(err.Error(), "3.0 GiB") || !strings.Contains(err.Error(), "1.0 GiB") || !strings.Contains(err.Error(), "MemAvailable") {
		t.Errorf("3 GiB of 1 GiB: %v", err)
	}
	host = fake(nil, 0, 0)
	if err := Check(1 << 60); err != nil {
		t.Errorf("nothing known: %v", err)
	}
}
