package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Activation is the non-linearity applied after every hidden layer of an MLP.
type Activation int

const (
	// Tanh is tanh(x) (the zero value, CleanRL's choice for PPO).
	Tanh Activation = iota
	// ReLU is max(x, 0).
	ReLU
)

// String returns "tanh" or "relu".
func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation maps "tanh" or "relu" to an Activation.
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(s) {
	case "tanh":
		return Tanh, nil
	case "relu":
		return ReLU, nil
	}
	return 0, fmt.Errorf("nn: activation %q: want tanh or relu", s)
}

// MLPConfig describes a fully connected network In → Hidden[0] → … → Out.
type MLPConfig struct {
	// Name prefixes the graph node names and the serialized array names ("<Name>.l<i>.W",
	// "<Name>.l<i>.b"). Two MLPs used in one graph need distinct names. Empty means "mlp".
	Name   string
	In     int   // input width, > 0
	Hidden []int // hidden widths, each > 0; may be empty (a linear model)
	Out    int   // output width, > 0
	// Activation follows every hidden layer (not the output layer). The zero value is Tanh.
	Activation Activation
	// HiddenGain and OutputGain scale the orthogonal initialisation of the hidden layers'
	// and the output layer's weights. Zero means the default: √2 for hidden layers and 1 for
	// the output layer. CleanRL's PPO uses √2 for hidden layers, 0.01 for the policy head and
	// 1 for the value head. Biases always start at 0.
	HiddenGain, OutputGain float64
	// Dtype is tensor.Float32 or tensor.Float64; the zero value means tensor.Float32.
	Dtype tensor.Dtype
}

// MLP is a multi-layer perceptron
//
//	h₀ = x,  h_{l+1} = act(h_l·W_l + b_l) for hidden layers,  y = h_L·W_L + b_L,
//
// with x a rows×In batch, W_l an in_l×out_l matrix and b_l an out_l vector added to every row.
// The weights are *tensor.Dense values owned by the MLP: every graph built with Graph binds
// nodes to these same tensors, Adam updates them in place, and Forward reads them, so all of them
// always see the current parameters.
//
// An MLP's methods may be called from several goroutines only if nothing modifies the
// parameters meanwhile (Forward with one Workspace per goroutine is read-only).
type MLP struct {
	name   string
	in     int
	sizes  []int // layer widths: in, hidden..., out
	act    Activation
	dtype  tensor.Dtype
	w, b   []*tensor.Dense
	params []*tensor.Dense // w0, b0, w1, b1, ...
	names  []string
	// backing slices of w and b, cached because Data() allocates on every call
	w32, b32 [][]float32
	w64, b64 [][]float64
}

// NewMLP builds an MLP from cfg, drawing the orthogonal weight matrices layer by layer from rng
// (see Orthogonal). The same rng state gives the same weights.
func NewMLP(rng *rand.Rand, cfg MLPConfig) (*MLP, error) {
	if rng == nil {
		return nil, fmt.Errorf("nn: NewMLP: rng is nil")
	}
	if cfg.Name == "" {
		cfg.Name = "mlp"
	}
	if cfg.In <= 0 {
		return nil, fmt.Errorf("nn: NewMLP %q: In=%d must be positive", cfg.Name, cfg.In)
	}
	if cfg.Out <= 0 {
		return nil, fmt.Errorf("nn: NewMLP %q: Out=%d must be positive", cfg.Name, cfg.Out)
	}
	for i, h := range cfg.Hidden {
		if h <= 0 {
			return nil, fmt.Errorf("nn: NewMLP %q: Hidden[%d]=%d must be positive", cfg.Name, i, h)
		}
	}
	if cfg.Activation != Tanh && cfg.Activation != ReLU {
		return nil, fmt.Errorf("nn: NewMLP %q: unknown Activation %d", cfg.Name, int(cfg.Activation))
	}
	for _, g := range []struct {
		name string
		v    *float64
		def  float64
	}{{"HiddenGain", &cfg.HiddenGain, math.Sqrt2}, {"OutputGain", &cfg.OutputGain, 1}} {
		if math.IsNaN(*g.v) || math.IsInf(*g.v, 0) {
			return nil, fmt.Errorf("nn: NewMLP %q: %s=%v is not finite", cfg.Name, g.name, *g.v)
		}
		if *g.v == 0 {
			*g.v = g.def
		}
	}
	switch cfg.Dtype {
	case tensor.Dtype{}:
		cfg.Dtype = tensor.Float32
	case tensor.Float32, tensor.Float64:
	default:
		return nil, fmt.Errorf("nn: NewMLP %q: Dtype %v: want float32 or float64", cfg.Name, cfg.Dtype)
	}
	m := &MLP{name: cfg.Name, in: cfg.In, act: cfg.Activation, dtype: cfg.Dtype}
	m.sizes = append(append([]int{cfg.In}, cfg.Hidden...), cfg.Out)
	nl := len(m.sizes) - 1
	for l := 0; l < nl; l++ {
		rows, cols := m.sizes[l], m.sizes[l+1]
		gain := cfg.HiddenGain
		if l == nl-1 {
			gain = cfg.OutputGain
		}
		w, err := Orthogonal(rng, rows, cols, gain)
		if err != nil {
			return nil, fmt.Errorf("nn: NewMLP %q layer %d: %w", cfg.Name, l, err)
		}
		wt := NewDense(m.dtype, []int{rows, cols}, w)
		bt := NewDense(m.dtype, []int{cols}, nil)
		m.w = append(m.w, wt)
		m.b = append(m.b, bt)
		m.params = append(m.params, wt, bt)
		m.names = append(m.names, fmt.Sprintf("%s.l%d.W", m.name, l), fmt.Sprintf("%s.l%d.b", m.name, l))
		if m.dtype == tensor.Float32 {
			m.w32 = append(m.w32, wt.Data().([]float32))
			m.b32 = append(m.b32, bt.Data().([]float32))
		} else {
			m.w64 = append(m.w64, wt.Data().([]float64))
			m.b64 = append(m.b64, bt.Data().([]float64))
		}
	}
	return m, nil
}

// Name returns the MLP's name (the prefix of its node and array names).
func (m *MLP) Name() string { return m.name }

// In returns the input width.
func (m *MLP) In() int { return m.in }

// Out returns the output width.
func (m *MLP) Out() int { return m.sizes[len(m.sizes)-1] }

// Sizes returns the layer widths In, Hidden..., Out (a copy).
func (m *MLP) Sizes() []int { return append([]int(nil), m.sizes...) }

// Activation returns the hidden-layer activation.
func (m *MLP) Activation() Activation { return m.act }

// Dtype returns tensor.Float32 or tensor.Float64.
func (m *MLP) Dtype() tensor.Dtype { return m.dtype }

// Params returns the parameter tensors in the fixed order W₀, b₀, W₁, b₁, … (W_l is in_l×out_l,
// b_l has shape (out_l)). The tensors themselves are the live parameters, not copies; the slice
// is a fresh copy.
func (m *MLP) Params() []*tensor.Dense { return append([]*tensor.Dense(nil), m.params...) }

// ParamNames returns the names of Params, in the same order ("<Name>.l0.W", "<Name>.l0.b", …).
func (m *MLP) ParamNames() []string { return append([]string(nil), m.names...) }

// NumParams returns the number of scalar parameters.
func (m *MLP) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Shape().TotalSize()
	}
	return n
}

// Graph adds the network to g applied to x (a rows×In matrix node of the MLP's dtype) and
// returns the rows×Out output node. The weight nodes are bound to the MLP's shared tensors and
// are created once per graph: calling Graph again on the same g (weight sharing) reuses them.
// Their nodes, in Params order, are returned by Learnables(g).
func (m *MLP) Graph(g *gorgonia.ExprGraph, x *gorgonia.Node) (*gorgonia.Node, error) {
	if g == nil || x == nil {
		return nil, fmt.Errorf("nn: MLP %q Graph: nil graph or input node", m.name)
	}
	if x.Graph() != g {
		return nil, fmt.Errorf("nn: MLP %q Graph: input node %q belongs to another graph", m.name, x.Name())
	}
	if x.Dtype() != m.dtype {
		return nil, fmt.Errorf("nn: MLP %q Graph: input %q has dtype %v, want %v", m.name, x.Name(), x.Dtype(), m.dtype)
	}
	if s := x.Shape(); len(s) != 2 || s[1] != m.in {
		return nil, fmt.Errorf("nn: MLP %q Graph: input %q has shape %v, want (rows, %d)", m.name, x.Name(), s, m.in)
	}
	nodes, err := m.bind(g)
	if err != nil {
		return nil, err
	}
	h := x
	nl := len(m.w)
	for l := 0; l < nl; l++ {
		xw, err := gorgonia.Mul(h, nodes[2*l])
		if err != nil {
			return nil, fmt.Errorf("nn: MLP %q layer %d: x·W: %w", m.name, l, err)
		}
		if h, err = gorgonia.BroadcastAdd(xw, nodes[2*l+1], nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("nn: MLP %q layer %d: +b: %w", m.name, l, err)
		}
		if l == nl-1 {
			break
		}
		switch m.act {
		case Tanh:
			h, err = gorgonia.Tanh(h)
		case ReLU:
			h, err = gorgonia.Rectify(h)
		}
		if err != nil {
			return nil, fmt.Errorf("nn: MLP %q layer %d: %v: %w", m.name, l, m.act, err)
		}
	}
	return h, nil
}

// bind returns the nodes of g bound to the parameters, creating the missing ones.
func (m *MLP) bind(g *gorgonia.ExprGraph) (gorgonia.Nodes, error) {
	nodes := make(gorgonia.Nodes, len(m.params))
	for i, p := range m.params {
		n, err := Bind(g, m.names[i], p)
		if err != nil {
			return nil, fmt.Errorf("nn: MLP %q: %w", m.name, err)
		}
		nodes[i] = n
	}
	return nodes, nil
}

// Learnables returns the nodes of g bound to the MLP's parameters, in Params order
// (W₀, b₀, W₁, b₁, …). Graph must have been called on g first.
func (m *MLP) Learnables(g *gorgonia.ExprGraph) (gorgonia.Nodes, error) {
	if g == nil {
		return nil, fmt.Errorf("nn: MLP %q Learnables: nil graph", m.name)
	}
	nodes := make(gorgonia.Nodes, len(m.params))
	for i, p := range m.params {
		n := findBound(g, m.names[i], p)
		if n == nil {
			return nil, fmt.Errorf("nn: MLP %q Learnables: parameter %q is not in the graph (call Graph first)", m.name, m.names[i])
		}
		nodes[i] = n
	}
	return nodes, nil
}

// findBound returns the node of g named name whose value is t, or nil.
func findBound(g *gorgonia.ExprGraph, name string, t *tensor.Dense) *gorgonia.Node {
	for _, n := range g.ByName(name) {
		if v, ok := n.Value().(*tensor.Dense); ok && v == t {
			return n
		}
	}
	return nil
}

// Bind returns the node of g named name that holds the tensor t (a vector or a matrix), creating
// it on first use, so that a learnable tensor shared by several graphs (an MLP weight, a
// log-standard-deviation vector, …) gets exactly one node per graph. It fails when g already has
// a node of that name and shape holding a different tensor (gorgonia would silently merge them).
func Bind(g *gorgonia.ExprGraph, name string, t *tensor.Dense) (*gorgonia.Node, error) {
	if g == nil || t == nil {
		return nil, fmt.Errorf("nn: Bind %q: nil graph or tensor", name)
	}
	if name == "" {
		return nil, fmt.Errorf("nn: Bind: empty node name")
	}
	if n := findBound(g, name, t); n != nil {
		return n, nil
	}
	opts := []gorgonia.NodeConsOpt{gorgonia.WithShape(t.Shape()...), gorgonia.WithName(name), gorgonia.WithValue(t)}
	var n *gorgonia.Node
	switch t.Dims() {
	case 1:
		n = gorgonia.NewVector(g, t.Dtype(), opts...)
	case 2:
		n = gorgonia.NewMatrix(g, t.Dtype(), opts...)
	default:
		return nil, fmt.Errorf("nn: Bind %q: tensor shape %v: want a vector or a matrix", name, t.Shape())
	}
	if v, ok := n.Value().(*tensor.Dense); !ok || v != t {
		return nil, fmt.Errorf("nn: Bind %q: the graph already has a node with this name and shape holding another tensor (use distinct names)", name)
	}
	return n, nil
}

// CopyFrom copies src's parameter values into m's tensors in place (e.g. to freeze a reference
// or teacher copy of a network). The two MLPs must have the same layer sizes and dtype; their
// names and activations may differ.
func (m *MLP) CopyFrom(src *MLP) error {
	if src == nil {
		return fmt.Errorf("nn: MLP %q CopyFrom: nil source", m.name)
	}
	if src.dtype != m.dtype || !slices.Equal(src.sizes, m.sizes) {
		return fmt.Errorf("nn: MLP %q CopyFrom %q: source is %v %v, want %v %v", m.name, src.name, src.dtype, src.sizes, m.dtype, m.sizes)
	}
	for i, p := range m.params {
		switch d := p.Data().(type) {
		case []float32:
			copy(d, src.params[i].Data().([]float32))
		case []float64:
			copy(d, src.params[i].Data().([]float64))
		}
	}
	return nil
}
