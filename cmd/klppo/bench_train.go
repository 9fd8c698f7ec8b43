package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"klppo/internal/cputime"
	"klppo/ppo"
)

func init() {
	register("bench train", "measure training throughput (env steps per second) with CleanRL's hyperparameters (--preset cleanrl)", runBenchTrain)
}

// runBenchTrain prints only what it measures on this machine; reference figures of other tools
// are in docs/performance.md with the date and command that produced them.
func runBenchTrain(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("bench train", "[--env ID [--preset NAME] | --config FILE] [--steps N] [--repeat K]", stderr)
	envID := fs.String("env", "CartPole-v1", "environment id")
	// CleanRL's settings by default, so that the figure stays comparable with CleanRL's own and
	// with earlier measurements whatever `klppo train`'s defaults become.
	preset := fs.String("preset", ppo.PresetCleanRL, "hyperparameter preset: "+strings.Join(ppo.Presets(), " or "))
	config := fs.String("config", "", "JSON or YAML config file (keys as in config.json) instead of a preset; --penalty, --steps and --seed override it")
	steps := fs.Int("steps", 100_000, "environment steps per run")
	penalty := fs.String("penalty", "", "penalty spec (default: the preset's, kl-adaptive:0.01)")
	repeat := fs.Int("repeat", 3, "runs; the median is reported")
	seed := fs.Uint64("seed", 1, "seed")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of all runs to FILE")
	memprofile := fs.String("memprofile", "", "write an allocation profile (every allocation of all runs) to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var cfg ppo.Config
	if *config != "" {
		var clash string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "env" || f.Name == "preset" {
				clash = f.Name
			}
		})
		if clash != "" {
			return usagef("--%s: the settings come from --config %s", clash, *config)
		}
		if cfg, err = ppo.LoadConfig(*config); err != nil {
			return usagef("--config %s: %v", *config, err)
		}
	} else {
		if _, err := ppo.DefaultConfig(*envID); err != nil {
			return usagef("--env %s: %v", *envID, err)
		}
		if cfg, err = ppo.PresetConfig(*preset, *envID); err != nil { // the env is known: the preset is not
			return usagef("--preset %q: unknown preset (known: %s)", *preset, strings.Join(ppo.Presets(), ", "))
		}
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
		stop, perr := startCPUProfile(*cpuprofile)
		if perr != nil {
			return perr
		}
		defer func() {
			if serr := stop(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	source := "preset " + *preset
	if *config != "" {
		source = "config " + *config
	}
	if *memprofile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if perr := writeHeapProfile(*memprofile); perr != nil && err == nil {
				err = perr
			}
		}()
	}
	fmt.Fprintf(stdout, "bench train: %s, %s, %s, %d steps (%d envs × %d steps, %d minibatches × %d epochs, %s), %d runs\n",
		cfg.EnvID, source, cfg.Penalty, cfg.TotalTimesteps, cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs, cfg.DType, *repeat)
	var sps, cpus []float64
	for i := 0; i < *repeat; i++ {
		dir, err := os.MkdirTemp("", "klppo-bench-")
		if err != nil {
			return err
		}
		cpu0, _ := cputime.Process()
		s, err := ppo.Train(context.Background(), cfg, dir, ppo.Options{Force: true})
		cpu1, _ := cputime.Process()
		cpu := (cpu1 - cpu0).Seconds()
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
	fmt.Fprintf(stdout, "median: %.0f steps/s wall, %.0f steps per CPU-second\n", median(sps), median(cpus))
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(stdout, "load average during the runs: %s", l)
	}
	return nil
}

// startCPUProfile starts a CPU profile written to path (--cpuprofile); stop ends it and closes
// the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, usagef("--cpuprofile %s: %v", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", path, err)
		}
		return nil
	}, nil
}

// writeHeapProfile writes the allocation profile (all allocations since the start, with
// runtime.MemProfileRate = 1 every one of them) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile %s: %w", path, err)
	}
	runtime.GC() // the profile is current as of the last collection
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--memprofile %s: %w", path, err)
	}
	return nil
}
