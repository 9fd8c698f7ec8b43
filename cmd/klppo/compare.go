package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"gopkg.in/yaml.v3"

	"klppo/experiments"
	"klppo/ppo"
)

// compareRunner and compareBaseline are what `klppo compare` trains and scores with (tests swap them).
var (
	compareRunner   experiments.Runner = experiments.PPORunner{}
	compareBaseline                    = experiments.MeasureBaseline
)

func init() {
	register("compare", "compare penalty settings over seeds in parallel: runs.csv, table.md, returns/kl/beta charts", runCompare)
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "(--experiment NAME | --experiment-file FILE | --env ID --penalties SPEC,...) [flags]  |  --list", stderr)
	list := fs.Bool("list", false, "list the built-in experiments and exit")
	expName := fs.String("experiment", "", "run the built-in experiment `NAME` (see --list)")
	expFile := fs.String("experiment-file", "", "run the experiment defined in `FILE` (YAML or JSON, same fields as the built-ins)")
	envID := fs.String("env", "", "environment `ID` of an ad-hoc comparison (with --penalties)")
	penalties := fs.String("penalties", "", "comma-separated penalty `SPECS` of an ad-hoc comparison, e.g. none,clip:0.2,kl-adaptive:0.01,kl-fixed:1")
	seeds := fs.Int("seeds", 0, "seeds per setting, `N` (runs use seeds 1…N; default: the experiment's, 3 for --env)")
	steps := fs.Int("steps", 0, "env steps per run, `N` (default: the experiment's, 100000 for --env)")
	out := fs.String("out", "", "output `DIR` (default runs/compare/<experiment name or env id>)")
	parallel := fs.Int("parallel", runtime.NumCPU(), "runs trained at once, `P`")
	resume := fs.Bool("resume", false, "continue the sweep in --out: skip finished runs, resume interrupted ones from their checkpoints")
	force := fs.Bool("force", false, "start over in an --out that already holds a sweep (overwrites its runs)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	var sets compareSets
	fs.Var(&sets, "set", "hyperparameter override `KEY=VALUE` (config.json names, e.g. --set update_epochs=10 --set hidden=[32,32]); repeatable, applied over the experiment's")
	randomEpisodes := fs.Int("random-episodes", 0, "episodes of the uniform-random policy that measure the random return (default: the experiment's, else 100)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		return compareList(stdout)
	}

	var def experiments.Definition
	chosen := 0
	for _, set := range []bool{*expName != "", *expFile != "", *envID != ""} {
		if set {
			chosen++
		}
	}
	switch {
	case chosen != 1:
		return usagef("give exactly one of --experiment, --experiment-file and --env (see --list)")
	case *expName != "":
		d, err := experiments.Lookup(*expName)
		if err != nil {
			return usagef("--experiment %q: %v", *expName, err)
		}
		def = d
	case *expFile != "":
		d, err := experiments.LoadDefinitionFile(*expFile)
		if err != nil {
			return usagef("--experiment-file: %v", err)
		}
		def = d
	default:
		if *penalties == "" {
			return usagef("--env needs --penalties (e.g. --penalties none,clip:0.2,kl-adaptive:0.01)")
		}
		if _, err := ppo.DefaultConfig(*envID); err != nil {
			return usagef("--env %q: %v", *envID, err)
		}
		def = experiments.Definition{Env: *envID, Penalties: compareSplit(*penalties), Seeds: 3, Steps: 100_000}
	}
	if *penalties != "" && *envID == "" {
		return usagef("--penalties %q: only with --env (an experiment lists its own penalties)", *penalties)
	}
	if *seeds < 0 {
		return usagef("--seeds %d: must be ≥ 1", *seeds)
	}
	if *steps < 0 {
		return usagef("--steps %d: must be ≥ 1", *steps)
	}
	if *parallel < 1 {
		return usagef("--parallel %d: must be ≥ 1", *parallel)
	}
	if *randomEpisodes < 0 {
		return usagef("--random-episodes %d: must be ≥ 1", *randomEpisodes)
	}
	if *resume && *force {
		return usagef("--resume and --force exclude each other")
	}
	sweep := experiments.FromDefinition(def, *seeds, *steps)
	if len(sets) > 0 {
		if sweep.Overrides == nil {
			sweep.Overrides = map[string]any{}
		}
		for _, kv := range sets {
			sweep.Overrides[kv.key] = kv.value
		}
	}
	if *randomEpisodes > 0 {
		sweep.RandomEpisodes = *randomEpisodes
	}
	if _, err := sweep.Validate(compareRunner); err != nil {
		flagName := "--experiment"
		switch {
		case *envID != "":
			flagName = "--penalties"
		case *expFile != "":
			flagName = "--experiment-file"
		}
		switch {
		case strings.Contains(err.Error(), "total_timesteps"):
			flagName = "--steps"
		case strings.Contains(err.Error(), "overrides") && len(sets) > 0:
			flagName = "--set"
		}
		return usagef("%s: %v", flagName, err)
	}
	dir := *out
	if dir == "" {
		name := def.Name
		if name == "" {
			name = def.Env
		}
		dir = filepath.Join("runs", "compare", name)
	}
	if _, err := os.Stat(filepath.Join(dir, experiments.RunsFile)); err == nil && !*resume && !*force {
		return usagef("--out %s already holds a sweep: pass --resume to continue it or --force to start over", dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	total := sweep.TotalSteps()
	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("runs 0/%d", len(sweep.Penalties)*len(sweep.Seeds))),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	opts := experiments.Options{
		OutDir: dir, Parallel: *parallel, Resume: *resume, Force: *force,
		Runner: compareRunner, Baseline: compareBaseline,
		OnProgress: func(done, _ int64) {
			if bar != nil {
				_ = bar.Set64(done)
			}
		},
		OnRunDone: func(r experiments.RunRecord, finished, n int) {
			if bar != nil {
				bar.Describe(fmt.Sprintf("runs %d/%d", finished, n))
			}
		},
	}
	start := time.Now()
	res, err := experiments.Run(ctx, sweep, opts)
	if bar != nil {
		_ = bar.Finish()
	}
	wall := time.Since(start).Seconds()
	if res != nil {
		fmt.Fprintf(stdout, "%s\n\n%s\n", res.Heading(), res.Table(false))
		files := []string{experiments.RunsFile, experiments.TableFile, experiments.ReturnsPlot, experiments.KLPlot}
		if _, e := os.Stat(filepath.Join(dir, experiments.BetaPlot)); e == nil {
			files = append(files, experiments.BetaPlot)
		}
		fmt.Fprintf(stdout, "wrote %s/{%s}; each run in %s/<setting>/seed-<n>/\n", dir, strings.Join(files, ","), dir)
		fmt.Fprintf(stdout, "wall time %.1f s with --parallel %d\n", wall, *parallel)
		failed := 0
		for _, r := range res.Runs {
			if r.Status == experiments.StatusFailed {
				if failed == 0 {
					fmt.Fprintln(stdout, "failed runs:")
				}
				failed++
				fmt.Fprintf(stdout, "  %s seed %d: %s\n", r.Setting, r.Seed, r.Error)
			}
		}
		if failed > 0 && err == nil {
			err = fmt.Errorf("%d of %d runs failed (see %s; --resume retries them)", failed, len(res.Runs), filepath.Join(dir, experiments.RunsFile))
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: rerun with --resume --out %s to continue", dir)
		}
		return err
	}
	return nil
}

func compareList(w io.Writer) error {
	defs, err := experiments.Builtin()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tenv\tsettings\tseeds\tsteps\tdescription")
	for _, d := range defs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", d.Name, d.Env, len(d.Penalties), d.Seeds, d.Steps, d.Description)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nrun one with: klppo compare --experiment NAME [--seeds N] [--steps N] [--parallel P]")
	return nil
}

// compareSplit splits a comma-separated list, dropping empty items.
func compareSplit(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// compareSets is the repeatable --set KEY=VALUE flag; VALUE is parsed as YAML (numbers, booleans,
// lists such as [32,32], strings).
type compareSets []struct {
	key   string
	value any
}

func (c *compareSets) String() string {
	if c == nil {
		return ""
	}
	parts := make([]string, len(*c))
	for i, kv := range *c {
		parts[i] = fmt.Sprintf("%s=%v", kv.key, kv.value)
	}
	return strings.Join(parts, " ")
}

func (c *compareSets) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	var val any
	if err := yaml.Unmarshal([]byte(v), &val); err != nil {
		return fmt.Errorf("%s: value %q: %v", k, v, err)
	}
	*c = append(*c, struct {
		key   string
		value any
	}{k, val})
	return nil
}
