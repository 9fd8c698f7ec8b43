package ppo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"klppo/env"
	"klppo/internal/fileio"
	"klppo/internal/rundir"
	"klppo/policy"
)

// Hooks are optional callbacks run on the training goroutine.
type Hooks struct {
	OnUpdate  func(m UpdateMetrics)                    // after each update (progress bars, logging)
	OnEpisode func(globalStep int, ep env.EpisodeStat) // after each finished episode
	// AfterUpdate receives the live networks after update number update, before its metrics
	// are written (to inspect them, or to inject a fault in a test). It must not keep nets.
	AfterUpdate func(update int, nets *policy.ActorCritic)
}

// Options control where and how a run is written.
type Options struct {
	Resume bool // continue the run in outDir from its checkpoint
	Force  bool // overwrite an existing outDir
	Hooks  Hooks
	// SingleThreaded runs all of Train's work on the calling goroutine (no helper goroutines:
	// the value pass during the rollout and the two networks' steps run one after the other),
	// so that a sweep can run one run per core. The files written are bit-identical either way.
	SingleThreaded bool
}

// Names of the files Train writes into its output directory.
const (
	ConfigFile   = "config.json"
	MetricsFile  = "metrics.csv"
	EpisodesFile = "episodes.csv"
	SummaryFile  = "summary.json"
)

// EpisodesHeader is the header row of episodes.csv.
const EpisodesHeader = "global_step,return,length"

// ErrRunFiles is wrapped by Train's error when, on resume, metrics.csv or episodes.csv does not
// hold exactly the rows the checkpoint accounts for (a damaged line, missing rows).
var ErrRunFiles = errors.New("run files do not match the checkpoint")

// ErrNonFinite is wrapped by Train's error when a loss, gradient or KL became NaN or ±Inf; the
// run stops without touching the last good checkpoint.
var ErrNonFinite = errNonFinite

// Train runs PPO, writing run.json (its kind, rundir.KindTrain), config.json, metrics.csv, episodes.csv, summary.json and a checkpoint
// into outDir, which it locks for the whole run (rundir.Lock: another Train of outDir, in this
// process or another, fails at once with rundir.ErrLocked). It honours ctx cancellation (writes a checkpoint, flushes files, returns ctx.Err()
// wrapped).
//
// An existing outDir holding any of these files is refused unless opts.Force (the files are
// replaced) or opts.Resume (the run continues from outDir's checkpoint: cfg must equal the saved
// config except total_timesteps and checkpoint_every; rows of metrics.csv and episodes.csv
// written after the checkpoint are dropped and regenerated, so the result equals an
// uninterrupted run). The context is checked between updates: cancellation finishes no
// further update and checkpoints the state after the last completed one.
//
// Concurrency: unless opts.SingleThreaded, Train uses one helper goroutine at a time besides
// the calling one (the value pass during the rollout, the second network's forward/backward
// pass and Adam step, half of the KL pass). Train changes no process-wide state (it does not
// install nn.FastBLAS: callers that want it call nn.UseFastBLAS first, as the CLI does) and
// several Trains may run concurrently on different outDirs; runs are deterministic either way.
func Train(ctx context.Context, cfg Config, outDir string, opts Options) (_ Summary, err error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("ppo: invalid config: %w", err)
	}
	cfg.Penalty = canonicalPenalty(cfg.Penalty)
	if outDir == "" {
		return Summary{}, errors.New("ppo: output directory is empty")
	}
	if opts.Resume && opts.Force {
		return Summary{}, errors.New("ppo: Resume and Force are exclusive")
	}
	if err := cfg.CheckMemory(); err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	t, err := newTrainer(cfg, opts.SingleThreaded)
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	t.afterUpdate = opts.Hooks.AfterUpdate
	// The run holds its directory until Train returns: a second Train (another process, or a
	// second --resume) is refused at once instead of writing the same files.
	if !opts.Resume {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return Summary{}, fmt.Errorf("ppo: output directory: %w", err)
		}
	}
	unlock, err := rundir.Lock(outDir)
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	ckPath := filepath.Join(outDir, CheckpointFile)
	if opts.Resume {
		c, err := policy.ReadCheckpoint(ckPath)
		if err != nil {
			return Summary{}, fmt.Errorf("ppo: resume %s: %w", outDir, err)
		}
		if err := t.restore(c); err != nil {
			return Summary{}, fmt.Errorf("ppo: resume %s: %w", ckPath, err)
		}
		if t.update >= cfg.NumUpdates() {
			// Nothing to do: keep the files (and the summary of the session that finished it).
			s, err := ReadSummary(filepath.Join(outDir, SummaryFile))
			if err != nil {
				return Summary{}, fmt.Errorf("ppo: resume %s: the run is complete (update %d of %d) but its summary is unreadable: %w", outDir, t.update, cfg.NumUpdates(), err)
			}
			return s, nil
		}
	} else {
		if err := prepareDir(outDir, opts.Force); err != nil {
			return Summary{}, err
		}
	}
	if err := rundir.WriteKind(outDir, rundir.KindTrain); err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	cj, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: config: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(outDir, ConfigFile), append(cj, '\n')); err != nil {
		return Summary{}, err
	}
	mw, err := openCSV(filepath.Join(outDir, MetricsFile), MetricsHeader, opts.Resume, t.metricsRowsCheck())
	if err != nil {
		return Summary{}, err
	}
	defer func() { err = errors.Join(err, mw.close()) }()
	constraint := newKLConstraintCounter(t.penalty, cfg.BetaMin, cfg.BetaMax)
	if opts.Resume { // the updates of earlier sessions count too
		ms, err := ReadMetrics(filepath.Join(outDir, MetricsFile))
		if err != nil {
			return Summary{}, fmt.Errorf("ppo: resume: %w", err)
		}
		for _, m := range ms {
			constraint.add(m.KL, m.Beta)
		}
	}
	ew, err := openCSV(filepath.Join(outDir, EpisodesFile), EpisodesHeader, opts.Resume, t.episodeRowsCheck())
	if err != nil {
		return Summary{}, err
	}
	defer func() { err = errors.Join(err, ew.close()) }()
	if !opts.Resume {
		// The initial state is the first checkpoint, so that a run stopped before its first
		// periodic checkpoint (e.g. by a NaN) can be resumed from update 0.
		if err := t.save(ckPath, 0); err != nil {
			return Summary{}, err
		}
	}

	t.onEpisode = func(step int, ep env.EpisodeStat) error {
		t.episodes++
		w := t.recentReturns
		w.add(ep.Return)
		if t.firstSolved < 0 && w.count() == len(w.buf) && !math.IsNaN(t.solvedThreshold) && w.mean() >= t.solvedThreshold {
			t.firstSolved = step
		}
		if err := ew.write([]string{strconv.Itoa(step), strconv.FormatFloat(ep.Return, 'g', -1, 64), strconv.Itoa(ep.Length)}); err != nil {
			return err
		}
		if opts.Hooks.OnEpisode != nil {
			opts.Hooks.OnEpisode(step, ep)
		}
		return nil
	}

	start := time.Now()
	step0 := t.globalStep
	wall := func() float64 { return t.wallBefore + time.Since(start).Seconds() }
	summary := func(stopped string) Summary {
		w := wall()
		s := Summary{EnvID: cfg.EnvID, Penalty: t.penalty.String(), Seed: cfg.Seed, Steps: t.globalStep, WallS: w,
			FinalReturn: t.recentReturns.mean(), SolvedThreshold: t.solvedThreshold, FirstStepReturnGE: t.firstSolved,
			Episodes: t.episodes, Updates: t.update, Stopped: stopped, Constraint: constraint.result()}
		if el := time.Since(start).Seconds(); el > 0 {
			s.SPS = float64(t.globalStep-step0) / el
		}
		return s
	}
	finish := func(stopped string, checkpoint bool, runErr error) (Summary, error) {
		s := summary(stopped)
		var errs []error
		if runErr != nil {
			errs = append(errs, runErr)
		}
		if checkpoint {
			if err := t.save(ckPath, s.WallS); err != nil {
				errs = append(errs, err)
			}
		}
		if err := mw.flush(); err != nil {
			errs = append(errs, err)
		}
		if err := ew.flush(); err != nil {
			errs = append(errs, err)
		}
		if err := writeSummary(filepath.Join(outDir, SummaryFile), s); err != nil {
			errs = append(errs, err)
		}
		return s, errors.Join(errs...)
	}

	nUp := cfg.NumUpdates()
	lastCk := t.update // the initial state (update 0) or the resumed checkpoint
	for t.update < nUp {
		if err := ctx.Err(); err != nil {
			return finish("interrupted", true, fmt.Errorf("ppo: interrupted after update %d (checkpoint written): %w", t.update, err))
		}
		m, err := t.runUpdate(start, step0)
		if err != nil {
			if errors.Is(err, errNonFinite) {
				return finish("nan", false, fmt.Errorf("ppo: update %d stopped: %w; the last good checkpoint (update %d) is kept in %s", t.update+1, err, lastCk, ckPath))
			}
			return finish("error", false, fmt.Errorf("ppo: update %d: %w", t.update+1, err))
		}
		if err := mw.write(m.Record()); err != nil {
			return finish("error", false, err)
		}
		constraint.add(m.KL, m.Beta)
		if err := mw.flush(); err != nil {
			return finish("error", false, err)
		}
		if err := ew.flush(); err != nil {
			return finish("error", false, err)
		}
		if opts.Hooks.OnUpdate != nil {
			opts.Hooks.OnUpdate(m)
		}
		if cfg.CheckpointEvery > 0 && t.update%cfg.CheckpointEvery == 0 && t.update < nUp {
			if err := t.save(ckPath, wall()); err != nil {
				return finish("error", false, err)
			}
			lastCk = t.update
		}
	}
	return finish("", true, nil)
}

func (t *trainer) save(path string, wallS float64) error {
	c, err := t.snapshot(wallS)
	if err != nil {
		return fmt.Errorf("ppo: checkpoint: %w", err)
	}
	if err := policy.WriteCheckpoint(path, c); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}

// runFiles are the files Train owns in a run directory.
var runFiles = []string{ConfigFile, MetricsFile, EpisodesFile, SummaryFile, CheckpointFile}

// prepareDir refuses (unless force) a directory that already holds run files.
func prepareDir(dir string, force bool) error {
	for _, f := range runFiles {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err == nil {
			if !force {
				return fmt.Errorf("ppo: output directory %s already holds a run (%s): use resume or force", dir, f)
			}
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("ppo: force: %w", err)
			}
		}
	}
	return nil
}

// writeFileAtomic is fileio.WriteAtomic with the package's error prefix.
func writeFileAtomic(path string, data []byte) error {
	if err := fileio.WriteAtomic(path, data); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}

// csvFile is an append-only CSV output.
type csvFile struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	w    *csv.Writer
}

// rowCheck decides, on resume, whether row rec (line number line of the file) is kept (it was
// written before the checkpoint) or dropped (written after it: it will be regenerated); an error
// refuses the resume. done is called after the last row to check that no kept row is missing.
type rowCheck struct {
	keep func(line int, rec []string) (bool, error)
	done func(kept int) error
}

// metricsRowsCheck keeps rows of updates 1…t.update, which must all be present and in order.
func (t *trainer) metricsRowsCheck() rowCheck {
	next := 1
	return rowCheck{
		keep: func(line int, rec []string) (bool, error) {
			u, err := strconv.Atoi(rec[0])
			if err != nil || u < 1 {
				return false, fmt.Errorf("line %d: update %q is not a positive integer", line, rec[0])
			}
			if u > t.update {
				return false, nil
			}
			if u != next {
				return false, fmt.Errorf("line %d: update %d where update %d was expected (rows before the checkpoint at update %d are missing or out of order)", line, u, next, t.update)
			}
			next++
			return true, nil
		},
		done: func(kept int) error {
			switch {
			case kept == t.update:
			case kept+1 == t.update:
				return fmt.Errorf("it holds the rows of updates 1–%d but the checkpoint is at update %d: the row of update %d is missing and cannot be rebuilt", kept, t.update, t.update)
			default:
				return fmt.Errorf("it holds the rows of updates 1–%d but the checkpoint is at update %d: the rows of updates %d–%d are missing and cannot be rebuilt", kept, t.update, kept+1, t.update)
			}
			return nil
		},
	}
}

// episodeRowsCheck keeps the rows of episodes finished by step t.globalStep, which must be as
// many as the checkpoint counted, with non-decreasing steps.
func (t *trainer) episodeRowsCheck() rowCheck {
	last := 0
	return rowCheck{
		keep: func(line int, rec []string) (bool, error) {
			s, err := strconv.Atoi(rec[0])
			if err != nil || s < last {
				return false, fmt.Errorf("line %d: global_step %q is not an integer ≥ %d (the previous row's)", line, rec[0], last)
			}
			last = s
			return s <= t.globalStep, nil
		},
		done: func(kept int) error {
			if kept != t.episodes {
				return fmt.Errorf("it holds %d episodes up to step %d but the checkpoint counted %d: rows are missing and cannot be rebuilt", kept, t.globalStep, t.episodes)
			}
			return nil
		},
	}
}

// openCSV creates path with header, or on resume rewrites it keeping the header and the rows
// that check keeps. On resume, a last line without its newline (a write cut short by a crash)
// is dropped; any other unreadable row, and any row check fails on, refuses the resume with an
// error naming the file and the line, leaving the file untouched.
func openCSV(path, header string, resume bool, check rowCheck) (*csvFile, error) {
	var kept [][]string
	if resume {
		data, err := fileio.ReadFile(path, fileio.LargeFile)
		if err != nil {
			return nil, fmt.Errorf("ppo: resume: %w", err)
		}
		if i := bytes.LastIndexByte(data, '\n'); i < len(data)-1 {
			data = data[:i+1] // drop the partial last line
		}
		r := csv.NewReader(bytes.NewReader(data))
		h, err := r.Read()
		if err != nil || strings.Join(h, ",") != header {
			return nil, fmt.Errorf("ppo: resume: %s does not start with the header %q", path, header)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("ppo: resume: %w: %s is damaged: %v", ErrRunFiles, path, err)
			}
			line, _ := r.FieldPos(0)
			ok, err := check.keep(line, rec)
			if err != nil {
				return nil, fmt.Errorf("ppo: resume: %w: %s %v", ErrRunFiles, path, err)
			}
			if ok {
				kept = append(kept, rec)
			}
		}
		if err := check.done(len(kept)); err != nil {
			return nil, fmt.Errorf("ppo: resume: %w: %s: %v", ErrRunFiles, path, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	c := &csvFile{path: path, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	c.w = csv.NewWriter(c.bw)
	if err := c.w.Write(strings.Split(header, ",")); err != nil {
		return nil, errors.Join(fmt.Errorf("ppo: %s: %w", path, err), f.Close())
	}
	for _, rec := range kept {
		if err := c.w.Write(rec); err != nil {
			return nil, errors.Join(fmt.Errorf("ppo: %s: %w", path, err), f.Close())
		}
	}
	if err := c.flush(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return c, nil
}

func (c *csvFile) write(rec []string) error {
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("ppo: %s: %w", c.path, err)
	}
	return nil
}

func (c *csvFile) flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("ppo: %s: %w", c.path, err)
	}
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("ppo: %s: %w", c.path, err)
	}
	return nil
}

// close flushes and closes the file.
func (c *csvFile) close() error {
	err := c.flush()
	if cerr := c.f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("ppo: %s: %w", c.path, cerr))
	}
	return err
}

// writeSummary writes summary.json (NaN values as null).
func writeSummary(path string, s Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("ppo: summary: %w", err)
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// ReadSummary reads a summary.json written by Train.
func ReadSummary(path string) (Summary, error) {
	b, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("ppo: %s: %w", path, err)
	}
	return s, nil
}
