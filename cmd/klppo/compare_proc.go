package main

// `klppo compare --processes` trains every run of the sweep in a child process: the executable
// of this process (os.Executable, whatever it is called) with `train --config FILE --out DIR
// --quiet` and the run's fully resolved config, so that its files are those ppo.Train writes in
// this process. A run the sweep trains single-threaded (one of P runs side by side) gets
// GOMAXPROCS=1: one core, the same results. By default runs are trained in this process: with
// the patched gorgonia (third_party/gorgonia) two runs in one process keep both cores busy, as two
// processes do; --processes isolates the runs instead (a crash or a memory blow-up takes one run,
// not the sweep).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"klppo/experiments"
	"klppo/ppo"
)

// childTrainer returns an experiments.TrainFunc that trains every run in a child process of the
// klppo executable exe.
func childTrainer(exe string) experiments.TrainFunc {
	return func(ctx context.Context, cfg ppo.Config, outDir string, opts ppo.Options) (ppo.Summary, error) {
		return trainInChild(ctx, exe, cfg, outDir, opts)
	}
}

func trainInChild(ctx context.Context, exe string, cfg ppo.Config, outDir string, opts ppo.Options) (ppo.Summary, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return ppo.Summary{}, fmt.Errorf("run folder: %w", err)
	}
	var args []string
	if opts.Resume {
		args = []string{"train", "--resume", outDir, "--steps", fmt.Sprint(cfg.TotalTimesteps), "--quiet"}
	} else {
		data, err := json.Marshal(cfg)
		if err != nil {
			return ppo.Summary{}, fmt.Errorf("config: %w", err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(outDir), ".klppo-config-*.json")
		if err != nil {
			return ppo.Summary{}, fmt.Errorf("config: %w", err)
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			return ppo.Summary{}, fmt.Errorf("config: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return ppo.Summary{}, fmt.Errorf("config: %w", err)
		}
		args = []string{"train", "--config", tmp.Name(), "--out", outDir, "--quiet"}
		if opts.Force {
			args = append(args, "--force")
		}
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	// On cancellation the child gets SIGINT, checkpoints and flushes its files, as klppo train does.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if opts.SingleThreaded {
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	sum, sumErr := ppo.ReadSummary(filepath.Join(outDir, ppo.SummaryFile))
	switch {
	case runErr != nil && ctx.Err() != nil:
		return sum, fmt.Errorf("train %s: %w", outDir, ctx.Err())
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		if sumErr == nil && sum.Stopped != "" {
			return sum, nil // stopped (e.g. nan): summary.json says why, as ppo.Train reports it
		}
		return sum, fmt.Errorf("train %s: %w: %s", outDir, runErr, msg)
	case sumErr != nil:
		return sum, fmt.Errorf("train %s: %w", outDir, sumErr)
	}
	if opts.Hooks.OnUpdate != nil {
		ms, err := ppo.ReadMetrics(filepath.Join(outDir, ppo.MetricsFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return sum, fmt.Errorf("train %s: %w", outDir, err)
		}
		if len(ms) > 0 {
			opts.Hooks.OnUpdate(ms[len(ms)-1])
		}
	}
	return sum, nil
}
