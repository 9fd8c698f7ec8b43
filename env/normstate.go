package env

import "fmt"

// NormalizationState gathers the saveable statistics of the normalising wrappers in a chain,
// for PPO checkpoints (JSON-serialisable). A nil field means the chain has no such wrapper.
type NormalizationState struct {
	Observation *NormalizeObservationState `json:"observation,omitempty"`
	Reward      *NormalizeRewardState      `json:"reward,omitempty"`
}

// vectorUnwrapper is implemented by the vector wrappers.
type vectorUnwrapper interface{ Unwrap() VectorEnv }

// SaveVectorNormalization collects the statistics of the outermost VectorNormalizeObservation
// and VectorNormalizeReward in v's wrapper chain.
func SaveVectorNormalization(v VectorEnv) NormalizationState {
	var s NormalizationState
	for v != nil {
		switch w := v.(type) {
		case *VectorNormalizeObservation:
			if s.Observation == nil {
				st := w.State()
				s.Observation = &st
			}
		case *VectorNormalizeReward:
			if s.Reward == nil {
				st := w.State()
				s.Reward = &st
			}
		}
		u, ok := v.(vectorUnwrapper)
		if !ok {
			break
		}
		v = u.Unwrap()
	}
	return s
}

// LoadVectorNormalization restores statistics saved by SaveVectorNormalization into the
// corresponding wrappers of v's chain; a saved part without a matching wrapper is an error.
func LoadVectorNormalization(v VectorEnv, s NormalizationState) error {
	obsDone, rewDone := s.Observation == nil, s.Reward == nil
	for v != nil {
		switch w := v.(type) {
		case *VectorNormalizeObservation:
			if !obsDone {
				if err := w.SetState(*s.Observation); err != nil {
					return err
				}
				obsDone = true
			}
		case *VectorNormalizeReward:
			if !rewDone {
				if err := w.SetState(*s.Reward); err != nil {
					return err
				}
				rewDone = true
			}
		}
		u, ok := v.(vectorUnwrapper)
		if !ok {
			break
		}
		v = u.Unwrap()
	}
	if !obsDone || !rewDone {
		return fmt.Errorf("env: LoadVectorNormalization: saved observation=%v reward=%v, but the chain lacks a matching wrapper",
			s.Observation != nil, s.Reward != nil)
	}
	return nil
}

// SaveNormalization is SaveVectorNormalization for a single environment's wrapper chain.
func SaveNormalization(e Env) NormalizationState {
	var s NormalizationState
	for e != nil {
		switch w := e.(type) {
		case *NormalizeObservation:
			if s.Observation == nil {
				st := w.State()
				s.Observation = &st
			}
		case *NormalizeReward:
			if s.Reward == nil {
				st := w.State()
				s.Reward = &st
			}
		}
		u, ok := e.(Unwrapper)
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return s
}

// LoadNormalization is LoadVectorNormalization for a single environment's wrapper chain.
func LoadNormalization(e Env, s NormalizationState) error {
	obsDone, rewDone := s.Observation == nil, s.Reward == nil
	for e != nil {
		switch w := e.(type) {
		case *NormalizeObservation:
			if !obsDone {
				if err := w.SetState(*s.Observation); err != nil {
					return err
				}
				obsDone = true
			}
		case *NormalizeReward:
			if !rewDone {
				if err := w.SetState(*s.Reward); err != nil {
					return err
				}
				rewDone = true
			}
		}
		u, ok := e.(Unwrapper)
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	if !obsDone || !rewDone {
		return fmt.Errorf("env: LoadNormalization: saved observation=%v reward=%v, but the chain lacks a matching wrapper",
			s.Observation != nil, s.Reward != nil)
	}
	return nil
}

// WrapVectorContinuous applies CleanRL's continuous-control stack (ppo_continuous_action.py) to
// v: ClipAction, NormalizeObservation clipped at ±10, NormalizeReward with discount gamma
// clipped at ±10. Episode statistics in VectorStep.Episodes stay raw.
func WrapVectorContinuous(v VectorEnv, gamma float64) (VectorEnv, error) {
	c, err := NewVectorClipAction(v)
	if err != nil {
		return nil, err
	}
	o := NewVectorNormalizeObservation(c, 10)
	return NewVectorNormalizeReward(o, gamma, 10)
}
