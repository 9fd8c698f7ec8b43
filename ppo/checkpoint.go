package ppo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"

	"klppo/env"
	"klppo/nn"
	"klppo/policy"
)

// CheckpointFile is the name of the checkpoint inside a run directory. Its container format is
// policy's (see policy.WriteCheckpoint): the parameters of the policy and value networks (and
// the Gaussian log-std) followed by Adam's moments as arrays "adam.m.<param>" and
// "adam.v.<param>", and as "meta" the JSON object checkpointMeta: the resolved config, the
// update and step counters, β, the wall time so far, the episode statistics, the three PCG
// random-number generators' states, the normalisers' state (env.SaveVectorNormalization) and
// the state of every environment copy (physical state, steps into the episode, running return
// and length, the seed of its episode), and the current observations, so that a resumed run
// continues exactly as an uninterrupted one.
const CheckpointFile = "checkpoint.klppo"

// metaFormat is the current training-state format; metaFormatV1 (normaliser statistics as
// obs_rms, ret_rms and ret_acc) is still read.
const (
	metaFormat   = "klppo-ppo-train/2"
	metaFormatV1 = "klppo-ppo-train/1"
)

type envMeta struct {
	State   []float64 `json:"state"` // nil for environments without StateSetter
	Seed    uint64    `json:"seed"`  // seed of the episode's Reset
	Elapsed int       `json:"elapsed"`
	Return  float64   `json:"return"`
	Length  int       `json:"length"`
}

type checkpointMeta struct {
	Format        string                  `json:"format"`
	Config        Config                  `json:"config"`
	Update        int                     `json:"update"`
	GlobalStep    int                     `json:"global_step"`
	Beta          float64                 `json:"beta"`
	WallS         float64                 `json:"wall_s"`
	Episodes      int                     `json:"episodes"`
	FirstSolved   int                     `json:"first_step_return_ge"`
	Window        []float64               `json:"last_returns"` // oldest first, at most 10
	AdamStep      int                     `json:"adam_step"`
	RNG           map[string][]byte       `json:"rng"` // PCG MarshalBinary, base64 in JSON
	Normalization *env.NormalizationState `json:"normalization,omitempty"`
	Envs          []envMeta               `json:"envs"`
	CurObs        []float64               `json:"cur_obs"`

	// format 1 only
	ObsRMS *env.RunningMeanStd `json:"obs_rms,omitempty"`
	RetRMS *env.RunningMeanStd `json:"ret_rms,omitempty"`
	RetAcc []float64           `json:"ret_acc,omitempty"`
}

func (w *returnWindow) ordered() []float64 {
	n := w.count()
	out := make([]float64, 0, n)
	start := 0
	if w.full {
		start = w.next
	}
	for i := 0; i < n; i++ {
		out = append(out, w.buf[(start+i)%len(w.buf)])
	}
	return out
}

// rngs names the trainer's generators in the checkpoint.
func (t *trainer) rngs() map[string]*rand.PCG {
	return map[string]*rand.PCG{"act": t.actPCG, "shuffle": t.shufflePCG, "env": t.envPCG}
}

// canSaveState reports whether copy e can save and set its physical state.
func canSaveState(e env.Env) bool {
	_, ok := env.Unwrapped(e).(env.StateSetter)
	return ok
}

// snapshot captures the full training state.
func (t *trainer) snapshot(wallS float64) (*policy.Checkpoint, error) {
	norm := env.SaveVectorNormalization(t.venv)
	meta := checkpointMeta{
		Format: metaFormat, Config: t.cfg, Update: t.update, GlobalStep: t.globalStep, Beta: t.beta,
		WallS: wallS, Episodes: t.episodes, FirstSolved: t.firstSolved, Window: t.recentReturns.ordered(),
		RNG: map[string][]byte{}, CurObs: t.obs,
	}
	if norm.Observation != nil || norm.Reward != nil {
		meta.Normalization = &norm
	}
	for name, p := range t.rngs() {
		b, err := p.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("rng %s: %w", name, err)
		}
		meta.RNG[name] = b
	}
	for i, e := range t.envs.Envs() {
		ret, length := t.envs.EpisodeProgress(i)
		em := envMeta{Seed: t.resetSeeds[i], Elapsed: length, Return: ret, Length: length}
		switch {
		case canSaveState(e):
			em.State = e.(env.StateSetter).State()
		case length > 0:
			return nil, fmt.Errorf("env %d of %s cannot save its state in the middle of an episode", i, t.cfg.EnvID)
		}
		meta.Envs = append(meta.Envs, em)
	}
	ap, av := t.learner.PolicyAdam().State(), t.learner.ValueAdam().State()
	meta.AdamStep = ap.Step
	m, v := append(ap.M, av.M...), append(ap.V, av.V...)
	var extra []policy.Array
	for i, n := range t.paramNames {
		extra = append(extra, policy.Array{Name: "adam.m." + n, Values: m[i]}, policy.Array{Name: "adam.v." + n, Values: v[i]})
	}
	return t.nets.Snapshot(extra, meta)
}

// errMismatch wraps policy.ErrMismatch for training-state mismatches.
var errMismatch = policy.ErrMismatch

// readMeta decodes the training state of a checkpoint. Fields added to Config after a
// checkpoint was written keep their defaults.
func readMeta(c *policy.Checkpoint) (checkpointMeta, error) {
	var probe struct {
		Config struct {
			EnvID string `json:"env_id"`
		} `json:"config"`
	}
	if err := json.Unmarshal(c.Meta, &probe); err != nil {
		return checkpointMeta{}, fmt.Errorf("%w: training state: %v", policy.ErrCorrupt, err)
	}
	var meta checkpointMeta
	if def, err := DefaultConfig(probe.Config.EnvID); err == nil {
		meta.Config = def
		meta.Config.Hidden = nil
	}
	if err := json.Unmarshal(c.Meta, &meta); err != nil {
		return checkpointMeta{}, fmt.Errorf("%w: training state: %v", policy.ErrCorrupt, err)
	}
	switch meta.Format {
	case metaFormat:
	case metaFormatV1:
		// Format 1 kept the normalisers' statistics as plain fields (ε = 1e-8 as env's).
		var n env.NormalizationState
		if meta.ObsRMS != nil {
			n.Observation = &env.NormalizeObservationState{RMS: *meta.ObsRMS, Epsilon: 1e-8, Clip: meta.Config.ClipObs}
		}
		if meta.RetRMS != nil {
			n.Reward = &env.NormalizeRewardState{RMS: *meta.RetRMS, Returns: meta.RetAcc, Gamma: meta.Config.Gamma,
				Epsilon: 1e-8, Clip: meta.Config.ClipReward}
		}
		if n.Observation != nil || n.Reward != nil {
			meta.Normalization = &n
		}
	default:
		return checkpointMeta{}, fmt.Errorf("%w: training state format %q, want %q", policy.ErrCorrupt, meta.Format, metaFormat)
	}
	return meta, nil
}

// restore loads a checkpoint into a trainer freshly built from the same config.
func (t *trainer) restore(c *policy.Checkpoint) error {
	meta, err := readMeta(c)
	if err != nil {
		return err
	}
	if err := sameRun(meta.Config, t.cfg); err != nil {
		return err
	}
	if err := t.nets.Restore(c); err != nil {
		return err
	}
	policyAdam, valueAdam := t.learner.PolicyAdam(), t.learner.ValueAdam()
	ap := nn.AdamState{Config: policyAdam.Config(), Step: meta.AdamStep}
	av := nn.AdamState{Config: valueAdam.Config(), Step: meta.AdamStep}
	for i, n := range t.paramNames {
		m, v := c.Array("adam.m."+n), c.Array("adam.v."+n)
		if m == nil || v == nil {
			return fmt.Errorf("%w: Adam moments of %q are missing", errMismatch, n)
		}
		if i < t.learner.NumPolicyParams() {
			ap.M, ap.V = append(ap.M, m), append(ap.V, v)
		} else {
			av.M, av.V = append(av.M, m), append(av.V, v)
		}
	}
	if err := policyAdam.SetState(ap); err != nil {
		return fmt.Errorf("%w: %v", errMismatch, err)
	}
	if err := valueAdam.SetState(av); err != nil {
		return fmt.Errorf("%w: %v", errMismatch, err)
	}
	for name, p := range t.rngs() {
		if err := p.UnmarshalBinary(meta.RNG[name]); err != nil {
			return fmt.Errorf("%w: rng %s: %v", policy.ErrCorrupt, name, err)
		}
	}
	if err := t.restoreEnvs(meta); err != nil {
		return err
	}
	t.update, t.globalStep, t.beta = meta.Update, meta.GlobalStep, meta.Beta
	t.wallBefore, t.episodes, t.firstSolved = meta.WallS, meta.Episodes, meta.FirstSolved
	t.recentReturns = newReturnWindow(10)
	for _, r := range meta.Window {
		t.recentReturns.add(r)
	}
	return nil
}

// restoreEnvs sets every copy's state, time-limit counter and episode progress, the normalisers
// and the current observations.
func (t *trainer) restoreEnvs(meta checkpointMeta) error {
	if len(meta.Envs) != t.numEnvs || len(meta.CurObs) != t.numEnvs*t.obsDim {
		return fmt.Errorf("%w: environment state for %d copies, want %d", errMismatch, len(meta.Envs), t.numEnvs)
	}
	for i, e := range t.envs.Envs() {
		em := meta.Envs[i]
		switch {
		case canSaveState(e):
			if err := e.(env.StateSetter).SetState(em.State); err != nil {
				return fmt.Errorf("%w: env %d: %v", errMismatch, i, err)
			}
			if tl, ok := e.(*env.TimeLimit); ok {
				if err := tl.SetElapsed(em.Elapsed); err != nil {
					return fmt.Errorf("%w: env %d: %v", errMismatch, i, err)
				}
			}
		case em.Elapsed == 0:
			// Without a saveable state the episode is replayed from its start with its seed.
			seed := em.Seed
			if _, _, err := e.Reset(&seed); err != nil {
				return fmt.Errorf("env %d reset: %w", i, err)
			}
		default:
			return fmt.Errorf("%w: env %d has no saveable state and was %d steps into an episode", errMismatch, i, em.Elapsed)
		}
		if err := t.envs.SetEpisodeProgress(i, em.Return, em.Length); err != nil {
			return fmt.Errorf("%w: %v", policy.ErrCorrupt, err)
		}
		t.resetSeeds[i] = em.Seed
	}
	want := env.SaveVectorNormalization(t.venv)
	got := meta.Normalization
	if got == nil {
		got = &env.NormalizationState{}
	}
	if (got.Observation == nil) != (want.Observation == nil) || (got.Reward == nil) != (want.Reward == nil) {
		return fmt.Errorf("%w: normaliser statistics do not match norm_obs/norm_reward", errMismatch)
	}
	if err := env.LoadVectorNormalization(t.venv, *got); err != nil {
		return fmt.Errorf("%w: %v", policy.ErrCorrupt, err)
	}
	copy(t.obs, meta.CurObs)
	return nil
}

// sameRun checks that a resumed run uses the checkpoint's configuration; only total_timesteps
// and checkpoint_every may differ.
func sameRun(saved, cur Config) error { return diffConfig(saved, cur, "now") }

// diffConfig reports the first field, other than total_timesteps and checkpoint_every, in
// which cur (described by where, e.g. "in config.json") differs from the checkpoint's saved.
func diffConfig(saved, cur Config, where string) error {
	a, b := saved, cur
	a.TotalTimesteps, b.TotalTimesteps = 0, 0
	a.CheckpointEvery, b.CheckpointEvery = 0, 0
	if reflect.DeepEqual(a, b) {
		return nil
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := 0; i < va.NumField(); i++ {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			tag := va.Type().Field(i).Tag.Get("json")
			return fmt.Errorf("%w: %s is %v in the checkpoint but %v %s", errMismatch, tag, va.Field(i).Interface(), vb.Field(i).Interface(), where)
		}
	}
	return errors.New("config mismatch")
}
