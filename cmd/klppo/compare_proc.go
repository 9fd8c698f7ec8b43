package main

// Runs of a sweep that are trained side by side go to child processes. Two single-threaded
// ppo.Train calls in one process keep only about 1.35 of 2 cores busy: gorgonia's
// tapeMachine.RunAll locks the calling goroutine's OS thread and waits while the tape runs on a new
// goroutine, so each of the ≈ 31 000 graph runs of a 100k-step run parks and wakes a locked thread
// and hands its P over. Separate processes do not share a Go scheduler and run at full speed. A
// child is `klppo train --config FILE --out DIR --quiet` with the fully resolved config, so its
// files are those ppo.Train writes in-process (the two-core and single-threaded trainers are
// bit-identical).

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

	"klppo/ppo"
)

// childTrainer returns a ppo.Train-compatible function that trains runs marked SingleThreaded in
// a child process of the klppo executable exe, and any other run in this process.
func childTrainer(exe string) func(ctx context.Context, cfg ppo.Config, outDir string, opts ppo.Options) (ppo.Summary, error) {
	return func(ctx context.Context, cfg ppo.Config, outDir string, opts ppo.Options) (ppo.Summary, error) {
		if !opts.SingleThreaded {
			return ppo.Train(ctx, cfg, outDir, opts)
		}
		return trainInChild(ctx, exe, cfg, outDir, opts)
	}
}

// klppoExecutable returns the path of the running klppo binary, or "" when this process is not
// one (a test binary, for example), in which case sweeps train every run in-process.
func klppoExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if filepath.Base(exe) != "klppo" {
		return ""
	}
	return exe
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
