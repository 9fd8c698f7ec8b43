package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"klppo/experiments/rlhf"
	"klppo/kl"
)

func init() {
	register("rlhf grpo", "GRPO from π_ref: G completions per prompt, group advantages, no value model, --kl-coef·k3 in the loss (TRL's default 0), --loss-type grpo|dr_grpo|dapo, --reward gold|rm", runRLHFGRPO)
	register("rlhf rloo", "RLOO from π_ref: k completions per prompt, leave-one-out baseline, the completion as one action, --kl-coef·Σk1 in the reward (TRL's 0.05), --reward gold|rm", runRLHFRLOO)
}

// rewardFlag adds --reward: the score an online method maximises, or best-of-n ranks by.
func rewardFlag(fs *flag.FlagSet) *string {
	return fs.String("reward", string(rlhf.RewardRM), "the score maximised: rm (the learned reward model, hackable) or gold (the labeler's reward, verifiable)")
}

// groupFlags are the flags rlhf grpo and rlhf rloo share (besides the common and prepare flags).
type groupFlags struct {
	reward                     *string
	klCoef                     *float64
	updates, prompts, group    *int
	minibatch, epochs          *int
	lr, clip                   *float64
	heldOutPrompts             *int
	distinctPrompts, distincts *int
}

// addGroupFlags adds the shared flags with the method's defaults; group is the name of the
// completions-per-prompt flag ("group" for GRPO, "k" for RLOO).
func addGroupFlags(fs *flag.FlagSet, method, group string, defGroup, defPrompts int, defBeta float64, betaHelp string) (*groupFlags, map[string]string) {
	d := rlhf.DefaultGRPOConfig(0, 1)
	ev := rlhf.DefaultEvalConfig()
	g := &groupFlags{
		reward:          rewardFlag(fs),
		klCoef:          fs.Float64("kl-coef", defBeta, betaHelp),
		updates:         fs.Int("updates", d.Updates, "updates (rollouts)"),
		prompts:         fs.Int("prompts", defPrompts, "training prompts per update (openings of reviews drawn from the language)"),
		group:           fs.Int(group, defGroup, "completions per prompt"),
		minibatch:       fs.Int("minibatch", d.Minibatch, "tokens per gradient step"),
		epochs:          fs.Int("epochs", d.Epochs, "passes over each rollout"),
		lr:              fs.Float64("lr", d.LR, "Adam learning rate"),
		clip:            fs.Float64("clip", d.Clip, "ratio clip ε (the trust region to π_old, not the leash to π_ref)"),
		heldOutPrompts:  fs.Int("heldout-prompts", ev.HeldOutPrompts, "held-out prompts completed once each for heldout_gold"),
		distinctPrompts: fs.Int("distinct-prompts", ev.DistinctPrompts, "training prompts whose completions are counted for final_distinct"),
		distincts:       fs.Int("distinct-samples", ev.DistinctSamples, "completions of each of them"),
	}
	flagOf := map[string]string{}
	for flagName, field := range map[string]string{"reward": "reward", "kl-coef": "kl.beta", "updates": "updates", "prompts": "prompts",
		group: group, "minibatch": "minibatch", "epochs": "epochs", "lr": "lr", "clip": "clip",
		"heldout-prompts": "eval.heldout_prompts", "distinct-prompts": "eval.distinct_prompts", "distinct-samples": "eval.distinct_samples"} {
		flagOf[method+"."+field] = flagName
	}
	return g, flagOf
}

// task is the reward and the evaluation of the flags.
func (g *groupFlags) task() rlhf.Task {
	t := rlhf.DefaultTask()
	t.Reward = rlhf.Reward(*g.reward)
	t.Eval = rlhf.EvalConfig{HeldOutPrompts: *g.heldOutPrompts, DistinctPrompts: *g.distinctPrompts, DistinctSamples: *g.distincts}
	return t
}

func runRLHFGRPO(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf grpo", "[--reward gold|rm] [--kl-coef B] [--kl-estimator k3] [--loss-type dapo] [--scale-rewards group|none] [--seed S] [--out DIR] [--quiet]",
		"runs/rlhf/grpo", stderr, prepareGroup)
	fs := f.fs
	d := rlhf.DefaultGRPOConfig(0, 1)
	g, flagOf := addGroupFlags(fs, "grpo", "group", d.Group, d.Prompts, 0,
		"β of the KL(π‖π_ref) term in the loss (TRL's beta; 0, its default since v0.19: no leash)")
	est := fs.String("kl-estimator", d.KL.Estimator.String(), "the per-token KL in the loss: k3 (GRPO, TRL), k1, k2 or exact")
	is := fs.Bool("kl-is", false, "weight the KL term by π/π_old (TRL's use_bias_correction_kl)")
	lossType := fs.String("loss-type", string(d.LossType), "normalisation of the per-token losses: dapo (TRL's default: ÷ all tokens), grpo (mean per completion, then over completions) or dr_grpo (÷ completions × the longest completion)")
	scale := fs.String("scale-rewards", "group", "group: divide the group-centred rewards by the group's std (GRPO, TRL's default); none: do not (Dr. GRPO)")
	if err := f.parse(args); err != nil {
		return err
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg := rlhf.DefaultGRPOConfig(*g.klCoef, *f.seed)
	cfg.Updates, cfg.Prompts, cfg.Group, cfg.Minibatch, cfg.Epochs = *g.updates, *g.prompts, *g.group, *g.minibatch, *g.epochs
	cfg.LR, cfg.Clip, cfg.LossType, cfg.Task = *g.lr, *g.clip, rlhf.LossType(*lossType), g.task()
	e, err := kl.ParseEstimator(*est)
	if err != nil {
		return usagef("--kl-estimator %q: want k1, k2, k3 or exact", *est)
	}
	cfg.KL.Estimator, cfg.KL.ImportanceWeighted = e, *is
	switch *scale {
	case "group":
		cfg.ScaleRewards = true
	case "none":
		cfg.ScaleRewards = false
	default:
		return usagef("--scale-rewards %q: want group or none", *scale)
	}
	flagOf["grpo.loss_type"], flagOf["grpo.kl.estimator"], flagOf["grpo.kl.importance_weighted"] = "loss-type", "kl-estimator", "kl-is"
	for field, name := range flagOf {
		f.bind(name, field)
	}
	if err := f.usage(cfg.Validate()); err != nil {
		return err
	}
	if err := f.usage(cfg.CheckMemory(pc.SFT.Model)); err != nil { // the library checks again with the model it loads
		return err
	}
	label := fmt.Sprintf("GRPO %s β %g %s", cfg.Reward, cfg.KL.Beta, cfg.LossType)
	return runGroupCommand(f, pc, label, "grpo", cfg.Updates, stdout, stderr, func(ctx context.Context, env rlhf.Env, on func(rlhf.UpdateMetrics)) (rlhf.Summary, error) {
		return rlhf.RunGRPO(ctx, env, cfg, *f.out, on)
	})
}

func runRLHFRLOO(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf rloo", "[--reward gold|rm] [--kl-coef B] [--k K] [--seed S] [--out DIR] [--quiet]", "runs/rlhf/rloo", stderr, prepareGroup)
	fs := f.fs
	d := rlhf.DefaultRLOOConfig(0.05, 1)
	g, flagOf := addGroupFlags(fs, "rloo", "k", d.K, d.Prompts, d.Beta,
		"β of k1 = ln π_old − ln π_ref summed over the completion and subtracted from its reward (TRL's beta, 0.05)")
	norm := fs.Bool("normalize-advantages", d.NormalizeAdvantages, "whiten the leave-one-out advantages over the batch (TRL's normalize_advantages, off)")
	if err := f.parse(args); err != nil {
		return err
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg := rlhf.DefaultRLOOConfig(*g.klCoef, *f.seed)
	cfg.Updates, cfg.Prompts, cfg.K, cfg.Minibatch, cfg.Epochs = *g.updates, *g.prompts, *g.group, *g.minibatch, *g.epochs
	cfg.LR, cfg.Clip, cfg.NormalizeAdvantages, cfg.Task = *g.lr, *g.clip, *norm, g.task()
	flagOf["rloo.kl_coef"] = "kl-coef"
	for field, name := range flagOf {
		f.bind(name, field)
	}
	if err := f.usage(cfg.Validate()); err != nil {
		return err
	}
	if err := f.usage(cfg.CheckMemory(pc.SFT.Model)); err != nil {
		return err
	}
	label := fmt.Sprintf("RLOO %s β %g k %d", cfg.Reward, cfg.Beta, cfg.K)
	return runGroupCommand(f, pc, label, "rloo", cfg.Updates, stdout, stderr, func(ctx context.Context, env rlhf.Env, on func(rlhf.UpdateMetrics)) (rlhf.Summary, error) {
		return rlhf.RunRLOO(ctx, env, cfg, *f.out, on)
	})
}

// runGroupCommand guards the output, prepares π_ref and the reward model, runs the method with a
// progress bar, draws its charts (prefix-*.png) and prints the outcome.
func runGroupCommand(f *rlhfFlags, pc rlhf.PrepareConfig, label, prefix string, updates int, stdout, stderr io.Writer,
	run func(ctx context.Context, env rlhf.Env, on func(rlhf.UpdateMetrics)) (rlhf.Summary, error)) error {
	if err := f.guard(append(f.prepareDirs(), "")...); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	prep, err := rlhf.Prepare(ctx, pc, *f.out, f.logf(stdout))
	if err != nil {
		return f.usage(err)
	}
	bar, on := ppoBar(stderr, *f.quiet, updates, label)
	sum, err := run(ctx, prep.Env, on)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return f.usage(err) // a loaded π_ref that leaves the run no room names the flag that sized it
	}
	ms, err := rlhf.ReadMetrics(filepath.Join(*f.out, rlhf.MetricsFile))
	if err != nil {
		return err
	}
	if err := rlhf.StoryCharts(*f.out, prefix, []rlhf.RunCurves{{Label: label, Metrics: ms, Ref: sum}}, 0); err != nil {
		return err
	}
	printStory(stdout, []storyRow{{label, sum}})
	printEval(stdout, sum)
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,%s,%s-*.png}\n", *f.out, rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SamplesFile, rlhf.SummaryFile, prefix)
	return nil
}

// printEval prints the final evaluation of a run next to π_ref's.
func printEval(w io.Writer, s rlhf.Summary) {
	fmt.Fprintf(w, "held-out prompts: gold %.3f (π_ref %.3f); distinct completions %d of %d (π_ref %d); entropy %.3f nats/token\n",
		s.HeldOutGold, s.RefHeldOutGold, s.FinalDistinct, s.DistinctOf, s.RefDistinct, s.FinalEntropy)
}
