package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"klppo/experiments/rlhf"
	"klppo/internal/cputime"
)

func init() {
	register("bench rlhf", "time token-level PPO (klppo rlhf ppo's update): tokens/s of the rollout and of the learner", runBenchRLHF)
}

// benchRLHFResult is the --json output of klppo bench rlhf.
type benchRLHFResult struct {
	Updates        int     `json:"updates"`
	Warmup         int     `json:"warmup"`
	TokensPerUpd   float64 `json:"tokens_per_update"`    // mean generated tokens per timed update
	TokensPerS     float64 `json:"tokens_per_s"`         // median over updates of tokens / update wall time
	RolloutTokPerS float64 `json:"rollout_tokens_per_s"` // tokens / (sampling, scoring, rewards, advantages)
	LearnTokPerS   float64 `json:"learner_tokens_per_s"` // tokens / (ppo.Learner epochs + trust-region KL)
	TokensPerCPUS  float64 `json:"tokens_per_cpu_s"`     // all timed tokens / process CPU seconds
}

func runBenchRLHF(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("bench rlhf", "[--updates N] [--warmup N] [--seed S] [--sft DIR --rm DIR] [--json]", stderr)
	updates := fs.Int("updates", 30, "timed PPO updates (default config: 64 sequences, 4 epochs of 256-token minibatches, k1 in the reward, β = 0.5)")
	warmup := fs.Int("warmup", 3, "untimed updates first")
	seed := fs.Uint64("seed", 1, "seed of π_ref, the reward model and PPO")
	sftDir := fs.String("sft", "", "load π_ref from this DIR (written by 'klppo rlhf sft') instead of training it")
	rmDir := fs.String("rm", "", "load the reward model from this DIR (written by 'klppo rlhf rm') instead of training it")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed updates to FILE")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *updates < 1 || *updates > 100_000:
		return usagef("--updates %d: want 1 … 100000", *updates)
	case *warmup < 0 || *warmup > 100_000:
		return usagef("--warmup %d: want 0 … 100000", *warmup)
	}
	ctx, stop := interruptible()
	defer stop()
	pc := rlhf.DefaultPrepareConfig(*seed)
	pc.SFTDir, pc.RMDir = *sftDir, *rmDir
	tmp, err := os.MkdirTemp("", "klppo-bench-rlhf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if !*asJSON {
		fmt.Fprintln(stdout, "bench rlhf: preparing π_ref and the reward model (not timed) …")
	}
	p, err := rlhf.Prepare(ctx, pc, tmp, nil)
	if err != nil {
		return err
	}
	cfg := rlhf.DefaultPPOConfig(0.5, *seed)
	cfg.Updates = *warmup + *updates
	tr, err := rlhf.NewTrainer(p.Env.G, p.Env.Gold, p.Env.RM, p.Env.Ref, cfg)
	if err != nil {
		return err
	}
	for u := 1; u <= *warmup; u++ {
		if _, _, err := tr.Step(ctx, u); err != nil {
			return err
		}
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
	var all, roll, learn []float64
	tokens := 0
	cpu0, _ := cputime.Process()
	for u := *warmup + 1; u <= cfg.Updates; u++ {
		m, _, err := tr.Step(ctx, u)
		if err != nil {
			return err
		}
		tokens += m.Tokens
		t := float64(m.Tokens)
		all, roll, learn = append(all, t/m.WallS), append(roll, t/m.RolloutS), append(learn, t/m.LearnS)
	}
	cpu1, _ := cputime.Process()
	cpu := (cpu1 - cpu0).Seconds()
	res := benchRLHFResult{Updates: *updates, Warmup: *warmup, TokensPerUpd: float64(tokens) / float64(*updates),
		TokensPerS: median(all), RolloutTokPerS: median(roll), LearnTokPerS: median(learn), TokensPerCPUS: float64(tokens) / cpu}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "token PPO (%d sequences, %d epochs of %d-token minibatches, %s-%s β = %g): %d timed updates after %d, %.0f tokens per update\n",
		cfg.Batch, cfg.Epochs, cfg.Minibatch, cfg.KL.Estimator, cfg.KL.In, cfg.KL.Beta, *updates, *warmup, res.TokensPerUpd)
	fmt.Fprintf(stdout, "tokens/s %.0f (median over updates; rollout %.0f, learner %.0f); %.0f tokens per CPU-second\n",
		res.TokensPerS, res.RolloutTokPerS, res.LearnTokPerS, res.TokensPerCPUS)
	return nil
}

// median of xs (xs is reordered).
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
