package env

import (
	"fmt"
	"math"
)

// VectorNormalizeObservation is NormalizeObservation for a vector environment: each step's N×d
// observation batch (already holding the first observations of auto-reset copies) updates the
// running statistics as one batch of N rows, as Gymnasium's vector NormalizeObservation does,
// then every row is normalised. FinalObs rows are normalised with the same statistics (without
// another update), so a truncated episode can be bootstrapped from V(normalised final obs).
type VectorNormalizeObservation struct {
	env VectorEnv
	obsNormalizer
	obs      []float64
	finalBuf []float64
	finalObs [][]float64
}

var _ VectorEnv = (*VectorNormalizeObservation)(nil)

// NewVectorNormalizeObservation wraps v; clip ≤ 0 disables clipping (CleanRL uses 10).
func NewVectorNormalizeObservation(v VectorEnv, clip float64) *VectorNormalizeObservation {
	d, n := v.ObservationSpace().Dim(), v.Num()
	return &VectorNormalizeObservation{
		env:           v,
		obsNormalizer: newObsNormalizer(d, math.Max(clip, 0)),
		obs:           make([]float64, n*d),
		finalBuf:      make([]float64, n*d),
		finalObs:      make([][]float64, n),
	}
}

// Unwrap returns the wrapped vector environment.
func (w *VectorNormalizeObservation) Unwrap() VectorEnv       { return w.env }
func (w *VectorNormalizeObservation) Num() int                { return w.env.Num() }
func (w *VectorNormalizeObservation) ObservationSpace() Space { return w.env.ObservationSpace() }
func (w *VectorNormalizeObservation) ActionSpace() Space      { return w.env.ActionSpace() }

// SetFrozen stops (true) or resumes (false) updating the statistics, e.g. for evaluation.
func (w *VectorNormalizeObservation) SetFrozen(frozen bool) { w.frozen = frozen }

// State returns a deep copy of the statistics for a checkpoint.
func (w *VectorNormalizeObservation) State() NormalizeObservationState { return w.state() }

// SetState restores statistics saved by State (also from a single-env NormalizeObservation).
func (w *VectorNormalizeObservation) SetState(s NormalizeObservationState) error {
	return w.setState(s)
}

// Normalize writes normalised rows of obs to dst without updating the statistics.
func (w *VectorNormalizeObservation) Normalize(dst, obs []float64) { w.normalize(dst, obs) }

func (w *VectorNormalizeObservation) Reset(seed *uint64) ([]float64, error) {
	o, err := w.env.Reset(seed)
	if err != nil {
		return nil, err
	}
	if err := w.apply(w.obs, o); err != nil {
		return nil, err
	}
	return w.obs, nil
}

func (w *VectorNormalizeObservation) Step(actions []float64) (VectorStep, error) {
	s, err := w.env.Step(actions)
	if err != nil {
		return s, err
	}
	if err := w.apply(w.obs, s.Obs); err != nil {
		return VectorStep{}, err
	}
	d := len(w.invStd)
	for i, f := range s.FinalObs {
		if f == nil {
			w.finalObs[i] = nil
			continue
		}
		row := w.finalBuf[i*d : (i+1)*d]
		w.normalize(row, f)
		w.finalObs[i] = row
	}
	s.Obs, s.FinalObs = w.obs, w.finalObs
	return s, nil
}

// VectorNormalizeReward is NormalizeReward for a vector environment: one discounted return per
// copy, the statistics updated with the N returns of each step as one batch (Gymnasium's rule).
// Episodes keep the raw, unscaled returns.
type VectorNormalizeReward struct {
	env VectorEnv
	rewardScaler
	rewards []float64
}

var _ VectorEnv = (*VectorNormalizeReward)(nil)

// NewVectorNormalizeReward wraps v with discount gamma ∈ [0, 1]; clip ≤ 0 disables clipping.
func NewVectorNormalizeReward(v VectorEnv, gamma, clip float64) (*VectorNormalizeReward, error) {
	s, err := newRewardScaler(v.Num(), gamma, clip)
	if err != nil {
		return nil, err
	}
	return &VectorNormalizeReward{env: v, rewardScaler: s, rewards: make([]float64, v.Num())}, nil
}

// Unwrap returns the wrapped vector environment.
func (w *VectorNormalizeReward) Unwrap() VectorEnv       { return w.env }
func (w *VectorNormalizeReward) Num() int                { return w.env.Num() }
func (w *VectorNormalizeReward) ObservationSpace() Space { return w.env.ObservationSpace() }
func (w *VectorNormalizeReward) ActionSpace() Space      { return w.env.ActionSpace() }

// SetFrozen stops (true) or resumes (false) updating the statistics.
func (w *VectorNormalizeReward) SetFrozen(frozen bool) { w.frozen = frozen }

// State returns a deep copy of the statistics for a checkpoint.
func (w *VectorNormalizeReward) State() NormalizeRewardState { return w.state() }

// SetState restores statistics saved by State (Returns must have one entry per copy).
func (w *VectorNormalizeReward) SetState(s NormalizeRewardState) error { return w.setState(s) }

func (w *VectorNormalizeReward) Reset(seed *uint64) ([]float64, error) { return w.env.Reset(seed) }

func (w *VectorNormalizeReward) Step(actions []float64) (VectorStep, error) {
	s, err := w.env.Step(actions)
	if err != nil {
		return s, err
	}
	copy(w.rewards, s.Rewards)
	if err := w.apply(w.rewards, s.Terminated); err != nil {
		return VectorStep{}, err
	}
	s.Rewards = w.rewards
	return s, nil
}

// VectorClipAction clips every copy's action into the Box action space before stepping.
type VectorClipAction struct {
	env VectorEnv
	box *Box
	buf []float64
}

var _ VectorEnv = (*VectorClipAction)(nil)

// NewVectorClipAction wraps v, whose action space must be a *Box.
func NewVectorClipAction(v VectorEnv) (*VectorClipAction, error) {
	b, ok := v.ActionSpace().(*Box)
	if !ok {
		return nil, fmt.Errorf("env: VectorClipAction: action space %v is not a Box", v.ActionSpace())
	}
	return &VectorClipAction{env: v, box: b, buf: make([]float64, v.Num()*b.Dim())}, nil
}

// Unwrap returns the wrapped vector environment.
func (w *VectorClipAction) Unwrap() VectorEnv                     { return w.env }
func (w *VectorClipAction) Num() int                              { return w.env.Num() }
func (w *VectorClipAction) ObservationSpace() Space               { return w.env.ObservationSpace() }
func (w *VectorClipAction) ActionSpace() Space                    { return w.env.ActionSpace() }
func (w *VectorClipAction) Reset(seed *uint64) ([]float64, error) { return w.env.Reset(seed) }

// Step clips the N×d actions into the Box and steps.
func (w *VectorClipAction) Step(actions []float64) (VectorStep, error) {
	if len(actions) != len(w.buf) {
		return VectorStep{}, fmt.Errorf("env: VectorClipAction: %d actions, want %d", len(actions), len(w.buf))
	}
	clipInto(w.buf, actions, w.box)
	return w.env.Step(w.buf)
}
