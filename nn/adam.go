package nn

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"
)

// AdamConfig holds Adam's hyper-parameters. A zero field takes torch.optim.Adam's default:
// Beta1 0.9, Beta2 0.999, Eps 1e-8 (CleanRL's PPO uses Eps 1e-5).
type AdamConfig struct {
	Beta1, Beta2, Eps float64
}

func (c AdamConfig) withDefaults() AdamConfig {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

func (c AdamConfig) validate() error {
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		return fmt.Errorf("Beta1=%v: want 0 ≤ Beta1 < 1", c.Beta1)
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		return fmt.Errorf("Beta2=%v: want 0 ≤ Beta2 < 1", c.Beta2)
	}
	if !(c.Eps > 0) || math.IsInf(c.Eps, 0) {
		return fmt.Errorf("Eps=%v: want a finite Eps > 0", c.Eps)
	}
	return nil
}

// Adam is the Adam optimizer with torch.optim.Adam's semantics (no weight decay, no AMSGrad),
// updating float32 or float64 parameter tensors in place. At step t (counting from 1) with
// gradient g and learning rate lr, for every element:
//
//	m ← m + (1−β₁)(g − m)            (= β₁m + (1−β₁)g)
//	v ← β₂v + (1−β₂)g²
//	p ← p − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
//
// m and v start at 0 and are kept in float64 whatever the parameter dtype; a float32 parameter
// is updated in float64 and rounded once. The learning rate is an argument of Step so it can be
// annealed. State/SetState (and Arrays/LoadArrays) export and restore t, m and v exactly, so a
// resumed run continues bit-identically.
type Adam struct {
	cfg    AdamConfig
	params []*tensor.Dense
	t      int
	m, v   [][]float64
}

// NewAdam returns an Adam optimizer for params (float32 or float64 tensors, updated in place).
func NewAdam(params []*tensor.Dense, cfg AdamConfig) (*Adam, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("nn: NewAdam: %w", err)
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("nn: NewAdam: no parameters")
	}
	a := &Adam{cfg: cfg, params: append([]*tensor.Dense(nil), params...)}
	seen := map[*tensor.Dense]bool{}
	for i, p := range params {
		if p == nil {
			return nil, fmt.Errorf("nn: NewAdam: params[%d] is nil", i)
		}
		if seen[p] {
			return nil, fmt.Errorf("nn: NewAdam: params[%d] is listed twice", i)
		}
		seen[p] = true
		if dt := p.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return nil, fmt.Errorf("nn: NewAdam: params[%d] has dtype %v: want float32 or float64", i, dt)
		}
		n := p.Shape().TotalSize()
		a.m = append(a.m, make([]float64, n))
		a.v = append(a.v, make([]float64, n))
	}
	return a, nil
}

// Config returns the hyper-parameters in use (defaults filled in).
func (a *Adam) Config() AdamConfig { return a.cfg }

// Steps returns the number of steps taken (t).
func (a *Adam) Steps() int { return a.t }

// Step applies one update with learning rate lr (≥ 0) and gradients grads (one per parameter,
// same order, shape and dtype). Nothing is modified when it returns an error.
func (a *Adam) Step(lr float64, grads []*tensor.Dense) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("nn: Adam.Step: lr=%v: want a finite lr ≥ 0", lr)
	}
	if len(grads) != len(a.params) {
		return fmt.Errorf("nn: Adam.Step: %d gradients for %d parameters", len(grads), len(a.params))
	}
	for i, g := range grads {
		p := a.params[i]
		if g == nil {
			return fmt.Errorf("nn: Adam.Step: grads[%d] is nil", i)
		}
		if g.Dtype() != p.Dtype() || !g.Shape().Eq(p.Shape()) {
			return fmt.Errorf("nn: Adam.Step: grads[%d] is %v %v, parameter is %v %v", i, g.Dtype(), g.Shape(), p.Dtype(), p.Shape())
		}
	}
	a.t++
	b1, b2, eps := a.cfg.Beta1, a.cfg.Beta2, a.cfg.Eps
	bc1 := 1 - math.Pow(b1, float64(a.t))
	bc2 := 1 - math.Pow(b2, float64(a.t))
	stepSize := lr / bc1
	bc2Sqrt := math.Sqrt(bc2)
	for i, gt := range grads {
		m, v := a.m[i], a.v[i]
		switch ps := paramData(a.params[i]).(type) {
		case []float64:
			gs := gt.Float64s()
			for j, g := range gs {
				m[j] += (1 - b1) * (g - m[j])
				v[j] = b2*v[j] + (1-b2)*g*g
				ps[j] -= stepSize * (m[j] / (math.Sqrt(v[j])/bc2Sqrt + eps))
			}
		case []float32:
			gs := gt.Float32s()
			j0 := 0
			if haveAdamAVX2 && len(gs) >= 4 && len(ps) == len(gs) {
				// the loop below on 4 elements at a time, same bits (adam_amd64.s)
				j0 = len(gs) &^ 3
				c := [6]float64{1 - b1, b2, 1 - b2, stepSize, bc2Sqrt, eps}
				adamStep32AVX2(&ps[0], &gs[0], &m[0], &v[0], j0, &c)
			}
			for j := j0; j < len(gs); j++ {
				g32 := gs[j]
				g := float64(g32)
				m[j] += (1 - b1) * (g - m[j])
				v[j] = b2*v[j] + (1-b2)*g*g
				ps[j] = float32(float64(ps[j]) - stepSize*(m[j]/(math.Sqrt(v[j])/bc2Sqrt+eps)))
			}
		}
	}
	return nil
}

// AdamState is a deep copy of Adam's state.
type AdamState struct {
	Config AdamConfig
	Step   int         // t, the number of steps taken
	M, V   [][]float64 // first and second moments, one slice per parameter
}

// State returns a deep copy of the optimizer state.
func (a *Adam) State() AdamState {
	s := AdamState{Config: a.cfg, Step: a.t}
	for i := range a.m {
		s.M = append(s.M, append([]float64(nil), a.m[i]...))
		s.V = append(s.V, append([]float64(nil), a.v[i]...))
	}
	return s
}

// SetState restores a state returned by State (copying it). The number and sizes of the moment
// slices must match the parameters; the hyper-parameters are taken from s.
func (a *Adam) SetState(s AdamState) error {
	cfg := s.Config.withDefaults()
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("nn: Adam.SetState: %w", err)
	}
	if s.Step < 0 {
		return fmt.Errorf("nn: Adam.SetState: Step=%d is negative", s.Step)
	}
	if len(s.M) != len(a.m) || len(s.V) != len(a.v) {
		return fmt.Errorf("nn: Adam.SetState: %d/%d moment slices, want %d", len(s.M), len(s.V), len(a.m))
	}
	for i := range a.m {
		if len(s.M[i]) != len(a.m[i]) || len(s.V[i]) != len(a.v[i]) {
			return fmt.Errorf("nn: Adam.SetState: moments of parameter %d have %d/%d elements, want %d", i, len(s.M[i]), len(s.V[i]), len(a.m[i]))
		}
	}
	a.cfg, a.t = cfg, s.Step
	for i := range a.m {
		copy(a.m[i], s.M[i])
		copy(a.v[i], s.V[i])
	}
	return nil
}

// paramData is p's []float32 or []float64 without Dense.Data's allocation.
func paramData(p *tensor.Dense) any {
	if p.Dtype() == tensor.Float32 {
		return p.Float32s()
	}
	return p.Float64s()
}
