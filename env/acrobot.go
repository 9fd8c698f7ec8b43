package env

import (
	"fmt"
	"math"
)

// Acrobot constants of Gymnasium 0.29.1 (classic_control/acrobot.py, "book" dynamics of Sutton
// and Barto, no torque noise).
const (
	acDt  = 0.2
	acL1  = 1.0 // length of link 1
	acM1  = 1.0
	acM2  = 1.0
	acLC1 = 0.5 // position of the centre of mass of link 1
	acLC2 = 0.5
	acI1  = 1.0 // moments of inertia
	acI2  = 1.0
	acG   = 9.8
)

// Velocity bounds computed at run time in float64, as Python computes them.
var (
	acPi      = math.Pi
	acMaxVel1 = 4 * acPi
	acMaxVel2 = 9 * acPi
)

// Acrobot is Acrobot-v1 without its time limit: two links, the joint between them actuated with
// torque −1, 0 or +1 (actions 0, 1, 2). The state [θ1, θ2, θ̇1, θ̇2] is integrated over dt = 0.2 s
// with one classical Runge–Kutta step (RK4), then θ1, θ2 are wrapped to [−π, π] and the velocities
// clipped to ±4π and ±9π. Observation [cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2] (float32-rounded);
// reward −1 per step and 0 on the terminating step; terminated when −cos θ1 − cos(θ1+θ2) > 1
// (the free end above the bar). Internal state float64 as in Gymnasium. Initial state: each
// component uniform on [−0.1, 0.1).
type Acrobot struct {
	seeder
	state      [4]float64
	obs        [6]float64
	started    bool
	terminated bool
	obsSpace   Space
	actSpace   Space
}

var (
	_ Env         = (*Acrobot)(nil)
	_ StateSetter = (*Acrobot)(nil)
)

// NewAcrobot returns an unwrapped Acrobot; Make("Acrobot-v1") adds the 500-step time limit.
func NewAcrobot() *Acrobot {
	h := []float64{1, 1, 1, 1, f32(acMaxVel1), f32(acMaxVel2)}
	l := make([]float64, len(h))
	for i := range h {
		l[i] = -h[i]
	}
	return &Acrobot{obsSpace: fixedBox(l, h), actSpace: &Discrete{N: 3}}
}

// ObservationSpace is Box([−1 −1 −1 −1 −4π −9π], [1 1 1 1 4π 9π]).
func (e *Acrobot) ObservationSpace() Space { return e.obsSpace }

// ActionSpace is Discrete(3): torque −1, 0, +1.
func (e *Acrobot) ActionSpace() Space { return e.actSpace }

// Reset draws each state component uniformly from [−0.1, 0.1).
func (e *Acrobot) Reset(seed *uint64) ([]float64, Info, error) {
	e.reseed(seed)
	for i := range e.state {
		e.state[i] = e.uniform(-0.1, 0.1)
	}
	e.started, e.terminated = true, false
	return e.observe(), nil, nil
}

func (e *Acrobot) observe() []float64 {
	s1, c1 := sincos(e.state[0])
	s2, c2 := sincos(e.state[1])
	e.obs = [6]float64{f32(c1), f32(s1), f32(c2), f32(s2), f32(e.state[2]), f32(e.state[3])}
	return e.obs[:]
}

// acrobotDeriv is the time derivative of [θ1, θ2, θ̇1, θ̇2] under torque a (book dynamics).
func acrobotDeriv(s [4]float64, a float64) [4]float64 {
	theta1, theta2, dtheta1, dtheta2 := s[0], s[1], s[2], s[3]
	sin2, cos2 := sincos(theta2)
	d1 := acM1*acLC1*acLC1 + acM2*(acL1*acL1+acLC2*acLC2+2*acL1*acLC2*cos2) + acI1 + acI2
	d2 := acM2*(acLC2*acLC2+acL1*acLC2*cos2) + acI2
	phi2 := acM2 * acLC2 * acG * math.Cos(theta1+theta2-math.Pi/2.0)
	phi1 := -acM2*acL1*acLC2*dtheta2*dtheta2*sin2 -
		2*acM2*acL1*acLC2*dtheta2*dtheta1*sin2 +
		(acM1*acLC1+acM2*acL1)*acG*math.Cos(theta1-math.Pi/2) + phi2
	ddtheta2 := (a + d2/d1*phi1 - acM2*acL1*acLC2*dtheta1*dtheta1*sin2 - phi2) /
		(acM2*acLC2*acLC2 + acI2 - d2*d2/d1)
	ddtheta1 := -(d2*ddtheta2 + phi1) / d1
	return [4]float64{dtheta1, dtheta2, ddtheta1, ddtheta2}
}

// wrapAngle maps x into [lo, hi] by adding or subtracting hi−lo, as Gymnasium's wrap does.
func wrapAngle(x, lo, hi float64) float64 {
	d := hi - lo
	for x > hi {
		x -= d
	}
	for x < lo {
		x += d
	}
	return x
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }

// Step applies one torque.
func (e *Acrobot) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	a, err := checkDiscrete(action, 3)
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("Acrobot: %w", err)
	}
	if e.terminated {
		return nil, 0, false, false, errFinished
	}
	torque := float64(a - 1)
	// One RK4 step over [0, dt], in Gymnasium's order of operations.
	h := float64(acDt)
	h2 := h / 2.0
	y := e.state
	k1 := acrobotDeriv(y, torque)
	var t [4]float64
	for i := range t {
		t[i] = y[i] + h2*k1[i]
	}
	k2 := acrobotDeriv(t, torque)
	for i := range t {
		t[i] = y[i] + h2*k2[i]
	}
	k3 := acrobotDeriv(t, torque)
	for i := range t {
		t[i] = y[i] + h*k3[i]
	}
	k4 := acrobotDeriv(t, torque)
	var ns [4]float64
	for i := range ns {
		ns[i] = y[i] + h/6.0*(k1[i]+2*k2[i]+2*k3[i]+k4[i])
	}
	ns[0] = wrapAngle(ns[0], -math.Pi, math.Pi)
	ns[1] = wrapAngle(ns[1], -math.Pi, math.Pi)
	ns[2] = clamp(ns[2], -acMaxVel1, acMaxVel1)
	ns[3] = clamp(ns[3], -acMaxVel2, acMaxVel2)
	e.state = ns
	e.terminated = -math.Cos(ns[0])-math.Cos(ns[1]+ns[0]) > 1.0
	reward := -1.0
	if e.terminated {
		reward = 0
	}
	return e.observe(), reward, e.terminated, false, nil
}

func (e *Acrobot) Step(action []float64) (StepResult, error) { return result(e.stepCore(action)) }

// SetState sets [θ1, θ2, θ̇1, θ̇2] and starts an episode from it.
func (e *Acrobot) SetState(s []float64) error {
	if len(s) != 4 {
		return fmt.Errorf("Acrobot: state has length %d, want 4 (theta1, theta2, dtheta1, dtheta2)", len(s))
	}
	copy(e.state[:], s)
	e.started, e.terminated = true, false
	return nil
}

// State returns a copy of [θ1, θ2, θ̇1, θ̇2].
func (e *Acrobot) State() []float64 { return append([]float64(nil), e.state[:]...) }
