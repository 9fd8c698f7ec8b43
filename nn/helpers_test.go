package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// seeded returns a deterministic generator for tests.
func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6b6c70706f)) }

// denseFrom builds a tensor of the given dtype from float64 values.
func denseFrom(dt tensor.Dtype, shape []int, vals []float64) *tensor.Dense {
	return NewDense(dt, shape, vals)
}

// toF64 widens a float32 or float64 tensor's data.
func toF64(t *tensor.Dense) []float64 {
	switch s := t.Data().(type) {
	case []float64:
		return append([]float64(nil), s...)
	case []float32:
		out := make([]float64, len(s))
		for i, v := range s {
			out[i] = float64(v)
		}
		return out
	}
	panic(fmt.Sprintf("unexpected dtype %v", t.Dtype()))
}

func randomBatch(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

// graphForward evaluates m on x (rows×In) through a fresh gorgonia graph.
func graphForward(t *testing.T, m *MLP, x []float64, rows int) []float64 {
	t.Helper()
	g := gorgonia.NewGraph()
	xn := gorgonia.NewMatrix(g, m.Dtype(), gorgonia.WithShape(rows, m.In()), gorgonia.WithName("x"))
	out, err := m.Graph(g, xn)
	if err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(out, &v)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := gorgonia.Let(xn, denseFrom(m.Dtype(), []int{rows, m.In()}, x)); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return toF64(v.(*tensor.Dense))
}

// mseGraph builds cost = mean((m(x) − y)²) for a batch of rows and returns the trainer and the
// input nodes.
type mseGraph struct {
	g     *gorgonia.ExprGraph
	x, y  *gorgonia.Node
	cost  gorgonia.Value
	tr    *Trainer
	model *MLP
}

func newMSEGraph(t testing.TB, m *MLP, rows int) *mseGraph {
	t.Helper()
	s := &mseGraph{g: gorgonia.NewGraph(), model: m}
	s.x = gorgonia.NewMatrix(s.g, m.Dtype(), gorgonia.WithShape(rows, m.In()), gorgonia.WithName("x"))
	s.y = gorgonia.NewMatrix(s.g, m.Dtype(), gorgonia.WithShape(rows, m.Out()), gorgonia.WithName("y"))
	out, err := m.Graph(s.g, s.x)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := gorgonia.Sub(out, s.y)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := gorgonia.Square(diff)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Mean(sq)
	if err != nil {
		t.Fatal(err)
	}
	gorgonia.Read(cost, &s.cost)
	l, err := m.Learnables(s.g)
	if err != nil {
		t.Fatal(err)
	}
	if s.tr, err = NewTrainer(s.g, cost, l); err != nil {
		t.Fatal(err)
	}
	return s
}

// run sets the inputs and runs forward+backward; it returns the cost and the gradients.
func (s *mseGraph) run(t testing.TB, x, y *tensor.Dense) (float64, []*tensor.Dense) {
	t.Helper()
	if err := gorgonia.Let(s.x, x); err != nil {
		t.Fatal(err)
	}
	if err := gorgonia.Let(s.y, y); err != nil {
		t.Fatal(err)
	}
	grads, err := s.tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Scalar(s.cost)
	if err != nil {
		t.Fatal(err)
	}
	return c, grads
}

// fill overwrites a float32 or float64 tensor's data with vals.
func fill(t *tensor.Dense, vals []float64) {
	switch s := t.Data().(type) {
	case []float64:
		copy(s, vals)
	case []float32:
		for i, v := range vals {
			s[i] = float32(v)
		}
	}
}
