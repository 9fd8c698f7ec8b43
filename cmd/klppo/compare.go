package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	register("compare merge", "combine the --out folders of the shards of a sweep (compare --shard I/N) into the files of the whole sweep", runCompareMerge)
}

func runCompareMerge(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare merge", "--out DIR [--force] SHARD_DIR...", stderr)
	out := fs.String("out", "", "output `DIR` of the merged sweep (required)")
	force := fs.Bool("force", false, "write into an --out that already holds a run (replaces the sweep's files and run folders)")
	// flags may come before, between or after the shard folders
	var shards []string
	for {
		if err := fs.Parse(args); err != nil {
			return parseFlags(fs, args) // the same one-line usage error (or -h) as every command
		}
		if fs.NArg() == 0 {
			break
		}
		shards = append(shards, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *out == "" {
		return usagef("--out %q: give the directory of the merged sweep", *out)
	}
	if len(shards) == 0 {
		return usagef("no shard folders: give the --out folder of every shard, e.g. runs/compare/x/shard-*")
	}
	for _, d := range shards {
		if _, err := os.Stat(filepath.Join(d, experiments.SweepFile)); err != nil {
			return usagef("shard folder %s: no %s (is it the --out of a 'klppo compare --shard' run?)", d, experiments.SweepFile)
		}
	}
	if err := guardOut("--out", *out, *force); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	start := time.Now()
	res, err := experiments.Merge(ctx, shards, experiments.Options{OutDir: *out, Force: *force, Baseline: compareBaseline})
	if err != nil {
		if res == nil && !errors.Is(err, context.Canceled) {
			return usagef("%v", err)
		}
		return err
	}
	return compareReport(stdout, res, *out, false, fmt.Sprintf("merged %d shards in %.1f s", len(shards), time.Since(start).Seconds()), nil)
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
	out := fs.String("out", "", "output `DIR` (default runs/compare/<experiment name or env id>, and /shard-I-of-N in it with --shard); refused if it holds another run, unless --force")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "runs trained at once, `P` (default: the cores this process may use, GOMAXPROCS, which follows a container's CPU limit); while at least P runs wait to start, each is trained single-threaded (one core per run)")
	resume := fs.Bool("resume", false, "continue the sweep in --out: skip finished runs, resume interrupted ones from their checkpoints")
	force := fs.Bool("force", false, "start over in an --out that already holds a sweep or another run (overwrites the sweep's files and runs)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	var sets compareSets
	fs.Var(&sets, "set", "hyperparameter override `KEY=VALUE` (config.json names, e.g. --set update_epochs=10 --set hidden=[32,32]); repeatable, applied over the experiment's")
	randomEpisodes := fs.Int("random-episodes", 0, "episodes of the uniform-random policy that measure the random return (default: the experiment's, else 100)")
	shardFlag := fs.String("shard", "", "run only shard `I/N` of the sweep's runs (1 ≤ I ≤ N; for job arrays, see docs/cluster.md); combine the shards' --out folders with 'klppo compare merge'")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		return compareList(stdout)
	}
	// Ctrl-C (or SIGTERM) from here on stops the sweep cleanly; a second one kills the process.
	ctx, stop := interruptible()
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

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
		specs, err := compareSplit(*penalties)
		if err != nil {
			return usagef("--penalties %q: %v", *penalties, err)
		}
		def = experiments.Definition{Env: *envID, Penalties: specs, Seeds: 3, Steps: 100_000}
	}
	if *penalties != "" && *envID == "" {
		return usagef("--penalties %q: only with --env (an experiment lists its own penalties)", *penalties)
	}
	// a number flag that is given must be valid: 0 is not "the default"
	for _, f := range []struct {
		name string
		v    int
	}{{"seeds", *seeds}, {"steps", *steps}, {"random-episodes", *randomEpisodes}, {"parallel", *parallel}} {
		if (given[f.name] || f.v != 0) && f.v < 1 {
			return usagef("--%s %d: must be ≥ 1", f.name, f.v)
		}
	}
	if given["out"] && *out == "" {
		return usagef("--out %q: give a directory", *out)
	}
	if *resume && *force {
		return usagef("--resume and --force exclude each other")
	}
	var shard experiments.Shard
	if given["shard"] {
		sh, err := experiments.ParseShard(*shardFlag)
		if err != nil {
			return usagef("--shard %q: %v", *shardFlag, err)
		}
		shard = sh
	}
	sweep, err := experiments.FromDefinition(def, *seeds, *steps)
	if err != nil {
		if given["seeds"] {
			return usagef("--seeds %d: %v", *seeds, err)
		}
		return usagef("%s: %v", compareSource(*envID, *expFile), err)
	}
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
		flagName := compareSource(*envID, *expFile)
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
		if !shard.Whole() {
			dir = filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d", shard.Index, shard.Count))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, experiments.RunsFile)); err == nil && !*resume && !*force {
		return usagef("--out %s already holds a sweep: pass --resume to continue it or --force to start over", dir)
	}
	if !*resume {
		if err := guardOut("--out", dir, *force); err != nil {
			return err
		}
	}

	total := int64(len(shard.Runs(sweep))) * int64(sweep.Steps)
	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("runs 0/%d", len(shard.Runs(sweep)))),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	}
	opts := experiments.Options{
		OutDir: dir, Parallel: *parallel, Resume: *resume, Force: *force, Shard: shard,
		Runner: sweepRunner(), Baseline: compareBaseline,
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
		what := fmt.Sprintf("wall time %.1f s with --parallel %d", wall, *parallel)
		if !shard.Whole() {
			what = fmt.Sprintf("shard %s: %s", shard, what)
		}
		err = compareReport(stdout, res, dir, !shard.Whole(), what, err)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: rerun with --resume --out %s to continue", dir)
		}
		return err
	}
	return nil
}

// compareReport prints the table (or, for a shard, the state of its runs), the files written and
// the failed runs of res; it returns err, or an error counting the failed runs when err is nil.
func compareReport(stdout io.Writer, res *experiments.Results, dir string, shard bool, wall string, err error) error {
	if shard {
		counts := map[string]int{}
		for _, r := range res.Runs {
			counts[r.Status]++
		}
		fmt.Fprintf(stdout, "%d runs: %d ok, %d failed, %d interrupted, %d pending\n", len(res.Runs), counts[experiments.StatusOK],
			counts[experiments.StatusFailed], counts[experiments.StatusInterrupted], counts[experiments.StatusPending])
		fmt.Fprintf(stdout, "wrote %s/{%s,%s}; each run in %s/<setting>/seed-<n>/\n", dir, experiments.SweepFile, experiments.RunsFile, dir)
		fmt.Fprintln(stdout, "when every shard is done: klppo compare merge --out DIR SHARD_DIR... (see docs/cluster.md)")
	} else {
		fmt.Fprintf(stdout, "%s\n\n%s\n", res.Heading(), res.Table(false))
		files := []string{experiments.RunsFile, experiments.TableFile, experiments.ReturnsPlot, experiments.KLPlot}
		if _, e := os.Stat(filepath.Join(dir, experiments.BetaPlot)); e == nil {
			files = append(files, experiments.BetaPlot)
		}
		fmt.Fprintf(stdout, "wrote %s/{%s}; each run in %s/<setting>/seed-<n>/\n", dir, strings.Join(files, ","), dir)
	}
	fmt.Fprintln(stdout, wall)
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
	return err
}

// compareSource names the flag that chose the sweep, for error messages.
func compareSource(envID, expFile string) string {
	switch {
	case envID != "":
		return "--penalties"
	case expFile != "":
		return "--experiment-file"
	}
	return "--experiment"
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

// compareSplit splits a comma-separated list of penalty specs; an empty item is an error naming
// its position (a doubled or trailing comma is a typo, not a request for fewer settings).
func compareSplit(s string) ([]string, error) {
	var out []string
	for i, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			return nil, fmt.Errorf("item %d is empty", i+1)
		}
		out = append(out, p)
	}
	return out, nil
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

// sweepRunner is compareRunner, except that a sweep run by the klppo binary with the default
// runner trains the runs it puts side by side in child processes (see compare_proc.go).
func sweepRunner() experiments.Runner {
	if r, ok := compareRunner.(experiments.PPORunner); ok && r.Train == nil {
		if exe := klppoExecutable(); exe != "" {
			return experiments.PPORunner{Train: childTrainer(exe)}
		}
	}
	return compareRunner
}
