package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"klppo/internal/fileio"
	"klppo/internal/rundir"
)

// RunSpec is one training run of a sweep: one penalty setting with one seed.
type RunSpec struct {
	Env       string
	Penalty   string
	Seed      uint64
	Steps     int
	Overrides map[string]any // hyperparameters on top of the env's defaults (config.json names); read-only
}

// RunOptions are passed by a sweep to Runner.Run.
type RunOptions struct {
	// Resume continues the run in dir from its checkpoint; Force overwrites an existing dir.
	Resume, Force bool
	// OnUpdate is called after each update with the run's global step. It may be nil.
	OnUpdate func(globalStep int)
	// SingleThreaded asks the runner to do all of the run's work on the calling goroutine (see
	// ppo.Options.SingleThreaded): the sweep sets it when it trains as many runs side by side as
	// it has workers, so that each run keeps one core busy. It must not change the run's results.
	SingleThreaded bool
}

// RunOutcome is what a finished (or stopped) run reports.
type RunOutcome struct {
	Steps   int    // environment steps done
	Stopped string // "" when the run completed its budget, else why it stopped ("interrupted", "nan", …)
}

// Runner trains one run. The sweep calls Run from several goroutines at once, so an implementation
// must not share mutable state between calls. PPORunner is the implementation backed by ppo.Train;
// tests use fakes.
type Runner interface {
	// Prepare validates spec (env id, penalty spec, overrides) without training and returns it with
	// the penalty in canonical form. Errors name the field and the value.
	Prepare(spec RunSpec) (RunSpec, error)
	// Run trains spec writing every file of the run into dir (config.json, metrics.csv,
	// episodes.csv, summary.json, checkpoint). It must honour ctx: on cancellation it checkpoints and
	// returns an error wrapping ctx.Err().
	Run(ctx context.Context, spec RunSpec, dir string, opts RunOptions) (RunOutcome, error)
}

// Sweep is a set of runs: every penalty setting with every seed on one environment. Run saves it
// as sweep.json in the output folder, and a resumed sweep must match it.
type Sweep struct {
	Name      string         `json:"name"` // experiment name, "" for an ad-hoc sweep
	Env       string         `json:"env"`
	Penalties []string       `json:"penalties"`
	Seeds     []uint64       `json:"seeds"`
	Steps     int            `json:"steps"`
	Overrides map[string]any `json:"overrides,omitempty"`
	// RandomEpisodes and RandomSeed set how the random-policy return is measured (0 → defaults).
	RandomEpisodes int    `json:"random_episodes,omitempty"`
	RandomSeed     uint64 `json:"random_seed,omitempty"`
}

// FromDefinition builds the sweep of a definition; seeds > 0 and steps > 0 replace the definition's.
// It refuses (before allocating anything) a sweep of more than MaxRuns runs, naming the field seeds.
func FromDefinition(d Definition, seeds, steps int) (Sweep, error) {
	if seeds <= 0 {
		seeds = d.Seeds
	}
	if steps <= 0 {
		steps = d.Steps
	}
	if err := checkRunCount(len(d.Penalties), seeds); err != nil {
		return Sweep{}, err
	}
	return Sweep{
		Name:           d.Name,
		Env:            d.Env,
		Penalties:      append([]string(nil), d.Penalties...),
		Seeds:          SeedRange(seeds),
		Steps:          steps,
		Overrides:      maps.Clone(d.Overrides),
		RandomEpisodes: d.RandomEpisodes,
	}, nil
}

// MaxRuns is the largest number of runs (settings × seeds) of one sweep. A sweep holds a record
// per run in memory and in runs.csv, a folder per run, and for its table and charts the per-update
// curves of every finished run (a few KiB each for the built-in experiments); 100 000 runs keep
// that well under 1 GiB, and are far more than any machine or cluster allocation finishes (at one
// minute a run, ten weeks on one core). A larger count is refused before anything is allocated.
const MaxRuns = 100_000

// checkRunCount refuses settings × seeds > MaxRuns, naming the seeds field.
func checkRunCount(settings, seeds int) error {
	if seeds > 0 && settings > 0 && seeds > MaxRuns/settings {
		return fmt.Errorf("seeds: %d seeds × %d settings = %d runs, more than a sweep can hold (MaxRuns = %d)",
			seeds, settings, int64(seeds)*int64(settings), MaxRuns)
	}
	return nil
}

// SeedRange returns the seeds 1, 2, …, n. It allocates n seeds: check n first (see MaxRuns).
func SeedRange(n int) []uint64 {
	s := make([]uint64, 0, max(n, 0))
	for i := 1; i <= n; i++ {
		s = append(s, uint64(i))
	}
	return s
}

// Options control how a sweep is run.
type Options struct {
	OutDir string
	// Parallel is the number of runs trained at once (≤ 0 means 1). With Parallel ≥ 2, a run that
	// starts while at least Parallel runs are waiting to start (itself included) is trained
	// single-threaded (RunOptions.SingleThreaded), so that P runs keep P cores busy; the last
	// runs of the sweep use the runner's own concurrency to fill the cores the others leave.
	Parallel int
	Resume   bool // continue the sweep in OutDir: skip finished runs, resume interrupted ones
	Force    bool // start over in an OutDir that already holds a sweep or another run
	// Shard restricts the sweep to a deterministic share of its runs (see Shard); the zero value
	// is the whole sweep. A shard's OutDir holds sweep.json (with the shard), runs.csv (its runs
	// only) and its run folders; Merge combines the shards into the files of the whole sweep.
	Shard  Shard
	Runner Runner
	// Baseline measures the random-policy return and the solved threshold of an env; nil means
	// MeasureBaseline (uniform-random actions through the env package). It is called once,
	// before the first run, and must honour ctx.
	Baseline func(ctx context.Context, envID string, episodes int, seed uint64) (Baseline, error)
	// OnProgress is called with the env steps dealt with so far over the whole sweep (finished,
	// skipped and running runs) out of TotalSteps. OnRunDone is called when a run ends or is
	// skipped. Both are called from one goroutine at a time (the sweep serialises them) and may be nil.
	OnProgress func(done, total int64)
	OnRunDone  func(r RunRecord, finished, total int)
}

// Baseline is what the sweep needs to know about the environment to score runs.
type Baseline struct {
	RandomReturn    float64 // mean episodic return of a uniform-random policy
	RandomEpisodes  int
	RandomSeed      uint64
	SolvedThreshold float64 // NaN when the env defines none
}

// Run statuses in runs.csv.
const (
	StatusOK          = "ok"          // trained its whole budget
	StatusFailed      = "failed"      // returned an error or stopped on its own (e.g. NaN)
	StatusInterrupted = "interrupted" // cancelled; --resume continues it from its checkpoint
	StatusPending     = "pending"     // not started yet
)

// Validate checks the sweep's fields and, through r.Prepare, every run spec; it returns the sweep
// with canonical penalty specs.
func (s Sweep) Validate(r Runner) (Sweep, error) {
	if strings.TrimSpace(s.Env) == "" {
		return s, errors.New("sweep: env: missing")
	}
	if len(s.Penalties) == 0 {
		return s, errors.New("sweep: penalties: empty, give at least one penalty spec")
	}
	if len(s.Seeds) == 0 {
		return s, errors.New("sweep: seeds: empty, give at least one seed")
	}
	if err := checkRunCount(len(s.Penalties), len(s.Seeds)); err != nil {
		return s, fmt.Errorf("sweep: %w", err)
	}
	if s.Steps < 1 {
		return s, fmt.Errorf("sweep: steps: %d, must be ≥ 1", s.Steps)
	}
	seenSeed := map[uint64]bool{}
	for _, seed := range s.Seeds {
		if seenSeed[seed] {
			return s, fmt.Errorf("sweep: seeds: %d appears twice", seed)
		}
		seenSeed[seed] = true
	}
	out := s
	out.Penalties = make([]string, len(s.Penalties))
	seen := map[string]string{}
	for i, p := range s.Penalties {
		if strings.TrimSpace(p) == "" {
			return s, fmt.Errorf("sweep: penalties[%d]: empty spec", i)
		}
		spec := RunSpec{Env: s.Env, Penalty: strings.TrimSpace(p), Seed: s.Seeds[0], Steps: s.Steps, Overrides: s.Overrides}
		if r != nil {
			ps, err := r.Prepare(spec)
			if err != nil {
				return s, fmt.Errorf("sweep: penalties[%d] %q: %w", i, p, err)
			}
			spec = ps
		}
		if first, dup := seen[spec.Penalty]; dup {
			return s, fmt.Errorf("sweep: penalties[%d]: %q is the same setting as %q", i, p, first)
		}
		seen[spec.Penalty] = p
		out.Penalties[i] = spec.Penalty
	}
	return out, nil
}

// TotalSteps is the number of env steps of the whole sweep.
func (s Sweep) TotalSteps() int64 {
	return int64(len(s.Penalties)) * int64(len(s.Seeds)) * int64(s.Steps)
}

// SettingDir is the folder name of a penalty setting inside a sweep's OutDir ("clip:0.2" → "clip_0.2").
func SettingDir(penalty string) string {
	r := strings.NewReplacer(":", "_", "/", "_", "\\", "_", " ", "")
	return r.Replace(penalty)
}

// RunDir is the folder of one run relative to the sweep's OutDir, e.g. "clip_0.2/seed-1".
func RunDir(penalty string, seed uint64) string {
	return filepath.Join(SettingDir(penalty), fmt.Sprintf("seed-%d", seed))
}

// Files a sweep writes into OutDir.
const (
	SweepFile   = "sweep.json"
	RunsFile    = "runs.csv"
	TableFile   = "table.md"
	ReturnsPlot = "returns.png"
	KLPlot      = "kl.png"
	BetaPlot    = "beta.png"
)

// Run trains every (setting, seed) pair of s (or of the shard opts.Shard), opts.Parallel at a
// time, each into its own folder RunDir(setting, seed) under opts.OutDir, keeps runs.csv current
// after every run, and at the end writes table.md and the charts (a shard writes only runs.csv:
// see Merge). A failing run is recorded with its error and does not stop the others. When ctx is
// cancelled the running runs checkpoint, runs.csv records them as interrupted and Run returns the
// partial results with an error wrapping ctx.Err(); Options.Resume continues.
//
// The random-policy baseline is measured first, so that a bad environment or a Ctrl-C before the
// first run costs nothing. OutDir must not hold another run (see internal/rundir) unless
// Options.Force, or unless it holds this sweep and Options.Resume is set. Run locks OutDir for
// the whole sweep (rundir.Lock): another Run into it fails at once with rundir.ErrLocked.
func Run(ctx context.Context, s Sweep, opts Options) (_ *Results, err error) {
	if opts.Runner == nil {
		return nil, errors.New("sweep: no Runner")
	}
	if opts.OutDir == "" {
		return nil, errors.New("sweep: out dir: missing")
	}
	if opts.Resume && opts.Force {
		return nil, errors.New("sweep: resume and force exclude each other")
	}
	if err := opts.Shard.Validate(); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	s, err = s.Validate(opts.Runner)
	if err != nil {
		return nil, err
	}
	parallel := max(opts.Parallel, 1)
	runsPath := filepath.Join(opts.OutDir, RunsFile)
	// The sweep holds OutDir until Run returns (its runs lock their own folders): a second Run
	// of it — a second resume, or a fresh sweep started at the same moment — fails at once.
	_, serr := os.Stat(opts.OutDir)
	created := errors.Is(serr, os.ErrNotExist)
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	unlock, err := rundir.Lock(opts.OutDir)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	started := false // sweep.json written
	defer func() {
		if created && !started {
			// Stopped before it wrote anything (a bad environment, a Ctrl-C during the baseline):
			// leave no folder behind. The lock file goes while the lock is still held, so no
			// other process can be holding it; the folder goes only if that left it empty.
			_ = os.Remove(filepath.Join(opts.OutDir, rundir.LockFile))
			_ = os.Remove(opts.OutDir)
		}
		err = errors.Join(err, unlock())
	}()

	prev := map[string]RunRecord{}
	switch {
	case opts.Resume && (fileExists(runsPath) || fileExists(filepath.Join(opts.OutDir, SweepFile))):
		if err := checkSameSweep(filepath.Join(opts.OutDir, SweepFile), s, opts.Shard); err != nil {
			return nil, fmt.Errorf("sweep: resume: %w", err)
		}
		if fileExists(runsPath) { // absent when the sweep stopped before its first runs.csv
			recs, err := ReadRunsCSV(runsPath)
			if err != nil {
				return nil, fmt.Errorf("sweep: resume: %w", err)
			}
			for _, r := range recs {
				prev[runKey(r.Setting, r.Seed)] = r
			}
		}
	case opts.Force:
		for _, f := range []string{SweepFile, RunsFile, TableFile, ReturnsPlot, KLPlot, BetaPlot} {
			if err := os.Remove(filepath.Join(opts.OutDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("sweep: force: %w", err)
			}
		}
	default:
		if err := rundir.Check(opts.OutDir); rundir.HoldsRun(err) {
			return nil, fmt.Errorf("sweep: out dir: %w: resume it (if it is this sweep) or force a fresh start", err)
		} else if err != nil {
			return nil, fmt.Errorf("sweep: out dir: %w", err)
		}
	}

	bl, err := measureBaseline(ctx, s, opts.Baseline)
	if err != nil {
		return nil, err
	}
	started = true
	if err := writeSweepFile(opts.OutDir, s, opts.Shard); err != nil {
		return nil, err
	}
	if err := rundir.WriteKind(opts.OutDir, rundir.KindCompare); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}

	// Plan: records in table order (setting-major); jobs seed-major so early results cover every
	// setting. A shard keeps its share of the jobs and only their records.
	mine := opts.Shard.set(s)
	records := make([]RunRecord, 0, len(mine))
	index := map[string]int{}
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
			if !mine[runKey(p, seed)] {
				continue
			}
			index[runKey(p, seed)] = len(records)
			records = append(records, RunRecord{Setting: p, Seed: seed, Dir: RunDir(p, seed), Status: StatusPending, Steps: 0})
		}
	}
	type job struct {
		i      int
		resume bool
		force  bool
		wall   float64 // wall time of earlier sessions
	}
	var jobs []job
	total := int64(len(records)) * int64(s.Steps)
	var done int64
	var skipped []int
	for _, key := range s.jobOrder() {
		p, seed := key.Setting, key.Seed
		i, ok := index[runKey(p, seed)]
		if !ok {
			continue
		}
		dir := filepath.Join(opts.OutDir, records[i].Dir)
		old, had := prev[runKey(p, seed)]
		dirExists := fileExists(dir)
		j := job{i: i, force: opts.Force && dirExists}
		if opts.Resume {
			switch {
			case had && old.Status == StatusOK && dirExists:
				records[i] = old
				records[i].Dir = RunDir(p, seed)
				skipped = append(skipped, i)
				done += int64(s.Steps)
				continue
			case dirExists && fileExists(filepath.Join(dir, "metrics.csv")) && (!had || old.Status != StatusFailed):
				j.resume = true
				j.wall = old.WallS
			case dirExists:
				j.force = true
			}
		} else if dirExists && !opts.Force {
			return nil, fmt.Errorf("sweep: run dir %s exists: resume the sweep or force a fresh start", dir)
		}
		jobs = append(jobs, j)
	}

	var mu sync.Mutex // guards records, done, finished, waiting, the callbacks and runs.csv
	finished := 0
	waiting := len(jobs) // jobs not started yet
	report := func() {
		if opts.OnProgress != nil {
			opts.OnProgress(done, total)
		}
	}
	save := func() error { return WriteRunsCSV(runsPath, records) }
	mu.Lock()
	if err := save(); err != nil {
		mu.Unlock()
		return nil, fmt.Errorf("sweep: %w", err)
	}
	for _, i := range skipped {
		finished++
		if opts.OnRunDone != nil {
			opts.OnRunDone(records[i], finished, len(records))
		}
	}
	report()
	mu.Unlock()

	var saveErr error
	work := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if ctx.Err() != nil {
					continue // interrupted before it started: stays pending
				}
				mu.Lock()
				single := parallel > 1 && waiting >= parallel
				waiting--
				mu.Unlock()
				rec := records[j.i] // the fields read here are never written concurrently
				spec := RunSpec{Env: s.Env, Penalty: rec.Setting, Seed: rec.Seed, Steps: s.Steps, Overrides: s.Overrides}
				var last int64
				advance := func(step int64) {
					step = min(step, int64(s.Steps))
					if step > last {
						mu.Lock()
						done += step - last
						report()
						mu.Unlock()
						last = step
					}
				}
				ro := RunOptions{Resume: j.resume, Force: j.force, OnUpdate: func(g int) { advance(int64(g)) }, SingleThreaded: single}
				dir := filepath.Join(opts.OutDir, rec.Dir)
				start := time.Now()
				out, err := opts.Runner.Run(ctx, spec, dir, ro)
				wall := time.Since(start).Seconds() + j.wall
				rec.WallS = wall
				rec.Steps = out.Steps
				rec.Error = ""
				switch {
				case err != nil && ctx.Err() != nil:
					rec.Status = StatusInterrupted
					rec.Error = err.Error()
				case err != nil:
					rec.Status = StatusFailed
					rec.Error = err.Error()
				case out.Stopped == "interrupted":
					rec.Status = StatusInterrupted
					rec.Error = "stopped: interrupted"
				case out.Stopped != "":
					rec.Status = StatusFailed
					rec.Error = "stopped: " + out.Stopped
				default:
					rec.Status = StatusOK
				}
				if rec.Status != StatusInterrupted {
					advance(int64(s.Steps)) // the sweep has dealt with this run's budget
				}
				mu.Lock()
				records[j.i] = rec
				finished++
				if err := save(); err != nil && saveErr == nil {
					saveErr = err
				}
				if opts.OnRunDone != nil {
					opts.OnRunDone(rec, finished, len(records))
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- j:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if saveErr != nil {
		return nil, fmt.Errorf("sweep: %w", saveErr)
	}

	res, err := finish(opts.OutDir, s, records, bl, !opts.Shard.Whole())
	if err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sweep interrupted (resume to continue): %w", ctx.Err())
	}
	return res, nil
}

// measureBaseline measures the random-policy return of s's environment with base (nil:
// MeasureBaseline).
func measureBaseline(ctx context.Context, s Sweep, base func(context.Context, string, int, uint64) (Baseline, error)) (Baseline, error) {
	if base == nil {
		base = MeasureBaseline
	}
	episodes := s.RandomEpisodes
	if episodes <= 0 {
		episodes = DefaultRandomEpisodes
	}
	bl, err := base(ctx, s.Env, episodes, s.RandomSeed)
	if err != nil {
		return bl, fmt.Errorf("sweep: random-policy baseline: %w", err)
	}
	return bl, nil
}

// finish reads the runs' files, writes runs.csv with their statistics and, unless onlyRuns (a
// shard), table.md and the charts.
func finish(outDir string, s Sweep, records []RunRecord, bl Baseline, onlyRuns bool) (*Results, error) {
	res, err := Collect(outDir, s, records, bl)
	if err != nil {
		return nil, err
	}
	if err := WriteRunsCSV(filepath.Join(outDir, RunsFile), res.Runs); err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	if onlyRuns {
		return res, nil
	}
	if err := res.WriteReport(outDir); err != nil {
		return res, err
	}
	return res, nil
}

// RunID names one run of a sweep: a penalty setting (canonical spec) and a seed.
type RunID struct {
	Setting string
	Seed    uint64
}

// jobOrder lists the runs of s seed-major ((p1,1), (p2,1), …, (p1,2), …): the order in which a
// sweep starts them, so that early results cover every setting, and the order shards deal from.
func (s Sweep) jobOrder() []RunID {
	out := make([]RunID, 0, len(s.Penalties)*len(s.Seeds))
	for _, seed := range s.Seeds {
		for _, p := range s.Penalties {
			out = append(out, RunID{p, seed})
		}
	}
	return out
}

// writeSweepFile writes sweep.json: the sweep and, for a shard, which one.
func writeSweepFile(dir string, s Sweep, sh Shard) error {
	f := sweepFile{Sweep: s}
	if !sh.Whole() {
		f.Shard = sh.String()
	}
	js, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SweepFile), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// sweepFile is the content of sweep.json.
type sweepFile struct {
	Sweep
	Shard string `json:"shard,omitempty"` // "I/N" for a shard, "" for a whole sweep
}

// readSweepFile reads sweep.json.
func readSweepFile(path string) (Sweep, Shard, error) {
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return Sweep{}, Shard{}, err
	}
	var f sweepFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Sweep{}, Shard{}, fmt.Errorf("%s: %w", path, err)
	}
	var sh Shard
	if f.Shard != "" {
		if sh, err = ParseShard(f.Shard); err != nil {
			return Sweep{}, Shard{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return f.Sweep, sh, nil
}

// checkSameSweep compares s (and its shard) with the sweep saved in path (absent: nothing to
// compare) and names the first field that differs: resuming with other settings would mix
// incomparable runs.
func checkSameSweep(path string, s Sweep, sh Shard) error {
	old, oldShard, err := readSweepFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	field, a, b, err := sweepDiff(old, s)
	if err != nil {
		return err
	}
	if field == "" && oldShard != sh {
		field, a, b = "shard", quoteShard(oldShard), quoteShard(sh)
	}
	if field != "" {
		return fmt.Errorf("field %s: the sweep in %s has %s, this one %s (resume with the same settings, or force a fresh start)",
			field, filepath.Dir(path), a, b)
	}
	return nil
}

func quoteShard(sh Shard) string {
	if sh.Whole() {
		return `"" (the whole sweep)`
	}
	return strconv.Quote(sh.String())
}

// sweepDiff returns the name of the first field in which a and b differ and the two values as
// JSON, or "" when they are the same sweep. Values are compared through JSON so that override
// values decoded from a file compare equal to the ones given in Go.
func sweepDiff(a, b Sweep) (field, av, bv string, err error) {
	fields := []struct {
		name string
		a, b any
	}{
		{"name", a.Name, b.Name}, {"env", a.Env, b.Env}, {"penalties", a.Penalties, b.Penalties},
		{"seeds", a.Seeds, b.Seeds}, {"steps", a.Steps, b.Steps}, {"overrides", a.Overrides, b.Overrides},
		{"random_episodes", a.RandomEpisodes, b.RandomEpisodes}, {"random_seed", a.RandomSeed, b.RandomSeed},
	}
	for _, f := range fields {
		x, err := json.Marshal(f.a)
		if err != nil {
			return "", "", "", fmt.Errorf("field %s: %w", f.name, err)
		}
		y, err := json.Marshal(f.b)
		if err != nil {
			return "", "", "", fmt.Errorf("field %s: %w", f.name, err)
		}
		if string(x) != string(y) {
			return f.name, string(x), string(y), nil
		}
	}
	return "", "", "", nil
}

func runKey(setting string, seed uint64) string { return fmt.Sprintf("%s\x00%d", setting, seed) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// nan is a readable NaN.
var nan = math.NaN()
