package ppo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"klppo/env"
	"klppo/internal/fileio"
	"klppo/internal/memlimit"
)

// Config is the fully resolved training configuration, one field per hyperparameter (as
// CleanRL's Args). JSON and YAML keys are CleanRL's snake_case names where CleanRL has one.
type Config struct {
	// EnvID is the environment id (see env.IDs).
	EnvID string `json:"env_id" yaml:"env_id"`
	// Penalty is the policy objective spec: clip:ε, kl-fixed:β, kl-adaptive:d_targ,
	// kl-prop:d_targ or none, optionally +stop:KL (see ParsePenalty).
	Penalty string `json:"penalty" yaml:"penalty"`
	// TotalTimesteps is the number of environment steps of the run (rounded down to whole updates).
	TotalTimesteps int `json:"total_timesteps" yaml:"total_timesteps"`
	// Seed seeds the network initialisation, action sampling, minibatch shuffling and episodes.
	Seed uint64 `json:"seed" yaml:"seed"`
	// NumEnvs is the number of environment copies stepped together.
	NumEnvs int `json:"num_envs" yaml:"num_envs"`
	// NumSteps is the number of steps per copy in each rollout (one update's rollout length).
	NumSteps int `json:"num_steps" yaml:"num_steps"`
	// NumMinibatches is the number of minibatches the NumEnvs·NumSteps batch is split into.
	NumMinibatches int `json:"num_minibatches" yaml:"num_minibatches"`
	// UpdateEpochs is the number of passes over the batch per update.
	UpdateEpochs int `json:"update_epochs" yaml:"update_epochs"`
	// LearningRate is Adam's step size (at the start of the run when AnnealLR).
	LearningRate float64 `json:"learning_rate" yaml:"learning_rate"`
	// AnnealLR decays the learning rate linearly to 0 over the run.
	AnnealLR bool `json:"anneal_lr" yaml:"anneal_lr"`
	// Gamma is the discount factor γ.
	Gamma float64 `json:"gamma" yaml:"gamma"`
	// GAELambda is the λ of generalised advantage estimation.
	GAELambda float64 `json:"gae_lambda" yaml:"gae_lambda"`
	// NormAdv standardises the advantages of each minibatch.
	NormAdv bool `json:"norm_adv" yaml:"norm_adv"`
	// ClipVLoss clips the value loss around the rollout's values (by VFClip).
	ClipVLoss bool `json:"clip_vloss" yaml:"clip_vloss"`
	// VFClip is the ε of the clipped value loss.
	VFClip float64 `json:"vf_clip" yaml:"vf_clip"`
	// EntCoef is the coefficient of the entropy bonus.
	EntCoef float64 `json:"ent_coef" yaml:"ent_coef"`
	// VFCoef is the coefficient of the value loss.
	VFCoef float64 `json:"vf_coef" yaml:"vf_coef"`
	// MaxGradNorm is the bound of the global gradient norm over both networks; 0 disables clipping.
	MaxGradNorm float64 `json:"max_grad_norm" yaml:"max_grad_norm"`
	// AdamEps is Adam's ε.
	AdamEps float64 `json:"adam_eps" yaml:"adam_eps"`
	// Hidden holds the hidden layer widths of both networks.
	Hidden []int `json:"hidden" yaml:"hidden"`
	// Activation is the hidden activation: tanh or relu.
	Activation string `json:"activation" yaml:"activation"`
	// InitBeta is β of the first update for kl-adaptive and kl-prop.
	InitBeta float64 `json:"init_beta" yaml:"init_beta"`
	// KLPropHorizon is the horizon H (in environment steps) of kl-prop's controller.
	KLPropHorizon float64 `json:"kl_prop_horizon" yaml:"kl_prop_horizon"`
	// BetaMin bounds the β of kl-adaptive and kl-prop from below after every update (the
	// published rules have no bounds; without a floor, a run whose per-update KL stays below
	// d_targ/1.5 halves β towards 1e-300 and then needs hundreds of updates to react).
	BetaMin float64 `json:"beta_min" yaml:"beta_min"`
	// BetaMax bounds the β of kl-adaptive and kl-prop from above after every update.
	BetaMax float64 `json:"beta_max" yaml:"beta_max"`
	// ClipFracThreshold is the |r − 1| above which a sample counts in the logged clipfrac of
	// objectives other than clip (a clip objective uses its own ε). It changes only the log.
	ClipFracThreshold float64 `json:"clipfrac_threshold" yaml:"clipfrac_threshold"`
	// InitLogStd is the initial log σ of Gaussian policies.
	InitLogStd float64 `json:"init_log_std" yaml:"init_log_std"`
	// NormObs normalises observations with running statistics (env.VectorNormalizeObservation).
	NormObs bool `json:"norm_obs" yaml:"norm_obs"`
	// NormReward scales rewards by the running std of the discounted return (env.VectorNormalizeReward).
	NormReward bool `json:"norm_reward" yaml:"norm_reward"`
	// ClipObs clips normalised observations to ±ClipObs.
	ClipObs float64 `json:"clip_obs" yaml:"clip_obs"`
	// ClipReward clips normalised rewards to ±ClipReward.
	ClipReward float64 `json:"clip_reward" yaml:"clip_reward"`
	// DType is the precision of the training graphs: float32 or float64.
	DType string `json:"dtype" yaml:"dtype"`
	// CheckpointEvery is the number of updates between checkpoints; 0 writes one only at the end.
	CheckpointEvery int `json:"checkpoint_every" yaml:"checkpoint_every"`
}

// BatchSize is NumEnvs·NumSteps, the number of transitions per update.
func (c Config) BatchSize() int { return c.NumEnvs * c.NumSteps }

// MinibatchSize is BatchSize/NumMinibatches.
func (c Config) MinibatchSize() int {
	if c.NumMinibatches <= 0 {
		return 0
	}
	return c.BatchSize() / c.NumMinibatches
}

// learnerConfig is the learner of a run with objective pen: CleanRL's update (per-minibatch
// advantage normalisation when norm_adv, entropy bonus, vf_coef-weighted and optionally
// clipped value loss, one gradient norm over both networks).
func (c Config) learnerConfig(pen Penalty, minibatchSize int, single bool) LearnerConfig {
	lc := LearnerConfig{Penalty: pen, Epochs: c.UpdateEpochs, MinibatchSize: minibatchSize, NormAdv: AdvNormNone,
		EntCoef: c.EntCoef, Critic: true, VFCoef: c.VFCoef, ClipVLoss: c.ClipVLoss, VFClip: c.VFClip,
		MaxGradNorm: c.MaxGradNorm, GradClip: GradClipJoint, AdamEps: c.AdamEps,
		ClipFracThreshold: c.ClipFracThreshold, SingleThreaded: single}
	if c.NormAdv {
		lc.NormAdv = AdvNormMinibatch
	}
	return lc
}

// NumUpdates is the number of updates of a run: TotalTimesteps/BatchSize (at least 1).
func (c Config) NumUpdates() int {
	b := c.BatchSize()
	if b <= 0 {
		return 0
	}
	n := c.TotalTimesteps / b
	if n < 1 {
		n = 1
	}
	return n
}

// cleanRLDiscrete is CleanRL ppo.py's configuration (CartPole-v1, Acrobot-v1 and other discrete envs).
func cleanRLDiscrete(envID string) Config {
	return Config{
		EnvID: envID, Penalty: "kl-adaptive:0.01", TotalTimesteps: 500_000, Seed: 1,
		NumEnvs: 4, NumSteps: 128, NumMinibatches: 4, UpdateEpochs: 4,
		LearningRate: 2.5e-4, AnnealLR: true, Gamma: 0.99, GAELambda: 0.95,
		NormAdv: true, ClipVLoss: true, VFClip: 0.2, EntCoef: 0.01, VFCoef: 0.5, MaxGradNorm: 0.5,
		AdamEps: 1e-5, Hidden: []int{64, 64}, Activation: "tanh",
		InitBeta: 1, KLPropHorizon: 10000, BetaMin: DefaultBetaMin, BetaMax: DefaultBetaMax, ClipFracThreshold: 0.2, ClipObs: 10, ClipReward: 10,
		DType: "float32", CheckpointEvery: 50,
	}
}

// cleanRLContinuous is CleanRL ppo_continuous_action.py's configuration.
func cleanRLContinuous(envID string) Config {
	c := cleanRLDiscrete(envID)
	c.TotalTimesteps = 1_000_000
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 1, 2048, 32, 10
	c.LearningRate = 3e-4
	c.EntCoef = 0
	c.NormObs, c.NormReward = true, true
	return c
}

// pendulum is this project's tuned configuration for Pendulum-v1, the default run of `klppo
// train` (docs/training.md has the sweep that chose it): 4 envs × 512 steps, 10 epochs of
// minibatches of 64, Adam at a constant 1e-3 (annealed towards 0, late updates could not reach
// the KL target and β fell for no reason), γ 0.95, λ 0.95, normalised observations and rewards,
// no value clipping.
func pendulum() Config {
	c := cleanRLContinuous("Pendulum-v1")
	c.TotalTimesteps = 200_000
	c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs = 4, 512, 32, 10
	c.LearningRate, c.AnnealLR = 1e-3, false
	c.Gamma, c.GAELambda = 0.95, 0.95
	c.ClipVLoss = false
	return c
}

// DefaultEnvID is the environment of `klppo train` without --env (and of a config file without
// env_id): Pendulum-v1, where the default kl-adaptive:0.01 penalty holds the KL of most updates
// near its target (docs/training.md measures it), unlike CartPole-v1 with CleanRL's settings,
// where the KL stays far below any target and β sits on its floor.
const DefaultEnvID = "Pendulum-v1"

// DefaultConfig returns the per-environment defaults: CleanRL ppo.py's for environments with
// a Discrete action space (CartPole-v1, Acrobot-v1, MountainCar-v0, …), CleanRL
// ppo_continuous_action.py's for Box action spaces, and this project's tuned settings for
// Pendulum-v1. The penalty defaults to kl-adaptive:0.01 and the seed to 1. An id the env
// registry does not know is an error naming env_id.
func DefaultConfig(envID string) (Config, error) {
	spec, err := env.Lookup(envID)
	if err != nil {
		return Config{}, fmt.Errorf("env_id %q: unknown environment (known: %s)", envID, strings.Join(env.IDs(), ", "))
	}
	if envID == "Pendulum-v1" {
		return pendulum(), nil
	}
	if _, ok := spec.New().ActionSpace().(*env.Box); ok {
		return cleanRLContinuous(envID), nil
	}
	return cleanRLDiscrete(envID), nil
}

// The named presets of PresetConfig.
const (
	// PresetDefault is DefaultConfig: the per-environment defaults of `klppo train`.
	PresetDefault = "default"
	// PresetCleanRL is CleanRL's hyperparameters (ppo.py for Discrete action spaces,
	// ppo_continuous_action.py for Box) with the kl-adaptive:0.01 penalty: the case where the
	// policy barely moves per update and no KL constraint engages (docs/training.md), and the
	// workload `klppo bench train` times.
	PresetCleanRL = "cleanrl"
)

// Presets lists the names PresetConfig accepts.
func Presets() []string { return []string{PresetDefault, PresetCleanRL} }

// PresetConfig returns the configuration of the named preset for envID (see PresetDefault and
// PresetCleanRL; "" means PresetDefault). An unknown name is an error naming the preset, an
// unknown environment one naming env_id.
func PresetConfig(name, envID string) (Config, error) {
	def, err := DefaultConfig(envID)
	if err != nil {
		return Config{}, err
	}
	switch name {
	case "", PresetDefault:
		return def, nil
	case PresetCleanRL:
		spec, _ := env.Lookup(envID) // DefaultConfig found it
		if _, ok := spec.New().ActionSpace().(*env.Box); ok {
			return cleanRLContinuous(envID), nil
		}
		return cleanRLDiscrete(envID), nil
	}
	return Config{}, fmt.Errorf("preset %q: unknown (known: %s)", name, strings.Join(Presets(), ", "))
}

// Upper bounds checked by Validate (the memory a run needs grows with them; CheckMemory
// compares the estimate with the machine).
const (
	MaxNumEnvs   = 1 << 16
	MaxNumSteps  = 1 << 20
	MaxBatchSize = 1 << 26
)

// Validate checks every field; the error names the field and its value.
func (c Config) Validate() error {
	if _, err := DefaultConfig(c.EnvID); err != nil {
		return err
	}
	if _, err := ParsePenalty(c.Penalty); err != nil {
		return fmt.Errorf("penalty: %w", err)
	}
	pos := []struct {
		name string
		v    int
	}{
		{"total_timesteps", c.TotalTimesteps}, {"num_envs", c.NumEnvs}, {"num_steps", c.NumSteps},
		{"num_minibatches", c.NumMinibatches}, {"update_epochs", c.UpdateEpochs},
	}
	for _, f := range pos {
		if f.v <= 0 {
			return fmt.Errorf("%s = %d: must be > 0", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name    string
		v, most int
	}{{"num_envs", c.NumEnvs, MaxNumEnvs}, {"num_steps", c.NumSteps, MaxNumSteps}} {
		if f.v > f.most {
			return fmt.Errorf("%s = %d: at most %d", f.name, f.v, f.most)
		}
	}
	if c.BatchSize() > MaxBatchSize {
		return fmt.Errorf("num_envs = %d × num_steps = %d: a batch of %d transitions, at most %d", c.NumEnvs, c.NumSteps, c.BatchSize(), MaxBatchSize)
	}
	if c.BatchSize()%c.NumMinibatches != 0 {
		return fmt.Errorf("num_minibatches = %d: does not divide the batch size num_envs*num_steps = %d", c.NumMinibatches, c.BatchSize())
	}
	if c.MinibatchSize() < 2 {
		return fmt.Errorf("num_minibatches = %d: minibatches of %d transitions are too small (need ≥ 2)", c.NumMinibatches, c.MinibatchSize())
	}
	if c.TotalTimesteps < c.BatchSize() {
		return fmt.Errorf("total_timesteps = %d: smaller than one batch num_envs*num_steps = %d", c.TotalTimesteps, c.BatchSize())
	}
	type fl struct {
		name   string
		v      float64
		lo, hi float64
		loOpen bool
	}
	inf := math.Inf(1)
	fields := []fl{
		{"learning_rate", c.LearningRate, 0, inf, true},
		{"gamma", c.Gamma, 0, 1, false},
		{"gae_lambda", c.GAELambda, 0, 1, false},
		{"vf_clip", c.VFClip, 0, inf, false},
		{"ent_coef", c.EntCoef, 0, inf, false},
		{"vf_coef", c.VFCoef, 0, inf, false},
		{"max_grad_norm", c.MaxGradNorm, 0, inf, false},
		{"adam_eps", c.AdamEps, 0, inf, true},
		{"init_beta", c.InitBeta, 0, inf, false},
		{"kl_prop_horizon", c.KLPropHorizon, 0, inf, true},
		{"beta_min", c.BetaMin, 0, inf, false},
		{"beta_max", c.BetaMax, 0, inf, true},
		{"clipfrac_threshold", c.ClipFracThreshold, 0, inf, true},
		{"init_log_std", c.InitLogStd, -20, 5, false},
		{"clip_obs", c.ClipObs, 0, inf, true},
		{"clip_reward", c.ClipReward, 0, inf, true},
	}
	for _, f := range fields {
		bad := math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < f.lo || f.v > f.hi || (f.loOpen && f.v == f.lo)
		if bad {
			op := "≥"
			if f.loOpen {
				op = ">"
			}
			if f.hi < inf {
				return fmt.Errorf("%s = %v: must be in [%v, %v]", f.name, f.v, f.lo, f.hi)
			}
			return fmt.Errorf("%s = %v: must be finite and %s %v", f.name, f.v, op, f.lo)
		}
	}
	if c.BetaMin > c.BetaMax {
		return fmt.Errorf("beta_min = %v: larger than beta_max = %v", c.BetaMin, c.BetaMax)
	}
	if c.ClipVLoss && c.VFClip <= 0 {
		return fmt.Errorf("vf_clip = %v: must be > 0 when clip_vloss is on", c.VFClip)
	}
	if len(c.Hidden) == 0 {
		return fmt.Errorf("hidden = %v: need at least one hidden layer", c.Hidden)
	}
	for _, h := range c.Hidden {
		if h <= 0 || h > 4096 {
			return fmt.Errorf("hidden = %v: widths must be in [1, 4096]", c.Hidden)
		}
	}
	if c.Activation != "tanh" && c.Activation != "relu" {
		return fmt.Errorf("activation = %q: want tanh or relu", c.Activation)
	}
	if c.DType != "float32" && c.DType != "float64" {
		return fmt.Errorf("dtype = %q: want float32 or float64", c.DType)
	}
	if c.CheckpointEvery < 0 {
		return fmt.Errorf("checkpoint_every = %d: must be ≥ 0", c.CheckpointEvery)
	}
	return nil
}

// LoadConfig reads a JSON (.json) or YAML (.yaml, .yml; other extensions are tried as JSON
// first, then YAML) configuration file. Fields the file does not set keep the defaults of its
// env_id (DefaultEnvID when env_id is absent). Unknown keys are an error. The result is not
// validated: call Validate.
func LoadConfig(path string) (Config, error) {
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err := ParseConfig(data, filepath.Ext(path))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// emptyConfig is the error for a file with nothing in it.
var emptyConfig = errors.New(`the config file is empty: write the keys to set, e.g. {"env_id": "CartPole-v1"} (JSON) or env_id: CartPole-v1 (YAML)`)

// ParseConfig decodes a configuration from JSON or YAML (ext ".json", ".yaml", ".yml" or ""
// to guess) over the defaults of its env_id. The document must be one object (mapping) whose
// keys are exactly Config's names, each at most once and none null; an empty document is an
// error.
func ParseConfig(data []byte, ext string) (Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Config{}, emptyConfig
	}
	ext = strings.ToLower(ext)
	var probe struct {
		EnvID string `json:"env_id" yaml:"env_id"`
	}
	isYAML := ext == ".yaml" || ext == ".yml"
	if !isYAML && ext != ".json" {
		isYAML = json.Unmarshal(data, &probe) != nil
	}
	if isYAML {
		if err := checkYAMLKeys(data); err != nil {
			return Config{}, fmt.Errorf("invalid YAML: %w", err)
		}
		if err := yaml.Unmarshal(data, &probe); err != nil {
			return Config{}, fmt.Errorf("invalid YAML: %w", err)
		}
	} else {
		if err := checkJSONKeys(data); err != nil {
			return Config{}, fmt.Errorf("invalid JSON: %w", err)
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			return Config{}, fmt.Errorf("invalid JSON: %w", err)
		}
	}
	id := probe.EnvID
	if id == "" {
		id = DefaultEnvID
	}
	cfg, err := DefaultConfig(id)
	if err != nil {
		return Config{}, err
	}
	cfg.Hidden = nil // a list in the file replaces the default rather than merging into it
	if isYAML {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("invalid YAML: %w", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return Config{}, fmt.Errorf("invalid JSON: %w", err)
		}
	}
	if cfg.Hidden == nil {
		cfg.Hidden = append([]int(nil), cleanRLDiscrete(id).Hidden...)
	}
	return cfg, nil
}

// configKeys returns the set of Config's key names (its json tags, which equal its yaml tags).
func configKeys() map[string]bool {
	known := map[string]bool{}
	rt := reflect.TypeOf(Config{})
	for i := 0; i < rt.NumField(); i++ {
		known[strings.Split(rt.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	return known
}

// nullKey is the error for a key whose value is null: it would silently keep the default.
func nullKey(key, where string) error {
	return fmt.Errorf("%s: null%s: give a value, or leave the key out to keep its default", key, where)
}

// checkJSONKeys requires one JSON object whose keys are exactly Config's json names, each once,
// none null (encoding/json alone would accept "Learning_Rate" for learning_rate, keep the last
// of two "seed" keys, and read null as "keep the default").
func checkJSONKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return fmt.Errorf("the config is null: want an object such as {\"env_id\": \"CartPole-v1\"}")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("the config is %v: want an object such as {\"env_id\": \"CartPole-v1\"}", tok)
	}
	known, seen := configKeys(), map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := kt.(string) // object keys are strings: the decoder checked the syntax
		if !known[key] {
			return fmt.Errorf("unknown key %q (keys are exact and case-sensitive, as in config.json)", key)
		}
		if seen[key] {
			return fmt.Errorf("duplicate key %q: give each key once", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		if string(bytes.TrimSpace(raw)) == "null" {
			return nullKey(strconv.Quote(key), "")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the object (one object per file)")
	}
	return nil
}

// checkYAMLKeys requires one YAML document that is a mapping whose keys appear once each and
// whose values are not null (yaml.v3 reads "gamma:" or "gamma: ~" as "keep the default", and
// the document null as an empty config). Unknown keys are left to the decoder's KnownFields.
func checkYAMLKeys(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return emptyConfig
		}
		return err
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return fmt.Errorf("more than one YAML document (one mapping per file)")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fmt.Errorf("the config is null: want a mapping such as env_id: CartPole-v1")
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the config is not a mapping: want keys and values such as env_id: CartPole-v1", root.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("duplicate key %q (lines %d and %d): give each key once", k.Value, line, k.Line)
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return nullKey(k.Value, fmt.Sprintf(" (line %d)", k.Line))
		}
	}
	return nil
}

// MemoryEstimate is a conservative estimate, in bytes, of the memory a run of c allocates:
// the rollout buffers (num_envs·num_steps rows), the plain-Go forward passes over the batch,
// the two training graphs of one minibatch with their gradients and gorgonia's temporaries,
// and the environment copies. c must be valid.
func (c Config) MemoryEstimate() (int64, error) {
	spec, err := env.Lookup(c.EnvID)
	if err != nil {
		return 0, fmt.Errorf("env_id %q: %w", c.EnvID, err)
	}
	obsSpace, actSpace := spec.Spaces()
	obsDim := int64(obsSpace.Dim())
	actionWidth, headWidth := int64(actSpace.Dim()), int64(actSpace.Dim())
	if d, ok := actSpace.(*env.Discrete); ok {
		actionWidth, headWidth = 1, int64(d.N)
	}
	widest, layers := max(obsDim, headWidth), obsDim+headWidth+1
	for _, h := range c.Hidden {
		widest = max(widest, int64(h))
		layers += int64(h)
	}
	elem := int64(8)
	if c.DType == "float32" {
		elem = 4
	}
	batch, minibatch := int64(c.BatchSize()), int64(c.MinibatchSize())
	rollout := batch * (obsDim + actionWidth + headWidth + 8) * 8
	forward := 2 * batch * (3 * widest) * 8                     // two actors' workspaces over the batch
	graphs := 2 * minibatch * (layers + obsDim + 4) * elem * 16 // values, gradients, temporaries
	envs := int64(c.NumEnvs) * 4096
	return rollout + forward + graphs + envs + 64<<20, nil // + code, runtime and graph constants
}

// CheckMemory refuses a config whose MemoryEstimate exceeds the memory the process may use:
// the smallest of the memory the system reports available, the cgroup's limit, the address-space
// limit (ulimit -v) and the Go runtime's memory limit (see internal/memlimit). Where none is
// known, only Validate's bounds apply. The error names the fields that set the size.
func (c Config) CheckMemory() error {
	need, err := c.MemoryEstimate()
	if err != nil {
		return err
	}
	if err := memlimit.Check(need); err != nil {
		return fmt.Errorf("num_envs = %d, num_steps = %d, num_minibatches = %d: the run %w; lower num_envs or num_steps (or raise num_minibatches)",
			c.NumEnvs, c.NumSteps, c.NumMinibatches, err)
	}
	return nil
}
