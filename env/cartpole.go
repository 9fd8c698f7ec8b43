package env

import (
	"fmt"
	"math"
)

// CartPole constants of Gymnasium 0.29.1 (classic_control/cartpole.py, after Barto, Sutton and
// Anderson 1983).
const (
	cpGravity   = 9.8
	cpMassCart  = 1.0
	cpMassPole  = 0.1
	cpTotalMass = cpMassPole + cpMassCart
	cpLength    = 0.5 // half the pole's length
	cpPoleML    = cpMassPole * cpLength
	cpForceMag  = 10.0
	cpTau       = 0.02 // seconds between state updates
	cpXMax      = 2.4
)

// cpThetaMax is 12° in radians, computed at run time in Gymnasium's order of operations.
var cpThetaMax = 12 * 2 * cpPi / 360

var cpPi = math.Pi

// CartPole is CartPole-v1 without its time limit: a pole hinged on a cart that is pushed left
// (action 0) or right (action 1) with force 10 N; explicit-Euler integration with τ = 0.02 s:
//
//	temp   = (F + m_p·l·θ̇²·sin θ) / (m_c + m_p)
//	θ̈      = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ/(m_c + m_p)))
//	ẍ      = temp − m_p·l·θ̈·cos θ/(m_c + m_p)
//	x ← x + τ·ẋ, ẋ ← ẋ + τ·ẍ, θ ← θ + τ·θ̇, θ̇ ← θ̇ + τ·θ̈
//
// Observation [x, ẋ, θ, θ̇] (rounded to float32 as Gymnasium's); reward +1 for every step
// including the terminating one; terminated when |x| > 2.4 or |θ| > 12°. The internal state is
// float64, as in Gymnasium. Initial state: each component uniform on [−0.05, 0.05).
type CartPole struct {
	seeder
	state      [4]float64
	obs        [4]float64
	started    bool
	terminated bool
	// StepsAfterTermination, when true, reproduces Gymnasium's behaviour for steps taken after
	// termination without reset (reward 0, terminated true) instead of returning an error.
	StepsAfterTermination bool
	obsSpace, actSpace    Space
}

var (
	_ Env         = (*CartPole)(nil)
	_ StateSetter = (*CartPole)(nil)
)

// NewCartPole returns an unwrapped CartPole; Make("CartPole-v1") adds the 500-step time limit.
func NewCartPole() *CartPole {
	h := []float64{f32(cpXMax * 2), math.MaxFloat32, f32(cpThetaMax * 2), math.MaxFloat32}
	return &CartPole{
		obsSpace: fixedBox([]float64{-h[0], -h[1], -h[2], -h[3]}, h),
		actSpace: &Discrete{N: 2},
	}
}

// ObservationSpace is Box([−4.8, −f32max, −0.419, −f32max], [4.8, f32max, 0.419, f32max]).
func (e *CartPole) ObservationSpace() Space { return e.obsSpace }

// ActionSpace is Discrete(2): 0 pushes left, 1 pushes right.
func (e *CartPole) ActionSpace() Space { return e.actSpace }

// Reset draws the initial state uniformly from [−0.05, 0.05)⁴.
func (e *CartPole) Reset(seed *uint64) ([]float64, Info, error) {
	e.reseed(seed)
	for i := range e.state {
		e.state[i] = e.uniform(-0.05, 0.05)
	}
	e.started, e.terminated = true, false
	return e.observe(), nil, nil
}

func (e *CartPole) observe() []float64 {
	for i, v := range e.state {
		e.obs[i] = f32(v)
	}
	return e.obs[:]
}

// Step applies one push.
func (e *CartPole) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	if len(action) != 1 || !(action[0] == 0 || action[0] == 1) {
		_, err := checkDiscrete(action, 2)
		return nil, 0, false, false, fmt.Errorf("CartPole: %w", err)
	}
	if e.terminated {
		if !e.StepsAfterTermination {
			return nil, 0, false, false, errFinished
		}
	}
	force := -cpForceMag
	if action[0] == 1 {
		force = cpForceMag
	}
	x, xDot, theta, thetaDot := e.state[0], e.state[1], e.state[2], e.state[3]
	sinT, cosT := sincos(theta)
	temp := (force + cpPoleML*thetaDot*thetaDot*sinT) / cpTotalMass
	thetaAcc := (cpGravity*sinT - cosT*temp) / (cpLength * (4.0/3.0 - cpMassPole*cosT*cosT/cpTotalMass))
	xAcc := temp - cpPoleML*thetaAcc*cosT/cpTotalMass
	x += cpTau * xDot
	xDot += cpTau * xAcc
	theta += cpTau * thetaDot
	thetaDot += cpTau * thetaAcc
	e.state = [4]float64{x, xDot, theta, thetaDot}
	wasTerminated := e.terminated
	e.terminated = x < -cpXMax || x > cpXMax || theta < -cpThetaMax || theta > cpThetaMax
	reward := 1.0
	if wasTerminated {
		// Gymnasium: every step after the terminating one is rewarded 0 (and stays terminated).
		reward, e.terminated = 0, true
	}
	return e.observe(), reward, e.terminated, false, nil
}

func (e *CartPole) Step(action []float64) (StepResult, error) { return result(e.stepCore(action)) }

// SetState sets [x, ẋ, θ, θ̇] and starts an episode from it.
func (e *CartPole) SetState(s []float64) error {
	if len(s) != 4 {
		return fmt.Errorf("CartPole: state has length %d, want 4 (x, x_dot, theta, theta_dot)", len(s))
	}
	copy(e.state[:], s)
	e.started, e.terminated = true, false
	return nil
}

// State returns a copy of [x, ẋ, θ, θ̇].
func (e *CartPole) State() []float64 { return append([]float64(nil), e.state[:]...) }
