package env

import (
	"fmt"
	"sort"
	"strings"
)

// Spec describes a registered environment id, as Gymnasium's EnvSpec.
type Spec struct {
	ID string `json:"id"`
	// MaxEpisodeSteps is the time limit Make applies (0: none).
	MaxEpisodeSteps int `json:"max_episode_steps"`
	// RewardThreshold is the average return at which the task counts as solved; valid only when
	// HasRewardThreshold (Gymnasium registers none for Pendulum-v1 and Bandit-v0).
	RewardThreshold    float64 `json:"reward_threshold"`
	HasRewardThreshold bool    `json:"has_reward_threshold"`
	// Source says where the dynamics come from.
	Source string `json:"source"`
	// New returns a fresh unwrapped environment (no time limit).
	New func() Env `json:"-"`
}

// Threshold returns the reward threshold and whether the id has one.
func (s Spec) Threshold() (float64, bool) { return s.RewardThreshold, s.HasRewardThreshold }

const gym0291 = "Gymnasium 0.29.1 gymnasium/envs/classic_control/"

var registry = []Spec{
	{ID: "CartPole-v1", MaxEpisodeSteps: 500, RewardThreshold: 475, HasRewardThreshold: true,
		Source: gym0291 + "cartpole.py (Barto, Sutton & Anderson 1983)", New: func() Env { return NewCartPole() }},
	{ID: "Acrobot-v1", MaxEpisodeSteps: 500, RewardThreshold: -100, HasRewardThreshold: true,
		Source: gym0291 + "acrobot.py (Sutton & Barto book dynamics, RK4)", New: func() Env { return NewAcrobot() }},
	{ID: "MountainCar-v0", MaxEpisodeSteps: 200, RewardThreshold: -110, HasRewardThreshold: true,
		Source: gym0291 + "mountain_car.py (Moore 1990)", New: func() Env { return NewMountainCar() }},
	{ID: "MountainCarContinuous-v0", MaxEpisodeSteps: 999, RewardThreshold: 90, HasRewardThreshold: true,
		Source: gym0291 + "continuous_mountain_car.py", New: func() Env { return NewMountainCarContinuous() }},
	{ID: "Pendulum-v1", MaxEpisodeSteps: 200,
		Source: gym0291 + "pendulum.py", New: func() Env { return NewPendulum() }},
	{ID: "Bandit-v0",
		Source: "klppo (teaching environment): 5 Bernoulli arms, means 0.2 0.4 0.8 0.5 0.3",
		New:    func() Env { return newBandit(DefaultBanditConfig()) }},
}

// Specs returns the registered environments in a fixed order.
func Specs() []Spec { return append([]Spec(nil), registry...) }

// IDs returns the registered ids, sorted.
func IDs() []string {
	ids := make([]string, len(registry))
	for i, s := range registry {
		ids[i] = s.ID
	}
	sort.Strings(ids)
	return ids
}

// Lookup returns the spec of id.
func Lookup(id string) (Spec, error) {
	for _, s := range registry {
		if s.ID == id {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("env: unknown environment id %q (known: %s)", id, strings.Join(IDs(), ", "))
}

// Make returns the environment id with its standard time limit applied (as gymnasium.make).
func Make(id string) (Env, error) {
	s, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	return s.Make(), nil
}

// Make returns a fresh environment of the spec, wrapped in its time limit when it has one.
func (s Spec) Make() Env {
	e := s.New()
	if s.MaxEpisodeSteps > 0 {
		return newTimeLimit(e, s.MaxEpisodeSteps)
	}
	return e
}

// Spaces returns the observation and action spaces of the spec's environment.
func (s Spec) Spaces() (observation, action Space) {
	e := s.New()
	return e.ObservationSpace(), e.ActionSpace()
}
