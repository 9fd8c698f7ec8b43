package experiments

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/env"
)

// MeasureBaseline measures the random-policy return of envID: the mean return of `episodes`
// episodes (with the env's standard time limit) in which every action is drawn uniformly from the
// action space (ActionSpace().Sample; a Box with finite bounds is sampled uniformly). The env is
// reset with seed for the first episode and continues its stream afterwards; the actions come from a
// PCG generator seeded with (seed, 0x52414e44). The result is deterministic for a given seed.
// It also reports the env's solved threshold (NaN when the env has none). It stops with an error
// wrapping ctx.Err() when ctx is cancelled.
func MeasureBaseline(ctx context.Context, envID string, episodes int, seed uint64) (Baseline, error) {
	bl := Baseline{RandomReturn: nan, RandomEpisodes: episodes, RandomSeed: seed, SolvedThreshold: nan}
	if episodes < 1 {
		return bl, fmt.Errorf("random baseline: episodes: %d, must be ≥ 1", episodes)
	}
	spec, err := env.Lookup(envID)
	if err != nil {
		return bl, fmt.Errorf("random baseline: %w", err)
	}
	if t, ok := spec.Threshold(); ok {
		bl.SolvedThreshold = t
	}
	e := spec.Make()
	rng := rand.New(rand.NewPCG(seed, 0x52414e44))
	const maxSteps = 1_000_000 // guard for envs without a time limit
	total := 0.0
	for ep := 0; ep < episodes; ep++ {
		if err := ctx.Err(); err != nil {
			return bl, fmt.Errorf("random baseline: %s: stopped after %d of %d episodes: %w", envID, ep, episodes, err)
		}
		var s *uint64
		if ep == 0 {
			s = &seed
		}
		if _, _, err := e.Reset(s); err != nil {
			return bl, fmt.Errorf("random baseline: %s: reset: %w", envID, err)
		}
		ret := 0.0
		for t := 0; ; t++ {
			if t == maxSteps {
				return bl, fmt.Errorf("random baseline: %s: episode %d did not end within %d steps", envID, ep, maxSteps)
			}
			res, err := e.Step(e.ActionSpace().Sample(rng))
			if err != nil {
				return bl, fmt.Errorf("random baseline: %s: step: %w", envID, err)
			}
			ret += res.Reward
			if res.Terminated || res.Truncated {
				break
			}
		}
		total += ret
	}
	bl.RandomReturn = total / float64(episodes)
	if math.IsNaN(bl.RandomReturn) {
		return bl, fmt.Errorf("random baseline: %s: return is NaN", envID)
	}
	return bl, nil
}
