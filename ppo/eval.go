package ppo

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"klppo/env"
	"klppo/internal/rng"
	"klppo/policy"
)

// EvalResult summarises evaluation episodes of a trained policy (raw, unnormalised returns).
type EvalResult struct {
	Deterministic bool      `json:"deterministic"`
	Episodes      int       `json:"episodes"`
	Mean, Std     float64   `json:"-"`
	Min, Max      float64   `json:"-"`
	Returns       []float64 `json:"returns"`
	Lengths       []int     `json:"lengths"`
}

// Evaluate loads the checkpoint of the run in runDir and plays episodes full episodes of its
// environment (with its time limit) with deterministic actions (argmax / mean) or sampled ones.
// Episode k is reset with seed seed+k; sampled actions draw from a PCG seeded with seed.
// Observation normalisation uses the checkpoint's statistics, frozen. The run must pass
// ReadRun's checks (the checkpoint is the truth; a config.json that disagrees is refused).
func Evaluate(ctx context.Context, runDir string, episodes int, deterministic bool, seed uint64) (EvalResult, error) {
	if episodes <= 0 {
		return EvalResult{}, fmt.Errorf("ppo: evaluate: episodes = %d: must be > 0", episodes)
	}
	c, meta, err := readRun(runDir)
	if err != nil {
		return EvalResult{}, fmt.Errorf("ppo: evaluate: %w", err)
	}
	ac, err := policy.Load(c)
	if err != nil {
		return EvalResult{}, fmt.Errorf("ppo: evaluate: %w", err)
	}
	spec, err := env.Lookup(meta.Config.EnvID)
	if err != nil {
		return EvalResult{}, fmt.Errorf("ppo: evaluate: %w", err)
	}
	e := spec.Make()
	if d := e.ObservationSpace().Dim(); d != ac.Config().ObsDim {
		return EvalResult{}, fmt.Errorf("ppo: evaluate: %w: env observation has %d dims, policy %d", policy.ErrMismatch, d, ac.Config().ObsDim)
	}
	if n := meta.Normalization; n != nil && n.Observation != nil {
		norm := env.NewNormalizeObservation(e, meta.Config.ClipObs)
		if err := norm.SetState(*n.Observation); err != nil {
			return EvalResult{}, fmt.Errorf("ppo: evaluate: %w: %v", policy.ErrCorrupt, err)
		}
		norm.SetFrozen(true)
		e = norm
	}
	actor := policy.NewActor(ac)
	draws := rng.New(seed, 0x5EED)
	res := EvalResult{Deterministic: deterministic, Episodes: episodes}
	for k := 0; k < episodes; k++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("ppo: evaluate: %w", err)
		}
		s := seed + uint64(k)
		obs, _, err := e.Reset(&s)
		if err != nil {
			return res, fmt.Errorf("ppo: evaluate: reset: %w", err)
		}
		ret, length := 0.0, 0
		for {
			a, err := actor.Act(obs, 1, draws, deterministic, false)
			if err != nil {
				return res, err
			}
			r, err := e.Step(actor.EnvAction(a, 0))
			if err != nil {
				return res, fmt.Errorf("ppo: evaluate: step: %w", err)
			}
			ret += r.Reward
			length++
			obs = r.Obs
			if r.Terminated || r.Truncated {
				break
			}
		}
		res.Returns = append(res.Returns, ret)
		res.Lengths = append(res.Lengths, length)
	}
	res.Min, res.Max = math.Inf(1), math.Inf(-1)
	for _, r := range res.Returns {
		res.Mean += r
		res.Min = math.Min(res.Min, r)
		res.Max = math.Max(res.Max, r)
	}
	res.Mean /= float64(episodes)
	for _, r := range res.Returns {
		res.Std += (r - res.Mean) * (r - res.Mean)
	}
	res.Std = math.Sqrt(res.Std / float64(episodes))
	return res, nil
}

// ReadConfig reads the resolved config.json of a run directory (what `train --resume` uses).
func ReadConfig(runDir string) (Config, error) {
	return LoadConfig(filepath.Join(runDir, ConfigFile))
}

// ReadRun returns the configuration of the run in runDir as its checkpoint records it — the
// truth about the trained networks — after checking that the run's config.json exists and
// agrees with it (only total_timesteps and checkpoint_every may differ: a resume may have
// extended the run). A disagreement wraps policy.ErrMismatch and names the field.
func ReadRun(runDir string) (Config, error) {
	_, meta, err := readRun(runDir)
	if err != nil {
		return Config{}, fmt.Errorf("ppo: %w", err)
	}
	return meta.Config, nil
}

func readRun(runDir string) (*policy.Checkpoint, checkpointMeta, error) {
	c, err := policy.ReadCheckpoint(filepath.Join(runDir, CheckpointFile))
	if err != nil {
		return nil, checkpointMeta{}, err
	}
	meta, err := readMeta(c)
	if err != nil {
		return nil, checkpointMeta{}, err
	}
	file, err := ReadConfig(runDir)
	if err != nil {
		return nil, checkpointMeta{}, fmt.Errorf("%w: run %s has no readable %s to check the checkpoint against: %v", policy.ErrMismatch, runDir, ConfigFile, err)
	}
	if err := diffConfig(meta.Config, file, "in "+ConfigFile); err != nil {
		return nil, checkpointMeta{}, fmt.Errorf("%s disagrees with %s: %w", filepath.Join(runDir, ConfigFile), CheckpointFile, err)
	}
	return c, meta, nil
}
