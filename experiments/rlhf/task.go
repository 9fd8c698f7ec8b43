package rlhf

import "fmt"

// Reward says which score an online method maximises.
type Reward string

const (
	// RewardRM is the reward model's score r_φ(x): learned from preferences, linear in the bag
	// of words, hackable (InstructGPT's setting).
	RewardRM Reward = "rm"
	// RewardGold is the labeler's gold reward: a verifiable reward, exactly what is wanted,
	// nothing to hack (the setting of reasoning RL with checkable answers).
	RewardGold Reward = "gold"
)

// Validate checks the name.
func (r Reward) Validate() error {
	if r != RewardRM && r != RewardGold {
		return fmt.Errorf("rlhf: reward %q, want rm or gold", string(r))
	}
	return nil
}

// of returns the rollout's per-sequence scores of this reward.
func (r Reward) of(rl *rollout) []float64 {
	if r == RewardGold {
		return rl.gold
	}
	return rl.proxy
}

// Task is what every online method (PPO, GRPO, RLOO) shares: the reward it maximises, the
// held-out part of the prompt space and the final evaluation.
type Task struct {
	Reward  Reward     `json:"reward"`
	HeldOut float64    `json:"held_out"` // Prompts.HeldOut
	Eval    EvalConfig `json:"eval"`
}

// DefaultTask: the reward model, 20% of the prompt space held out, the default evaluation.
func DefaultTask() Task {
	return Task{Reward: RewardRM, HeldOut: DefaultHeldOut, Eval: DefaultEvalConfig()}
}

// Validate checks every field.
func (t Task) Validate() error {
	if err := t.Reward.Validate(); err != nil {
		return err
	}
	if !(t.HeldOut >= 0 && t.HeldOut < 1) {
		return fmt.Errorf("rlhf: held_out %v, want [0, 1)", t.HeldOut)
	}
	return t.Eval.Validate()
}
