package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"2/4": {2, 4}, "1/1": {1, 1}, " 4/4 ": {4, 4}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "0/4", "5/4", "-1/4", "1/0", "a/b", "2/4/8", "1.5/4", "0/0"} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), "shard") {
			t.Errorf("ParseShard(%q): %v, want an error naming the shard", in, err)
		}
	}
}

func TestShardsPartitionTheRuns(t *testing.T) {
	s := testSweep() // 3 settings × 3 seeds
	seen := map[string]int{}
	for i := 1; i <= 4; i++ {
		runs := Shard{i, 4}.set(s)
		if n := len(runs); n < 2 || n > 3 {
			t.Errorf("shard %d/4 has %d of 9 runs, want 2 or 3", i, n)
		}
		for k := range runs {
			seen[k]++
		}
	}
	if len(seen) != 9 {
		t.Fatalf("the shards cover %d of 9 runs", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("run %q is in %d shards", k, n)
		}
	}
	// deterministic and dealt seed-major: shard 1/4 takes runs 0, 4, 8 of the job order
	want := map[string]bool{runKey("clip:0.2", 1): true, runKey("kl-fixed:1", 2): true, runKey("none", 3): true}
	if got := (Shard{1, 4}).set(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("shard 1/4 = %v, want %v", got, want)
	}
}

// sameSweepFiles compares the files of two sweep folders: sweep.json, table.md and the charts byte
// for byte, runs.csv apart from its wall-clock column, and every run's files byte for byte.
func sameSweepFiles(t *testing.T, a, b string, s Sweep) {
	t.Helper()
	for _, f := range []string{SweepFile, TableFile, ReturnsPlot, KLPlot, BetaPlot} {
		x, err1 := os.ReadFile(filepath.Join(a, f))
		y, err2 := os.ReadFile(filepath.Join(b, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", f, err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs:\n%s\n---\n%s", f, x, y)
		}
	}
	if x, y := csvWithout(t, filepath.Join(a, RunsFile), "wall_s"), csvWithout(t, filepath.Join(b, RunsFile), "wall_s"); !reflect.DeepEqual(x, y) {
		t.Fatalf("runs.csv differs:\n%v\n%v", x, y)
	}
	sameRunFiles(t, a, b, s)
}

func TestMergedShardsEqualOneMachine(t *testing.T) {
	s := testSweep()
	base := fixedBaseline(-3, 5)
	one := t.TempDir()
	if _, err := Run(context.Background(), s, Options{OutDir: one, Parallel: 2, Runner: &fakeRunner{}, Baseline: base}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	var shardDirs []string
	total := 0
	for i := 1; i <= 4; i++ {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", i))
		fake := &fakeRunner{}
		res, err := Run(context.Background(), s, Options{OutDir: dir, Parallel: 2, Runner: fake, Baseline: base, Shard: Shard{i, 4}})
		if err != nil {
			t.Fatal(err)
		}
		if len(fake.calls) != len(res.Runs) || len(res.Runs) != len(Shard{i, 4}.Runs(s)) {
			t.Fatalf("shard %d/4 ran %d runs and reports %d", i, len(fake.calls), len(res.Runs))
		}
		total += len(fake.calls)
		if _, err := os.Stat(filepath.Join(dir, TableFile)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("shard %d/4 wrote a table of its share: %v", i, err)
		}
		shardDirs = append(shardDirs, dir)
	}
	if total != 9 {
		t.Fatalf("the shards trained %d runs, want 9", total)
	}
	merged := filepath.Join(root, "merged")
	// the shards in any order
	order := []string{shardDirs[2], shardDirs[0], shardDirs[3], shardDirs[1]}
	if _, err := Merge(context.Background(), order, Options{OutDir: merged, Baseline: base}); err != nil {
		t.Fatal(err)
	}
	sameSweepFiles(t, one, merged, s)
	// the merged sweep is an ordinary sweep: resuming it has nothing left to do
	fake := &fakeRunner{}
	if _, err := Run(context.Background(), s, Options{OutDir: merged, Resume: true, Runner: fake, Baseline: base}); err != nil || len(fake.calls) != 0 {
		t.Fatalf("resume of the merged sweep: %v, %d calls; want nothing to do", err, len(fake.calls))
	}
	// merging again needs force, and gives the same files
	if _, err := Merge(context.Background(), shardDirs, Options{OutDir: merged, Baseline: base}); err == nil || !strings.Contains(err.Error(), "holds a run") {
		t.Fatalf("merge into a folder holding a sweep: %v, want a refusal", err)
	}
	if _, err := Merge(context.Background(), shardDirs, Options{OutDir: merged, Force: true, Baseline: base}); err != nil {
		t.Fatal(err)
	}
	sameSweepFiles(t, one, merged, s)
}

func TestMergeRefusesWhatIsNotOneSweep(t *testing.T) {
	s := testSweep()
	base := fixedBaseline(0, math.NaN())
	root := t.TempDir()
	shard := func(name string, sw Sweep, sh Shard) string {
		dir := filepath.Join(root, name)
		if _, err := Run(context.Background(), sw, Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: base, Shard: sh}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a1, a2 := shard("a1", s, Shard{1, 2}), shard("a2", s, Shard{2, 2})
	other := s
	other.Steps = 2000
	b2 := shard("b2", other, Shard{2, 2})
	c3 := shard("c3", s, Shard{3, 3})
	whole := shard("whole", s, Shard{})
	cases := []struct {
		name   string
		shards []string
		out    string
		want   string
	}{
		{"missing shard", []string{a1}, "", "1 of 2 shards missing: 2/2"},
		{"same shard twice", []string{a1, a1, a2}, "", "both shard 1/2"},
		{"other sweep", []string{a1, b2}, "", "field steps"},
		{"other count", []string{a1, a2, c3}, "", "of 2 shards"},
		{"whole sweep", []string{whole}, "", "not a shard"},
		{"no sweep.json", []string{a1, root}, "", root},
		{"out is a shard", []string{a1, a2}, a2, "both a shard and the output"},
		{"out holds a run", []string{a1, a2}, whole, "holds a run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.out
			if out == "" {
				out = filepath.Join(t.TempDir(), "merged")
			}
			_, err := Merge(context.Background(), c.shards, Options{OutDir: out, Baseline: base})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Merge: %v, want an error mentioning %q", err, c.want)
			}
		})
	}
}

// runShards runs the n shards of s with the fake runner into root/shard-I and returns their folders.
func runShards(t *testing.T, s Sweep, base func(context.Context, string, int, uint64) (Baseline, error), root string, n int) []string {
	t.Helper()
	var shards []string
	for i := 1; i <= n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", i))
		if _, err := Run(context.Background(), s, Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: base, Shard: Shard{i, n}}); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, dir)
	}
	return shards
}

// TestMergeNeverDeletesAShard: an --out that is a symbolic link to one of the shards is the
// shard (the check resolves links), so a forced merge refuses before removing anything; the
// shard keeps every run folder. (Comparing paths only, Merge once deleted the shard's runs.)
func TestMergeNeverDeletesAShard(t *testing.T) {
	s := testSweep()
	base := fixedBaseline(0, math.NaN())
	root := t.TempDir()
	shards := runShards(t, s, base, root, 2)
	count := func() int {
		n := 0
		_ = filepath.WalkDir(shards[0], func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "metrics.csv" {
				n++
			}
			return nil
		})
		return n
	}
	before := count()
	link := filepath.Join(root, "L")
	if err := os.Symlink("shard-1", link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	_, err := Merge(context.Background(), shards, Options{OutDir: link, Force: true, Baseline: base})
	if err == nil || !strings.Contains(err.Error(), "both a shard and the output") {
		t.Errorf("merge into a link to shard 1: %v, want a refusal", err)
	}
	if after := count(); after != before || before == 0 {
		t.Errorf("shard 1 had %d run folders, has %d after the merge", before, after)
	}
	// a shard inside a run folder that the merge would replace is refused too
	inner := filepath.Join(root, "out", RunDir(s.Penalties[0], s.Seeds[0]))
	if err := os.MkdirAll(filepath.Dir(inner), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(shards[1], inner); err != nil {
		t.Fatal(err)
	}
	shards[1] = inner
	if _, err := Merge(context.Background(), shards, Options{OutDir: filepath.Join(root, "out"), Force: true, Baseline: base}); err == nil ||
		!strings.Contains(err.Error(), "holds the shard") {
		t.Errorf("merge over a run folder holding a shard: %v, want a refusal", err)
	}
	if _, err := os.Stat(filepath.Join(inner, SweepFile)); err != nil {
		t.Errorf("the shard inside the output lost its files: %v", err)
	}
}

// TestMergeChecksTheRunsConfig: a run folder whose config.json contradicts the shard's
// sweep.json (another seed, another step budget) is refused naming the file and the field.
func TestMergeChecksTheRunsConfig(t *testing.T) {
	s := testSweep()
	base := fixedBaseline(0, math.NaN())
	root := t.TempDir()
	shards := runShards(t, s, base, root, 2)
	if _, err := Merge(context.Background(), shards, Options{OutDir: filepath.Join(root, "ok"), Baseline: base}); err != nil {
		t.Fatalf("untouched shards: %v", err)
	}
	run := Shard{1, 2}.Runs(s)[0]
	cfg := filepath.Join(shards[0], RunDir(run.Setting, run.Seed), "config.json")
	for _, tc := range []struct{ key, value string }{{"seed", "7"}, {"total_timesteps", "99999"}, {"penalty", `"none"`}} {
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal([]byte(tc.value), &v); err != nil {
			t.Fatal(err)
		}
		old := m[tc.key]
		m[tc.key] = v
		bad, _ := json.Marshal(m)
		if err := os.WriteFile(cfg, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = Merge(context.Background(), shards, Options{OutDir: filepath.Join(root, "m-"+tc.key), Baseline: base})
		if err == nil || !strings.Contains(err.Error(), cfg) || !strings.Contains(err.Error(), tc.key+" is "+tc.value) {
			t.Errorf("%s = %s in %s: %v, want a refusal naming the file and the field", tc.key, tc.value, cfg, err)
		}
		m[tc.key] = old
		good, _ := json.Marshal(m)
		if err := os.WriteFile(cfg, good, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMergeMissingShardsIsShort: one shard of 100000 names a few missing shards and counts the
// rest (the message listed all 99 999, 1.39 MB).
func TestMergeMissingShardsIsShort(t *testing.T) {
	s := testSweep()
	dir := t.TempDir()
	if _, err := Run(context.Background(), s, Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, math.NaN()), Shard: Shard{1, 100000}}); err != nil {
		t.Fatal(err)
	}
	_, err := Merge(context.Background(), []string{dir}, Options{OutDir: filepath.Join(t.TempDir(), "m")})
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "99999 of 100000 shards missing: 2/100000, 3/100000") ||
		!strings.Contains(err.Error(), "and 99989 more") {
		t.Errorf("%d bytes: %.400v", len(fmt.Sprint(err)), err)
	}
}

func TestShardResumeChecksTheShard(t *testing.T) {
	s := testSweep()
	dir := t.TempDir()
	base := fixedBaseline(0, math.NaN())
	if _, err := Run(context.Background(), s, Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: base, Shard: Shard{1, 2}}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), s, Options{OutDir: dir, Resume: true, Runner: &fakeRunner{}, Baseline: base, Shard: Shard{2, 2}})
	if err == nil || !strings.Contains(err.Error(), `field shard: the sweep in `+dir+` has "1/2"`) {
		t.Fatalf("resuming shard 1/2's folder as shard 2/2: %v", err)
	}
}

func TestSingleThreadedWhenRunsOutnumberWorkers(t *testing.T) {
	s := testSweep() // 9 runs
	for _, c := range []struct {
		parallel, single int
	}{{1, 0}, {2, 8}, {4, 6}, {16, 0}} {
		fake := &fakeRunner{}
		if _, err := Run(context.Background(), s, Options{OutDir: t.TempDir(), Parallel: c.parallel, Runner: fake, Baseline: fixedBaseline(0, 1)}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, b := range fake.single {
			if b {
				n++
			}
		}
		// a run starts single-threaded while at least `parallel` runs wait to start (itself included)
		if n != c.single {
			t.Errorf("--parallel %d: %d of 9 runs single-threaded, want %d", c.parallel, n, c.single)
		}
	}
}

func TestSweepRefusesAFolderHoldingAnotherRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte("update\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), testSweep(), Options{OutDir: dir, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, 1)})
	if err == nil || !strings.Contains(err.Error(), "holds a run (metrics.csv)") {
		t.Fatalf("sweep into a training run's folder: %v, want a refusal naming metrics.csv", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "metrics.csv")); err != nil || string(b) != "update\n1\n" {
		t.Fatalf("the run's metrics.csv was touched: %q %v", b, err)
	}
	_, err = Run(context.Background(), testSweep(), Options{OutDir: dir, Resume: true, Runner: &fakeRunner{}, Baseline: fixedBaseline(0, 1)})
	if err == nil || !strings.Contains(err.Error(), "holds a run") {
		t.Fatalf("resume in a training run's folder: %v, want a refusal", err)
	}
}

func TestRunCountIsBoundedBeforeAllocating(t *testing.T) {
	d, err := Lookup("table1-cartpole")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = FromDefinition(d, 1_000_000_000, 0)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "seeds: 1000000000 seeds × 11 settings") {
		t.Fatalf("FromDefinition with 1e9 seeds: %v, want an error naming seeds", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing 1e9 seeds allocated %d bytes first", n)
	}
	if _, err := FromDefinition(d, MaxRuns/11, 0); err != nil {
		t.Fatalf("%d seeds × 11 settings: %v", MaxRuns/11, err)
	}
	d.Seeds = MaxRuns
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "field seeds") {
		t.Fatalf("a definition of %d runs: %v, want an error naming the field seeds", 11*MaxRuns, err)
	}
	s := testSweep()
	s.Seeds = SeedRange(MaxRuns/3 + 1)
	if _, err := s.Validate(&fakeRunner{}); err == nil || !strings.Contains(err.Error(), "seeds") {
		t.Fatalf("a sweep of more than MaxRuns runs: %v", err)
	}
}

func TestEmptyPenaltySpecIsRefused(t *testing.T) {
	s := testSweep()
	s.Penalties = []string{"clip:0.2", " ", "kl-fixed:1"}
	if _, err := s.Validate(&fakeRunner{}); err == nil || !strings.Contains(err.Error(), "penalties[1]: empty") {
		t.Fatalf("empty spec: %v, want penalties[1] named", err)
	}
}

func TestBaselineHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MeasureBaseline(ctx, "CartPole-v1", 1_000_000_000, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled baseline: %v, want context.Canceled", err)
	}
	// a sweep cancelled before its first run trains nothing and leaves no folder behind
	fake := &fakeRunner{}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Run(ctx, testSweep(), Options{OutDir: dir, Runner: fake}); !errors.Is(err, context.Canceled) || len(fake.calls) != 0 {
		t.Fatalf("cancelled sweep: %v with %d runs", err, len(fake.calls))
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cancelled sweep left %s: %v", dir, err)
	}
}
