package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// refAdam is torch.optim.Adam's update written out directly from the paper's form
// (bias-corrected moments m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) and torch's ε placement
// √v̂ → √v/√(1−β₂ᵗ)), for one float64 parameter vector.
type refAdam struct {
	b1, b2, eps float64
	t           int
	m, v        []float64
}

func (r *refAdam) step(lr float64, p, g []float64) {
	if r.m == nil {
		r.m, r.v = make([]float64, len(p)), make([]float64, len(p))
	}
	r.t++
	for i := range p {
		r.m[i] = r.b1*r.m[i] + (1-r.b1)*g[i]
		r.v[i] = r.b2*r.v[i] + (1-r.b2)*g[i]*g[i]
		mhat := r.m[i] / (1 - math.Pow(r.b1, float64(r.t)))
		denom := math.Sqrt(r.v[i])/math.Sqrt(1-math.Pow(r.b2, float64(r.t))) + r.eps
		p[i] -= lr * mhat / denom
	}
}

func TestAdamMatchesReference(t *testing.T) {
	cases := []struct {
		name string
		cfg  AdamConfig
		eps  float64 // expected ε after defaults
	}{
		{"torch defaults", AdamConfig{}, 1e-8},
		{"CleanRL eps", AdamConfig{Eps: 1e-5}, 1e-5},
		{"other betas", AdamConfig{Beta1: 0.5, Beta2: 0.9, Eps: 1e-3}, 1e-3},
	}
	for _, c := range cases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			p0 := randomBatch(seeded(1), 6)
			param := denseFrom(dt, []int{2, 3}, p0)
			ad, err := NewAdam([]*tensor.Dense{param}, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			cfg := ad.Config()
			if cfg.Eps != c.eps {
				t.Errorf("%s: eps %v, want %v", c.name, cfg.Eps, c.eps)
			}
			ref := refAdam{b1: cfg.Beta1, b2: cfg.Beta2, eps: cfg.Eps}
			want := toF64(param)
			grng := seeded(2)
			for step := 1; step <= 8; step++ {
				lr := 0.01 * (1 - float64(step-1)/8) // linear annealing
				g := randomBatch(grng, 6)
				for i := range g {
					g[i] *= math.Pow(10, float64(i%3-1)) // mixed magnitudes
				}
				gt := denseFrom(dt, []int{2, 3}, g)
				if err := ad.Step(lr, []*tensor.Dense{gt}); err != nil {
					t.Fatal(err)
				}
				ref.step(lr, want, toF64(gt))
				if dt == tensor.Float32 {
					for i := range want {
						want[i] = float64(float32(want[i])) // the parameter is stored in float32
					}
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-6
				}
				for i, v := range toF64(param) {
					if math.Abs(v-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
						t.Errorf("%s %v step %d: p[%d]=%v, reference %v", c.name, dt, step, i, v, want[i])
					}
				}
			}
			if ad.Steps() != 8 {
				t.Errorf("Steps %d, want 8", ad.Steps())
			}
		}
	}
}

// TestAdamConstantGradient uses the closed form: with a constant gradient g, m̂ = g and
// √v̂ = |g| at every step, so each step moves p by exactly lr·g/(|g|+ε).
func TestAdamConstantGradient(t *testing.T) {
	g := []float64{0.5, -2, 1e-3, 0}
	p := denseFrom(tensor.Float64, []int{4}, []float64{1, 1, 1, 1})
	const eps = 1e-5
	ad, err := NewAdam([]*tensor.Dense{p}, AdamConfig{Eps: eps})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 1, 1, 1}
	lrs := []float64{1e-3, 3e-3, 2e-3, 5e-4, 0}
	for _, lr := range lrs {
		if err := ad.Step(lr, []*tensor.Dense{denseFrom(tensor.Float64, []int{4}, g)}); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			want[i] -= lr * g[i] / (math.Abs(g[i]) + eps)
		}
	}
	for i, v := range toF64(p) {
		if math.Abs(v-want[i]) > 1e-12 {
			t.Errorf("p[%d]=%.15g, closed form %.15g", i, v, want[i])
		}
	}
}

func TestAdamErrors(t *testing.T) {
	p := denseFrom(tensor.Float64, []int{2}, nil)
	q := denseFrom(tensor.Float32, []int{2}, nil)
	for _, c := range []struct {
		name   string
		params []*tensor.Dense
		cfg    AdamConfig
	}{
		{"no params", nil, AdamConfig{}},
		{"duplicate", []*tensor.Dense{p, p}, AdamConfig{}},
		{"beta1 1", []*tensor.Dense{p}, AdamConfig{Beta1: 1}},
		{"beta2 negative", []*tensor.Dense{p}, AdamConfig{Beta2: -0.1}},
		{"eps negative", []*tensor.Dense{p}, AdamConfig{Eps: -1}},
		{"eps NaN", []*tensor.Dense{p}, AdamConfig{Eps: math.NaN()}},
	} {
		if _, err := NewAdam(c.params, c.cfg); err == nil {
			t.Errorf("NewAdam %s: no error", c.name)
		}
	}
	ad, err := NewAdam([]*tensor.Dense{p}, AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		lr    float64
		grads []*tensor.Dense
	}{
		{"negative lr", -1, []*tensor.Dense{denseFrom(tensor.Float64, []int{2}, nil)}},
		{"NaN lr", math.NaN(), []*tensor.Dense{denseFrom(tensor.Float64, []int{2}, nil)}},
		{"wrong count", 0.1, nil},
		{"wrong shape", 0.1, []*tensor.Dense{denseFrom(tensor.Float64, []int{3}, nil)}},
		{"wrong dtype", 0.1, []*tensor.Dense{q}},
	} {
		if err := ad.Step(c.lr, c.grads); err == nil {
			t.Errorf("Step %s: no error", c.name)
		}
	}
	if ad.Steps() != 0 {
		t.Errorf("failed steps counted: Steps()=%d", ad.Steps())
	}
	if err := ad.SetState(AdamState{Step: 1, M: [][]float64{{1}}, V: [][]float64{{1}}}); err == nil {
		t.Error("SetState with wrong sizes: no error")
	}
}

// TestAdamVectorMatchesLoop: Adam.Step on float32 parameters gives the same bits with the AVX2
// kernel as with the Go loop, over 50 steps of random gradients (sizes not multiples of 4,
// tiny and huge gradients, zeros).
func TestAdamVectorMatchesLoop(t *testing.T) {
	if !haveAdamAVX2 {
		t.Skip("no AVX2 kernel in this build")
	}
	run := func(vector bool) [][]float32 {
		saved := haveAdamAVX2
		haveAdamAVX2 = vector
		defer func() { haveAdamAVX2 = saved }()
		rng := rand.New(rand.NewPCG(5, 6))
		var params, grads []*tensor.Dense
		for _, n := range []int{1, 7, 64, 4099} {
			p := make([]float32, n)
			for i := range p {
				p[i] = float32(rng.NormFloat64())
			}
			params = append(params, tensor.New(tensor.WithShape(n), tensor.WithBacking(p)))
			grads = append(grads, tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(n)))
		}
		a, err := NewAdam(params, AdamConfig{Eps: 1e-5})
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 50; step++ {
			for _, g := range grads {
				for i := range g.Float32s() {
					x := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
					if rng.IntN(50) == 0 {
						x = 0
					}
					g.Float32s()[i] = float32(x)
				}
			}
			if err := a.Step(2.5e-4*(1-float64(step)/50), grads); err != nil {
				t.Fatal(err)
			}
		}
		var out [][]float32
		for _, p := range params {
			out = append(out, append([]float32(nil), p.Float32s()...))
		}
		return out
	}
	want, got := run(false), run(true)
	for i := range want {
		for j := range want[i] {
			if math.Float32bits(want[i][j]) != math.Float32bits(got[i][j]) {
				t.Fatalf("param %d[%d]: kernel %v, loop %v", i, j, got[i][j], want[i][j])
			}
		}
	}
}
