package env

import (
	"fmt"
	"math"
)

// Mountain-car constants of Gymnasium 0.29.1 (classic_control/mountain_car.py and
// continuous_mountain_car.py, after Moore 1990).
const (
	mcMinPos   = -1.2
	mcMaxPos   = 0.6
	mcMaxSpeed = 0.07
	mcGoalPos  = 0.5  // MountainCar-v0
	mccGoalPos = 0.45 // MountainCarContinuous-v0
	mcForce    = 0.001
	mcGravity  = 0.0025
	mccPower   = 0.0015
)

func mountainCarObsSpace() Space {
	return fixedBox([]float64{f32(mcMinPos), f32(-mcMaxSpeed)}, []float64{f32(mcMaxPos), f32(mcMaxSpeed)})
}

// mountainCarCore is what MountainCar and MountainCarContinuous share: the seeded generator, the
// [position, velocity] state, the observation buffer, the episode flags and the observation space.
type mountainCarCore struct {
	seeder
	name       string // for error messages
	state      [2]float64
	obs        [2]float64
	started    bool
	terminated bool
	obsSpace   Space
}

func newMountainCarCore(name string) mountainCarCore {
	return mountainCarCore{name: name, obsSpace: mountainCarObsSpace()}
}

// ObservationSpace is Box([−1.2, −0.07], [0.6, 0.07]).
func (e *mountainCarCore) ObservationSpace() Space { return e.obsSpace }

// Reset draws the position uniformly from [−0.6, −0.4) with zero velocity.
func (e *mountainCarCore) Reset(seed *uint64) ([]float64, Info, error) {
	e.reseed(seed)
	e.state = [2]float64{e.uniform(-0.6, -0.4), 0}
	e.started, e.terminated = true, false
	return e.observe(), nil, nil
}

func (e *mountainCarCore) observe() []float64 {
	e.obs = [2]float64{f32(e.state[0]), f32(e.state[1])}
	return e.obs[:]
}

// SetState sets [position, velocity] and starts an episode from it.
func (e *mountainCarCore) SetState(s []float64) error {
	if len(s) != 2 {
		return fmt.Errorf("%s: state has length %d, want 2 (position, velocity)", e.name, len(s))
	}
	copy(e.state[:], s)
	e.started, e.terminated = true, false
	return nil
}

// State returns a copy of [position, velocity].
func (e *mountainCarCore) State() []float64 { return append([]float64(nil), e.state[:]...) }

// MountainCar is MountainCar-v0 without its time limit: an under-powered car in a valley,
// accelerated left, not at all or right (actions 0, 1, 2):
//
//	v ← clip(v + (a−1)·0.001 − 0.0025·cos(3p), −0.07, 0.07)
//	p ← clip(p + v, −1.2, 0.6);  v ← 0 if p = −1.2 and v < 0
//
// Observation [p, v] (float32-rounded); reward −1 every step; terminated when p ≥ 0.5 and v ≥ 0.
// Internal state float64 as in Gymnasium. Initial state: p uniform on [−0.6, −0.4), v = 0.
type MountainCar struct {
	mountainCarCore
	actSpace Space
}

var (
	_ Env         = (*MountainCar)(nil)
	_ StateSetter = (*MountainCar)(nil)
)

// NewMountainCar returns an unwrapped MountainCar; Make("MountainCar-v0") adds the 200-step limit.
func NewMountainCar() *MountainCar {
	return &MountainCar{mountainCarCore: newMountainCarCore("MountainCar"), actSpace: &Discrete{N: 3}}
}

// ActionSpace is Discrete(3): accelerate left, don't accelerate, accelerate right.
func (e *MountainCar) ActionSpace() Space { return e.actSpace }

// Step applies one acceleration.
func (e *MountainCar) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	a, err := checkDiscrete(action, 3)
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("MountainCar: %w", err)
	}
	if e.terminated {
		return nil, 0, false, false, errFinished
	}
	p, v := e.state[0], e.state[1]
	v += float64(a-1)*mcForce + math.Cos(3*p)*(-mcGravity)
	v = clamp(v, -mcMaxSpeed, mcMaxSpeed)
	p += v
	p = clamp(p, mcMinPos, mcMaxPos)
	if p == mcMinPos && v < 0 {
		v = 0
	}
	e.state = [2]float64{p, v}
	e.terminated = p >= mcGoalPos && v >= 0
	return e.observe(), -1, e.terminated, false, nil
}

func (e *MountainCar) Step(action []float64) (StepResult, error) { return result(e.stepCore(action)) }

// MountainCarContinuous is MountainCarContinuous-v0 without its time limit: the mountain car with
// a continuous force a ∈ [−1, 1]:
//
//	v ← clip(v + a·0.0015 − 0.0025·cos(3p), −0.07, 0.07)
//	p ← clip(p + v, −1.2, 0.6);  v ← 0 if p = −1.2 and v < 0
//
// Reward −0.1·a² per step, plus 100 on reaching the goal; terminated when p ≥ 0.45 and v ≥ 0.
// As in Gymnasium the state is stored as float32 after every step (the first step after Reset
// or SetState starts from the float64 value), and the observation is that float32 state.
// Initial state: p uniform on [−0.6, −0.4), v = 0.
type MountainCarContinuous struct {
	mountainCarCore
	actSpace *Box
}

var (
	_ Env         = (*MountainCarContinuous)(nil)
	_ StateSetter = (*MountainCarContinuous)(nil)
	_ RawStepper  = (*MountainCarContinuous)(nil)
)

// NewMountainCarContinuous returns an unwrapped MountainCarContinuous; Make adds the 999-step limit.
func NewMountainCarContinuous() *MountainCarContinuous {
	return &MountainCarContinuous{mountainCarCore: newMountainCarCore("MountainCarContinuous"), actSpace: fixedBox([]float64{-1}, []float64{1})}
}

// ActionSpace is Box(−1, 1, (1,)).
func (e *MountainCarContinuous) ActionSpace() Space { return e.actSpace }

// Step applies a force in [−1, 1]; other actions are errors.
func (e *MountainCarContinuous) Step(action []float64) (StepResult, error) {
	return result(e.step(action, true))
}

// StepRaw accepts any finite force, clipping it to [−1, 1] in the dynamics while the reward uses
// the unclipped value, exactly as Gymnasium does.
func (e *MountainCarContinuous) StepRaw(action []float64) (StepResult, error) {
	return result(e.step(action, false))
}

func (e *MountainCarContinuous) step(action []float64, strict bool) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	if err := checkBox(action, e.actSpace, strict); err != nil {
		return nil, 0, false, false, fmt.Errorf("MountainCarContinuous: %w", err)
	}
	if e.terminated {
		return nil, 0, false, false, errFinished
	}
	a := action[0]
	force := math.Min(math.Max(a, -1), 1)
	p, v := e.state[0], e.state[1]
	v += force*mccPower - 0.0025*math.Cos(3*p)
	if v > mcMaxSpeed {
		v = mcMaxSpeed
	}
	if v < -mcMaxSpeed {
		v = -mcMaxSpeed
	}
	p += v
	if p > mcMaxPos {
		p = mcMaxPos
	}
	if p < mcMinPos {
		p = mcMinPos
	}
	if p == mcMinPos && v < 0 {
		v = 0
	}
	e.terminated = p >= mccGoalPos && v >= 0
	reward := 0.0
	if e.terminated {
		reward = 100
	}
	reward -= a * a * 0.1
	e.state = [2]float64{f32(p), f32(v)}
	return e.observe(), reward, e.terminated, false, nil
}

func (e *MountainCarContinuous) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	return e.step(action, true)
}
