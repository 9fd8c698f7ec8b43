package main

// klppo env list | check | bench: the environments of package env.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"klppo/env"
	"klppo/internal/fileio"
)

func init() {
	register("env list", "list the environments: ids, spaces, time limits, reward thresholds", runEnvList)
	register("env check", "replay Gymnasium reference trajectories (FILE.json) and report the max deviation per env", runEnvCheck)
	register("env bench", "measure env-steps per second of one env and of a vector of N copies", runEnvBench)
}

func runEnvList(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env list", "", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOBSERVATION SPACE\tACTION SPACE\tTIME LIMIT\tREWARD THRESHOLD")
	for _, s := range env.Specs() {
		e := s.New()
		limit, thr := "none", "none"
		if s.MaxEpisodeSteps > 0 {
			limit = strconv.Itoa(s.MaxEpisodeSteps)
		}
		if t, ok := s.Threshold(); ok {
			thr = strconv.FormatFloat(t, 'g', -1, 64)
		}
		fmt.Fprintf(tw, "%s\t%v\t%v\t%s\t%s\n", s.ID, e.ObservationSpace(), e.ActionSpace(), limit, thr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nDynamics:")
	for _, s := range env.Specs() {
		fmt.Fprintf(stdout, "  %-26s %s\n", s.ID, s.Source)
	}
	return nil
}

// parseWithFile parses flags before and after one optional positional FILE argument.
func parseWithFile(fs *flag.FlagSet, args []string) (string, error) {
	parse := func(a []string) error {
		if err := fs.Parse(a); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usagef("%v", err)
		}
		return nil
	}
	if err := parse(args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", nil
	}
	file := fs.Arg(0)
	if err := parse(fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usagef("%s: unexpected argument %q (one FILE at most)", fs.Name(), fs.Arg(0))
	}
	return file, nil
}

// defaultGolden finds ../shared/golden/classic_control.json relative to the working directory
// or to the repository root (the directory holding go.mod above it).
func defaultGolden() (string, bool) {
	rel := filepath.Join("..", "shared", "golden", "classic_control.json")
	if _, err := os.Stat(rel); err == nil {
		return rel, true
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, rel)
			if _, err := os.Stat(p); err == nil {
				return p, true
			}
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func runEnvCheck(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env check", "[FILE.json] [flags]", stderr)
	tol := fs.Float64("tol", 1e-5, "allowed deviation, relative: |got−ref| ≤ tol·max(1, |ref|)")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if !(*tol >= 0) {
		return usagef("-tol %v: must be ≥ 0", *tol)
	}
	var data []byte
	if file == "" {
		if p, ok := defaultGolden(); ok {
			file = p
		}
	}
	if file != "" {
		if data, err = fileio.ReadFile(file, fileio.LargeFile); err != nil {
			return fmt.Errorf("read reference file: %w", err)
		}
		fmt.Fprintf(stdout, "reference: %s\n", file)
	} else {
		data = env.EmbeddedGolden()
		fmt.Fprintln(stdout, "reference: embedded copy of env/testdata/classic_control.json (../shared/golden not found)")
	}
	g, err := env.ParseGolden(data)
	if err != nil {
		return err
	}
	if g.Source != "" {
		fmt.Fprintf(stdout, "source:    %s\n", g.Source)
	}
	fmt.Fprintf(stdout, "tolerance: |got−ref| ≤ %g·max(1,|ref|)\n\n", *tol)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tCASES\tSTEPS\tMAX OBS DEV\tMAX REWARD DEV\tTERMINATED MISMATCHES\tRESULT")
	failed := 0
	results := g.Replay()
	for _, r := range results {
		status := "ok"
		if !r.OK(*tol) {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3g\t%.3g\t%d\t%s\n", r.Env, r.Cases, r.Steps, r.MaxObsDev, r.MaxRewardDev, r.TerminatedMismatches, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, e := range r.Errors {
			fmt.Fprintf(stdout, "%s: %s\n", r.Env, e)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d environments deviate from the reference", failed, len(results))
	}
	fmt.Fprintf(stdout, "\nall %d environments match the reference\n", len(results))
	return nil
}

func runEnvBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("env bench", "--env ID [--seconds S] [flags]", stderr)
	id := fs.String("env", "CartPole-v1", "environment id (see 'klppo env list')")
	seconds := fs.Float64("seconds", 2, "measuring time per configuration, in seconds")
	n := fs.Int("n", 8, "number of copies of the vector environment")
	workers := fs.Int("workers", 1, "goroutines stepping the vector environment (1: sequential)")
	rounds := fs.Int("rounds", 5, "timed rounds per configuration; the median is reported")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := env.Lookup(*id); err != nil {
		return usagef("-env %q: %v", *id, err)
	}
	if !(*seconds > 0) || *seconds > 3600 {
		return usagef("-seconds %v: want a value in (0, 3600]", *seconds)
	}
	if *n < 1 {
		return usagef("-n %d: want at least 1 copy", *n)
	}
	if *workers < 1 {
		return usagef("-workers %d: want at least 1", *workers)
	}
	if *rounds < 1 {
		return usagef("-rounds %d: want at least 1", *rounds)
	}
	total := time.Duration(*seconds * float64(time.Second))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "env\tcopies\tworkers\tmedian env-steps/s\tmin\tmax\tns/env-step\tper CPU-second\t")
	for _, c := range []struct{ copies, workers int }{{1, 1}, {*n, *workers}} {
		r, err := env.Bench(*id, c.copies, c.workers, *rounds, total)
		if err != nil {
			return err
		}
		cpu := "n/a"
		if r.MedianPerCPUSec > 0 {
			cpu = fmt.Sprintf("%.4g", r.MedianPerCPUSec)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4g\t%.4g\t%.4g\t%.1f\t%s\t\n", r.Env, r.Copies, r.Workers, r.MedianPerSec, r.MinPerSec, r.MaxPerSec, r.NanosPerEnvStep, cpu)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "(%d rounds of %.2gs each, medians; random actions; episodes reset as they end;\n"+
		" per CPU-second = env-steps / process CPU time, robust to other load on the machine)\n", *rounds, *seconds/float64(*rounds))
	return nil
}
