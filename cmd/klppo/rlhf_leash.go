package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"klppo/experiments/rlhf"

	"github.com/schollz/progressbar/v3"
)

func init() {
	register("rlhf leash", "do we still need the KL leash? PPO, GRPO, RLOO × gold|rm reward × β × seeds, best-of-n for reference: gold, KL, diversity, held-out gold (resumable with --resume)", runRLHFLeash)
}

func runRLHFLeash(args []string, stdout, stderr io.Writer) error {
	f := newRLHFFlags("rlhf leash", "[--methods ppo,grpo,rloo] [--rewards gold,rm] [--betas 0,0.1,0.3,1] [--seeds 1,2,3] [--updates N] [--out DIR] [--resume] [--replot]",
		"runs/rlhf/leash", stderr, prepareGroup)
	fs := f.fs
	def := rlhf.DefaultLeashConfig()
	methods := fs.String("methods", strings.Join(def.Methods, ","), "online methods, comma-separated: ppo, grpo, rloo")
	rewards := fs.String("rewards", "gold,rm", "rewards trained on, comma-separated: gold (verifiable), rm (the learned reward model)")
	betas := floatList(def.Betas)
	fs.Var(&betas, "betas", "β values, comma-separated: each method's own KL coefficient (PPO k1 in the reward, GRPO k3 in the loss, RLOO Σk1 in the reward)")
	seeds := fs.String("seeds", "1,2,3", "seeds, comma-separated (each: its own π_ref, reward model and runs)")
	updates := fs.Int("updates", def.Updates, "updates of every run")
	parallel := fs.Int("parallel", def.Parallel, "runs trained at once (results do not depend on it)")
	bonN := widthList(def.BoNNs)
	fs.Var(&bonN, "bon-n", "best-of-n: values of n, comma-separated")
	bonPool := fs.Int("bon-pool", def.BoNPool, "best-of-n: π_ref completions of each prompt")
	bonPrompts := fs.Int("bon-prompts", def.BoNPrompts, "best-of-n: training prompts (and as many held-out prompts)")
	resume := fs.Bool("resume", false, "continue the interrupted experiment in --out with its own settings")
	replot := fs.Bool("replot", false, "do not train: redraw the table and charts of the complete experiment in --out")
	if err := f.parse(args); err != nil {
		return err
	}
	if *replot {
		res, err := rlhf.LoadLeash(*f.out)
		if err != nil {
			return usagef("--replot: %v", err)
		}
		table, err := res.Save()
		fmt.Fprintln(stdout, table)
		return err
	}
	if *f.sftDir != "" || *f.rmDir != "" {
		return usagef("--sft/--rm: the experiment trains π_ref and a reward model per seed; drop them")
	}
	pc, err := f.prepareConfig()
	if err != nil {
		return err
	}
	cfg := def
	cfg.Methods = splitList(*methods)
	cfg.Rewards = nil
	for _, r := range splitList(*rewards) {
		cfg.Rewards = append(cfg.Rewards, rlhf.Reward(r))
	}
	cfg.Betas, cfg.Updates, cfg.Parallel = betas, *updates, *parallel
	cfg.BoNNs, cfg.BoNPool, cfg.BoNPrompts, cfg.Prepare = bonN, *bonPool, *bonPrompts, pc
	if cfg.Seeds, err = seedList("seeds", *seeds); err != nil {
		return err
	}
	if *resume {
		// The experiment keeps its own settings; only --parallel may change.
		var changed []string
		fs.Visit(func(fl *flag.Flag) {
			if fl.Name != "resume" && fl.Name != "parallel" && fl.Name != "out" && fl.Name != "quiet" {
				changed = append(changed, "--"+fl.Name)
			}
		})
		if len(changed) > 0 {
			return usagef("--resume: %s cannot be combined with --resume (the experiment keeps its saved settings; only --parallel may change)", strings.Join(changed, ", "))
		}
		prev, err := rlhf.ReadLeashConfig(*f.out)
		if err != nil {
			return usagef("--resume %s: %v", *f.out, err)
		}
		prev.Parallel = *parallel
		cfg = prev
	}
	for field, name := range map[string]string{"methods": "methods", "rewards": "rewards", "betas": "betas", "seeds": "seeds", "parallel": "parallel",
		"bon_n": "bon-n", "bon_pool": "bon-pool", "bon_prompts": "bon-prompts", "updates": "updates",
		// every run's updates are the experiment's (their memory names the run's field)
		"ppo.updates": "updates", "grpo.updates": "updates", "rloo.updates": "updates"} {
		f.bind(name, field)
	}
	if err := f.usage(cfg.Validate()); err != nil {
		return err
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
	runs := len(cfg.Methods) * len(cfg.Rewards) * len(cfg.Betas)
	opts := rlhf.LeashOptions{Resume: *resume, Force: *f.force && !*resume}
	bar := newProgress(stderr, *f.quiet, int64(len(cfg.Seeds)*(runs*cfg.Updates+1)), "leash", progressbar.OptionSetWidth(20))
	if bar != nil {
		opts.OnUpdate = func(m rlhf.UpdateMetrics) { bar.Add(1) }
		opts.Progress = func(st rlhf.LeashStep) {
			switch {
			case st.Run == nil:
				bar.Add(1)
			case st.Skipped:
				bar.Add(int64(cfg.Updates))
			default:
				bar.Describe(fmt.Sprintf("leash seed %d %s-%s β %g: gold %.2f", st.Seed, st.Run.Method, st.Run.Reward, st.Run.Beta, st.Run.Summary.FinalGold))
			}
		}
	}
	res, err := rlhf.Leash(ctx, cfg, *f.out, opts)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		if res != nil && len(res.Runs) > 0 {
			fmt.Fprintf(stderr, "%d runs finished; continue with: klppo rlhf leash --out %s --resume\n", len(res.Runs), *f.out)
		}
		return err
	}
	fmt.Fprintln(stdout, res.Markdown())
	fmt.Fprintf(stdout, "wrote %s/{%s,%s,%s,leash-*.png} and %s/seed-*/ in %.1f s\n", *f.out, rlhf.LeashFile, rlhf.LeashCSV,
		rlhf.LeashTable, *f.out, time.Since(start).Seconds())
	return nil
}

// splitList splits a comma-separated flag value, trimming spaces.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
