package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"klppo/internal/fileio"
	"klppo/internal/rundir"
)

// Shard is one of Count disjoint shares of a sweep's runs, numbered 1…Count, so that a sweep can
// run as a Slurm job array or a Kubernetes Indexed Job: every task runs the same command with its
// own shard and its own output folder, and Merge combines the folders.
//
// The runs of a sweep, taken in the order a sweep starts them (seed-major: every setting with
// seed 1, then every setting with seed 2, …), are dealt round-robin: run k (0-based) belongs to
// shard k mod Count + 1. The share depends only on the sweep and the shard, so every task computes
// its own without talking to the others, and the settings are spread evenly over the shards. The
// zero value (and 1/1) is the whole sweep.
type Shard struct {
	Index, Count int
}

// ParseShard reads "I/N" with 1 ≤ I ≤ N, e.g. "2/4".
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard %q: want I/N, e.g. 2/4", s)
	}
	var sh Shard
	var err1, err2 error
	sh.Index, err1 = strconv.Atoi(strings.TrimSpace(i))
	sh.Count, err2 = strconv.Atoi(strings.TrimSpace(n))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N with whole numbers, e.g. 2/4", s)
	}
	// Checked here and not only by Validate, which accepts the zero value (the whole sweep):
	// "0/0" is no shard at all, not a request for every run.
	if sh.Count < 1 || sh.Index < 1 || sh.Index > sh.Count {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 1 ≤ I ≤ N", s)
	}
	return sh, nil
}

// Validate checks 1 ≤ Index ≤ Count (or the zero value).
func (sh Shard) Validate() error {
	if sh == (Shard{}) {
		return nil
	}
	if sh.Count < 1 || sh.Index < 1 || sh.Index > sh.Count {
		return fmt.Errorf("shard %d/%d: want I/N with 1 ≤ I ≤ N", sh.Index, sh.Count)
	}
	return nil
}

// Whole reports whether sh is the whole sweep (the zero value or 1/1).
func (sh Shard) Whole() bool { return sh.Count <= 1 }

// String is "I/N".
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.Count) }

// Runs returns the runs of s in shard sh, in the order the shard starts them.
func (sh Shard) Runs(s Sweep) []RunID {
	var out []RunID
	for k, r := range s.jobOrder() {
		if sh.Whole() || k%sh.Count == sh.Index-1 {
			out = append(out, r)
		}
	}
	return out
}

// set returns the runs of sh as a set keyed by runKey.
func (sh Shard) set(s Sweep) map[string]bool {
	out := map[string]bool{}
	for _, r := range sh.Runs(s) {
		out[runKey(r.Setting, r.Seed)] = true
	}
	return out
}

// Merge combines the output folders of the shards of one sweep (each written by Run with
// Options.Shard) into opts.OutDir, which then holds exactly the files one machine's Run of the
// whole sweep writes: sweep.json, runs.csv, table.md, the charts and every run folder (copied, so
// the shard folders stay as they were and Merge can be repeated). Every shard 1…N must be given
// exactly once and all must be shards of the same sweep; runs keep the status they had in their
// shard (finish unfinished ones with Run and Options.Resume in that shard's folder first).
//
// Merge uses opts.OutDir, opts.Force (write into a folder that holds a run: the sweep files and
// the run folders of this sweep are replaced) and opts.Baseline; the other fields are ignored.
func Merge(ctx context.Context, shardDirs []string, opts Options) (_ *Results, err error) {
	if opts.OutDir == "" {
		return nil, errors.New("merge: out dir: missing")
	}
	if len(shardDirs) == 0 {
		return nil, errors.New("merge: no shard folders given")
	}
	var s Sweep
	var count int
	byIndex := map[int]string{}
	for i, dir := range shardDirs {
		same, err := sameDir(dir, opts.OutDir)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if same {
			return nil, fmt.Errorf("merge: %s is both a shard and the output folder %s", dir, opts.OutDir)
		}
		ss, sh, err := readSweepFile(filepath.Join(dir, SweepFile))
		if err != nil {
			return nil, fmt.Errorf("merge: shard %s: %w", dir, err)
		}
		if sh.Whole() {
			return nil, fmt.Errorf("merge: %s holds a whole sweep, not a shard", dir)
		}
		if i == 0 {
			s, count = ss, sh.Count
		} else {
			field, a, b, err := sweepDiff(s, ss)
			if err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			if field != "" {
				return nil, fmt.Errorf("merge: %s and %s are shards of different sweeps (field %s: %s vs %s)", shardDirs[0], dir, field, a, b)
			}
			if sh.Count != count {
				return nil, fmt.Errorf("merge: %s is shard %s, %s is of %d shards", dir, sh, shardDirs[0], count)
			}
		}
		if other, dup := byIndex[sh.Index]; dup {
			return nil, fmt.Errorf("merge: %s and %s are both shard %s", other, dir, sh)
		}
		byIndex[sh.Index] = dir
	}
	var missing []string
	for i := 1; i <= count; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, Shard{i, count}.String())
		}
	}
	if len(missing) > 0 {
		list := strings.Join(missing, ", ")
		if len(missing) > maxListed {
			list = strings.Join(missing[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(missing)-maxListed)
		}
		return nil, fmt.Errorf("merge: %d of %d shards missing: %s (give the folders of all %d shards)", len(missing), count, list, count)
	}

	// every run of the sweep, from the runs.csv of the shard it belongs to; a run folder must
	// hold the run sweep.json says (its config.json agrees on env, penalty, seed, steps and
	// overrides)
	from := map[string]RunRecord{}
	src := map[string]string{}
	for i := 1; i <= count; i++ {
		dir := byIndex[i]
		recs, err := ReadRunsCSV(filepath.Join(dir, RunsFile))
		if err != nil {
			return nil, fmt.Errorf("merge: shard %s: %w", dir, err)
		}
		share := Shard{i, count}.set(s)
		for _, r := range recs {
			k := runKey(r.Setting, r.Seed)
			if !share[k] {
				return nil, fmt.Errorf("merge: %s: run %s seed %d is not in shard %d/%d", filepath.Join(dir, RunsFile), r.Setting, r.Seed, i, count)
			}
			if err := checkRunConfig(filepath.Join(dir, RunDir(r.Setting, r.Seed)), s, r); err != nil {
				return nil, fmt.Errorf("merge: shard %s: %w", dir, err)
			}
			from[k], src[k] = r, dir
		}
	}
	records := make([]RunRecord, 0, len(s.Penalties)*len(s.Seeds))
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
			k := runKey(p, seed)
			r, ok := from[k]
			if !ok {
				return nil, fmt.Errorf("merge: run %s seed %d is in no shard's %s", p, seed, RunsFile)
			}
			r.Dir = RunDir(p, seed)
			records = append(records, r)
		}
	}

	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	unlock, err := rundir.Lock(opts.OutDir) // held until the merged sweep is written
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := rundir.Check(opts.OutDir); err != nil && !(rundir.HoldsRun(err) && opts.Force) {
		if rundir.HoldsRun(err) {
			return nil, fmt.Errorf("merge: out dir: %w: force to overwrite it", err)
		}
		return nil, fmt.Errorf("merge: out dir: %w", err)
	}
	bl, err := measureBaseline(ctx, s, opts.Baseline)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	for _, r := range records {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("merge interrupted (run it again): %w", err)
		}
		from := filepath.Join(src[runKey(r.Setting, r.Seed)], r.Dir)
		if !fileExists(from) {
			continue // a pending run has no folder
		}
		to := filepath.Join(opts.OutDir, r.Dir)
		for _, d := range shardDirs { // never delete a shard's files, whatever links lead there
			if in, err := within(d, to); err != nil || in {
				return nil, fmt.Errorf("merge: run folder %s of the output holds the shard %s (or cannot be checked: %v); choose another --out", to, d, err)
			}
		}
		if err := os.RemoveAll(to); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if err := copyTree(from, to); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
	}
	for _, f := range []string{TableFile, ReturnsPlot, KLPlot, BetaPlot} {
		if err := os.Remove(filepath.Join(opts.OutDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("merge: %w", err)
		}
	}
	if err := writeSweepFile(opts.OutDir, s, Shard{}); err != nil {
		return nil, err
	}
	if err := rundir.WriteKind(opts.OutDir, rundir.KindCompare); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return finish(opts.OutDir, s, records, bl, false)
}

// maxListed is how many missing shards an error lists by name (the rest are counted).
const maxListed = 10

// sameDir reports whether a and b are the same directory once symbolic links are resolved (an
// absent b is not a).
func sameDir(a, b string) (bool, error) {
	fb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// within reports whether dir is root or lies under it, links resolved: removing root would
// remove dir. An absent root holds nothing.
func within(dir, root string) (bool, error) {
	r, err := filepath.EvalSymlinks(root)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false, err
	}
	if r, err = filepath.Abs(r); err != nil {
		return false, err
	}
	if d, err = filepath.Abs(d); err != nil {
		return false, err
	}
	rel, err := filepath.Rel(r, d)
	return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != ".."), nil
}

// checkRunConfig refuses a run folder whose config.json contradicts the sweep: another env,
// penalty, seed, step budget or override value (the folder would be merged under a setting it
// was not trained with). A folder without config.json (a pending run, or a run that failed
// before writing one) has nothing to contradict, unless the run is recorded as ok.
func checkRunConfig(dir string, s Sweep, r RunRecord) error {
	path := filepath.Join(dir, "config.json")
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if errors.Is(err, os.ErrNotExist) {
		if r.Status == StatusOK {
			return fmt.Errorf("run %s seed %d is recorded as %s but %s is missing", r.Setting, r.Seed, r.Status, path)
		}
		return nil
	}
	if err != nil {
		return err
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	want := map[string]any{"env_id": s.Env, "penalty": r.Setting, "seed": r.Seed, "total_timesteps": s.Steps}
	for k, v := range s.Overrides {
		want[k] = v
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w, err := json.Marshal(want[k])
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, k, err)
		}
		g, ok := got[k]
		if !ok || !sameJSON(g, w) {
			return fmt.Errorf("%s: %s is %s, but %s says the run %s seed %d has %s", path, k, orMissing(g, ok), SweepFile, r.Setting, r.Seed, w)
		}
	}
	return nil
}

// sameJSON compares two JSON values as values (1 and 1.0, key order and spacing aside).
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func orMissing(v json.RawMessage, ok bool) string {
	if !ok {
		return "missing"
	}
	return string(v)
}

// copyTree copies the regular files and folders under from to the new folder to, without the
// lock files (rundir.LockFile) of the runs.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.Name() == rundir.LockFile { // the shard's lock, not a file of the run
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		return copyFile(p, dst)
	})
}

func copyFile(from, to string) (err error) {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}
