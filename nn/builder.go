package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Builder writes gorgonia expressions with a sticky error, so that a formula reads as a formula:
//
//	b := nn.NewBuilder(g, tensor.Float32)
//	ratio := b.Exp(b.Sub(logp, oldLogp))
//	loss := b.Neg(b.Mean(b.HadamardProd(ratio, adv)))
//	if err := b.Err(); err != nil { … }
//
// The first failing operation records its error (naming the operation); every later call
// returns nil without touching the graph, and Err reports the first error. Constants are made in
// the builder's dtype (gorgonia needs constants of the graph's dtype). A Builder is not safe for
// concurrent use.
type Builder struct {
	g   *G.ExprGraph
	dt  tensor.Dtype
	err error
}

// NewBuilder returns a builder adding nodes of dtype dt (tensor.Float32 or tensor.Float64) to g.
func NewBuilder(g *G.ExprGraph, dt tensor.Dtype) *Builder {
	b := &Builder{g: g, dt: dt}
	if g == nil {
		b.err = fmt.Errorf("nn: builder: nil graph")
	} else if dt != tensor.Float32 && dt != tensor.Float64 {
		b.err = fmt.Errorf("nn: builder: dtype %v: want float32 or float64", dt)
	}
	return b
}

// Err returns the first error of the builder's operations, or nil.
func (b *Builder) Err() error { return b.err }

// Graph returns the graph the builder adds to.
func (b *Builder) Graph() *G.ExprGraph { return b.g }

// Dtype returns the builder's dtype.
func (b *Builder) Dtype() tensor.Dtype { return b.dt }

// op runs f unless an error is already recorded; a nil operand or an error of f is recorded.
func (b *Builder) op(name string, f func() (*G.Node, error), operands ...*G.Node) *G.Node {
	if b.err != nil {
		return nil
	}
	for _, x := range operands {
		if x == nil {
			b.err = fmt.Errorf("nn: %s: nil operand", name)
			return nil
		}
	}
	n, err := f()
	if err != nil {
		b.err = fmt.Errorf("nn: %s: %w", name, err)
		return nil
	}
	return n
}

// Add is x + y (element-wise; one side may be a scalar).
func (b *Builder) Add(x, y *G.Node) *G.Node {
	return b.op("add", func() (*G.Node, error) { return G.Add(x, y) }, x, y)
}

// Sub is x − y.
func (b *Builder) Sub(x, y *G.Node) *G.Node {
	return b.op("sub", func() (*G.Node, error) { return G.Sub(x, y) }, x, y)
}

// Mul is x·y where one side is a scalar (gorgonia's Mul).
func (b *Builder) Mul(x, y *G.Node) *G.Node {
	return b.op("mul", func() (*G.Node, error) { return G.Mul(x, y) }, x, y)
}

// HadamardProd is the element-wise product x ⊙ y of equal shapes.
func (b *Builder) HadamardProd(x, y *G.Node) *G.Node {
	return b.op("hadamard product", func() (*G.Node, error) { return G.HadamardProd(x, y) }, x, y)
}

// Exp is eˣ element-wise.
func (b *Builder) Exp(x *G.Node) *G.Node {
	return b.op("exp", func() (*G.Node, error) { return G.Exp(x) }, x)
}

// Neg is −x.
func (b *Builder) Neg(x *G.Node) *G.Node {
	return b.op("neg", func() (*G.Node, error) { return G.Neg(x) }, x)
}

// Square is x² element-wise.
func (b *Builder) Square(x *G.Node) *G.Node {
	return b.op("square", func() (*G.Node, error) { return G.Square(x) }, x)
}

// Softplus is ln(1 + eˣ) element-wise (gorgonia's, which returns x above 16 and 0 below −708,
// so it never overflows; its gradient is σ(x)). −ln σ(x) = Softplus(−x).
func (b *Builder) Softplus(x *G.Node) *G.Node {
	return b.op("softplus", func() (*G.Node, error) { return G.Softplus(x) }, x)
}

// Mean is the mean over all elements (a scalar node).
func (b *Builder) Mean(x *G.Node) *G.Node {
	return b.op("mean", func() (*G.Node, error) { return G.Mean(x) }, x)
}

// Sum is the sum along the given axes (all elements when none are given).
func (b *Builder) Sum(x *G.Node, axes ...int) *G.Node {
	return b.op("sum", func() (*G.Node, error) { return G.Sum(x, axes...) }, x)
}

// Min is min(x, y) element-wise over equal shapes; on ties the gradient flows to x.
func (b *Builder) Min(x, y *G.Node) *G.Node {
	return b.op("min", func() (*G.Node, error) { return G.MinBetween(x, y) }, x, y)
}

// Max is max(x, y) element-wise over equal shapes; on ties the gradient flows to x.
func (b *Builder) Max(x, y *G.Node) *G.Node {
	return b.op("max", func() (*G.Node, error) { return G.MaxBetween(x, y) }, x, y)
}

// Clip is min(max(x, lo), hi) element-wise, with lo and hi as constants of x's shape
// (gorgonia's MaxBetween/MinBetween need equal shapes). The gradient is 1 inside [lo, hi] and
// at the bounds, 0 outside.
func (b *Builder) Clip(x *G.Node, lo, hi float64) *G.Node {
	if b.err != nil {
		return nil
	}
	if x == nil {
		b.err = fmt.Errorf("nn: clip: nil operand")
		return nil
	}
	return b.Min(b.Max(x, b.Fill(x.Shape(), lo)), b.Fill(x.Shape(), hi))
}

// Scalar is a scalar constant v in the builder's dtype.
func (b *Builder) Scalar(v float64) *G.Node {
	if b.err != nil {
		return nil
	}
	if b.dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// Fill is a constant of the given shape with every element v, in the builder's dtype.
func (b *Builder) Fill(shape tensor.Shape, v float64) *G.Node {
	if b.err != nil {
		return nil
	}
	n := shape.TotalSize()
	var t *tensor.Dense
	if b.dt == tensor.Float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(d))
	} else {
		d := make([]float64, n)
		for i := range d {
			d[i] = v
		}
		t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(d))
	}
	return G.NewConstant(t)
}

// Vector is a new (n,) input node named name in the builder's dtype, with a backing tensor
// to fill (see SetVector) before each run.
func (b *Builder) Vector(name string, n int) (*G.Node, *tensor.Dense) {
	if b.err != nil {
		return nil, nil
	}
	if n <= 0 {
		b.err = fmt.Errorf("nn: vector %q: length %d must be > 0", name, n)
		return nil, nil
	}
	var t *tensor.Dense
	if b.dt == tensor.Float32 {
		t = tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float32, n)))
	} else {
		t = tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float64, n)))
	}
	return G.NewVector(b.g, b.dt, G.WithShape(n), G.WithName(name)), t
}

// ScalarInput is a new scalar input node named name in the builder's dtype (set it with
// SetScalar before each run).
func (b *Builder) ScalarInput(name string) *G.Node {
	if b.err != nil {
		return nil
	}
	return G.NewScalar(b.g, b.dt, G.WithName(name))
}

// SetScalar binds v (converted to n's dtype) to the scalar input n.
func SetScalar(n *G.Node, v float64) error {
	if n == nil {
		return fmt.Errorf("nn: SetScalar: nil node")
	}
	var val G.Value
	switch n.Dtype() {
	case tensor.Float32:
		val = G.NewF32(float32(v))
	case tensor.Float64:
		val = G.NewF64(v)
	default:
		return fmt.Errorf("nn: SetScalar %s: dtype %v", n.Name(), n.Dtype())
	}
	if err := G.Let(n, val); err != nil {
		return fmt.Errorf("nn: SetScalar %s: %w", n.Name(), err)
	}
	return nil
}

// SetVector copies v (converted to t's element type) into t and binds t to the input n.
func SetVector(n *G.Node, t *tensor.Dense, v []float64) error {
	if n == nil || t == nil {
		return fmt.Errorf("nn: SetVector: nil node or tensor")
	}
	switch d := t.Data().(type) {
	case []float32:
		if len(d) != len(v) {
			return fmt.Errorf("nn: SetVector %s: %d values for %d elements", n.Name(), len(v), len(d))
		}
		for i, x := range v {
			d[i] = float32(x)
		}
	case []float64:
		if len(d) != len(v) {
			return fmt.Errorf("nn: SetVector %s: %d values for %d elements", n.Name(), len(v), len(d))
		}
		copy(d, v)
	default:
		return fmt.Errorf("nn: SetVector %s: unsupported tensor type %T", n.Name(), d)
	}
	if err := G.Let(n, t); err != nil {
		return fmt.Errorf("nn: SetVector %s: %w", n.Name(), err)
	}
	return nil
}
