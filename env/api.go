package env

import "math/rand/v2"

// Space is a set of valid observations or actions. Every element is a flat []float64:
// a Discrete element is one number holding an integer in [0, N).
type Space interface {
	// Contains reports whether x is an element of the space (right length, in range, no NaN).
	Contains(x []float64) bool
	// Sample draws a uniform element (Box spaces with infinite bounds draw from a normal).
	Sample(rng *rand.Rand) []float64
	// Dim is the length of a flat element: 1 for Discrete, the product of the shape for Box.
	Dim() int
	String() string
}

// Info carries optional per-step extras, nil when there are none.
type Info map[string]float64

// StepResult is what Step returns, in Gymnasium's order.
// Obs is owned by the environment and overwritten by the next Step or Reset: copy it to keep it.
type StepResult struct {
	Obs        []float64
	Reward     float64
	Terminated bool // a true terminal state of the MDP: bootstrap with 0
	Truncated  bool // cut short (time limit): bootstrap from V(Obs)
	Info       Info
}

// Env is a Gymnasium-style environment.
type Env interface {
	ObservationSpace() Space
	ActionSpace() Space
	// Reset starts an episode. A non-nil seed reseeds the environment's generator; nil continues
	// its stream. The returned slice is owned by the environment (see StepResult).
	Reset(seed *uint64) ([]float64, Info, error)
	// Step applies one action. It returns an error for an invalid action (wrong length, out of
	// range, NaN) and for stepping a finished episode without Reset.
	Step(action []float64) (StepResult, error)
}

// StateSetter is implemented by environments whose internal state can be set directly
// (used to replay reference trajectories).
type StateSetter interface {
	SetState(state []float64) error
	State() []float64
}

// EpisodeStat describes one finished episode of one copy of a vector environment, measured on
// the raw (unnormalised, unscaled) rewards.
type EpisodeStat struct {
	Env    int // index of the copy
	Return float64
	Length int
}

// VectorStep is the result of stepping every copy of a vector environment at once. Its slices are
// owned by the vector environment and overwritten by the next Step or Reset.
type VectorStep struct {
	Obs        []float64 // N×obsDim, row-major; a finished copy's row is already its next episode's first observation
	Rewards    []float64 // N
	Terminated []bool    // N
	Truncated  []bool    // N
	// FinalObs[i] is the last observation of copy i's episode when it finished in this step
	// (Terminated[i] || Truncated[i]), nil otherwise: bootstrap a truncated episode from it.
	FinalObs [][]float64
	Episodes []EpisodeStat // episodes that finished in this step
}

// RawStepper is implemented by Box-action environments (and wrappers around them) that can, like
// Gymnasium, accept a finite action outside the action space and clip it inside the dynamics.
// Step rejects such actions; StepRaw is for replaying reference trajectories.
type RawStepper interface {
	StepRaw(action []float64) (StepResult, error)
}

// Unwrapper is implemented by wrappers: Unwrap returns the wrapped environment.
type Unwrapper interface {
	Unwrap() Env
}

// VectorEnv is N copies of an environment stepped together with same-step auto-reset
// (see VectorStep). Observations and actions are row-major N×dim slices.
type VectorEnv interface {
	// Num is the number of copies N.
	Num() int
	// ObservationSpace and ActionSpace are the spaces of a single copy.
	ObservationSpace() Space
	ActionSpace() Space
	// Reset resets every copy; a non-nil seed gives copy i the seed *seed+i, nil continues each
	// copy's stream. The returned N×obsDim slice is owned by the vector environment.
	Reset(seed *uint64) ([]float64, error)
	// Step applies one N×actDim row-major action batch (for Discrete spaces one index per copy).
	Step(actions []float64) (VectorStep, error)
}
