package ppo

import (
	"bufio"
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
	"klppo/policy"
)

// Hooks are optional callbacks run on the training goroutine.
type Hooks struct {
	OnUpdate  func(m UpdateMetrics)                    // after each update (progress bars, logging)
	OnEpisode func(globalStep int, ep env.EpisodeStat) // after each finished episode
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

// ErrNonFinite is wrapped by Train's error when a loss, gradient or KL became NaN or ±Inf; the
// run stops without touching the last good checkpoint.
var ErrNonFinite = errNonFinite

// Train runs PPO, writing config.json, metrics.csv, episodes.csv, summary.json and a checkpoint
// into outDir. It honours ctx cancellation (writes a checkpoint, flushes files, returns ctx.Err()
// wrapped). It is safe to call concurrently from several goroutines (no shared mutable state).
//
// An existing outDir holding any of these files is refused unless opts.Force (the files are
// replaced) or opts.Resume (the run continues from outDir's checkpoint: cfg must equal the saved
// config except total_timesteps and checkpoint_every; rows of metrics.csv and episodes.csv
// written after the checkpoint are dropped and regenerated, so the result equals an
// uninterrupted run). The context is checked between updates: cancellation finishes no
// further update and checkpoints the state after the last completed one.
//
// The first call installs fastBLAS as gorgonia's BLAS for the whole process (see UseFastBLAS).
func Train(ctx context.Context, cfg Config, outDir string, opts Options) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("ppo: invalid config: %w", err)
	}
	UseFastBLAS()
	if outDir == "" {
		return Summary{}, errors.New("ppo: output directory is empty")
	}
	if opts.Resume && opts.Force {
		return Summary{}, errors.New("ppo: Resume and Force are exclusive")
	}
	t, err := newTrainer(cfg)
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	t.singleThreaded = opts.SingleThreaded
	ckPath := filepath.Join(outDir, CheckpointFile)
	if opts.Resume {
		c, err := policy.ReadCheckpoint(ckPath)
		if err != nil {
			return Summary{}, fmt.Errorf("ppo: resume %s: %w", outDir, err)
		}
		if err := t.restore(c); err != nil {
			return Summary{}, fmt.Errorf("ppo: resume %s: %w", ckPath, err)
		}
	} else {
		if err := prepareDir(outDir, opts.Force); err != nil {
			return Summary{}, err
		}
	}
	cj, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: config: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(outDir, ConfigFile), append(cj, '\n')); err != nil {
		return Summary{}, err
	}
	mw, err := openCSV(filepath.Join(outDir, MetricsFile), MetricsHeader, opts.Resume, func(rec []string) bool {
		u, err := strconv.Atoi(rec[0])
		return err == nil && u <= t.update
	})
	if err != nil {
		return Summary{}, err
	}
	defer mw.close()
	ew, err := openCSV(filepath.Join(outDir, EpisodesFile), EpisodesHeader, opts.Resume, func(rec []string) bool {
		s, err := strconv.Atoi(rec[0])
		return err == nil && s <= t.globalStep
	})
	if err != nil {
		return Summary{}, err
	}
	defer ew.close()

	t.onEpisode = func(step int, ep env.EpisodeStat) error {
		t.episodes++
		t.window.add(ep.Return)
		if t.firstSolved < 0 && t.window.count() == len(t.window.buf) && !math.IsNaN(t.threshold) && t.window.mean() >= t.threshold {
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
		s := Summary{EnvID: cfg.EnvID, Penalty: t.pen.String(), Seed: cfg.Seed, Steps: t.globalStep, WallS: w,
			FinalReturn: t.window.mean(), SolvedThreshold: t.threshold, FirstStepReturnGE: t.firstSolved,
			Episodes: t.episodes, Updates: t.update, Stopped: stopped}
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
	lastCk := t.update
	for t.update < nUp {
		if err := ctx.Err(); err != nil {
			return finish("interrupted", true, fmt.Errorf("ppo: interrupted after update %d (checkpoint written): %w", t.update, err))
		}
		m, err := t.step(start, step0)
		if err != nil {
			if errors.Is(err, errNonFinite) {
				return finish("nan", false, fmt.Errorf("ppo: update %d stopped: %w; the last good checkpoint (update %d) is kept in %s", t.update+1, err, lastCk, ckPath))
			}
			return finish("error", false, fmt.Errorf("ppo: update %d: %w", t.update+1, err))
		}
		if err := mw.write(m.Record()); err != nil {
			return finish("error", false, err)
		}
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

// prepareDir creates dir, refusing (unless force) one that already holds run files.
func prepareDir(dir string, force bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ppo: output directory: %w", err)
	}
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

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("ppo: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("ppo: write %s: %w", path, err)
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

// openCSV creates path with header, or on resume rewrites it keeping the header and the rows for
// which keep returns true.
func openCSV(path, header string, resume bool, keep func([]string) bool) (*csvFile, error) {
	var kept [][]string
	if resume {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("ppo: resume: %w", err)
		}
		r := csv.NewReader(f)
		h, err := r.Read()
		if err != nil || strings.Join(h, ",") != header {
			f.Close()
			return nil, fmt.Errorf("ppo: resume: %s does not start with the header %q", path, header)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				// A row cut short by a crash ends the readable part.
				break
			}
			if keep(rec) {
				kept = append(kept, rec)
			}
		}
		f.Close()
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	c := &csvFile{path: path, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	c.w = csv.NewWriter(c.bw)
	if err := c.w.Write(strings.Split(header, ",")); err != nil {
		f.Close()
		return nil, fmt.Errorf("ppo: %s: %w", path, err)
	}
	for _, rec := range kept {
		if err := c.w.Write(rec); err != nil {
			f.Close()
			return nil, fmt.Errorf("ppo: %s: %w", path, err)
		}
	}
	return c, c.flush()
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

func (c *csvFile) close() {
	c.flush()
	c.f.Close()
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
	b, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, fmt.Errorf("ppo: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("ppo: %s: %w", path, err)
	}
	return s, nil
}
