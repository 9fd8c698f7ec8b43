package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"klppo/experiments/rlhf"
	"klppo/internal/rundir"
	"klppo/kl"
	"klppo/ppo"

	"github.com/schollz/progressbar/v3"
)

// defaultLeash is the β of the "with the default leash" run of `klppo rlhf` (k1 in the reward,
// fixed β, TRL's classic PPOTrainer placement).
const defaultLeash = 0.5

func init() {
	register("rlhf", "RLHF in miniature: SFT → reward model → PPO without and with the KL(π‖π_ref) leash (--kl-coef B: one β)", runRLHF)
	register("rlhf sft", "train π_ref on the reviews grammar; report CE = H(P) + KL(P‖π_ref)", runRLHFSFT)
	register("rlhf rm", "label π_ref sample pairs with a Bradley–Terry labeler and train the reward model", runRLHFRM)
	register("rlhf ppo", "token-level PPO from π_ref against the reward model, KL(π‖π_ref) by --kl-in/--kl-estimator/--kl-ctl", runRLHFPPO)
	register("rlhf bon", "best-of-n from π_ref ranked by the reward model: gold and proxy vs n, KL bound and estimate", runRLHFBoN)
	register("rlhf dpo", "DPO or IPO offline from π_ref on the reward model's preference pairs: KL(π‖π_ref), gold, likelihood displacement, where the mass goes", runRLHFDPO)
	register("rlhf drift", "DPO and IPO on deterministic preferences over many epochs, 3 seeds: does the KL keep growing, does π(rejected) → 0, where does the mass go", runRLHFDrift)
	register("rlhf frontier", "DPO and IPO β grids on a sweep's seeds, with its PPO runs, best-of-n and other methods' runs on one gold-vs-√KL frontier, Gao's law per method", runRLHFFrontier)
	register("rlhf sweep", "β grid × seeds plus best-of-n: the gold/proxy frontier against √KL with Gao et al.'s fits", runRLHFSweep)
}

// rlhfFlags are the flags of an rlhf command, in groups that the commands share (newRLHFFlags).
// Every value goes to the library unchecked: the library's Validate and CheckMemory methods hold
// every rule, and usage maps the field their *rlhf.ConfigError names back to the flag.
type rlhfFlags struct {
	fs     *flag.FlagSet
	flagOf map[string]string // rlhf.ConfigError.Field → the flag that sets it

	seed                       *uint64
	out                        *string
	quiet, force               *bool
	sftDir, rmDir              *string
	labelNoise                 *float64
	klCoef                     *float64
	klIn, klEst, klCtl         *string
	klTarget, klHorizon        *float64
	updates, batch, minibatch  *int
	epochs                     *int
	lr, clip, gamma, lambda    *float64
	sftEpochs, pairs, sentence *int
	reward                     *string
}

// rlhfGroup adds a group of flags to an rlhf command.
type rlhfGroup func(f *rlhfFlags)

// newRLHFFlags returns the FlagSet of the rlhf command at path with the common flags (--seed,
// --out with the default out, --quiet, --force) and the given groups.
func newRLHFFlags(path, synopsis, out string, stderr io.Writer, groups ...rlhfGroup) *rlhfFlags {
	f := &rlhfFlags{fs: newFlagSet(path, synopsis, stderr), flagOf: map[string]string{"out": "out"}}
	f.seed = f.fs.Uint64("seed", 1, "random seed (corpus, models, preference pairs, rollouts)")
	f.out = f.fs.String("out", out, "output directory")
	f.quiet = f.fs.Bool("quiet", false, "no progress bar and no per-stage lines")
	f.force = f.fs.Bool("force", false, "write into output directories that already hold a run (overwrites their files)")
	for _, g := range groups {
		g(f)
	}
	return f
}

// bind records that flag name sets the library field (an rlhf.ConfigError.Field).
func (f *rlhfFlags) bind(name string, fields ...string) {
	for _, field := range fields {
		f.flagOf[field] = name
	}
}

// prepareGroup: π_ref and the reward model, trained (--corpus, --sft-epochs, --pairs,
// --label-noise) or loaded (--sft, --rm).
func prepareGroup(f *rlhfFlags) {
	d := rlhf.DefaultPrepareConfig(1)
	f.sftDir = f.fs.String("sft", "", "load π_ref from this directory (written by 'klppo rlhf sft') instead of training it")
	f.rmDir = f.fs.String("rm", "", "load the reward model from this directory (written by 'klppo rlhf rm') instead of training it")
	f.labelNoise = f.fs.Float64("label-noise", d.RM.Temperature, "the labeler's Bradley–Terry temperature τ: P(a ≻ b) = σ((gold(a) − gold(b))/τ)")
	f.sftEpochs = f.fs.Int("sft-epochs", d.SFT.Epochs, fmt.Sprintf("SFT epochs over the corpus (1 to %d)", rlhf.MaxTrainEpoch))
	f.sentence = f.fs.Int("corpus", d.SFT.Train, fmt.Sprintf("SFT corpus size, sentences sampled from the grammar (1 to %d)", rlhf.MaxSentences))
	f.pairs = f.fs.Int("pairs", d.RM.Pairs, fmt.Sprintf("preference pairs for the reward model (%d to %d)", d.RM.Batch, rlhf.MaxPairs))
	f.bind("sft", "sft_dir")
	f.bind("rm", "rm_dir")
	f.bind("label-noise", "rm.label_noise")
	f.bind("sft-epochs", "sft.epochs")
	f.bind("corpus", "sft.train_sentences")
	f.bind("pairs", "rm.pairs")
}

// ppoGroup: token-level PPO and the KL(π‖π_ref) leash; with withBeta, --kl-coef sets β
// (defBeta by default), else β is not a flag (the sweep sets it per run from --betas).
func ppoGroup(defBeta float64, withBeta bool) rlhfGroup {
	return func(f *rlhfFlags) {
		d := rlhf.DefaultPPOConfig(defBeta, 1)
		f.klCoef = &d.KL.Beta
		if withBeta {
			f.klCoef = f.fs.Float64("kl-coef", defBeta, fmt.Sprintf("β, the initial coefficient of KL(π‖π_ref): 0 (no leash) to %g; with --kl-ctl prop or adaptive %g to %g", float64(rlhf.MaxBeta), ppo.DefaultBetaMin, ppo.DefaultBetaMax))
			f.bind("kl-coef", "ppo.kl.beta")
		}
		f.klIn = f.fs.String("kl-in", string(d.KL.In), "where β·KL goes: reward (per-token reward shaping, TRL PPO) or loss (added to the loss, GRPO/verl use_kl_loss)")
		f.klEst = f.fs.String("kl-estimator", d.KL.Estimator.String(), "per-token KL estimator: k1, k2, k3 or exact (full-vocabulary KL at each position)")
		f.klCtl = f.fs.String("kl-ctl", d.Ctl, fmt.Sprintf("β controller: fixed, prop (Ziegler et al./TRL proportional, --kl-target, --kl-horizon) or adaptive (PPO paper's halve/double, --kl-target); both keep β in [%g, %g]", ppo.DefaultBetaMin, ppo.DefaultBetaMax))
		f.klTarget = f.fs.Float64("kl-target", d.Target, "target KL(π‖π_ref) in nats per sequence for --kl-ctl prop|adaptive")
		f.klHorizon = f.fs.Float64("kl-horizon", d.Horizon, "horizon of the proportional controller, in sequences")
		f.updates = f.fs.Int("updates", d.Updates, fmt.Sprintf("PPO updates (rollouts), 1 to %d", rlhf.MaxUpdates))
		f.batch = f.fs.Int("batch", d.Batch, fmt.Sprintf("sequences per rollout, 1 to %d", rlhf.MaxBatch))
		f.minibatch = f.fs.Int("minibatch", d.Minibatch, fmt.Sprintf("tokens per gradient step, 1 to %d", rlhf.MaxMinibatch))
		f.epochs = f.fs.Int("epochs", d.Epochs, fmt.Sprintf("PPO epochs per rollout, 1 to %d", rlhf.MaxEpochs))
		f.lr = f.fs.Float64("lr", d.LR, "Adam learning rate (policy and value), in (0, 1]")
		f.clip = f.fs.Float64("clip", d.Clip, "PPO ratio clip ε (the trust region to π_old, not the leash to π_ref)")
		f.gamma = f.fs.Float64("gamma", d.Gamma, "discount over tokens")
		f.lambda = f.fs.Float64("lambda", d.Lambda, "GAE λ")
		f.reward = rewardFlag(f.fs)
		for name, field := range map[string]string{"kl-in": "ppo.kl.in", "kl-estimator": "ppo.kl.estimator", "kl-ctl": "ppo.kl_ctl",
			"kl-target": "ppo.kl_target", "kl-horizon": "ppo.kl_horizon", "updates": "ppo.updates", "batch": "ppo.batch",
			"minibatch": "ppo.minibatch", "epochs": "ppo.epochs", "lr": "ppo.lr", "clip": "ppo.clip", "gamma": "ppo.gamma",
			"lambda": "ppo.lambda", "reward": "ppo.reward"} {
			f.bind(name, field)
		}
	}
}

// parse parses args and refuses string flags given empty (--out "" would mean the current
// directory).
func (f *rlhfFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	return refuseEmptyFlags(f.fs)
}

// usage turns an *rlhf.ConfigError into a usage error (exit 2) that names the flag which set the
// field, with the value as given; other errors are returned unchanged.
func (f *rlhfFlags) usage(err error) error {
	var ce *rlhf.ConfigError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	name, ok := f.flagOf[ce.Field]
	fl := f.fs.Lookup(name)
	if !ok || fl == nil {
		return usagef("%v", ce) // a setting no flag of this command sets: named as in config.json
	}
	given := fl.Value.String()
	if g, ok := fl.Value.(flag.Getter); ok {
		if _, isString := g.Get().(string); isString {
			given = strconv.Quote(given)
		}
	}
	if v := fmt.Sprint(ce.Value); v != given && strconv.Quote(v) != given && v != strings.Trim(given, `"`) {
		return usagef("--%s %s: %s: %s", name, given, v, ce.Reason)
	}
	return usagef("--%s %s: %s", name, given, ce.Reason)
}

// logf prints a progress line on stdout unless --quiet.
func (f *rlhfFlags) logf(stdout io.Writer) func(string) {
	return func(s string) {
		if !*f.quiet {
			fmt.Fprintln(stdout, s)
		}
	}
}

// guard refuses output directories that already hold a run (unless --force); dirs are relative to
// --out ("" is --out itself).
func (f *rlhfFlags) guard(dirs ...string) error {
	for _, d := range dirs {
		if err := guardOut("--out", filepath.Join(*f.out, d), *f.force); err != nil {
			return err
		}
	}
	return nil
}

// prepareDirs are the directories Prepare writes under --out for the stages it trains.
func (f *rlhfFlags) prepareDirs() []string {
	var d []string
	if *f.sftDir == "" {
		d = append(d, "sft")
	}
	if *f.rmDir == "" {
		d = append(d, "rm")
	}
	return d
}

// prepareFields is the pipeline the flags of prepareGroup set (not validated).
func (f *rlhfFlags) prepareFields() rlhf.PrepareConfig {
	pc := rlhf.DefaultPrepareConfig(*f.seed)
	pc.RM.Temperature = *f.labelNoise
	pc.SFT.Epochs, pc.SFT.Train, pc.RM.Pairs = *f.sftEpochs, *f.sentence, *f.pairs
	pc.SFTDir, pc.RMDir = *f.sftDir, *f.rmDir
	return pc
}

// prepareConfig is the pipeline of the flags, validated, with its memory checked.
func (f *rlhfFlags) prepareConfig() (rlhf.PrepareConfig, error) {
	pc := f.prepareFields()
	if err := pc.Validate(); err != nil {
		return pc, f.usage(err)
	}
	return pc, f.usage(pc.CheckMemory())
}

// ppoFields is the PPO configuration the flags of ppoGroup set (not validated: the sweep
// validates it as its template).
func (f *rlhfFlags) ppoFields() (rlhf.PPOConfig, error) {
	c := rlhf.DefaultPPOConfig(*f.klCoef, *f.seed)
	est, err := kl.ParseEstimator(*f.klEst)
	if err != nil {
		return c, usagef("--kl-estimator %q: want k1, k2, k3 or exact", *f.klEst)
	}
	c.KL.In, c.KL.Estimator = ppo.KLRefPlacement(*f.klIn), est
	c.Ctl, c.Target, c.Horizon = *f.klCtl, *f.klTarget, *f.klHorizon
	c.Updates, c.Batch, c.Minibatch, c.Epochs = *f.updates, *f.batch, *f.minibatch, *f.epochs
	c.LR, c.Clip, c.Gamma, c.Lambda = *f.lr, *f.clip, *f.gamma, *f.lambda
	c.Reward = rlhf.Reward(*f.reward)
	return c, nil
}

// ppoConfig is the PPO configuration of the flags, validated, with the memory of a run of the
// default model checked (the library checks again with the model it loads).
func (f *rlhfFlags) ppoConfig() (rlhf.PPOConfig, error) {
	c, err := f.ppoFields()
	if err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, f.usage(err)
	}
	return c, f.usage(c.CheckMemory(rlhf.DefaultPrepareConfig(*f.seed).SFT.Model))
}

// ppoBar is the progress of a PPO run's updates, showing proxy, gold, KL and β.
func ppoBar(stderr io.Writer, quiet bool, total int, label string) (*progress, func(rlhf.UpdateMetrics)) {
	bar := newProgress(stderr, quiet, int64(total), label, progressbar.OptionSetWidth(20))
	if bar == nil {
		return nil, nil
	}
	return bar, func(m rlhf.UpdateMetrics) {
		bar.Describe(fmt.Sprintf("%s proxy %.2f gold %.2f KL %.2f β %.3g", label, m.Proxy, m.Gold, m.KL, m.Beta))
		bar.Add(1)
	}
}

func runPPOWithBar(ctx context.Context, env rlhf.Env, cfg rlhf.PPOConfig, dir, label string, quiet bool, stderr io.Writer) (rlhf.Summary, error) {
	bar, on := ppoBar(stderr, quiet, cfg.Updates, label)
	sum, err := rlhf.RunPPO(ctx, env, cfg, dir, on)
	bar.Finish()
	return sum, err
}

func runRLHF(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf", "[--seed S] [--kl-coef B] [--out DIR] [--quiet] [PPO and KL flags]", "runs/rlhf", stderr,
		prepareGroup, ppoGroup(defaultLeash, true))
	if err := f.parse(args); err != nil {
		return err
	}
	oneBeta := false
	f.fs.Visit(func(fl *flag.Flag) { oneBeta = oneBeta || fl.Name == "kl-coef" })
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg, err := f.ppoConfig()
	if err != nil {
		return err
	}
	runDirs := []string{"no-leash", "leash"}
	if oneBeta {
		runDirs = []string{""}
	}
	if err := f.guard(append(f.prepareDirs(), runDirs...)...); err != nil {
		return err
	}
	if !oneBeta { // the story's directory holds sft/, rm/, no-leash/, leash/ and the story charts
		if err := rundir.WriteKind(*f.out, rundir.KindRLHFStory); err != nil {
			return fmt.Errorf("--out %s: %w", *f.out, err)
		}
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	logf := f.logf(stdout)
	prep, err := rlhf.Prepare(ctx, pc, *f.out, logf)
	if err != nil {
		return f.usage(err)
	}
	if oneBeta {
		sum, err := runPPOWithBar(ctx, prep.Env, cfg, *f.out, fmt.Sprintf("β %g", cfg.KL.Beta), *f.quiet, stderr)
		if err != nil {
			return f.usage(err)
		}
		printStory(stdout, []storyRow{{fmt.Sprintf("β = %g (%s)", cfg.KL.Beta, cfg.Ctl), sum}})
		fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s} (π_ref in %s, reward model in %s) in %.1f s\n", *f.out, rlhf.ConfigFile,
			rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile, prep.Env.SFTDir, prep.Env.RMDir, time.Since(start).Seconds())
		return nil
	}
	// The story: no leash, then the default leash.
	var rows []storyRow
	var curves []rlhf.RunCurves
	for _, s := range []struct {
		name, dir string
		beta      float64
	}{{"no leash (β = 0)", "no-leash", 0}, {fmt.Sprintf("leash β = %g", cfg.KL.Beta), "leash", cfg.KL.Beta}} {
		c := cfg
		c.KL.Beta = s.beta
		if s.beta == 0 {
			c.Ctl = "fixed"
		}
		dir := filepath.Join(*f.out, s.dir)
		sum, err := runPPOWithBar(ctx, prep.Env, c, dir, s.dir, *f.quiet, stderr)
		if err != nil {
			return f.usage(err)
		}
		rows = append(rows, storyRow{s.name, sum})
		ms, err := rlhf.ReadMetrics(filepath.Join(dir, rlhf.MetricsFile))
		if err != nil {
			return err
		}
		curves = append(curves, rlhf.RunCurves{Label: s.name, Metrics: ms, Ref: sum})
	}
	if err := rlhf.StoryCharts(*f.out, "story", curves, 0); err != nil {
		return err
	}
	printStory(stdout, rows)
	fmt.Fprintf(stdout, "wrote %s/{sft,rm,no-leash,leash}/ and %s/story-{gold,proxy,kl,inlang,beta}.png in %.1f s\n",
		*f.out, *f.out, time.Since(start).Seconds())
	return nil
}

type storyRow struct {
	name string
	s    rlhf.Summary
}

func printStory(w io.Writer, rows []storyRow) {
	if len(rows) == 0 {
		return
	}
	r0 := rows[0].s
	fmt.Fprintf(w, "\n%-20s %8s %8s %9s %8s  %s\n", "setting", "proxy", "gold", "KL(nats)", "in-lang", "sample at the end")
	fmt.Fprintf(w, "%-20s %8.2f %8.3f %9s %7.0f%%  %s\n", "π_ref", r0.RefProxy, r0.RefGold, "0", 100*r0.RefInLanguage, first(r0.SamplesStart))
	for _, r := range rows {
		fmt.Fprintf(w, "%-20s %8.2f %8.3f %9.2f %7.0f%%  %s\n", r.name, r.s.FinalProxy, r.s.FinalGold, r.s.FinalKL,
			100*r.s.FinalInLanguage, first(r.s.SamplesEnd))
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%s: gold peaked at %.3f (update %d, KL %.2f): %s\n", r.name, r.s.PeakGold, r.s.PeakUpdate, r.s.PeakKL, first(r.s.SamplesPeak))
	}
	var tps []string
	for _, r := range rows {
		tps = append(tps, fmt.Sprintf("%.0f (%s)", r.s.TokensPerS, r.name))
	}
	fmt.Fprintf(w, "PPO tokens/s: %s\n", strings.Join(tps, ", "))
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func runRLHFSFT(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf sft", "[--seed S] [--out DIR] [--sft-epochs N] [--corpus N]", "runs/rlhf/sft", stderr, prepareGroup)
	if err := f.parse(args); err != nil {
		return err
	}
	if *f.sftDir != "" {
		return usagef("--sft %q: this command trains π_ref; drop --sft", *f.sftDir)
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	if err := f.guard(""); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	g, err := rlhf.Reviews()
	if err != nil {
		return err
	}
	h, l := g.Entropy()
	fmt.Fprintf(stdout, "reviews grammar: %d words, H(P) = %.4f nats/sentence (%.4f per token, E|x| = %.3f), longest sentence %d tokens\n",
		g.V(), h, h/l, l, g.MaxLen())
	m, rep, err := rlhf.TrainSFT(ctx, g, pc.SFT, func(e rlhf.SFTEpoch) {
		if !*f.quiet {
			fmt.Fprintf(stdout, "epoch %d: train CE %.4f, held-out CE %.4f nats/token\n", e.Epoch, e.TrainCE, e.TestCE)
		}
	})
	if err != nil {
		return f.usage(err)
	}
	if err := rlhf.SaveSFT(*f.out, m, rep, pc.SFT); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%-12s %12s %12s\n", "", "per sentence", "per token")
	fmt.Fprintf(stdout, "%-12s %12.4f %12.4f   (held-out, ± %.4f per sentence)\n", "CE", rep.CESentence, rep.CEToken, rep.CESentenceSE)
	fmt.Fprintf(stdout, "%-12s %12.4f %12.4f   (exact, from the grammar)\n", "H(P)", rep.HSentence, rep.HToken)
	fmt.Fprintf(stdout, "%-12s %12.4f %12.4f   (= CE − H)\n", "KL(P‖π_ref)", rep.KLSentence, rep.KLToken)
	fmt.Fprintf(stdout, "%-12s %12.4f %12s   (direct: mean ln P(x) − ln π_ref(x), ± %.4f)\n", "", rep.KLDirectSentence, "", rep.KLDirectSE)
	fmt.Fprintf(stdout, "%.1f%% of π_ref samples are sentences of the language; e.g. %q\n", 100*rep.InLanguage, first(rep.Samples))
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s}\n", *f.out, rlhf.SFTModelFile, rlhf.MetricsFile, rlhf.ConfigFile, rlhf.SummaryFile)
	return nil
}

func runRLHFRM(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf rm", "[--sft DIR] [--label-noise T] [--pairs N] [--seed S] [--out DIR]", "runs/rlhf", stderr, prepareGroup)
	if err := f.parse(args); err != nil {
		return err
	}
	if *f.rmDir != "" {
		return usagef("--rm %q: this command trains the reward model; drop --rm", *f.rmDir)
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	if err := f.guard(f.prepareDirs()...); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	prep, err := rlhf.Prepare(ctx, pc, *f.out, func(s string) { fmt.Fprintln(stdout, s) })
	if err != nil {
		return f.usage(err)
	}
	fmt.Fprintf(stdout, "reward model (linear in word counts): bias %.3f, weights:\n", prep.RM.Bias)
	for _, w := range prep.Env.G.Words {
		fmt.Fprintf(stdout, "  %-9s %+.3f\n", w, prep.RM.Weights[w])
	}
	fmt.Fprintf(stdout, "wrote %s/\n", prep.Env.RMDir)
	return nil
}

func runRLHFPPO(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf ppo", "[--sft DIR] [--rm DIR] [--kl-coef B] [--kl-in reward|loss] [--kl-estimator k1|k2|k3|exact] [--kl-ctl fixed|prop|adaptive] [--out DIR]",
		"runs/rlhf/ppo", stderr, prepareGroup, ppoGroup(defaultLeash, true))
	if err := f.parse(args); err != nil {
		return err
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg, err := f.ppoConfig()
	if err != nil {
		return err
	}
	if err := f.guard(append(f.prepareDirs(), "")...); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	logf := f.logf(stdout)
	prep, err := rlhf.Prepare(ctx, pc, *f.out, logf)
	if err != nil {
		return f.usage(err)
	}
	sum, err := runPPOWithBar(ctx, prep.Env, cfg, *f.out, fmt.Sprintf("β %g", cfg.KL.Beta), *f.quiet, stderr)
	if err != nil {
		return f.usage(err)
	}
	ms, err := rlhf.ReadMetrics(filepath.Join(*f.out, rlhf.MetricsFile))
	if err != nil {
		return err
	}
	target := 0.0
	if cfg.Ctl != "fixed" {
		target = cfg.Target
	}
	label := fmt.Sprintf("%s-%s β₀ %g %s", cfg.KL.Estimator, cfg.KL.In, cfg.KL.Beta, cfg.Ctl)
	if err := rlhf.StoryCharts(*f.out, "ppo", []rlhf.RunCurves{{Label: label, Metrics: ms, Ref: sum}}, target); err != nil {
		return err
	}
	printStory(stdout, []storyRow{{label, sum}})
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s,ppo-*.png}\n", *f.out, rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile)
	return nil
}

func runRLHFBoN(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf bon", "[--sft DIR] [--rm DIR] [--n 1,2,4,…] [--pool N] [--seed S] [--out DIR]", "runs/rlhf/bon", stderr, prepareGroup)
	ns := widthList(rlhf.DefaultSweepConfig().BoNNs)
	f.fs.Var(&ns, "n", "values of n, comma-separated positive integers (the KL bound is min(ln n − (n−1)/n, ln --pool))")
	pool := f.fs.Int("pool", 20000, fmt.Sprintf("π_ref samples forming the empirical distribution best-of-n is computed on (1 to %d)", rlhf.MaxPool))
	f.bind("n", "bon_n")
	f.bind("pool", "bon_pool")
	f.reward = rewardFlag(f.fs)
	f.bind("reward", "reward")
	if err := f.parse(args); err != nil {
		return err
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	if err := rlhf.ValidateBoN(*pool, ns); err != nil {
		return f.usage(err)
	}
	if err := rlhf.Reward(*f.reward).Validate(); err != nil {
		return f.usage(err)
	}
	if err := rlhf.CheckBoNMemory(*pool, pc.SFT.Model); err != nil {
		return f.usage(err)
	}
	if err := f.guard(f.prepareDirs()...); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	logf := f.logf(stdout)
	prep, err := rlhf.Prepare(ctx, pc, *f.out, logf)
	if err != nil {
		return f.usage(err)
	}
	pts, err := rlhf.BestOfNRanked(ctx, prep.Env.G, prep.Env.Gold, prep.Env.Ref, prep.Env.RM, *pool, []int(ns), *f.seed, rlhf.Reward(*f.reward))
	if err != nil {
		return f.usage(err)
	}
	if err := os.MkdirAll(*f.out, 0o755); err != nil {
		return err
	}
	if err := rundir.WriteKind(*f.out, rundir.KindRLHFBoN); err != nil {
		return fmt.Errorf("--out %s: %w", *f.out, err)
	}
	if err := rlhf.WriteBoNCSV(filepath.Join(*f.out, "bon.csv"), pts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nKL bound: min(ln n − (n−1)/n, ln %d), the largest KL(π_bon‖π̂) to the empirical distribution π̂ of the pool\n", *pool)
	fmt.Fprintf(stdout, "%6s %8s %8s %10s %12s %8s  %s\n", "n", "proxy", "gold", "KL bound", "KL estimate", "in-lang", "most likely pick")
	for _, p := range pts {
		fmt.Fprintf(stdout, "%6d %8.2f %8.3f %10.3f %12.3f %7.0f%%  %s\n", p.N, p.Proxy, p.Gold, p.KLBound, p.KL, 100*p.InLang, p.Favourite)
	}
	fmt.Fprintf(stdout, "wrote %s/bon.csv\n", *f.out)
	return nil
}

func runRLHFSweep(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf sweep", "[--betas 0,0.03,…] [--seeds 1,2,3] [--out DIR] [PPO and KL flags]  |  --resume [--out DIR]  |  --replot [--out DIR]",
		"runs/rlhf/sweep", stderr, prepareGroup, ppoGroup(0, false))
	def := rlhf.DefaultSweepConfig()
	betas := floatList(def.Betas)
	f.fs.Var(&betas, "betas", "β values, comma-separated, distinct, each ≥ 0 (one PPO run per β and seed)")
	seeds := f.fs.String("seeds", "1,2,3", "seeds, comma-separated, distinct")
	pool := f.fs.Int("pool", def.BoNPool, fmt.Sprintf("best-of-n pool of π_ref samples per seed (1 to %d)", rlhf.MaxPool))
	parallel := f.fs.Int("parallel", def.Parallel, "PPO runs trained at once (results do not depend on it)")
	fitMaxD := f.fs.Float64("fit-max-d", def.FitMaxD, "fit Gao's RL law to the updates with d = √KL ≤ this (0: all)")
	replot := f.fs.Bool("replot", false, "do not train: refit and redraw the table and charts of the complete sweep in --out")
	resume := f.fs.Bool("resume", false, "continue the interrupted sweep in --out with its saved settings: finished runs are kept, unfinished ones start over")
	for name, field := range map[string]string{"betas": "betas", "seeds": "seeds", "pool": "bon_pool", "parallel": "parallel", "fit-max-d": "fit_max_d"} {
		f.bind(name, field)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	// only these flags go with --replot and --resume: the sweep's settings are in its sweep.json
	only := func(mode string, ok ...string) error {
		for name := range given {
			if name != mode && !slices.Contains(ok, name) {
				return usagef("--%s with --%s: the sweep's settings come from %s/%s (only %s may be given)", name, mode, *f.out,
					rlhf.SweepFile, "--"+strings.Join(append([]string{"out"}, ok...), ", --"))
			}
		}
		return nil
	}
	switch {
	case *replot && *resume:
		return usagef("--replot and --resume exclude each other")
	case *replot:
		if err := only("replot", "out", "fit-max-d", "quiet"); err != nil {
			return err
		}
		return rlhfReplot(stdout, f, *fitMaxD, given["fit-max-d"])
	}
	var cfg rlhf.SweepConfig
	if *resume {
		if err := only("resume", "out", "quiet", "parallel"); err != nil {
			return err
		}
		c, err := rlhf.ReadSweepConfig(*f.out)
		if err != nil {
			return usagef("--resume --out %s: %v", *f.out, err)
		}
		cfg = c
		if given["parallel"] {
			cfg.Parallel = *parallel
		}
	} else {
		cfg = def
		cfg.Betas = betas
		var err error
		if cfg.Seeds, err = seedList("seeds", *seeds); err != nil {
			return err
		}
		cfg.BoNPool, cfg.Parallel, cfg.FitMaxD = *pool, *parallel, *fitMaxD
		cfg.Prepare = f.prepareFields()
		if cfg.PPO, err = f.ppoFields(); err != nil { // β 0: the sweep sets it per run
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		return f.usage(err)
	}
	if err := cfg.CheckMemory(); err != nil {
		return f.usage(err)
	}
	if !*resume {
		if _, err := rlhf.ReadSweepConfig(*f.out); err == nil && !*f.force {
			return usagef("--out %s already holds an RLHF sweep: pass --resume to continue it or --force to start over", *f.out)
		}
		if err := f.guard(""); err != nil {
			return err
		}
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	total := int64(len(cfg.Seeds)) * int64(len(cfg.Betas)*cfg.PPO.Updates+1)
	bar := newProgress(stderr, *f.quiet, total, "sweep", progressbar.OptionSetWidth(20), progressbar.OptionSetPredictTime(true))
	opts := rlhf.SweepOptions{Resume: *resume, Force: *f.force}
	if bar != nil {
		opts.OnUpdate = func(m rlhf.UpdateMetrics) {
			bar.Describe(fmt.Sprintf("sweep proxy %.2f gold %.2f KL %.2f β %.3g", m.Proxy, m.Gold, m.KL, m.Beta))
			bar.Add(1)
		}
		opts.Progress = func(st rlhf.SweepStep) {
			switch {
			case !st.Run:
				bar.Add(1)
			case st.Skipped:
				bar.Add(int64(cfg.PPO.Updates))
			}
		}
	}
	res, err := rlhf.Sweep(ctx, cfg, *f.out, opts)
	bar.Finish()
	if err != nil {
		if res != nil {
			fmt.Fprintf(stdout, "%s/%s records %d of %d runs, marked incomplete; continue with: klppo rlhf sweep --resume --out %s\n",
				*f.out, rlhf.SweepFile, len(res.Runs), len(cfg.Betas)*len(cfg.Seeds), *f.out)
		}
		return f.usage(err)
	}
	fmt.Fprintln(stdout, res.Markdown())
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s,%s} and %s/seed-*/ in %.1f s\n", *f.out, rlhf.SweepFile, rlhf.FrontierCSV,
		rlhf.FrontierTable, rlhf.FrontierGoldChart, rlhf.FrontierProxChart, *f.out, time.Since(start).Seconds())
	return nil
}

// rlhfReplot is `rlhf sweep --replot`: refit and redraw the complete sweep in --out.
func rlhfReplot(stdout io.Writer, f *rlhfFlags, fitMaxD float64, setFit bool) error {
	res, err := rlhf.LoadSweep(*f.out)
	if err != nil {
		if errors.Is(err, rlhf.ErrIncompleteSweep) {
			return usagef("--replot --out %s: %v (klppo rlhf sweep --resume --out %s)", *f.out, err, *f.out)
		}
		return usagef("--replot --out %s: %v", *f.out, err)
	}
	if setFit {
		res.Config.FitMaxD = fitMaxD
		if err := res.Config.Validate(); err != nil {
			return f.usage(err)
		}
	}
	if err := res.Fit(); err != nil {
		return err
	}
	table, err := res.Save(*f.out)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, table)
	return nil
}
