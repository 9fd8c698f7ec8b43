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
	"strings"
	"sync"
	"time"
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
func FromDefinition(d Definition, seeds, steps int) Sweep {
	if seeds <= 0 {
		seeds = d.Seeds
	}
	if steps <= 0 {
		steps = d.Steps
	}
	return Sweep{
		Name:           d.Name,
		Env:            d.Env,
		Penalties:      append([]string(nil), d.Penalties...),
		Seeds:          SeedRange(seeds),
		Steps:          steps,
		Overrides:      maps.Clone(d.Overrides),
		RandomEpisodes: d.RandomEpisodes,
	}
}

// SeedRange returns the seeds 1, 2, …, n.
func SeedRange(n int) []uint64 {
	s := make([]uint64, 0, max(n, 0))
	for i := 1; i <= n; i++ {
		s = append(s, uint64(i))
	}
	return s
}

// Options control how a sweep is run.
type Options struct {
	OutDir   string
	Parallel int  // runs trained at once; ≤ 0 means 1
	Resume   bool // continue the sweep in OutDir: skip finished runs, resume interrupted ones
	Force    bool // start over in an OutDir that already holds a sweep
	Runner   Runner
	// Baseline measures the random-policy return and the solved threshold of an env; nil means
	// MeasureBaseline (uniform-random actions through the env package).
	Baseline func(envID string, episodes int, seed uint64) (Baseline, error)
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

// Run trains every (setting, seed) pair of s, opts.Parallel at a time, each into its own folder
// RunDir(setting, seed) under opts.OutDir, keeps runs.csv current after every run, and at the end
// writes table.md and the charts. A failing run is recorded with its error and does not stop the
// others. When ctx is cancelled the running runs checkpoint, runs.csv records them as interrupted
// and Run returns the partial results with an error wrapping ctx.Err(); Options.Resume continues.
func Run(ctx context.Context, s Sweep, opts Options) (*Results, error) {
	if opts.Runner == nil {
		return nil, errors.New("sweep: no Runner")
	}
	if opts.OutDir == "" {
		return nil, errors.New("sweep: out dir: missing")
	}
	if opts.Resume && opts.Force {
		return nil, errors.New("sweep: resume and force exclude each other")
	}
	s, err := s.Validate(opts.Runner)
	if err != nil {
		return nil, err
	}
	parallel := max(opts.Parallel, 1)
	runsPath := filepath.Join(opts.OutDir, RunsFile)

	prev := map[string]RunRecord{}
	_, statErr := os.Stat(runsPath)
	exists := statErr == nil
	switch {
	case exists && opts.Resume:
		recs, err := ReadRunsCSV(runsPath)
		if err != nil {
			return nil, fmt.Errorf("sweep: resume: %w", err)
		}
		for _, r := range recs {
			prev[runKey(r.Setting, r.Seed)] = r
		}
		if err := checkSameSweep(filepath.Join(opts.OutDir, SweepFile), s); err != nil {
			return nil, fmt.Errorf("sweep: resume: %w", err)
		}
	case exists && !opts.Force:
		return nil, fmt.Errorf("sweep: out dir %s already holds a sweep (%s): resume it or force a fresh start", opts.OutDir, RunsFile)
	case exists && opts.Force:
		for _, f := range []string{SweepFile, RunsFile, TableFile, ReturnsPlot, KLPlot, BetaPlot} {
			if err := os.Remove(filepath.Join(opts.OutDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("sweep: force: %w", err)
			}
		}
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if js, err := json.MarshalIndent(s, "", "  "); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	} else if err := os.WriteFile(filepath.Join(opts.OutDir, SweepFile), append(js, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}

	// Plan: records in table order (setting-major); jobs seed-major so early results cover every setting.
	records := make([]RunRecord, 0, len(s.Penalties)*len(s.Seeds))
	index := map[string]int{}
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
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
	total := s.TotalSteps()
	var done int64
	var skipped []int
	for _, seed := range s.Seeds {
		for _, p := range s.Penalties {
			i := index[runKey(p, seed)]
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
	}

	var mu sync.Mutex // guards records, done, the callbacks and runs.csv
	finished := 0
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
				ro := RunOptions{Resume: j.resume, Force: j.force, OnUpdate: func(g int) { advance(int64(g)) }}
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

	base := opts.Baseline
	if base == nil {
		base = MeasureBaseline
	}
	episodes := s.RandomEpisodes
	if episodes <= 0 {
		episodes = DefaultRandomEpisodes
	}
	bl, err := base(s.Env, episodes, s.RandomSeed)
	if err != nil {
		return nil, fmt.Errorf("sweep: random-policy baseline: %w", err)
	}
	res, err := Collect(opts.OutDir, s, records, bl)
	if err != nil {
		return nil, err
	}
	if err := WriteRunsCSV(runsPath, res.Runs); err != nil {
		return res, fmt.Errorf("sweep: %w", err)
	}
	if err := res.WriteReport(opts.OutDir); err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("sweep interrupted (resume to continue): %w", ctx.Err())
	}
	return res, nil
}

// checkSameSweep compares s with the sweep saved in path (absent: nothing to compare) and names the
// first field that differs: resuming with other settings would mix incomparable runs.
func checkSameSweep(path string, s Sweep) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var old Sweep
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// compare through JSON so that override values decoded from the file compare equal
	norm := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	fields := []struct {
		name string
		a, b any
	}{
		{"env", old.Env, s.Env}, {"penalties", old.Penalties, s.Penalties}, {"seeds", old.Seeds, s.Seeds},
		{"steps", old.Steps, s.Steps}, {"overrides", old.Overrides, s.Overrides},
	}
	for _, f := range fields {
		if norm(f.a) != norm(f.b) {
			return fmt.Errorf("field %s: the sweep in %s has %s, this one %s (resume with the same settings, or force a fresh start)",
				f.name, filepath.Dir(path), norm(f.a), norm(f.b))
		}
	}
	return nil
}

func runKey(setting string, seed uint64) string { return fmt.Sprintf("%s\x00%d", setting, seed) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// nan is a readable NaN.
var nan = math.NaN()
