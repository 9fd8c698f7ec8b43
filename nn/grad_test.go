package nn

import (
	"errors"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestGradFiniteDifferences compares the graph's gradients of mean((m(x) − y)²) with central
// differences of the same loss computed by the plain-Go forward pass.
func TestGradFiniteDifferences(t *testing.T) {
	cases := []struct {
		name string
		cfg  MLPConfig
		rows int
	}{
		{"tanh 3-5-4-2", MLPConfig{In: 3, Hidden: []int{5, 4}, Out: 2, OutputGain: 1, Dtype: tensor.Float64}, 6},
		{"relu 4-6-3", MLPConfig{In: 4, Hidden: []int{6}, Out: 3, Activation: ReLU, OutputGain: 1, Dtype: tensor.Float64}, 5},
		{"linear 2-3 batch 1", MLPConfig{In: 2, Out: 3, Dtype: tensor.Float64}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewMLP(seeded(21), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for l, b := range m.b {
				fill(b, randomBatch(seeded(uint64(30+l)), b.Shape().TotalSize()))
			}
			x := randomBatch(seeded(22), c.rows*m.In())
			y := randomBatch(seeded(23), c.rows*m.Out())
			s := newMSEGraph(t, m, c.rows)
			cost, grads := s.run(t, denseFrom(tensor.Float64, []int{c.rows, m.In()}, x), denseFrom(tensor.Float64, []int{c.rows, m.Out()}, y))

			var ws Workspace
			loss := func() float64 {
				out, err := m.Forward(&ws, x, c.rows)
				if err != nil {
					t.Fatal(err)
				}
				var ss float64
				for i, v := range out {
					ss += (v - y[i]) * (v - y[i])
				}
				return ss / float64(len(out))
			}
			if l := loss(); math.Abs(l-cost) > 1e-12*math.Max(1, l) {
				t.Fatalf("graph cost %v, plain-Go loss %v", cost, l)
			}
			const h = 1e-5
			checked := 0
			for pi, p := range m.Params() {
				data := p.Data().([]float64)
				g := grads[pi].Data().([]float64)
				for i := range data {
					orig := data[i]
					data[i] = orig + h
					up := loss()
					data[i] = orig - h
					down := loss()
					data[i] = orig
					fd := (up - down) / (2 * h)
					if d := math.Abs(fd - g[i]); d > 1e-6*math.Max(math.Abs(fd), math.Abs(g[i]))+1e-10 {
						t.Errorf("%s[%d]: graph %.12g, finite difference %.12g", m.ParamNames()[pi], i, g[i], fd)
					}
					checked++
				}
			}
			if checked != m.NumParams() {
				t.Errorf("checked %d of %d parameters", checked, m.NumParams())
			}
		})
	}
}

// TestGradsDoNotAccumulate verifies the gorgonia behaviour Trainer works around (a tape machine
// with bound dual values adds each run's gradient to the previous one, and Reset does not clear
// it) and that Trainer.Run returns the same gradients when run twice on the same data.
func TestGradsDoNotAccumulate(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := NewMLP(seeded(1), MLPConfig{In: 3, Hidden: []int{8}, Out: 2, OutputGain: 1, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		x := denseFrom(dt, []int{4, 3}, randomBatch(seeded(2), 12))
		y := denseFrom(dt, []int{4, 2}, randomBatch(seeded(3), 8))

		// Raw gorgonia: the second run's gradient is twice the first.
		raw := newMSEGraph(t, m, 4)
		var first [][]float64
		for run := 0; run < 2; run++ {
			if err := gorgonia.Let(raw.x, x); err != nil {
				t.Fatal(err)
			}
			if err := gorgonia.Let(raw.y, y); err != nil {
				t.Fatal(err)
			}
			if err := raw.tr.vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			raw.tr.vm.Reset()
			gs, err := Grads(raw.tr.learnables)
			if err != nil {
				t.Fatal(err)
			}
			for i, g := range gs {
				if run == 0 {
					first = append(first, toF64(g))
					continue
				}
				for j, v := range toF64(g) {
					if math.Abs(v-2*first[i][j]) > 1e-5*math.Abs(v)+1e-12 {
						t.Fatalf("%v raw gorgonia: grad %d[%d] second run %v, first %v: expected accumulation (gorgonia changed?)", dt, i, j, v, first[i][j])
					}
				}
			}
		}

		// Trainer: equal gradients on both runs.
		s := newMSEGraph(t, m, 4)
		c1, g1 := s.run(t, x, y)
		var saved [][]float64
		for _, g := range g1 {
			saved = append(saved, toF64(g))
		}
		c2, g2 := s.run(t, x, y)
		if c1 != c2 {
			t.Errorf("%v: cost changed between runs: %v then %v", dt, c1, c2)
		}
		for i, g := range g2 {
			for j, v := range toF64(g) {
				if v != saved[i][j] {
					t.Errorf("%v: grad %d[%d]: run 1 %v, run 2 %v", dt, i, j, saved[i][j], v)
				}
			}
		}
		if err := ZeroGrads(s.tr.learnables); err != nil {
			t.Fatal(err)
		}
		for i, g := range g2 {
			for j, v := range toF64(g) {
				if v != 0 {
					t.Fatalf("%v: ZeroGrads left grad %d[%d]=%v", dt, i, j, v)
				}
			}
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name     string
		grads    [][]float64
		maxNorm  float64
		wantNorm float64
		scale    float64 // expected factor applied to the grads
		wantErr  error   // errors.Is target; nil means no error
		badInput bool    // an argument error (not ErrNonFinite)
	}{
		{"below max unchanged", [][]float64{{3, 4}}, 10, 5, 1, nil, false},
		{"above max scaled", [][]float64{{3, 4}}, 1, 5, 1 / (5 + 1e-6), nil, false},
		{"global over tensors", [][]float64{{1, 2}, {2}}, 1.5, 3, 1.5 / (3 + 1e-6), nil, false},
		{"exactly max is scaled by torch's rule", [][]float64{{0, 2}}, 2, 2, 2 / (2 + 1e-6), nil, false},
		{"zero grads", [][]float64{{0, 0}, {0}}, 0.5, 0, 1, nil, false},
		{"inf max only measures", [][]float64{{30, 40}}, inf, 50, 1, nil, false},
		{"NaN grad", [][]float64{{1, nan}}, 1, nan, 1, ErrNonFinite, false},
		{"Inf grad", [][]float64{{inf, 1}}, 1, inf, 1, ErrNonFinite, false},
		{"zero maxNorm", [][]float64{{1}}, 0, 0, 1, nil, true},
		{"NaN maxNorm", [][]float64{{1}}, nan, 0, 1, nil, true},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			var grads []*tensor.Dense
			for _, g := range c.grads {
				grads = append(grads, denseFrom(dt, []int{len(g)}, g))
			}
			norm, err := ClipGradNorm(grads, c.maxNorm)
			switch {
			case c.badInput:
				if err == nil || errors.Is(err, ErrNonFinite) {
					t.Errorf("%s %v: err %v, want an argument error", c.name, dt, err)
				}
				continue
			case c.wantErr != nil:
				if !errors.Is(err, c.wantErr) {
					t.Errorf("%s %v: err %v, want %v", c.name, dt, err, c.wantErr)
				}
			case err != nil:
				t.Errorf("%s %v: %v", c.name, dt, err)
			}
			if !(norm == c.wantNorm || math.IsNaN(norm) && math.IsNaN(c.wantNorm) || math.Abs(norm-c.wantNorm) < 1e-12) {
				t.Errorf("%s %v: norm %v, want %v", c.name, dt, norm, c.wantNorm)
			}
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-7
			}
			for i, g := range grads {
				for j, v := range toF64(g) {
					want := c.scale * c.grads[i][j]
					if math.IsNaN(want) || math.IsInf(want, 0) {
						if !(math.IsNaN(v) && math.IsNaN(want) || v == want) {
							t.Errorf("%s %v: grad %d[%d]=%v, want %v", c.name, dt, i, j, v, want)
						}
						continue
					}
					if math.Abs(v-want) > tol*math.Max(1, math.Abs(want)) {
						t.Errorf("%s %v: grad %d[%d]=%v, want %v", c.name, dt, i, j, v, want)
					}
				}
			}
		}
	}
}

// ClipGradNorm's parts, run on two groups of gradients (SumSquares of the first continued by
// the second, ClipScale, ScaleGrads on each group), give bit for bit what one ClipGradNorm call
// over both gives, and the norm allocates nothing.
func TestClipGradNormInParts(t *testing.T) {
	whole, a, b := cartPoleGrads(), cartPoleGrads(), cartPoleGrads()
	for _, gs := range [][]*tensor.Dense{whole, a, b} {
		for i, g := range gs {
			s := g.Float32s()
			for j := range s {
				s[j] = float32(math.Sin(float64(7*i+j))) / 3 // irregular, so the summation order shows
			}
		}
	}
	norm, err := ClipGradNorm(whole, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	first, second := a[:6], b[6:]
	ss, err := SumSquares(0, first)
	if err != nil {
		t.Fatal(err)
	}
	if ss, err = SumSquares(ss, second); err != nil {
		t.Fatal(err)
	}
	if math.Sqrt(ss) != norm {
		t.Fatalf("norm in parts %v, ClipGradNorm %v", math.Sqrt(ss), norm)
	}
	c, err := ClipScale(math.Sqrt(ss), 0.5)
	if err != nil || !(c < 1) {
		t.Fatalf("ClipScale(%v, 0.5) = %v, %v: want a factor < 1", math.Sqrt(ss), c, err)
	}
	for _, gs := range [][]*tensor.Dense{first, second} {
		if err := ScaleGrads(gs, c); err != nil {
			t.Fatal(err)
		}
	}
	parts := append(append([]*tensor.Dense(nil), first...), second...)
	for i := range whole {
		w, p := whole[i].Float32s(), parts[i].Float32s()
		for j := range w {
			if math.Float32bits(w[j]) != math.Float32bits(p[j]) {
				t.Fatalf("grads[%d][%d]: %v in parts, %v from ClipGradNorm", i, j, p[j], w[j])
			}
		}
	}
	if _, err := ClipScale(math.NaN(), 1); !errors.Is(err, ErrNonFinite) {
		t.Errorf("ClipScale(NaN, 1): %v, want ErrNonFinite", err)
	}
	if n := testing.AllocsPerRun(10, func() {
		if _, err := ClipGradNorm(whole, math.Inf(1)); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ClipGradNorm allocates %v times per call", n)
	}
}

// TestTrainerRunsOnlyWhatIsNeeded: the machine computes the cost, the values read back and the
// learnables' gradients, and skips a node nothing depends on.
func TestTrainerRunsOnlyWhatIsNeeded(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 3), gorgonia.WithName("x"))
	w := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("w"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))))
	xw := gorgonia.Must(gorgonia.Mul(x, w))
	cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(xw))))
	unused := gorgonia.Must(gorgonia.Exp(xw)) // built, never used
	var read gorgonia.Value
	gorgonia.Read(gorgonia.Must(gorgonia.Mean(xw)), &read)
	tr, err := NewTrainer(g, cost, gorgonia.Nodes{w})
	if err != nil {
		t.Fatal(err)
	}
	xs := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}
	if err := gorgonia.Let(x, tensor.New(tensor.WithShape(4, 3), tensor.WithBacking(xs))); err != nil {
		t.Fatal(err)
	}
	grads, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	// xw rows: (1,2) (3,4) (5,6) (9,12); mean 42/8 = 5.25; ∂Σ(xw)²/∂w = 2·xᵀ·xw
	if v, err := Scalar(read); err != nil || v != 5.25 {
		t.Fatalf("read mean = %v, %v; want 5.25", v, err)
	}
	want := []float64{2 * (1 + 9), 2 * (2 + 12), 2 * (3 + 9), 2 * (4 + 12), 2 * (5 + 9), 2 * (6 + 12)}
	for i, v := range grads[0].Data().([]float64) {
		if v != want[i] {
			t.Fatalf("∂cost/∂w = %v, want %v", grads[0].Data(), want)
		}
	}
	if unused.Value() != nil {
		t.Errorf("a node nothing depends on was computed: %v", unused.Value())
	}
}
