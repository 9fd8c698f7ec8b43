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
// random-number generators' states, the observation and return normaliser statistics and the
// state of every environment copy (physical state, steps into the episode, running return and
// length, current observation), so that a resumed run continues exactly as an uninterrupted
// one.
const CheckpointFile = "checkpoint.klppo"

const metaFormat = "klppo-ppo-train/1"

type envMeta struct {
	State   []float64 `json:"state"` // nil for environments without StateSetter
	Seed    uint64    `json:"seed"`  // seed of the episode's Reset
	Elapsed int       `json:"elapsed"`
	Return  float64   `json:"return"`
	Length  int       `json:"length"`
}

type checkpointMeta struct {
	Format      string              `json:"format"`
	Config      Config              `json:"config"`
	Update      int                 `json:"update"`
	GlobalStep  int                 `json:"global_step"`
	Beta        float64             `json:"beta"`
	WallS       float64             `json:"wall_s"`
	Episodes    int                 `json:"episodes"`
	FirstSolved int                 `json:"first_step_return_ge"`
	Window      []float64           `json:"last_returns"` // oldest first, at most 10
	AdamStep    int                 `json:"adam_step"`
	RNG         map[string][]byte   `json:"rng"` // PCG MarshalBinary, base64 in JSON
	ObsRMS      *env.RunningMeanStd `json:"obs_rms,omitempty"`
	RetRMS      *env.RunningMeanStd `json:"ret_rms,omitempty"`
	RetAcc      []float64           `json:"ret_acc"`
	Envs        []envMeta           `json:"envs"`
	RawObs      []float64           `json:"raw_obs"`
	CurObs      []float64           `json:"cur_obs"`
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

// snapshot captures the full training state.
func (t *trainer) snapshot(wallS float64) (*policy.Checkpoint, error) {
	meta := checkpointMeta{
		Format: metaFormat, Config: t.cfg, Update: t.update, GlobalStep: t.globalStep, Beta: t.beta,
		WallS: wallS, Episodes: t.episodes, FirstSolved: t.firstSolved, Window: t.window.ordered(),
		RNG: map[string][]byte{}, ObsRMS: t.obsRMS, RetRMS: t.retRMS,
		RetAcc: t.retAcc, RawObs: t.rawObs, CurObs: t.curObs,
	}
	for name, p := range map[string]*rand.PCG{"act": t.pcgAct, "shuffle": t.pcgShuf, "env": t.pcgEnv} {
		b, err := p.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("rng %s: %w", name, err)
		}
		meta.RNG[name] = b
	}
	for _, s := range t.envs {
		em := envMeta{Seed: s.seed, Elapsed: s.elapsed, Return: s.ret, Length: s.length}
		switch {
		case s.ss != nil:
			em.State = s.ss.State()
		case s.elapsed > 0:
			return nil, fmt.Errorf("env %d of %s cannot save its state in the middle of an episode", len(meta.Envs), t.cfg.EnvID)
		}
		meta.Envs = append(meta.Envs, em)
	}
	ap, av := t.adamP.State(), t.adamV.State()
	meta.AdamStep = ap.Step
	m, v := append(ap.M, av.M...), append(ap.V, av.V...)
	var extra []policy.Array
	for i, n := range t.names {
		extra = append(extra, policy.Array{Name: "adam.m." + n, Values: m[i]}, policy.Array{Name: "adam.v." + n, Values: v[i]})
	}
	return t.ac.Snapshot(extra, meta)
}

// errMismatch wraps policy.ErrMismatch for training-state mismatches.
var errMismatch = policy.ErrMismatch

// restore loads a checkpoint into a trainer freshly built from the same config.
func (t *trainer) restore(c *policy.Checkpoint) error {
	var meta checkpointMeta
	if err := json.Unmarshal(c.Meta, &meta); err != nil {
		return fmt.Errorf("%w: training state: %v", policy.ErrCorrupt, err)
	}
	if meta.Format != metaFormat {
		return fmt.Errorf("%w: training state format %q, want %q", policy.ErrCorrupt, meta.Format, metaFormat)
	}
	if err := sameRun(meta.Config, t.cfg); err != nil {
		return err
	}
	if err := t.ac.Restore(c); err != nil {
		return err
	}
	ap := nn.AdamState{Config: t.adamP.Config(), Step: meta.AdamStep}
	av := nn.AdamState{Config: t.adamV.Config(), Step: meta.AdamStep}
	for i, n := range t.names {
		m, v := c.Array("adam.m."+n), c.Array("adam.v."+n)
		if m == nil || v == nil {
			return fmt.Errorf("%w: Adam moments of %q are missing", errMismatch, n)
		}
		if i < t.nPolicy {
			ap.M, ap.V = append(ap.M, m), append(ap.V, v)
		} else {
			av.M, av.V = append(av.M, m), append(av.V, v)
		}
	}
	if err := t.adamP.SetState(ap); err != nil {
		return fmt.Errorf("%w: %v", errMismatch, err)
	}
	if err := t.adamV.SetState(av); err != nil {
		return fmt.Errorf("%w: %v", errMismatch, err)
	}
	for name, p := range map[string]*rand.PCG{"act": t.pcgAct, "shuffle": t.pcgShuf, "env": t.pcgEnv} {
		if err := p.UnmarshalBinary(meta.RNG[name]); err != nil {
			return fmt.Errorf("%w: rng %s: %v", policy.ErrCorrupt, name, err)
		}
	}
	if len(meta.Envs) != t.N || len(meta.RawObs) != t.N*t.O || len(meta.CurObs) != t.N*t.O || len(meta.RetAcc) != t.N {
		return fmt.Errorf("%w: environment state for %d copies, want %d", errMismatch, len(meta.Envs), t.N)
	}
	for i, em := range meta.Envs {
		sl := &t.envs[i]
		switch {
		case sl.ss != nil:
			if err := sl.ss.SetState(em.State); err != nil {
				return fmt.Errorf("%w: env %d: %v", errMismatch, i, err)
			}
		case em.Elapsed == 0:
			// Without a saveable state the episode is replayed from its start with its seed.
			seed := em.Seed
			if _, _, err := sl.e.Reset(&seed); err != nil {
				return fmt.Errorf("env %d reset: %w", i, err)
			}
		default:
			return fmt.Errorf("%w: env %d has no saveable state and was %d steps into an episode", errMismatch, i, em.Elapsed)
		}
		sl.seed = em.Seed
		t.envs[i].elapsed, t.envs[i].ret, t.envs[i].length = em.Elapsed, em.Return, em.Length
	}
	if (meta.ObsRMS == nil) != (t.obsRMS == nil) || (meta.RetRMS == nil) != (t.retRMS == nil) {
		return fmt.Errorf("%w: normaliser statistics do not match norm_obs/norm_reward", errMismatch)
	}
	if meta.ObsRMS != nil {
		if err := meta.ObsRMS.Validate(t.O); err != nil {
			return fmt.Errorf("%w: %v", policy.ErrCorrupt, err)
		}
		t.obsRMS = meta.ObsRMS
	}
	if meta.RetRMS != nil {
		if err := meta.RetRMS.Validate(1); err != nil {
			return fmt.Errorf("%w: %v", policy.ErrCorrupt, err)
		}
		t.retRMS = meta.RetRMS
	}
	copy(t.retAcc, meta.RetAcc)
	copy(t.rawObs, meta.RawObs)
	copy(t.curObs, meta.CurObs)
	t.update, t.globalStep, t.beta = meta.Update, meta.GlobalStep, meta.Beta
	t.wallBefore, t.episodes, t.firstSolved = meta.WallS, meta.Episodes, meta.FirstSolved
	t.window = newReturnWindow(10)
	for _, r := range meta.Window {
		t.window.add(r)
	}
	return nil
}

// sameRun checks that a resumed run uses the checkpoint's configuration; only total_timesteps
// and checkpoint_every may differ.
func sameRun(saved, cur Config) error {
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
			return fmt.Errorf("%w: %s is %v in the checkpoint but %v now", errMismatch, tag, va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
	return errors.New("config mismatch")
}
