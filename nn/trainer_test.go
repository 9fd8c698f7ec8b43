package nn

import (
	"math"
	"sync"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestNewTrainerErrors(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 2, Hidden: []int{3}, Out: 2, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 2), gorgonia.WithName("x"))
	out, err := m.Graph(g, x)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Sum(out)
	if err != nil {
		t.Fatal(err)
	}
	l, err := m.Learnables(g)
	if err != nil {
		t.Fatal(err)
	}
	other := gorgonia.NewGraph()
	if _, err := m.Graph(other, gorgonia.NewMatrix(other, tensor.Float64, gorgonia.WithShape(4, 2), gorgonia.WithName("x"))); err != nil {
		t.Fatal(err)
	}
	lo, _ := m.Learnables(other)
	cases := []struct {
		name       string
		g          *gorgonia.ExprGraph
		cost       *gorgonia.Node
		learnables gorgonia.Nodes
	}{
		{"nil graph", nil, cost, l},
		{"nil cost", g, nil, l},
		{"no learnables", g, cost, nil},
		{"non-scalar cost", g, out, l},
		{"learnable of another graph", g, cost, gorgonia.Nodes{lo[0]}},
		{"duplicate learnable", g, cost, gorgonia.Nodes{l[0], l[0]}},
		{"input node as learnable (no value)", g, cost, gorgonia.Nodes{x}},
	}
	for _, c := range cases {
		if _, err := NewTrainer(c.g, c.cost, c.learnables); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestTrainerSumGradient checks one gradient in closed form: for cost = Σ(x·W + b) of a linear
// model, ∂cost/∂b_j = rows and ∂cost/∂W_ij = Σ_r x_ri.
func TestTrainerSumGradient(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := NewMLP(seeded(1), MLPConfig{In: 2, Out: 3, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		g := gorgonia.NewGraph()
		x := gorgonia.NewMatrix(g, dt, gorgonia.WithShape(4, 2), gorgonia.WithName("x"))
		out, err := m.Graph(g, x)
		if err != nil {
			t.Fatal(err)
		}
		cost, err := gorgonia.Sum(out)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := m.Learnables(g)
		tr, err := NewTrainer(g, cost, l)
		if err != nil {
			t.Fatal(err)
		}
		xs := []float64{1, 2, 3, 4, 5, 6, 7, 8}
		for run := 0; run < 3; run++ {
			if err := gorgonia.Let(x, denseFrom(dt, []int{4, 2}, xs)); err != nil {
				t.Fatal(err)
			}
			grads, err := tr.Run()
			if err != nil {
				t.Fatal(err)
			}
			gw, gb := toF64(grads[0]), toF64(grads[1])
			for i := 0; i < 2; i++ {
				for j := 0; j < 3; j++ {
					want := xs[i] + xs[2+i] + xs[4+i] + xs[6+i]
					if gw[i*3+j] != want {
						t.Errorf("%v run %d: dW[%d,%d]=%v, want %v", dt, run, i, j, gw[i*3+j], want)
					}
				}
			}
			for j, v := range gb {
				if v != 4 {
					t.Errorf("%v run %d: db[%d]=%v, want 4", dt, run, j, v)
				}
			}
		}
		if len(tr.Params()) != 2 || tr.Params()[0] != m.Params()[0] || len(tr.Learnables()) != 2 {
			t.Errorf("%v: Params/Learnables do not match the MLP's", dt)
		}
		if err := tr.Close(); err != nil {
			t.Error(err)
		}
	}
}

func TestScalar(t *testing.T) {
	f32, f64 := gorgonia.F32(1.5), gorgonia.F64(-2.25)
	cases := []struct {
		name string
		v    gorgonia.Value
		want float64
		ok   bool
	}{
		{"F32", &f32, 1.5, true},
		{"F64", &f64, -2.25, true},
		{"1-element tensor", tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{3})), 3, true},
		{"float32 1x1 tensor", tensor.New(tensor.WithShape(1, 1), tensor.WithBacking([]float32{4})), 4, true},
		{"vector", tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2})), 0, false},
		{"nil", nil, 0, false},
	}
	for _, c := range cases {
		got, err := Scalar(c.v)
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("%s: %v, %v; want %v (ok=%v)", c.name, got, err, c.want, c.ok)
		}
	}
}

func TestBind(t *testing.T) {
	g := gorgonia.NewGraph()
	v := denseFrom(tensor.Float64, []int{3}, []float64{1, 2, 3})
	n1, err := Bind(g, "log_std", v)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := Bind(g, "log_std", v)
	if err != nil || n1 != n2 {
		t.Errorf("second Bind of the same tensor: node %p vs %p, err %v", n2, n1, err)
	}
	if _, err := Bind(g, "log_std", denseFrom(tensor.Float64, []int{3}, nil)); err == nil {
		t.Error("same name and shape, other tensor: no error")
	}
	if _, err := Bind(g, "cube", denseFrom(tensor.Float64, []int{2, 2, 2}, nil)); err == nil {
		t.Error("3-D tensor: no error")
	}
	if _, err := Bind(g, "", v); err == nil {
		t.Error("empty name: no error")
	}
}

// TestConcurrentUse runs, in parallel goroutines, Forward on one shared MLP (one Workspace each)
// and independent training loops (one MLP, graph and Adam each); results must equal the serial
// ones. Run with -race to check for data races.
func TestConcurrentUse(t *testing.T) {
	shared, _ := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{16}, Out: 2})
	x := randomBatch(seeded(2), 8*4)
	var ws Workspace
	ref, err := shared.Forward(&ws, x, 8)
	if err != nil {
		t.Fatal(err)
	}
	refLoss, _ := trainXOR(t, 5, tensor.Float32, 50)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var ws Workspace
			for i := 0; i < 200; i++ {
				out, err := shared.Forward(&ws, x, 8)
				if err != nil {
					errs <- err.Error()
					return
				}
				for j := range out {
					if out[j] != ref[j] {
						errs <- "concurrent Forward differs from serial"
						return
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			if loss, _ := trainXOR(t, 5, tensor.Float32, 50); math.Float64bits(loss) != math.Float64bits(refLoss) {
				errs <- "parallel training differs from serial"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
