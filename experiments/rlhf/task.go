package rlhf

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
func (r Reward) Validate() error { return r.validate("reward") }

func (r Reward) validate(field string) error {
	if r != RewardRM && r != RewardGold {
		return bad(field, string(r), "want rm or gold")
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

// validate checks every field, naming it under prefix ("ppo", "grpo", "rloo").
func (t Task) validate(prefix string) error {
	if err := t.Reward.validate(prefix + ".reward"); err != nil {
		return err
	}
	if err := validateHeldOut(prefix+".held_out", t.HeldOut); err != nil {
		return err
	}
	return t.Eval.validate(prefix + ".eval")
}

func validateHeldOut(field string, f float64) error {
	if !(f >= 0 && f <= 0.9) {
		return bad(field, f, "want a fraction of the prompt space in [0, 0.9]")
	}
	return nil
}
