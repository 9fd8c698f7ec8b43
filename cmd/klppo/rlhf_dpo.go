package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"klppo/experiments/rlhf"
)

// dpoTrainFlags are the training and evaluation flags every DPO command shares.
type dpoTrainFlags struct {
	lr                                       *float64
	epochs, batch, evals, samples, massEvery *int
}

// addDPOTrainFlags adds them with the defaults of d.
func addDPOTrainFlags(fs *flag.FlagSet, d rlhf.DPOConfig) *dpoTrainFlags {
	return &dpoTrainFlags{
		lr:        fs.Float64("lr", d.LR, "Adam learning rate"),
		epochs:    fs.Int("epochs", d.Epochs, "passes over the preference pairs"),
		batch:     fs.Int("batch", d.Batch, "pairs per gradient step"),
		evals:     fs.Int("evals-per-epoch", d.EvalsPerEpoch, "evaluations (rows of metrics.csv) per epoch, after the one at step 0"),
		samples:   fs.Int("eval-samples", d.EvalSamples, "sequences sampled from π at each evaluation (KL, gold, proxy, in-language)"),
		massEvery: fs.Int("mass-every", d.MassEvery, "exact mass on the language at every Nth evaluation and at the first and last (0: only those; -1: never)"),
	}
}

// apply sets the flags' values in c.
func (t *dpoTrainFlags) apply(c *rlhf.DPOConfig) {
	c.LR, c.Epochs, c.Batch, c.EvalsPerEpoch, c.EvalSamples, c.MassEvery = *t.lr, *t.epochs, *t.batch, *t.evals, *t.samples, *t.massEvery
}

// bindDPOFlags records which flag sets which field of a DPO configuration (prefix: where the
// library's *rlhf.ConfigError puts the configuration, "dpo.").
func bindDPOFlags(f *rlhfFlags, prefix string) {
	for name, field := range map[string]string{"lr": "lr", "epochs": "epochs", "batch": "batch", "evals-per-epoch": "evals_per_epoch",
		"eval-samples": "eval_samples", "mass-every": "mass_every", "loss": "loss", "logp": "logp", "beta": "beta"} {
		f.bind(name, prefix+field)
	}
}

// dpoFlags are the flags of `klppo rlhf dpo` beyond the shared rlhf ones.
type dpoFlags struct {
	loss, logp *string
	beta       *float64
	train      *dpoTrainFlags
}

func addDPOFlags(fs *flag.FlagSet) *dpoFlags {
	d := rlhf.DefaultDPOConfig(rlhf.LossDPO, 0.1, 1)
	return &dpoFlags{
		loss:  fs.String("loss", string(d.Loss), "dpo: −ln σ(β·h) (Rafailov et al. 2023, TRL's default); ipo: (h − 1/(2β))² with β as τ (Azar et al. 2023, TRL loss_type=\"ipo\")"),
		logp:  fs.String("logp", "", "how a completion's ln π − ln π_ref enters h: sum over its tokens or mean (default: sum for dpo, mean for ipo, as TRL)"),
		beta:  fs.Float64("beta", d.Beta, "DPO's β (the KL coefficient of the objective it solves, TRL's default 0.1) or IPO's τ"),
		train: addDPOTrainFlags(fs, d),
	}
}

// config is the DPO configuration of the flags (validated by the library).
func (d *dpoFlags) config(seed uint64) rlhf.DPOConfig {
	c := rlhf.DefaultDPOConfig(rlhf.DPOLoss(*d.loss), *d.beta, seed)
	if *d.logp != "" {
		c.Logp = rlhf.LogpNorm(*d.logp)
	}
	d.train.apply(&c)
	return c
}

func runRLHFDPO(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf dpo", "[--loss dpo|ipo] [--beta B] [--epochs N] [--lr X] [--label-noise T] [--sft DIR] [--rm DIR] [--seed S] [--out DIR]",
		"runs/rlhf/dpo", stderr, prepareGroup)
	df := addDPOFlags(f.fs)
	bindDPOFlags(f, "dpo.")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg := df.config(*f.seed)
	if err := cfg.Validate(); err != nil {
		return f.usage(err)
	}
	pc, err := f.prepareConfig() // --label-noise 0: deterministic preferences, by the gold order
	if err != nil {
		return err
	}
	prefs := pc.RM
	if *f.rmDir != "" {
		// The pairs of a loaded reward model: its own configuration (seed, pairs, label noise).
		if prefs, err = rlhf.ReadRMConfig(*f.rmDir); err != nil {
			return usagef("--rm %q: %v", *f.rmDir, err)
		}
	}
	// The library checks again with the π_ref it loads.
	if err := f.usage(cfg.CheckMemory(pc.SFT.Model, prefs)); err != nil {
		return err
	}
	if err := f.guard(append(f.prepareDirs(), "")...); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	logf := f.logf(stdout)
	prep, err := rlhf.Prepare(ctx, pc, *f.out, logf)
	if err != nil {
		return f.usage(err)
	}
	on := func(m rlhf.DPOMetrics) {
		logf(fmt.Sprintf("epoch %5.2f  gold %6.3f  KL %6.2f  in-lang %4.0f%%  Δ chosen %7.2f  Δ rejected %7.2f  held-out acc %4.1f%%  off-data mass %.3f",
			m.Epoch, m.Gold, m.KL, 100*m.InLanguage, m.ChosenChange, m.RejectedChange, 100*m.HeldoutAcc, m.MassOffData))
	}
	sum, err := rlhf.RunDPO(ctx, prep.Env, prefs, cfg, *f.out, on)
	if err != nil {
		return err
	}
	ms, err := rlhf.ReadDPOMetrics(filepath.Join(*f.out, rlhf.MetricsFile))
	if err != nil {
		return err
	}
	label := fmt.Sprintf("%s β %g", cfg.Loss, cfg.Beta)
	if err := rlhf.DPOCharts(*f.out, "dpo", []rlhf.DPOCurves{{Label: label, Metrics: ms, Ref: sum}}); err != nil {
		return err
	}
	printDPO(stdout, []dpoRow{{label, sum}})
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s,dpo-*.png} in %.1f s\n", *f.out, rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile,
		rlhf.SummaryFile, time.Since(start).Seconds())
	return nil
}

type dpoRow struct {
	name string
	s    rlhf.DPOSummary
}

// printDPO prints the π_ref line and, per run, the final and peak numbers of its summary.
func printDPO(w io.Writer, rows []dpoRow) {
	if len(rows) == 0 {
		return
	}
	r0 := rows[0].s
	fmt.Fprintf(w, "\n%-16s %7s %7s %8s %8s %10s %11s %9s %9s  %s\n", "run", "proxy", "gold", "KL(nats)", "in-lang",
		"Δ chosen", "Δ rejected", "held-out", "off-data", "sample at the end")
	fmt.Fprintf(w, "%-16s %7.2f %7.3f %8s %7.0f%% %10s %11s %9s %9s  %s\n", "π_ref", r0.RefProxy, r0.RefGold, "0",
		100*r0.RefInLanguage, "0", "0", "50%", "", first(r0.SamplesStart))
	for _, r := range rows {
		s := r.s
		fmt.Fprintf(w, "%-16s %7.2f %7.3f %8.2f %7.0f%% %10.2f %11.2f %8.1f%% %9.3f  %s\n", r.name, s.FinalProxy, s.FinalGold,
			s.FinalKL, 100*s.FinalInLanguage, s.FinalChosenLogpChange, s.FinalRejectedLogpChange, 100*s.HeldoutPairAcc,
			s.FinalMassOffData, first(s.SamplesEnd))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s: gold peaked at %.3f (epoch %.2f, KL %.2f): %s\n", r.name, r.s.PeakGold, r.s.PeakEpoch, r.s.PeakKL, first(r.s.SamplesPeak))
	}
}

// armList is a flag.Value for comma-separated DPO arms such as "dpo:0.1,ipo:0.1,ipo-sum:0.1".
type armList []rlhf.DPOArm

func (l *armList) String() string {
	if l == nil {
		return ""
	}
	var s []string
	for _, a := range *l {
		s = append(s, a.String())
	}
	return strings.Join(s, ",")
}

func (l *armList) Set(v string) error {
	var out armList
	for _, p := range strings.Split(v, ",") {
		a, err := rlhf.ParseDPOArm(p)
		if err != nil {
			return err
		}
		out = append(out, a)
	}
	*l = out
	return nil
}

func runRLHFDrift(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf drift", "[--arms dpo:0.1,ipo:0.1,ipo-sum:0.1] [--epochs N] [--seeds 1,2,3] [--label-noise T] [--out DIR]",
		"runs/rlhf/drift", stderr, prepareGroup)
	fs := f.fs
	def := rlhf.DefaultDriftConfig()
	arms := armList(def.Arms)
	fs.Var(&arms, "arms", "the runs per seed, LOSS[-LOGP]:BETA comma-separated (LOGP sum or mean; default sum for dpo, mean for ipo)")
	seeds := fs.String("seeds", "1,2,3", "seeds, comma-separated")
	train := addDPOTrainFlags(fs, def.DPO)
	parallel := fs.Int("parallel", def.Parallel, "runs of a seed trained at once (results do not depend on it)")
	resume := fs.Bool("resume", false, "keep the runs of --out that completed with the same settings; train the rest and redo the report")
	bindDPOFlags(f, "dpo.")
	f.bind("arms", "arms")
	f.bind("seeds", "seeds")
	f.bind("parallel", "parallel")
	if err := f.parse(args); err != nil {
		return err
	}
	if *resume && *f.force {
		return usagef("--resume and --force: choose one")
	}
	if *f.sftDir != "" || *f.rmDir != "" {
		return usagef("--sft/--rm: the drift experiment trains π_ref and a reward model per seed; drop them")
	}
	explicit := false
	fs.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "label-noise" })
	if !explicit {
		*f.labelNoise = def.Prepare.RM.Temperature // deterministic preferences unless asked otherwise
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg := def
	cfg.Prepare, cfg.Arms, cfg.Parallel = pc, arms, *parallel
	train.apply(&cfg.DPO)
	if cfg.Seeds, err = seedList("seeds", *seeds); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return f.usage(err)
	}
	if err := f.usage(cfg.CheckMemory()); err != nil {
		return err
	}
	if !*resume {
		if err := f.guard(""); err != nil {
			return err
		}
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	logf := f.logf(stdout)
	_, table, err := rlhf.Drift(ctx, cfg, *f.out, rlhf.DriftEpochs(cfg.DPO.Epochs), rlhf.DPOGridOptions{Resume: *resume, OnRun: func(r rlhf.DPOGridRun) {
		s := r.Summary
		logf(fmt.Sprintf("seed %d %s: final KL %.2f, gold %.3f, Δ chosen %.1f, Δ rejected %.1f, off-data mass %.3f",
			r.Seed, r.Arm.Name(), s.FinalKL, s.FinalGold, s.FinalChosenLogpChange, s.FinalRejectedLogpChange, s.FinalMassOffData))
	}})
	fmt.Fprintln(stdout, table)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/{drift.md,drift.json,drift-*.png} and %s/seed-*/ in %.1f s\n", *f.out, *f.out, time.Since(start).Seconds())
	return nil
}

// methodDirs is a repeatable flag NAME=DIR: another method's runs for the frontier.
type methodDirs map[string]string

func (m methodDirs) String() string {
	var s []string
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	slices.Sort(s)
	return strings.Join(s, ",")
}

func (m methodDirs) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("%q: want NAME=DIR, e.g. grpo=runs/leash", v)
	}
	if _, dup := m[name]; dup {
		return fmt.Errorf("method %q given twice", name)
	}
	m[name] = dir
	return nil
}

func runRLHFFrontier(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rlhf frontier", "--sweep DIR [--arms dpo:0.1,ipo:1,…] [--method NAME=DIR]… [--epochs N] [--out DIR] [--resume]", stderr)
	def := rlhf.DefaultFrontierConfig("")
	sweep := fs.String("sweep", "", "the directory of a finished 'klppo rlhf sweep' (its π_ref, reward models, PPO runs and best-of-n)")
	out := fs.String("out", "runs/rlhf/frontier", "output directory")
	quiet := fs.Bool("quiet", false, "no per-run lines")
	force := fs.Bool("force", false, "write into an output directory that already holds a run (overwrites its files)")
	resume := fs.Bool("resume", false, "keep the DPO runs of --out that completed with the same settings; train the rest")
	arms := armList(def.Grid.Arms)
	fs.Var(&arms, "arms", "DPO/IPO runs per seed, LOSS[-LOGP]:BETA comma-separated (LOGP sum or mean; default sum for dpo, mean for ipo)")
	methods := methodDirs{}
	fs.Var(methods, "method", "another method's runs, NAME=DIR (repeatable; NAME not bon, best-of-n's): every directory under DIR with metrics.csv and summary.json")
	train := addDPOTrainFlags(fs, def.Grid.DPO)
	parallel := fs.Int("parallel", def.Grid.Parallel, "DPO runs of a seed trained at once (results do not depend on it)")
	fitMaxD := fs.Float64("fit-max-d", def.FitMaxD, "fit Gao's RL law to the rows with d = √KL ≤ this (0: all; negative: the sweep's)")
	// The frontier's errors name its configuration's fields (rlhf.FrontierConfig.Validate);
	// usage maps them back to these flags.
	f := &rlhfFlags{fs: fs, flagOf: map[string]string{}}
	bindDPOFlags(f, "grid.dpo.")
	for name, field := range map[string]string{"sweep": "sweep", "arms": "grid.arms", "parallel": "grid.parallel", "method": "methods",
		"fit-max-d": "fit_max_d"} {
		f.bind(name, field)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := def
	cfg.Sweep, cfg.Methods, cfg.FitMaxD = *sweep, methods, *fitMaxD
	cfg.Grid.Arms, cfg.Grid.Parallel = arms, *parallel
	train.apply(&cfg.Grid.DPO)
	if err := f.usage(cfg.Validate()); err != nil {
		return err
	}
	if *resume && *force {
		return usagef("--resume and --force: choose one")
	}
	if !*resume {
		if err := guardOut("--out", *out, *force); err != nil {
			return err
		}
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	_, md, err := rlhf.RunFrontier(ctx, cfg, *out, rlhf.DPOGridOptions{Resume: *resume, OnRun: func(r rlhf.DPOGridRun) {
		if !*quiet {
			s := r.Summary
			fmt.Fprintf(stdout, "seed %d %s: peak gold %.3f at KL %.2f, final gold %.3f at KL %.2f\n", r.Seed, r.Arm.Name(), s.PeakGold, s.PeakKL, s.FinalGold, s.FinalKL)
		}
	}})
	if err != nil {
		return f.usage(err) // a *rlhf.ConfigError (the grid would not fit in memory) comes before any run
	}
	fmt.Fprintln(stdout, md)
	fmt.Fprintf(stdout, "wrote %s/{frontier-methods.md,.csv,.json,frontier-methods-gold*.png} and %s/seed-*/ in %.1f s\n", *out, *out, time.Since(start).Seconds())
	return nil
}
