package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"syscall"

	"klppo/ppo"
)

func init() {
	register("bench train", "measure training throughput (env steps per second) with the default configuration", runBenchTrain)
}

// cpuSeconds is the process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// runBenchTrain prints only what it measures on this machine; reference figures of other tools
// are in docs/performance.md with the date and command that produced them.
func runBenchTrain(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("bench train", "[--env ID] [--steps N] [--repeat K]", stderr)
	envID := fs.String("env", "CartPole-v1", "environment id")
	steps := fs.Int("steps", 100_000, "environment steps per run")
	penalty := fs.String("penalty", "", "penalty spec (default: the env's default, kl-adaptive:0.01)")
	repeat := fs.Int("repeat", 3, "runs; the median is reported")
	seed := fs.Uint64("seed", 1, "seed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of all runs to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := ppo.DefaultConfig(*envID)
	if err != nil {
		return usagef("--env %s: %v", *envID, err)
	}
	if *penalty != "" {
		cfg.Penalty = *penalty
	}
	cfg.TotalTimesteps, cfg.Seed, cfg.CheckpointEvery = *steps, *seed, 0
	if err := cfg.Validate(); err != nil {
		return usagef("invalid configuration: %v", err)
	}
	if *repeat <= 0 {
		return usagef("--repeat %d: must be > 0", *repeat)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return usagef("--cpuprofile %s: %v", *cpuprofile, err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("--cpuprofile %s: %w", *cpuprofile, cerr)
			}
		}()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "bench train: %s, %s, %d steps (%d envs × %d steps, %d minibatches × %d epochs, %s), %d runs\n",
		cfg.EnvID, cfg.Penalty, cfg.TotalTimesteps, cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs, cfg.DType, *repeat)
	var sps, cpus []float64
	for i := 0; i < *repeat; i++ {
		dir, err := os.MkdirTemp("", "klppo-bench-")
		if err != nil {
			return err
		}
		cpu0 := cpuSeconds()
		s, err := ppo.Train(context.Background(), cfg, dir, ppo.Options{Force: true})
		cpu := cpuSeconds() - cpu0
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "run %d: %d steps in %.2f s = %.0f steps/s; CPU %.2f s (%.0f steps per CPU-second, %.2f cores busy); final return %.1f\n",
			i+1, s.Steps, s.WallS, s.SPS, cpu, float64(s.Steps)/cpu, cpu/s.WallS, s.FinalReturn)
		sps = append(sps, s.SPS)
		cpus = append(cpus, float64(s.Steps)/cpu)
	}
	sort.Float64s(sps)
	sort.Float64s(cpus)
	fmt.Fprintf(stdout, "median: %.0f steps/s wall, %.0f steps per CPU-second\n", sps[len(sps)/2], cpus[len(cpus)/2])
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(stdout, "load average during the runs: %s", l)
	}
	return nil
}
