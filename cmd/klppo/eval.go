package main

import (
	"fmt"
	"io"
	"os"

	"klppo/ppo"
)

func init() {
	register("eval", "evaluate a trained run's policy (deterministic and sampled actions)", runEval)
}

// maxEvalEpisodes bounds eval --episodes: every episode's return and length are kept, and a
// million CartPole episodes of 500 steps already take hours.
const maxEvalEpisodes = 1_000_000

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", "--run DIR [--episodes N] [--seed S]", stderr)
	run := fs.String("run", "", "run directory written by klppo train (required)")
	episodes := fs.Int("episodes", 10, "episodes per mode (1 to 1000000)")
	seed := fs.Uint64("seed", 10_000, "episode k is reset with seed S+k; sampled actions use a generator seeded with S")
	mode := fs.String("mode", "both", "deterministic, sampled or both")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := refuseEmptyFlags(fs); err != nil {
		return err
	}
	if *run == "" {
		return usagef("--run is required (a directory written by klppo train)")
	}
	if *episodes <= 0 || *episodes > maxEvalEpisodes {
		return usagef("--episodes %d: want 1 to %d", *episodes, maxEvalEpisodes)
	}
	var modes []bool
	switch *mode {
	case "both":
		modes = []bool{true, false}
	case "deterministic":
		modes = []bool{true}
	case "sampled":
		modes = []bool{false}
	default:
		return usagef("--mode %q: want deterministic, sampled or both", *mode)
	}
	if _, err := os.Stat(*run); err != nil {
		return usagef("--run %s: %v", *run, err)
	}
	cfg, err := ppo.ReadRun(*run)
	if err != nil {
		return usagef("--run %s: %v", *run, err)
	}
	ctx, stop := interruptible()
	defer stop()
	fmt.Fprintf(stdout, "run %s: %s, penalty %s, seed %d\n", *run, cfg.EnvID, cfg.Penalty, cfg.Seed)
	fmt.Fprintf(stdout, "%-13s %8s %9s %8s %9s %9s %11s\n", "actions", "episodes", "mean", "std", "min", "max", "mean length")
	for _, det := range modes {
		r, err := ppo.Evaluate(ctx, *run, *episodes, det, *seed)
		if err != nil {
			return err
		}
		name := "sampled"
		if det {
			name = "deterministic"
		}
		ml := 0.0
		for _, l := range r.Lengths {
			ml += float64(l)
		}
		ml /= float64(len(r.Lengths))
		fmt.Fprintf(stdout, "%-13s %8d %9.2f %8.2f %9.2f %9.2f %11.1f\n", name, r.Episodes, r.Mean, r.Std, r.Min, r.Max, ml)
	}
	return nil
}
