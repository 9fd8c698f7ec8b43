package nn

import (
	"errors"
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrNonFinite is wrapped by the error ClipGradNorm returns when the gradient norm is NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite gradient norm")

// Grads returns the gradient tensors of the learnable nodes, in their order. They are the dual
// values a tape machine built with gorgonia.BindDualValues(learnables...) writes into, valid
// after RunAll. gorgonia ADDS each run's gradient to them (they accumulate across RunAll
// calls, and Reset does not clear them): call ZeroGrads before every run, or use Trainer.
func Grads(learnables gorgonia.Nodes) ([]*tensor.Dense, error) {
	return appendGrads(nil, learnables)
}

func appendGrads(dst []*tensor.Dense, learnables gorgonia.Nodes) ([]*tensor.Dense, error) {
	for _, n := range learnables {
		v, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("nn: gradient of %q: %w", n.Name(), err)
		}
		d, ok := v.(*tensor.Dense)
		if !ok || d == nil {
			return nil, fmt.Errorf("nn: gradient of %q is a %T, want *tensor.Dense", n.Name(), v)
		}
		dst = append(dst, d)
	}
	return dst, nil
}

// ZeroGrads sets the gradient tensors of the learnable nodes to zero in place (see Grads).
// Nodes that have no gradient yet (no run so far) are skipped.
func ZeroGrads(learnables gorgonia.Nodes) error {
	for _, n := range learnables {
		v, err := n.Grad()
		if err != nil || v == nil {
			continue
		}
		d, ok := v.(*tensor.Dense)
		if !ok {
			return fmt.Errorf("nn: gradient of %q is a %T, want *tensor.Dense", n.Name(), v)
		}
		if err := zeroDense(d); err != nil {
			return fmt.Errorf("nn: zeroing gradient of %q: %w", n.Name(), err)
		}
	}
	return nil
}

func zeroDense(d *tensor.Dense) error {
	switch d.Dtype() {
	case tensor.Float32:
		clear(d.Float32s())
	case tensor.Float64:
		clear(d.Float64s())
	default:
		return fmt.Errorf("dtype %v: want float32 or float64", d.Dtype())
	}
	return nil
}

// The gradient functions below read a tensor's elements with Float32s/Float64s, not Data: Data
// builds its slice through reflection and allocates on every call, and they run every
// minibatch.

// ClipGradNorm scales the gradients in place so that their global L2 norm is at most maxNorm,
// with torch.nn.utils.clip_grad_norm_'s rule:
//
//	norm = sqrt(Σ_tensors Σ_i g_i²)   (accumulated in float64)
//	c    = maxNorm / (norm + 1e-6)
//	if c < 1: g ← c·g for every gradient
//
// It returns norm, measured before clipping. maxNorm must be > 0; +Inf only measures the norm.
// When norm is NaN or ±Inf the gradients are left untouched and the error wraps ErrNonFinite
// (test with errors.Is), so the caller can skip the update.
//
// It is SumSquares, ClipScale and ScaleGrads in sequence; a caller that holds the gradients of
// two networks on two goroutines can run those parts there with bit-identical results.
func ClipGradNorm(grads []*tensor.Dense, maxNorm float64) (float64, error) {
	if err := checkMaxNorm(maxNorm); err != nil {
		return 0, err
	}
	ss, err := SumSquares(0, grads)
	if err != nil {
		return 0, err
	}
	norm := math.Sqrt(ss)
	c, err := ClipScale(norm, maxNorm)
	if err != nil {
		return norm, err
	}
	return norm, ScaleGrads(grads, c)
}

func checkMaxNorm(maxNorm float64) error {
	if math.IsNaN(maxNorm) || maxNorm <= 0 {
		return fmt.Errorf("nn: ClipGradNorm: maxNorm=%v must be positive", maxNorm)
	}
	return nil
}

// SumSquares returns acc + Σ_tensors Σ_i g_i², accumulated in float64 tensor by tensor and
// element by element, starting from acc. Because the order is fixed,
//
//	SumSquares(SumSquares(0, a), b) == SumSquares(0, append(a, b...))
//
// exactly: a's part can be summed on one goroutine (as soon as a is ready) and b's continued from
// it, with the rounding of one pass. Tensors must be float32 or float64.
func SumSquares(acc float64, grads []*tensor.Dense) (float64, error) {
	for i, g := range grads {
		switch g.Dtype() {
		case tensor.Float32:
			for _, v := range g.Float32s() {
				acc += float64(v) * float64(v)
			}
		case tensor.Float64:
			for _, v := range g.Float64s() {
				acc += v * v
			}
		default:
			return 0, fmt.Errorf("nn: SumSquares: grads[%d] has dtype %v: want float32 or float64", i, g.Dtype())
		}
	}
	return acc, nil
}

// ClipScale is the factor ClipGradNorm scales the gradients by for a global norm norm:
// min(1, maxNorm/(norm + 1e-6)). maxNorm must be > 0 (+Inf never clips); a NaN or ±Inf norm is
// an error wrapping ErrNonFinite.
func ClipScale(norm, maxNorm float64) (float64, error) {
	if err := checkMaxNorm(maxNorm); err != nil {
		return 0, err
	}
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return 0, fmt.Errorf("nn: ClipGradNorm: norm=%v: %w", norm, ErrNonFinite)
	}
	return math.Min(1, maxNorm/(norm+1e-6)), nil
}

// ScaleGrads sets g ← c·g in place for every gradient (the product in float64, rounded to the
// tensor's dtype); c = 1 leaves them untouched. Tensors must be float32 or float64.
func ScaleGrads(grads []*tensor.Dense, c float64) error {
	if c == 1 {
		return nil
	}
	for i, g := range grads {
		switch g.Dtype() {
		case tensor.Float32:
			s := g.Float32s()
			for j, v := range s {
				s[j] = float32(c * float64(v))
			}
		case tensor.Float64:
			s := g.Float64s()
			for j, v := range s {
				s[j] = c * v
			}
		default:
			return fmt.Errorf("nn: ScaleGrads: grads[%d] has dtype %v: want float32 or float64", i, g.Dtype())
		}
	}
	return nil
}

// Trainer is a training graph built once for one batch shape, with its tape machine. The
// caller builds g (inputs as nodes whose values are set with gorgonia.Let before each Run, a
// scalar cost, gorgonia.Read registrations for values to read back), then NewTrainer adds the
// gradient nodes and compiles the machine. Run evaluates cost and its gradients once; the caller
// clips them and applies an optimizer (Adam) to the parameter tensors.
type Trainer struct {
	vm         gorgonia.VM
	learnables gorgonia.Nodes
	params     []*tensor.Dense
	grads      []*tensor.Dense
}

// NewTrainer adds ∂cost/∂learnables to g (cost must be a scalar node of g) and compiles a tape
// machine that binds the gradients to the learnables' dual values and computes only the nodes
// that the cost, the gradients and the gorgonia.Read statements depend on. Every gorgonia.Read
// must be registered before calling it; g must not be modified afterwards.
func NewTrainer(g *gorgonia.ExprGraph, cost *gorgonia.Node, learnables gorgonia.Nodes) (*Trainer, error) {
	if g == nil || cost == nil {
		return nil, fmt.Errorf("nn: NewTrainer: nil graph or cost")
	}
	if len(learnables) == 0 {
		return nil, fmt.Errorf("nn: NewTrainer: no learnables")
	}
	if !cost.IsScalar() {
		return nil, fmt.Errorf("nn: NewTrainer: cost %q has shape %v, want a scalar", cost.Name(), cost.Shape())
	}
	t := &Trainer{learnables: append(gorgonia.Nodes(nil), learnables...)}
	seen := map[*tensor.Dense]bool{}
	for _, n := range learnables {
		if n.Graph() != g {
			return nil, fmt.Errorf("nn: NewTrainer: learnable %q belongs to another graph", n.Name())
		}
		d, ok := n.Value().(*tensor.Dense)
		if !ok || d == nil {
			return nil, fmt.Errorf("nn: NewTrainer: learnable %q has no *tensor.Dense value", n.Name())
		}
		if seen[d] {
			return nil, fmt.Errorf("nn: NewTrainer: learnable %q listed twice", n.Name())
		}
		seen[d] = true
		t.params = append(t.params, d)
	}
	// What the machine must compute: the cost, the values the caller reads back (gorgonia.Read
	// statements: roots whose op has no type) and, below, the learnables' gradients.
	roots := gorgonia.Nodes{cost}
	for _, n := range g.AllNodes() {
		if g.To(n.ID()).Len() == 0 && n.Op() != nil && n.Op().Type() == nil {
			roots = append(roots, n)
		}
	}
	if _, err := gorgonia.Grad(cost, learnables...); err != nil {
		return nil, fmt.Errorf("nn: NewTrainer: differentiating %q: %w", cost.Name(), err)
	}
	// The machine runs only what those need. The rest is not free: gorgonia differentiates a
	// node with respect to all its children, so the graph also holds gradients nobody asked for
	// (∂cost/∂input of the first layer's product, a matrix product as large as the layer's
	// forward pass), and a caller's graph may hold outputs it uses only in some configurations
	// (a policy graph's KL(π_old‖π_θ) under the clip objective).
	for _, n := range learnables {
		if d := n.Deriv(); d != nil {
			roots = append(roots, d)
		}
	}
	t.vm = gorgonia.NewTapeMachine(g.SubgraphRoots(roots...), gorgonia.BindDualValues(learnables...))
	return t, nil
}

// Run zeroes the gradients, runs the machine once (forward and backward) and resets it. It
// returns the gradient tensors in learnables order: they belong to the Trainer, may be modified
// in place (ClipGradNorm) and are valid until the next Run. Values registered with gorgonia.Read
// are valid until the next Run too.
func (t *Trainer) Run() ([]*tensor.Dense, error) {
	if err := ZeroGrads(t.learnables); err != nil {
		return nil, err
	}
	err := t.vm.RunAll()
	t.vm.Reset()
	if err != nil {
		return nil, fmt.Errorf("nn: Trainer.Run: %w", err)
	}
	t.grads, err = appendGrads(t.grads[:0], t.learnables)
	if err != nil {
		return nil, err
	}
	return t.grads, nil
}

// Learnables returns the learnable nodes (a copy of the slice), in the order given to NewTrainer.
func (t *Trainer) Learnables() gorgonia.Nodes { return append(gorgonia.Nodes(nil), t.learnables...) }

// Params returns the learnables' parameter tensors (the live tensors), in learnables order: the
// list to give NewAdam.
func (t *Trainer) Params() []*tensor.Dense { return append([]*tensor.Dense(nil), t.params...) }

// Close releases the machine.
func (t *Trainer) Close() error { return t.vm.Close() }

// Scalar converts a scalar value read back from a graph (gorgonia.Read of a shape-() node:
// *gorgonia.F32, *gorgonia.F64, or a one-element tensor) to float64.
func Scalar(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F64:
		return float64(*s), nil
	case *gorgonia.F32:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() == 1 {
			switch d := s.Data().(type) {
			case []float64:
				return d[0], nil
			case []float32:
				return float64(d[0]), nil
			case float64:
				return d, nil
			case float32:
				return float64(d), nil
			}
		}
		return 0, fmt.Errorf("nn: Scalar: tensor %v %v is not a float scalar", s.Dtype(), s.Shape())
	case nil:
		return 0, fmt.Errorf("nn: Scalar: no value (was gorgonia.Read registered before the machine was built, and has it run?)")
	}
	return 0, fmt.Errorf("nn: Scalar: value of type %T is not a float scalar", v)
}

// ValueAt returns element i (in row-major order) of a float value read back from a graph: a
// scalar (*gorgonia.F32, *gorgonia.F64, i ignored) or a float32/float64 tensor. It returns NaN for a
// nil value, another dtype or an index out of range, so that a training loop's non-finite guard
// catches a missing read-back instead of using a silent zero.
func ValueAt(v gorgonia.Value, i int) float64 {
	if v == nil {
		return math.NaN()
	}
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	case []float32:
		if i >= 0 && i < len(d) {
			return float64(d[i])
		}
	case []float64:
		if i >= 0 && i < len(d) {
			return d[i]
		}
	}
	return math.NaN()
}
