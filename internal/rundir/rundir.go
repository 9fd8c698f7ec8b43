package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Markers are the files whose presence marks a directory as holding a run: the files of a
// training run (ppo.ConfigFile, ppo.MetricsFile, ppo.EpisodesFile, ppo.SummaryFile,
// ppo.CheckpointFile), of a sweep (experiments.SweepFile, experiments.RunsFile), of a VAE run
// (vae.MetricsFile), of a distillation run (distill.MetricsFile, distill.TeacherFile) and of the
// RLHF runs (rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SummaryFile, and the SFT and reward-model
// directories' rlhf.SFTModelFile and rlhf.RMModelFile, and the leash experiment's rlhf.LeashFile),
// and KindFile, which every command writes.
// The package imports none of them (so that any of them can use it); a test of the CLI checks
// that every one of those constants is listed here.
var Markers = []string{
	"config.json",
	"metrics.csv",
	"episodes.csv",
	"summary.json",
	"checkpoint.klppo",
	"sweep.json",
	"runs.csv",
	"teacher.klnn",
	"model.klppo",
	"rm.klnn",
	"leash.json",
	KindFile,
}

// HoldsRunError reports that Dir already holds a run: File is the first of Markers found in it.
type HoldsRunError struct {
	Dir, File string
}

func (e *HoldsRunError) Error() string {
	return fmt.Sprintf("%s already holds a run (%s)", e.Dir, e.File)
}

// ErrEmptyPath is returned for the directory "": it is never a sensible output directory (it
// would silently mean the current one, or a default).
var ErrEmptyPath = errors.New("empty path: give a directory")

// Check returns nil when dir can receive a new run: it does not exist yet, or it is a directory
// without any of the Markers files. It returns a *HoldsRunError when it holds a run, ErrEmptyPath
// for "", and an error when dir exists but is not a directory or cannot be read.
func Check(dir string) error {
	if dir == "" {
		return ErrEmptyPath
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: exists and is not a directory", dir)
	}
	for _, m := range Markers {
		_, err := os.Stat(filepath.Join(dir, m))
		if err == nil {
			return &HoldsRunError{Dir: dir, File: m}
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// HoldsRun reports whether err (from Check) says that the directory holds a run.
func HoldsRun(err error) bool {
	var h *HoldsRunError
	return errors.As(err, &h)
}

// Create makes dir (and its parents) so that a command learns that it cannot write there
// before it spends any time training, not after. The error says why (a file in the way, no
// permission, …).
func Create(dir string) error {
	if dir == "" {
		return ErrEmptyPath
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the directory: %w", err)
	}
	return nil
}
