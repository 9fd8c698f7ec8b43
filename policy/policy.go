package policy

import (
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/nn"

	"gorgonia.org/tensor"
)

// Config describes an actor-critic.
type Config struct {
	ObsDim int `json:"obs_dim"`
	// Discrete selects a categorical head over NumActions actions; otherwise the head is a
	// diagonal Gaussian over ActDim dimensions with a state-independent log standard deviation.
	Discrete   bool      `json:"discrete"`
	NumActions int       `json:"num_actions,omitempty"`
	ActDim     int       `json:"act_dim,omitempty"`
	ActLow     []float64 `json:"act_low,omitempty"`  // Box bounds: sampled actions are clipped to them before the env sees them
	ActHigh    []float64 `json:"act_high,omitempty"` //
	Hidden     []int     `json:"hidden"`
	Activation string    `json:"activation"` // tanh or relu
	InitLogStd float64   `json:"init_log_std,omitempty"`
	DType      string    `json:"dtype"` // float32 or float64
}

// HeadWidth is the policy network's output width: NumActions logits or ActDim means.
func (c Config) HeadWidth() int {
	if c.Discrete {
		return c.NumActions
	}
	return c.ActDim
}

// ActionWidth is the length of one action as the environment takes it: 1 for a categorical
// policy (the action index), ActDim for a Gaussian one.
func (c Config) ActionWidth() int {
	if c.Discrete {
		return 1
	}
	return c.ActDim
}

func (c Config) validate() error {
	if c.ObsDim <= 0 {
		return fmt.Errorf("policy: obs_dim = %d: must be > 0", c.ObsDim)
	}
	if c.Discrete && c.NumActions < 2 {
		return fmt.Errorf("policy: num_actions = %d: a categorical policy needs ≥ 2 actions", c.NumActions)
	}
	if !c.Discrete {
		if c.ActDim <= 0 {
			return fmt.Errorf("policy: act_dim = %d: must be > 0", c.ActDim)
		}
		if (c.ActLow != nil && len(c.ActLow) != c.ActDim) || (c.ActHigh != nil && len(c.ActHigh) != c.ActDim) {
			return fmt.Errorf("policy: act_low/act_high have %d/%d entries, want act_dim = %d", len(c.ActLow), len(c.ActHigh), c.ActDim)
		}
	}
	if c.DType != "float32" && c.DType != "float64" {
		return fmt.Errorf("policy: dtype = %q: want float32 or float64", c.DType)
	}
	if math.IsNaN(c.InitLogStd) || math.IsInf(c.InitLogStd, 0) {
		return fmt.Errorf("policy: init_log_std = %v: must be finite", c.InitLogStd)
	}
	return nil
}

func (c Config) dtype() tensor.Dtype {
	if c.DType == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// ActorCritic is a policy network π(a|s) and an independent value network V(s), each an MLP
// with CleanRL's orthogonal initialisation (hidden gain √2; policy head 0.01, value head 1; zero
// biases), plus, for a Gaussian policy, a learnable state-independent log-std vector.
// All parameters are shared *tensor.Dense values: the training graphs, the optimiser and the
// plain-Go acting pass all see the same numbers.
type ActorCritic struct {
	cfg    Config
	Pi, V  *nn.MLP
	LogStd *tensor.Dense // (ActDim), nil for a categorical policy
}

// New builds an actor-critic, drawing the policy network's weights and then the value network's
// from rng.
func New(rng *rand.Rand, cfg Config) (*ActorCritic, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	act, err := nn.ParseActivation(cfg.Activation)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	dt := cfg.dtype()
	pi, err := nn.NewMLP(rng, nn.MLPConfig{Name: "pi", In: cfg.ObsDim, Hidden: cfg.Hidden, Out: cfg.HeadWidth(),
		Activation: act, HiddenGain: math.Sqrt2, OutputGain: 0.01, Dtype: dt})
	if err != nil {
		return nil, fmt.Errorf("policy: policy net: %w", err)
	}
	v, err := nn.NewMLP(rng, nn.MLPConfig{Name: "v", In: cfg.ObsDim, Hidden: cfg.Hidden, Out: 1,
		Activation: act, HiddenGain: math.Sqrt2, OutputGain: 1, Dtype: dt})
	if err != nil {
		return nil, fmt.Errorf("policy: value net: %w", err)
	}
	ac := &ActorCritic{cfg: cfg, Pi: pi, V: v}
	if !cfg.Discrete {
		ls := make([]float64, cfg.ActDim)
		for i := range ls {
			ls[i] = cfg.InitLogStd
		}
		ac.LogStd = nn.NewDense(dt, []int{cfg.ActDim}, ls)
	}
	return ac, nil
}

// Config returns the configuration the actor-critic was built with.
func (ac *ActorCritic) Config() Config { return ac.cfg }

// PolicyParams returns the policy's learnable tensors: the policy MLP's (W₀, b₀, …) then, for
// a Gaussian policy, the log-std vector.
func (ac *ActorCritic) PolicyParams() []*tensor.Dense {
	ps := ac.Pi.Params()
	if ac.LogStd != nil {
		ps = append(ps, ac.LogStd)
	}
	return ps
}

// ValueParams returns the value MLP's tensors.
func (ac *ActorCritic) ValueParams() []*tensor.Dense { return ac.V.Params() }

// ParamNames returns the names of PolicyParams followed by ValueParams.
func (ac *ActorCritic) ParamNames() []string {
	ns := ac.Pi.ParamNames()
	if ac.LogStd != nil {
		ns = append(ns, "pi.log_std")
	}
	return append(ns, ac.V.ParamNames()...)
}

// Params returns PolicyParams followed by ValueParams (the live tensors).
func (ac *ActorCritic) Params() []*tensor.Dense {
	return append(ac.PolicyParams(), ac.ValueParams()...)
}

// LogStdValues returns the current log-std vector as float64 (nil for a categorical policy).
func (ac *ActorCritic) LogStdValues() []float64 {
	if ac.LogStd == nil {
		return nil
	}
	return nn.Float64s(ac.LogStd, nil)
}

func newZeroRand() *rand.Rand { return rand.New(rand.NewPCG(0, 0)) }
