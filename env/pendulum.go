package env

import (
	"fmt"
	"math"
)

// Pendulum constants of Gymnasium 0.29.1 (classic_control/pendulum.py).
const (
	pdMaxSpeed  = 8.0
	pdMaxTorque = 2.0
	pdDt        = 0.05
	pdG         = 10.0
	pdM         = 1.0
	pdL         = 1.0
)

// Pendulum is Pendulum-v1 without its time limit: swing a frictionless pendulum up and keep it
// upright with a torque u ∈ [−2, 2]:
//
//	cost = norm(θ)² + 0.1·θ̇² + 0.001·u²,  norm(θ) = ((θ + π) mod 2π) − π  (floored modulo)
//	θ̇ ← clip(θ̇ + (3g/(2l)·sin θ + 3/(m·l²)·u)·dt, −8, 8),  θ ← θ + θ̇·dt
//
// with g = 10, m = l = 1, dt = 0.05; the reward is −cost (computed from the state before the
// update). Never terminates (the 200-step time limit truncates). Observation [cos θ, sin θ, θ̇]
// (float32-rounded); internal state float64 as in Gymnasium; θ is not wrapped in the state.
// Initial state: θ uniform on [−π, π), θ̇ uniform on [−1, 1).
type Pendulum struct {
	seeder
	state    [2]float64
	obs      [3]float64
	started  bool
	obsSpace Space
	actSpace *Box
}

var (
	_ Env         = (*Pendulum)(nil)
	_ StateSetter = (*Pendulum)(nil)
	_ RawStepper  = (*Pendulum)(nil)
)

// NewPendulum returns an unwrapped Pendulum; Make("Pendulum-v1") adds the 200-step limit.
func NewPendulum() *Pendulum {
	return &Pendulum{
		obsSpace: fixedBox([]float64{-1, -1, -pdMaxSpeed}, []float64{1, 1, pdMaxSpeed}),
		actSpace: fixedBox([]float64{-pdMaxTorque}, []float64{pdMaxTorque}),
	}
}

// ObservationSpace is Box([−1, −1, −8], [1, 1, 8]).
func (e *Pendulum) ObservationSpace() Space { return e.obsSpace }

// ActionSpace is Box(−2, 2, (1,)).
func (e *Pendulum) ActionSpace() Space { return e.actSpace }

// Reset draws θ uniformly from [−π, π) and θ̇ from [−1, 1).
func (e *Pendulum) Reset(seed *uint64) ([]float64, Info, error) {
	e.reseed(seed)
	e.state[0] = e.uniform(-math.Pi, math.Pi)
	e.state[1] = e.uniform(-1, 1)
	e.started = true
	return e.observe(), nil, nil
}

func (e *Pendulum) observe() []float64 {
	s, c := sincos(e.state[0])
	e.obs = [3]float64{f32(c), f32(s), f32(e.state[1])}
	return e.obs[:]
}

// AngleNormalize maps θ to [−π, π) as Gymnasium's angle_normalize: ((θ + π) mod 2π) − π with
// Python's floored modulo.
func AngleNormalize(theta float64) float64 {
	const twoPi = 2 * math.Pi
	x := theta + math.Pi
	var m float64
	switch {
	case x >= 0 && x < twoPi: // fmod(x, 2π) = x exactly: skip the slow math.Mod
		m = x
	case x < 0 && x > -twoPi: // fmod = x, then Python's floor adjustment
		m = x + twoPi
	default:
		m = math.Mod(x, twoPi)
		if m != 0 && m < 0 {
			m += twoPi
		}
	}
	return m - math.Pi
}

// Step applies a torque in [−2, 2]; other actions are errors.
func (e *Pendulum) Step(action []float64) (StepResult, error) { return result(e.step(action, true)) }

// StepRaw accepts any finite torque and clips it to [−2, 2] before use, as Gymnasium does.
func (e *Pendulum) StepRaw(action []float64) (StepResult, error) {
	return result(e.step(action, false))
}

func (e *Pendulum) step(action []float64, strict bool) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	if err := checkBox(action, e.actSpace, strict); err != nil {
		return nil, 0, false, false, fmt.Errorf("Pendulum: %w", err)
	}
	th, thDot := e.state[0], e.state[1]
	u := clamp(action[0], -pdMaxTorque, pdMaxTorque)
	n := AngleNormalize(th)
	cost := n*n + 0.1*thDot*thDot + 0.001*(u*u)
	newThDot := thDot + (3*pdG/(2*pdL)*math.Sin(th)+3.0/(pdM*pdL*pdL)*u)*pdDt
	newThDot = clamp(newThDot, -pdMaxSpeed, pdMaxSpeed)
	e.state = [2]float64{th + newThDot*pdDt, newThDot}
	return e.observe(), -cost, false, false, nil
}

func (e *Pendulum) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	return e.step(action, true)
}

// SetState sets [θ, θ̇] and starts an episode from it.
func (e *Pendulum) SetState(s []float64) error {
	if len(s) != 2 {
		return fmt.Errorf("Pendulum: state has length %d, want 2 (theta, theta_dot)", len(s))
	}
	copy(e.state[:], s)
	e.started = true
	return nil
}

// State returns a copy of [θ, θ̇].
func (e *Pendulum) State() []float64 { return append([]float64(nil), e.state[:]...) }
