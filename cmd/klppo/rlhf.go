package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
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

// rlhfFlags are the flags shared by the rlhf commands.
type rlhfFlags struct {
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

func addPrepareFlags(fs *flag.FlagSet, f *rlhfFlags) {
	f.sftDir = fs.String("sft", "", "load π_ref from this directory (written by 'klppo rlhf sft') instead of training it")
	f.rmDir = fs.String("rm", "", "load the reward model from this directory (written by 'klppo rlhf rm') instead of training it")
	f.labelNoise = fs.Float64("label-noise", 0.1, "the labeler's Bradley–Terry temperature τ: P(a ≻ b) = σ((gold(a) − gold(b))/τ)")
	f.sftEpochs = fs.Int("sft-epochs", 6, "SFT epochs over the corpus")
	f.sentence = fs.Int("corpus", 4000, "SFT corpus size (sentences sampled from the grammar)")
	f.pairs = fs.Int("pairs", 3000, "preference pairs for the reward model")
}

func addPPOFlags(fs *flag.FlagSet, f *rlhfFlags, defBeta float64) {
	d := rlhf.DefaultPPOConfig(defBeta, 1)
	f.klCoef = fs.Float64("kl-coef", defBeta, "β, the initial coefficient of KL(π‖π_ref) (0 = no leash)")
	f.klIn = fs.String("kl-in", string(d.KL.In), "where β·KL goes: reward (per-token reward shaping, TRL PPO) or loss (added to the loss, GRPO/verl use_kl_loss)")
	f.klEst = fs.String("kl-estimator", d.KL.Estimator.String(), "per-token KL estimator: k1, k2, k3 or exact (full-vocabulary KL at each position)")
	f.klCtl = fs.String("kl-ctl", d.Ctl, "β controller: fixed, prop (Ziegler et al./TRL proportional, --kl-target, --kl-horizon) or adaptive (PPO paper's halve/double, --kl-target)")
	f.klTarget = fs.Float64("kl-target", d.Target, "target KL(π‖π_ref) in nats per sequence for --kl-ctl prop|adaptive")
	f.klHorizon = fs.Float64("kl-horizon", d.Horizon, "horizon of the proportional controller, in sequences")
	f.updates = fs.Int("updates", 150, "PPO updates (rollouts)")
	f.batch = fs.Int("batch", d.Batch, "sequences per rollout")
	f.minibatch = fs.Int("minibatch", d.Minibatch, "tokens per gradient step")
	f.epochs = fs.Int("epochs", d.Epochs, "PPO epochs per rollout")
	f.lr = fs.Float64("lr", d.LR, "Adam learning rate (policy and value)")
	f.clip = fs.Float64("clip", d.Clip, "PPO ratio clip ε (the trust region to π_old, not the leash to π_ref)")
	f.gamma = fs.Float64("gamma", d.Gamma, "discount over tokens")
	f.lambda = fs.Float64("lambda", d.Lambda, "GAE λ")
	f.reward = rewardFlag(fs)
}

func addCommonFlags(fs *flag.FlagSet, f *rlhfFlags, out string) {
	f.seed = fs.Uint64("seed", 1, "random seed (corpus, models, preference pairs, rollouts)")
	f.out = fs.String("out", out, "output directory")
	f.quiet = fs.Bool("quiet", false, "no progress bar and no per-stage lines")
	f.force = fs.Bool("force", false, "write into output directories that already hold a run (overwrites their files)")
}

// guard refuses output directories that already hold a run (unless --force); dirs are relative to
// --out ("" is --out itself).
// logf prints a progress line on stdout unless --quiet.
func (f *rlhfFlags) logf(stdout io.Writer) func(string) {
	return func(s string) {
		if !*f.quiet {
			fmt.Fprintln(stdout, s)
		}
	}
}

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

func (f *rlhfFlags) prepareConfig() (rlhf.PrepareConfig, error) {
	pc := rlhf.DefaultPrepareConfig(*f.seed)
	switch {
	case !(*f.labelNoise > 0) || math.IsInf(*f.labelNoise, 0):
		return pc, usagef("--label-noise %v: want a finite number > 0", *f.labelNoise)
	case *f.sftEpochs < 1:
		return pc, usagef("--sft-epochs %d: want ≥ 1", *f.sftEpochs)
	case *f.sentence < 10:
		return pc, usagef("--corpus %d: want ≥ 10 sentences", *f.sentence)
	case *f.pairs < 100:
		return pc, usagef("--pairs %d: want ≥ 100", *f.pairs)
	}
	pc.RM.Temperature = *f.labelNoise
	pc.SFT.Epochs, pc.SFT.Train, pc.RM.Pairs = *f.sftEpochs, *f.sentence, *f.pairs
	pc.SFTDir, pc.RMDir = *f.sftDir, *f.rmDir
	return pc, nil
}

func (f *rlhfFlags) ppoConfig() (rlhf.PPOConfig, error) {
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
	switch {
	case c.Reward.Validate() != nil:
		return c, usagef("--reward %q: want rm or gold", *f.reward)
	case !(*f.klCoef >= 0) || math.IsInf(*f.klCoef, 0):
		return c, usagef("--kl-coef %v: want a finite number ≥ 0", *f.klCoef)
	case c.KL.In != ppo.KLInReward && c.KL.In != ppo.KLInLoss:
		return c, usagef("--kl-in %q: want reward or loss", *f.klIn)
	case c.Ctl != "fixed" && c.Ctl != "prop" && c.Ctl != "adaptive":
		return c, usagef("--kl-ctl %q: want fixed, prop or adaptive", *f.klCtl)
	case c.Ctl != "fixed" && (!(c.Target > 0) || math.IsInf(c.Target, 0)):
		return c, usagef("--kl-target %v: want a finite number > 0", c.Target)
	case !(c.Horizon > 0) || math.IsInf(c.Horizon, 0):
		return c, usagef("--kl-horizon %v: want a finite number > 0", c.Horizon)
	case c.Ctl != "fixed" && *f.klCoef == 0:
		return c, usagef("--kl-coef 0 with --kl-ctl %s: a multiplicative controller cannot move β away from 0; give an initial β > 0", c.Ctl)
	case c.Updates < 1:
		return c, usagef("--updates %d: want ≥ 1", c.Updates)
	case c.Batch < 1:
		return c, usagef("--batch %d: want ≥ 1", c.Batch)
	case c.Minibatch < 1:
		return c, usagef("--minibatch %d: want ≥ 1", c.Minibatch)
	case c.Epochs < 1:
		return c, usagef("--epochs %d: want ≥ 1", c.Epochs)
	case !(c.LR > 0) || c.LR > 1:
		return c, usagef("--lr %v: want a number in (0, 1]", c.LR)
	case !(c.Clip > 0 && c.Clip < 1):
		return c, usagef("--clip %v: want a number in (0, 1)", c.Clip)
	case !(c.Gamma >= 0 && c.Gamma <= 1):
		return c, usagef("--gamma %v: want a number in [0, 1]", c.Gamma)
	case !(c.Lambda >= 0 && c.Lambda <= 1):
		return c, usagef("--lambda %v: want a number in [0, 1]", c.Lambda)
	}
	return c, nil
}

// ppoBar is a progress bar over updates showing proxy, gold, KL and β.
func ppoBar(stderr io.Writer, quiet bool, total int, label string) (*progressbar.ProgressBar, func(rlhf.UpdateMetrics)) {
	if quiet {
		return nil, nil
	}
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(20), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
	return bar, func(m rlhf.UpdateMetrics) {
		bar.Describe(fmt.Sprintf("%s proxy %.2f gold %.2f KL %.2f β %.3g", label, m.Proxy, m.Gold, m.KL, m.Beta))
		_ = bar.Add(1)
	}
}

func runPPOWithBar(ctx context.Context, env rlhf.Env, cfg rlhf.PPOConfig, dir, label string, quiet bool, stderr io.Writer) (rlhf.Summary, error) {
	bar, on := ppoBar(stderr, quiet, cfg.Updates, label)
	sum, err := rlhf.RunPPO(ctx, env, cfg, dir, on)
	if bar != nil {
		_ = bar.Finish()
	}
	return sum, err
}

func runRLHF(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rlhf", "[--seed S] [--kl-coef B] [--out DIR] [--quiet] [PPO and KL flags]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf")
	addPrepareFlags(fs, &f)
	addPPOFlags(fs, &f, defaultLeash)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	oneBeta := false
	fs.Visit(func(fl *flag.Flag) { oneBeta = oneBeta || fl.Name == "kl-coef" })
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
		return err
	}
	if oneBeta {
		sum, err := runPPOWithBar(ctx, prep.Env, cfg, *f.out, fmt.Sprintf("β %g", cfg.KL.Beta), *f.quiet, stderr)
		if err != nil {
			return err
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
			return err
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
	fs := newFlagSet("rlhf sft", "[--seed S] [--out DIR] [--sft-epochs N] [--corpus N]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf/sft")
	addPrepareFlags(fs, &f)
	if err := parseFlags(fs, args); err != nil {
		return err
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
		return err
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
	fs := newFlagSet("rlhf rm", "[--sft DIR] [--label-noise T] [--pairs N] [--seed S] [--out DIR]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf")
	addPrepareFlags(fs, &f)
	if err := parseFlags(fs, args); err != nil {
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
		return err
	}
	fmt.Fprintf(stdout, "reward model (linear in word counts): bias %.3f, weights:\n", prep.RM.Bias)
	for _, w := range prep.Env.G.Words {
		fmt.Fprintf(stdout, "  %-9s %+.3f\n", w, prep.RM.Weights[w])
	}
	fmt.Fprintf(stdout, "wrote %s/\n", prep.Env.RMDir)
	return nil
}

func runRLHFPPO(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rlhf ppo", "[--sft DIR] [--rm DIR] [--kl-coef B] [--kl-in reward|loss] [--kl-estimator k1|k2|k3|exact] [--kl-ctl fixed|prop|adaptive] [--out DIR]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf/ppo")
	addPrepareFlags(fs, &f)
	addPPOFlags(fs, &f, defaultLeash)
	if err := parseFlags(fs, args); err != nil {
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
		return err
	}
	sum, err := runPPOWithBar(ctx, prep.Env, cfg, *f.out, fmt.Sprintf("β %g", cfg.KL.Beta), *f.quiet, stderr)
	if err != nil {
		return err
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
	fs := newFlagSet("rlhf bon", "[--sft DIR] [--rm DIR] [--n 1,2,4,…] [--pool N] [--seed S] [--out DIR]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf/bon")
	addPrepareFlags(fs, &f)
	ns := widthList(rlhf.DefaultSweepConfig().BoNNs)
	fs.Var(&ns, "n", "values of n, comma-separated positive integers")
	pool := fs.Int("pool", 20000, "π_ref samples forming the empirical distribution best-of-n is computed on")
	f.reward = rewardFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if rlhf.Reward(*f.reward).Validate() != nil {
		return usagef("--reward %q: want rm or gold", *f.reward)
	}
	if *pool < 1 {
		return usagef("--pool %d: want ≥ 1", *pool)
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
	logf := f.logf(stdout)
	prep, err := rlhf.Prepare(ctx, pc, *f.out, logf)
	if err != nil {
		return err
	}
	pts, err := rlhf.BestOfNRanked(ctx, prep.Env.G, prep.Env.Gold, prep.Env.Ref, prep.Env.RM, *pool, []int(ns), *f.seed, rlhf.Reward(*f.reward))
	if err != nil {
		return err
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
	fmt.Fprintf(stdout, "\n%6s %8s %8s %10s %12s %8s  %s\n", "n", "proxy", "gold", "KL bound", "KL estimate", "in-lang", "most likely pick")
	for _, p := range pts {
		fmt.Fprintf(stdout, "%6d %8.2f %8.3f %10.3f %12.3f %7.0f%%  %s\n", p.N, p.Proxy, p.Gold, p.KLBound, p.KL, 100*p.InLang, p.Favourite)
	}
	fmt.Fprintf(stdout, "wrote %s/bon.csv\n", *f.out)
	return nil
}

func runRLHFSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rlhf sweep", "[--betas 0,0.03,…] [--seeds 1,2,3] [--out DIR] [PPO and KL flags]", stderr)
	var f rlhfFlags
	addCommonFlags(fs, &f, "runs/rlhf/sweep")
	addPrepareFlags(fs, &f)
	addPPOFlags(fs, &f, 0)
	def := rlhf.DefaultSweepConfig()
	betas := floatList(def.Betas)
	fs.Var(&betas, "betas", "β values, comma-separated (each ≥ 0)")
	seeds := fs.String("seeds", "1,2,3", "seeds, comma-separated")
	pool := fs.Int("pool", def.BoNPool, "best-of-n pool of π_ref samples per seed")
	parallel := fs.Int("parallel", def.Parallel, "PPO runs trained at once (results do not depend on it)")
	fitMaxD := fs.Float64("fit-max-d", def.FitMaxD, "fit Gao's RL law to the updates with d = √KL ≤ this (0: all)")
	replot := fs.Bool("replot", false, "do not train: refit and redraw the table and charts of the sweep in --out")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !(*fitMaxD >= 0) || math.IsInf(*fitMaxD, 0) {
		return usagef("--fit-max-d %v: want a finite number ≥ 0", *fitMaxD)
	}
	if *replot {
		res, err := rlhf.LoadSweep(*f.out)
		if err != nil {
			return usagef("--replot: %v", err)
		}
		res.Config.FitMaxD = *fitMaxD
		if err := res.Fit(); err != nil {
			return err
		}
		table, err := res.Save(*f.out)
		fmt.Fprintln(stdout, table)
		return err
	}
	if *f.sftDir != "" || *f.rmDir != "" {
		return usagef("--sft/--rm: the sweep trains π_ref and a reward model per seed; drop them")
	}
	cfg := def
	for _, b := range betas {
		if !(b >= 0) || math.IsInf(b, 0) {
			return usagef("--betas %v: want finite numbers ≥ 0", b)
		}
	}
	cfg.Betas = betas
	cfg.Seeds = nil
	for _, s := range strings.Split(*seeds, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return usagef("--seeds %q: want non-negative integers separated by commas", *seeds)
		}
		cfg.Seeds = append(cfg.Seeds, v)
	}
	if *pool < 1 {
		return usagef("--pool %d: want ≥ 1", *pool)
	}
	if *parallel < 1 {
		return usagef("--parallel %d: want ≥ 1", *parallel)
	}
	cfg.BoNPool, cfg.Parallel, cfg.FitMaxD = *pool, *parallel, *fitMaxD
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg.Prepare = pc
	*f.klCoef = 0 // set per run
	if cfg.PPO, err = f.ppoConfig(); err != nil {
		return err
	}
	if cfg.PPO.Ctl != "fixed" {
		return usagef("--kl-ctl %s: the sweep varies a fixed β; use 'klppo rlhf ppo' for controllers", cfg.PPO.Ctl)
	}
	if err := f.guard(""); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	total := len(cfg.Seeds) * (len(cfg.Betas)*cfg.PPO.Updates + 1)
	var bar *progressbar.ProgressBar
	var onUpdate func(rlhf.UpdateMetrics)
	if !*f.quiet {
		bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("sweep"),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(20), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		onUpdate = func(m rlhf.UpdateMetrics) {
			bar.Describe(fmt.Sprintf("sweep proxy %.2f gold %.2f KL %.2f β %.3g", m.Proxy, m.Gold, m.KL, m.Beta))
			_ = bar.Add(1)
		}
	}
	progress := func(done, n int, what string) {
		if bar == nil {
			return
		}
		if strings.Contains(what, "best-of-n") {
			_ = bar.Add(1)
		}
	}
	res, err := rlhf.Sweep(ctx, cfg, *f.out, progress, onUpdate)
	if bar != nil {
		_ = bar.Finish()
	}
	if res != nil && len(res.Runs) > 0 {
		res.WallS = time.Since(start).Seconds()
		table, serr := res.Save(*f.out)
		fmt.Fprintln(stdout, table)
		if serr != nil {
			return serr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s/{sweep.json,frontier.csv,frontier.md,frontier-gold.png,frontier-proxy.png} and %s/seed-*/ in %.1f s\n",
		*f.out, *f.out, time.Since(start).Seconds())
	return nil
}
