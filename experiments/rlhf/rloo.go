package rlhf

import (
	"context"
	"fmt"

	"klppo/internal/rundir"
	"klppo/kl"
	"klppo/ppo"
)

// RLOO (Ahmadian et al. 2024, "Back to Basics") as TRL's RLOOTrainer runs it
// (trl/trainer/rloo_trainer.py, TRL 1.10.0.dev0 at commit f2cd577): the whole completion y is one
// action. Its reward carries the KL to π_ref as k1 summed over the completion's tokens (with the
// log-probabilities of the policy that sampled it),
//
//	R_i = score_i − β·Σ_t (ln π_old(y_t|s_t) − ln π_ref(y_t|s_t)),
//
// the baseline of completion i is the mean reward of the other k − 1 completions of its prompt
// (LeaveOneOut), and the loss is PPO's clipped objective on the sequence ratio
// π_θ(y)/π_old(y) = exp Σ_t (ln π_θ − ln π_old), averaged over completions:
//
//	L = −mean_i min(ρ_i·A_i, clip(ρ_i, 1 ± ε)·A_i).
//
// TRL does not normalise the advantages by default (normalize_advantages False).

// LeaveOneOut returns RLOO's advantage of each reward: rewards are in groups of size k
// (completions i·k … i·k+k−1 share a prompt) and the baseline of each is the mean of the other
// k − 1 rewards of its group,
//
//	A_i = R_i − (Σ_{j∈group} R_j − R_i)/(k − 1) = k/(k − 1)·(R_i − mean_group R).
func LeaveOneOut(rewards []float64, k int) ([]float64, error) {
	if k < 2 || len(rewards)%k != 0 {
		return nil, fmt.Errorf("rlhf: leave-one-out: %d rewards in groups of %d (want groups of ≥ 2)", len(rewards), k)
	}
	adv := make([]float64, len(rewards))
	for lo := 0; lo < len(rewards); lo += k {
		var sum float64
		for _, r := range rewards[lo : lo+k] {
			sum += r
		}
		for i := lo; i < lo+k; i++ {
			adv[i] = rewards[i] - (sum-rewards[i])/float64(k-1)
		}
	}
	return adv, nil
}

// RLOOConfig configures RLOO on the reviews language: Prompts × K completions per update.
type RLOOConfig struct {
	Updates   int     `json:"updates"`
	Prompts   int     `json:"prompts"`   // prompts per update
	K         int     `json:"k"`         // completions per prompt (TRL num_generations, default 2)
	Minibatch int     `json:"minibatch"` // token capacity of a gradient step's whole completions
	Epochs    int     `json:"epochs"`
	LR        float64 `json:"lr"`
	Clip      float64 `json:"clip"` // ε of the sequence ratio (TRL epsilon 0.2)
	MaxGrad   float64 `json:"max_grad_norm"`
	// Beta weighs k1 summed over the completion, subtracted from its reward (TRL beta, 0.05).
	Beta float64 `json:"kl_coef"`
	// NormalizeAdvantages whitens the advantages over the batch (TRL normalize_advantages, off).
	NormalizeAdvantages bool   `json:"normalize_advantages"`
	Seed                uint64 `json:"seed"`
	RefSamples          int    `json:"ref_samples"`
	Task
}

// DefaultRLOOConfig: 120 updates of 16 prompts × 4 completions (64 sequences), 4 epochs of
// minibatches of at most 256 tokens of whole completions, Adam 1e-3, ε = 0.2, gradient norm ≤ 1 —
// PPO's optimisation — with k1 summed per completion in the reward at β = beta (TRL: 0.05) and
// unnormalised advantages. TRL's default k is 2; 4 gives each baseline three completions.
func DefaultRLOOConfig(beta float64, seed uint64) RLOOConfig {
	return RLOOConfig{Updates: 120, Prompts: 16, K: 4, Minibatch: 256, Epochs: 4, LR: 1e-3, Clip: 0.2, MaxGrad: 1,
		Beta: beta, Seed: seed, RefSamples: 1024, Task: DefaultTask()}
}

// Validate checks every field, naming it.
func (c RLOOConfig) Validate() error {
	if err := validateGroupSizes("rloo", "k", c.Updates, c.Prompts, c.K, c.Minibatch, c.Epochs, c.RefSamples, c.LR, c.Clip, c.MaxGrad); err != nil {
		return err
	}
	if !(c.Beta >= 0) || c.Beta > MaxGroupBeta {
		return bad("rloo.kl_coef", c.Beta, "want a number in [0, %g]", float64(MaxGroupBeta))
	}
	return c.Task.validate("rloo")
}

func (c RLOOConfig) spec() groupSpec {
	return groupSpec{prompts: c.Prompts, group: c.K, minibatch: c.Minibatch, epochs: c.Epochs, lr: c.LR, clip: c.Clip,
		maxGrad: c.MaxGrad, seed: c.Seed, task: c.Task, rewardBeta: c.Beta, sequenceLevel: true,
		advantages: func(r []float64) ([]float64, error) {
			adv, err := LeaveOneOut(r, c.K)
			if err == nil && c.NormalizeAdvantages {
				m, sd := meanStd(adv)
				for i := range adv {
					adv[i] = (adv[i] - m) / (sd + 1e-4)
				}
			}
			return adv, err
		},
		// Each completion's tokens share its loss and weigh 1/(N·|y|) in all: the mean over completions.
		weights: func(l []int) ([]float64, error) { return LossGRPO.Weights(l, maxInt) }}
}

// maxInt is no bound on a completion's length.
const maxInt = int(^uint(0) >> 1)

// NewRLOOTrainer builds RLOO's trainer: a copy of π_ref and a sequence-level learner.
func NewRLOOTrainer(env Env, cfg RLOOConfig) (*GroupTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newGroupTrainer(env, cfg.spec())
}

// RunRLOO trains a policy from env.Ref with RLOO (cfg) and writes the run's files (the same as
// RunPPO's).
func RunRLOO(ctx context.Context, env Env, cfg RLOOConfig, dir string, onUpdate func(UpdateMetrics)) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if err := cfg.CheckMemory(env.Ref.Cfg); err != nil {
		return Summary{}, err
	}
	run := onlineRun{kind: rundir.KindRLHFRLOO, rc: RunConfig{Method: "rloo", RLOO: &cfg,
		Description: fmt.Sprintf("klppo rlhf rloo: RLOO from π_ref against the %s reward, k1 summed per completion in the reward with β = %g",
			rewardName(cfg.Reward), cfg.Beta)},
		updates: cfg.Updates, refSamples: cfg.RefSamples, seed: cfg.Seed, prompted: true, task: cfg.Task,
		settings: Summary{Beta: cfg.Beta, KLCtl: "fixed", KLIn: string(ppo.KLInReward), KLEstimator: kl.K1.String()},
		trainer:  func() (stepper, error) { return NewRLOOTrainer(env, cfg) }}
	return runOnline(ctx, env, run, dir, onUpdate)
}
