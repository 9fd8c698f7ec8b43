package nn

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestForwardMatchesGraph(t *testing.T) {
	cases := []struct {
		name   string
		cfg    MLPConfig
		rows   int
		relTol float64
	}{
		{"f64 tanh 4-64-64-2 b1", MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: tensor.Float64}, 1, 1e-12},
		{"f64 tanh 4-64-64-2 b8", MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: tensor.Float64}, 8, 1e-12},
		{"f64 relu 3-5-7-4 b5", MLPConfig{In: 3, Hidden: []int{5, 7}, Out: 4, Activation: ReLU, Dtype: tensor.Float64}, 5, 1e-12},
		{"f64 linear 6-3 b4", MLPConfig{In: 6, Out: 3, Dtype: tensor.Float64}, 4, 1e-12},
		{"f32 tanh 4-64-64-2 b1", MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: tensor.Float32}, 1, 1e-5},
		{"f32 tanh 4-64-64-2 b8", MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: tensor.Float32}, 8, 1e-5},
		{"f32 relu 10-3-20-1 b7", MLPConfig{In: 10, Hidden: []int{3, 20}, Out: 1, Activation: ReLU, Dtype: tensor.Float32}, 7, 1e-5},
		{"default dtype is f32", MLPConfig{In: 2, Hidden: []int{4}, Out: 2}, 3, 1e-5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.OutputGain = 1 // non-tiny outputs make the comparison meaningful
			m, err := NewMLP(seeded(11), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			// non-zero biases so the bias path is compared too
			for l, b := range m.b {
				fill(b, randomBatch(seeded(uint64(5+l)), b.Shape().TotalSize()))
			}
			x := randomBatch(seeded(9), c.rows*m.In())
			var ws Workspace
			got, err := m.Forward(&ws, x, c.rows)
			if err != nil {
				t.Fatal(err)
			}
			want := graphForward(t, m, x, c.rows)
			if len(got) != len(want) || len(got) != c.rows*m.Out() {
				t.Fatalf("len plain %d, graph %d, want %d", len(got), len(want), c.rows*m.Out())
			}
			for i := range got {
				if d := math.Abs(got[i] - want[i]); d > c.relTol*math.Max(1, math.Abs(want[i])) {
					t.Errorf("out[%d]: plain %v, graph %v", i, got[i], want[i])
				}
			}
			if b := m.b[0]; toF64(b)[0] == 0 {
				t.Error("test setup: biases were not set")
			}
		})
	}
}

func TestForwardNoAllocs(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{64, 64}, Out: 2, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		x := randomBatch(seeded(2), 8*4)
		var ws Workspace
		if _, err := m.Forward(&ws, x, 8); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(50, func() {
			_, _ = m.Forward(&ws, x[:4], 1)
			_, _ = m.Forward(&ws, x, 8)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocations per Forward pair, want 0", dt, allocs)
		}
	}
}

func TestForwardErrors(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 3, Out: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ws Workspace
	cases := []struct {
		name string
		ws   *Workspace
		x    []float64
		rows int
	}{
		{"nil workspace", nil, make([]float64, 3), 1},
		{"short x", &ws, make([]float64, 5), 2},
		{"zero rows", &ws, nil, 0},
	}
	for _, c := range cases {
		if _, err := m.Forward(c.ws, c.x, c.rows); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestNewMLPInit(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{64, 32}, Out: 2, OutputGain: 0.01, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.NumParams(), 4*64+64+64*32+32+32*2+2; got != want {
		t.Errorf("NumParams %d, want %d", got, want)
	}
	wantNames := []string{"mlp.l0.W", "mlp.l0.b", "mlp.l1.W", "mlp.l1.b", "mlp.l2.W", "mlp.l2.b"}
	if got := strings.Join(m.ParamNames(), ","); got != strings.Join(wantNames, ",") {
		t.Errorf("ParamNames %s", got)
	}
	// Column norms of W (in×out with in ≥ out) equal the gain; rows when in < out.
	gains := []float64{math.Sqrt2, math.Sqrt2, 0.01}
	for l, w := range m.w {
		rows, cols := w.Shape()[0], w.Shape()[1]
		d := toF64(w)
		for j := 0; j < min(rows, cols); j++ {
			var ss float64
			for i := 0; i < max(rows, cols); i++ {
				if rows >= cols {
					ss += d[i*cols+j] * d[i*cols+j]
				} else {
					ss += d[j*cols+i] * d[j*cols+i]
				}
			}
			if math.Abs(math.Sqrt(ss)-gains[l]) > 1e-12 {
				t.Errorf("layer %d vector %d: norm %v, want gain %v", l, j, math.Sqrt(ss), gains[l])
			}
		}
		for i, v := range toF64(m.b[l]) {
			if v != 0 {
				t.Errorf("layer %d bias[%d]=%v, want 0", l, i, v)
			}
		}
	}
}

func TestNewMLPErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  MLPConfig
	}{
		{"zero In", MLPConfig{Out: 1}},
		{"zero Out", MLPConfig{In: 1}},
		{"bad hidden", MLPConfig{In: 1, Out: 1, Hidden: []int{3, 0}}},
		{"bad activation", MLPConfig{In: 1, Out: 1, Activation: 7}},
		{"NaN gain", MLPConfig{In: 1, Out: 1, HiddenGain: math.NaN()}},
		{"Inf gain", MLPConfig{In: 1, Out: 1, OutputGain: math.Inf(-1)}},
		{"int dtype", MLPConfig{In: 1, Out: 1, Dtype: tensor.Int}},
	}
	for _, c := range cases {
		if _, err := NewMLP(seeded(1), c.cfg); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := NewMLP(nil, MLPConfig{In: 1, Out: 1}); err == nil {
		t.Error("nil rng: no error")
	}
}

func TestGraphNodes(t *testing.T) {
	mk := func(name string) *MLP {
		m, err := NewMLP(seeded(1), MLPConfig{Name: name, In: 3, Hidden: []int{4}, Out: 2})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	newX := func(g *gorgonia.ExprGraph, name string) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(5, 3), gorgonia.WithName(name))
	}

	t.Run("distinct names coexist", func(t *testing.T) {
		g := gorgonia.NewGraph()
		a, b := mk("actor"), mk("critic")
		x := newX(g, "x")
		if _, err := a.Graph(g, x); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Graph(g, x); err != nil {
			t.Fatal(err)
		}
		la, _ := a.Learnables(g)
		lb, _ := b.Learnables(g)
		for i := range la {
			if la[i] == lb[i] || la[i].Value() != gorgonia.Value(a.params[i]) || lb[i].Value() != gorgonia.Value(b.params[i]) {
				t.Errorf("param %d: nodes not bound to their own tensors", i)
			}
		}
	})
	t.Run("same name collides", func(t *testing.T) {
		g := gorgonia.NewGraph()
		a, b := mk("net"), mk("net")
		x := newX(g, "x")
		if _, err := a.Graph(g, x); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Graph(g, x); err == nil {
			t.Error("two MLPs with one name in a graph: no error")
		}
	})
	t.Run("reuse in one graph shares nodes", func(t *testing.T) {
		g := gorgonia.NewGraph()
		a := mk("net")
		if _, err := a.Graph(g, newX(g, "x1")); err != nil {
			t.Fatal(err)
		}
		l1, _ := a.Learnables(g)
		if _, err := a.Graph(g, newX(g, "x2")); err != nil {
			t.Fatal(err)
		}
		l2, _ := a.Learnables(g)
		for i := range l1 {
			if l1[i] != l2[i] {
				t.Errorf("param %d: second Graph call created a new node", i)
			}
		}
		if n := len(g.ByName("net.l0.W")); n != 1 {
			t.Errorf("%d nodes named net.l0.W, want 1", n)
		}
	})
	t.Run("learnables before Graph", func(t *testing.T) {
		if _, err := mk("net").Learnables(gorgonia.NewGraph()); err == nil {
			t.Error("no error")
		}
	})
	t.Run("bad input node", func(t *testing.T) {
		g := gorgonia.NewGraph()
		a := mk("net")
		bad := []*gorgonia.Node{
			gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(5, 4), gorgonia.WithName("wide")),
			gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(5, 3), gorgonia.WithName("f64")),
			gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("vec")),
			newX(gorgonia.NewGraph(), "other"),
		}
		for _, x := range bad {
			if _, err := a.Graph(g, x); err == nil {
				t.Errorf("input %q: no error", x.Name())
			}
		}
	})
}

func TestCopyFrom(t *testing.T) {
	src, _ := NewMLP(seeded(1), MLPConfig{Name: "student", In: 3, Hidden: []int{5}, Out: 2})
	dst, _ := NewMLP(seeded(2), MLPConfig{Name: "teacher", In: 3, Hidden: []int{5}, Out: 2, Activation: ReLU})
	keep := dst.Params()
	if err := dst.CopyFrom(src); err != nil {
		t.Fatal(err)
	}
	for i, p := range dst.Params() {
		if p != keep[i] {
			t.Errorf("param %d: tensor replaced instead of copied into", i)
		}
		a, b := toF64(src.Params()[i]), toF64(p)
		for j := range a {
			if a[j] != b[j] {
				t.Fatalf("param %d[%d]: %v, want %v", i, j, b[j], a[j])
			}
		}
	}
	// A later change to src does not leak into the copy.
	fill(src.Params()[1], []float64{9, 9, 9, 9, 9})
	if toF64(dst.Params()[1])[0] == 9 {
		t.Error("the copy shares storage with the source")
	}
	for _, c := range []MLPConfig{
		{In: 3, Hidden: []int{6}, Out: 2},
		{In: 3, Hidden: []int{5}, Out: 2, Dtype: tensor.Float64},
	} {
		other, _ := NewMLP(seeded(3), c)
		if err := other.CopyFrom(src); err == nil {
			t.Errorf("CopyFrom into %v %v: no error", c.Dtype, c.Hidden)
		}
	}
	if err := dst.CopyFrom(nil); err == nil {
		t.Error("CopyFrom(nil): no error")
	}
}
