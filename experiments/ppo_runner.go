package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"klppo/ppo"
)

// TrainFunc has ppo.Train's signature; PPORunner calls it (tests inject fakes).
type TrainFunc func(ctx context.Context, cfg ppo.Config, outDir string, opts ppo.Options) (ppo.Summary, error)

// PPORunner is the Runner that trains with ppo.Train: each run's config is the env's
// ppo.DefaultConfig with the sweep's overrides, penalty, seed and step budget applied.
type PPORunner struct {
	Train TrainFunc // nil means ppo.Train
}

var _ Runner = PPORunner{}

// sweepFields are set by the sweep itself and may not appear in overrides.
var sweepFields = map[string]string{"env_id": "env", "penalty": "penalties", "seed": "seeds", "total_timesteps": "steps"}

// Config resolves the training configuration of spec and validates it. An override key that is not
// a field of config.json, or a value of the wrong type, is an error naming the key.
func (r PPORunner) Config(spec RunSpec) (ppo.Config, error) {
	cfg, err := ppo.DefaultConfig(spec.Env)
	if err != nil {
		return ppo.Config{}, fmt.Errorf("env: %w", err)
	}
	if len(spec.Overrides) > 0 {
		base, err := json.Marshal(cfg)
		if err != nil {
			return ppo.Config{}, fmt.Errorf("overrides: %w", err)
		}
		fields := map[string]json.RawMessage{}
		if err := json.Unmarshal(base, &fields); err != nil {
			return ppo.Config{}, fmt.Errorf("overrides: %w", err)
		}
		keys := make([]string, 0, len(spec.Overrides))
		for k := range spec.Overrides {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := sweepFields[k]; ok {
				return ppo.Config{}, fmt.Errorf("overrides: %s: set by the experiment's %s field, not an override", k, f)
			}
			if _, ok := fields[k]; !ok {
				known := make([]string, 0, len(fields))
				for f := range fields {
					if _, s := sweepFields[f]; !s {
						known = append(known, f)
					}
				}
				sort.Strings(known)
				return ppo.Config{}, fmt.Errorf("overrides: %s: unknown field (known: %s)", k, strings.Join(known, ", "))
			}
			v, err := json.Marshal(spec.Overrides[k])
			if err != nil {
				return ppo.Config{}, fmt.Errorf("overrides: %s: %w", k, err)
			}
			// decode each key alone so that a type error names it
			var probe ppo.Config
			if err := json.Unmarshal([]byte(fmt.Sprintf("{%q:%s}", k, v)), &probe); err != nil {
				return ppo.Config{}, fmt.Errorf("overrides: %s = %s: %w", k, v, err)
			}
			fields[k] = v
		}
		merged, err := json.Marshal(fields)
		if err != nil {
			return ppo.Config{}, fmt.Errorf("overrides: %w", err)
		}
		var out ppo.Config
		dec := json.NewDecoder(bytes.NewReader(merged))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			return ppo.Config{}, fmt.Errorf("overrides: %w", err)
		}
		cfg = out
	}
	pen, err := ppo.ParsePenalty(spec.Penalty)
	if err != nil {
		return ppo.Config{}, err
	}
	cfg.EnvID = spec.Env
	cfg.Penalty = pen.String()
	cfg.Seed = spec.Seed
	cfg.TotalTimesteps = spec.Steps
	if err := cfg.Validate(); err != nil {
		return ppo.Config{}, err
	}
	return cfg, nil
}

// Prepare implements Runner.
func (r PPORunner) Prepare(spec RunSpec) (RunSpec, error) {
	cfg, err := r.Config(spec)
	if err != nil {
		return spec, err
	}
	spec.Penalty = cfg.Penalty
	return spec, nil
}

// Run implements Runner.
func (r PPORunner) Run(ctx context.Context, spec RunSpec, dir string, opts RunOptions) (RunOutcome, error) {
	cfg, err := r.Config(spec)
	if err != nil {
		return RunOutcome{}, err
	}
	train := r.Train
	if train == nil {
		train = ppo.Train
	}
	po := ppo.Options{Resume: opts.Resume, Force: opts.Force, SingleThreaded: opts.SingleThreaded}
	if opts.OnUpdate != nil {
		po.Hooks.OnUpdate = func(m ppo.UpdateMetrics) { opts.OnUpdate(m.GlobalStep) }
	}
	sum, err := train(ctx, cfg, dir, po)
	return RunOutcome{Steps: sum.Steps, Stopped: sum.Stopped}, err
}
