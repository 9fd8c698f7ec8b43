package klgraph

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"klppo/internal/golden"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graphBuilder builds the node under test from its inputs.
type graphBuilder func(in ...*gorgonia.Node) (*gorgonia.Node, error)

// graphRun builds a fresh graph in dtype dt with one (rows × cols) input per entry of inputs,
// applies build, and returns the output values (as float64) and, if weights is not nil, the
// gradient of L = Σ weights·out with respect to each input.
func graphRun(t *testing.T, dt tensor.Dtype, rows, cols int, inputs [][]float64, build graphBuilder, weights []float64) (out []float64, grads [][]float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, in := range inputs {
		nodes[i] = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(rows, cols),
			gorgonia.WithName(fmt.Sprintf("in%d", i)), gorgonia.WithValue(graphDense(dt, []int{rows, cols}, in)))
	}
	y, err := build(nodes...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	if weights != nil {
		w := gorgonia.NewConstant(graphDense(dt, y.Shape(), weights))
		prod, err := gorgonia.HadamardProd(y, w)
		if err != nil {
			t.Fatal(err)
		}
		loss, err := gorgonia.Sum(prod)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gorgonia.Grad(loss, nodes...); err != nil {
			t.Fatalf("grad: %v", err)
		}
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("run: %v", err)
	}
	out = graphFloat64s(yv.Data())
	if weights != nil {
		for _, n := range nodes {
			gv, err := n.Grad()
			if err != nil {
				t.Fatalf("grad of %v: %v", n, err)
			}
			grads = append(grads, graphFloat64s(gv.Data()))
		}
	}
	return out, grads
}

func graphDense(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

func graphFloat64s(d any) []float64 {
	switch v := d.(type) {
	case []float64:
		return append([]float64(nil), v...)
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case float64:
		return []float64{v}
	case float32:
		return []float64{float64(v)}
	}
	panic(fmt.Sprintf("unexpected data %T", d))
}

// Plain float64 references, written independently of the graph formulas.

func graphRefLogSoftmax(row []float64) []float64 {
	m := math.Inf(-1)
	for _, x := range row {
		m = math.Max(m, x)
	}
	s := 0.0
	for _, x := range row {
		s += math.Exp(x - m)
	}
	lse := m + math.Log(s)
	out := make([]float64, len(row))
	for i, x := range row {
		out[i] = x - lse
	}
	return out
}

func graphRefRows(v []float64, cols int) [][]float64 {
	var rows [][]float64
	for i := 0; i < len(v); i += cols {
		rows = append(rows, v[i:i+cols])
	}
	return rows
}

func graphRefCategoricalKL(p, q []float64, cols int) []float64 {
	pr, qr := graphRefRows(p, cols), graphRefRows(q, cols)
	out := make([]float64, len(pr))
	for b := range pr {
		lp, lq := graphRefLogSoftmax(pr[b]), graphRefLogSoftmax(qr[b])
		for k := range lp {
			if pk := math.Exp(lp[k]); pk > 0 {
				out[b] += pk * (lp[k] - lq[k])
			}
		}
	}
	return out
}

func graphRefEntropy(x []float64, cols int) []float64 {
	xr := graphRefRows(x, cols)
	out := make([]float64, len(xr))
	for b := range xr {
		for _, l := range graphRefLogSoftmax(xr[b]) {
			if p := math.Exp(l); p > 0 {
				out[b] -= p * l
			}
		}
	}
	return out
}

// graphRefDiagNormalKL uses the textbook form log(σQ/σP) + (σP² + (μP−μQ)²)/(2σQ²) − ½.
func graphRefDiagNormalKL(muP, lsP, muQ, lsQ []float64, cols int) []float64 {
	out := make([]float64, len(muP)/cols)
	for i := range muP {
		sp, sq := math.Exp(lsP[i]), math.Exp(lsQ[i])
		d := muP[i] - muQ[i]
		out[i/cols] += math.Log(sq/sp) + (sp*sp+d*d)/(2*sq*sq) - 0.5
	}
	return out
}

func graphRefVAEPerDim(mu, lv []float64) []float64 {
	out := make([]float64, len(mu))
	for i := range mu {
		out[i] = -0.5 * (1 + lv[i] - mu[i]*mu[i] - math.Exp(lv[i]))
	}
	return out
}

func graphRefSumRows(v []float64, cols int) []float64 {
	out := make([]float64, len(v)/cols)
	for i, x := range v {
		out[i/cols] += x
	}
	return out
}

type graphCase struct {
	name       string
	rows, cols int
	inputs     [][]float64
}

type graphFunc struct {
	name    string
	arity   int
	perElem bool // output has the input's shape instead of (rows,)
	build   graphBuilder
	ref     func(in [][]float64, cols int) []float64
}

var graphFuncs = []graphFunc{
	{"LogSoftmaxNode", 1, true,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return LogSoftmaxNode(in[0]) },
		func(in [][]float64, cols int) []float64 {
			var out []float64
			for _, r := range graphRefRows(in[0], cols) {
				out = append(out, graphRefLogSoftmax(r)...)
			}
			return out
		}},
	{"CategoricalKLNode", 2, false,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return CategoricalKLNode(in[0], in[1]) },
		func(in [][]float64, cols int) []float64 { return graphRefCategoricalKL(in[0], in[1], cols) }},
	{"CategoricalKLNode reverse", 2, false,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return CategoricalKLNode(in[1], in[0]) },
		func(in [][]float64, cols int) []float64 { return graphRefCategoricalKL(in[1], in[0], cols) }},
	{"CategoricalEntropyNode", 1, false,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return CategoricalEntropyNode(in[0]) },
		func(in [][]float64, cols int) []float64 { return graphRefEntropy(in[0], cols) }},
	{"DiagNormalKLNode", 4, false,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) {
			return DiagNormalKLNode(in[0], in[1], in[2], in[3])
		},
		func(in [][]float64, cols int) []float64 {
			return graphRefDiagNormalKL(in[0], in[1], in[2], in[3], cols)
		}},
	{"VAEPriorKLPerDimNode", 2, true,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return VAEPriorKLPerDimNode(in[0], in[1]) },
		func(in [][]float64, cols int) []float64 { return graphRefVAEPerDim(in[0], in[1]) }},
	{"VAEPriorKLNode", 2, false,
		func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return VAEPriorKLNode(in[0], in[1]) },
		func(in [][]float64, cols int) []float64 {
			return graphRefSumRows(graphRefVAEPerDim(in[0], in[1]), cols)
		}},
}

func graphRandom(r *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * r.NormFloat64()
	}
	return v
}

// graphCases returns the input sets for a function of the given arity: random values, ties,
// a single row, a single column and (for logits) gaps of several hundred nats.
func graphCases(f graphFunc) []graphCase {
	r := rand.New(rand.NewPCG(7, uint64(f.arity)))
	rnd := func(rows, cols int, scale float64) [][]float64 {
		in := make([][]float64, f.arity)
		for i := range in {
			in[i] = graphRandom(r, rows*cols, scale)
		}
		return in
	}
	cases := []graphCase{
		{"random 3x4", 3, 4, rnd(3, 4, 1)},
		{"random 1x5", 1, 5, rnd(1, 5, 1.5)},
		{"random 4x1", 4, 1, rnd(4, 1, 0.7)},
	}
	if strings.HasPrefix(f.name, "Categorical") || f.name == "LogSoftmaxNode" {
		huge := [][]float64{
			{800, 0, -800, 1, 2, 2, 300, -5, 0.5},
			{0, 900, 1, 2, 1, 2, -40, 400, 0},
		}
		cases = append(cases, graphCase{"logit gaps ≥ 300 and ties", 3, 3, huge[:f.arity]})
	}
	if f.arity == 4 { // identical P and Q: KL is 0 with zero gradient wrt the means
		same := rnd(2, 3, 0.5)
		same[2], same[3] = same[0], same[1]
		cases = append(cases, graphCase{"P = Q", 2, 3, same})
	}
	return cases
}

func graphRelErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

func TestGraphForwardMatchesReference(t *testing.T) {
	for _, f := range graphFuncs {
		for _, c := range graphCases(f) {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				t.Run(fmt.Sprintf("%s/%s/%v", f.name, c.name, dt), func(t *testing.T) {
					inputs := c.inputs
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 1e-5
						// the reference sees the float32-rounded inputs
						inputs = make([][]float64, len(c.inputs))
						for i, in := range c.inputs {
							inputs[i] = graphFloat64s(graphDense(tensor.Float32, []int{len(in)}, in).Data())
						}
					}
					want := f.ref(inputs, c.cols)
					got, _ := graphRun(t, dt, c.rows, c.cols, inputs, f.build, nil)
					if len(got) != len(want) {
						t.Fatalf("got %d values, want %d", len(got), len(want))
					}
					scale := 0.0
					for _, w := range want {
						scale = math.Max(scale, math.Abs(w))
					}
					for i := range want {
						if math.IsNaN(got[i]) || math.IsInf(got[i], 0) {
							t.Fatalf("value %d is %v", i, got[i])
						}
						// relative error, with an absolute floor for values far below the row's scale
						if math.Abs(got[i]-want[i]) > tol*math.Max(math.Abs(want[i]), 1e-3*scale) {
							t.Errorf("value %d = %.17g, want %.17g (rel err %.3g)", i, got[i], want[i], graphRelErr(got[i], want[i]))
						}
					}
				})
			}
		}
	}
}

// TestGraphGradientsMatchFiniteDifferences checks the gradient of L = Σ w·out (random w) wrt
// every element of every input against a fourth-order central difference of the graph's own
// forward value: |g − fd| ≤ 1e-6·max(|fd|, 1e-2) (relative, with an absolute floor of 1e-8 for
// components that are zero up to underflow, such as exp(−800)).
func TestGraphGradientsMatchFiniteDifferences(t *testing.T) {
	const h = 1e-4
	for _, f := range graphFuncs {
		for _, c := range graphCases(f) {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				nOut := c.rows
				if f.perElem {
					nOut = c.rows * c.cols
				}
				w := graphRandom(rand.New(rand.NewPCG(3, 4)), nOut, 1)
				loss := func(in [][]float64) float64 {
					out, _ := graphRun(t, tensor.Float64, c.rows, c.cols, in, f.build, nil)
					s := 0.0
					for i := range out {
						s += w[i] * out[i]
					}
					return s
				}
				_, grads := graphRun(t, tensor.Float64, c.rows, c.cols, c.inputs, f.build, w)
				for a := range c.inputs {
					for i := range c.inputs[a] {
						shifted := func(d float64) float64 {
							in := make([][]float64, len(c.inputs))
							copy(in, c.inputs)
							in[a] = append([]float64(nil), c.inputs[a]...)
							in[a][i] += d
							return loss(in)
						}
						fd := (-shifted(2*h) + 8*shifted(h) - 8*shifted(-h) + shifted(-2*h)) / (12 * h)
						g := grads[a][i]
						if math.IsNaN(g) || math.IsInf(g, 0) {
							t.Fatalf("grad wrt input %d element %d is %v", a, i, g)
						}
						if math.Abs(g-fd) > 1e-6*math.Max(math.Abs(fd), 1e-2) {
							t.Errorf("grad wrt input %d element %d = %.12g, finite difference %.12g", a, i, g, fd)
						}
					}
				}
			})
		}
	}
}

// TestGraphFloat32Gradients checks that float32 graphs give the float64 graph's gradients to
// float32 precision, including at logit gaps of several hundred.
func TestGraphFloat32Gradients(t *testing.T) {
	for _, f := range graphFuncs {
		for _, c := range graphCases(f) {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				nOut := c.rows
				if f.perElem {
					nOut = c.rows * c.cols
				}
				w := graphRandom(rand.New(rand.NewPCG(5, 6)), nOut, 1)
				in32 := make([][]float64, len(c.inputs))
				for i, in := range c.inputs {
					in32[i] = graphFloat64s(graphDense(tensor.Float32, []int{len(in)}, in).Data())
				}
				_, g64 := graphRun(t, tensor.Float64, c.rows, c.cols, in32, f.build, w)
				_, g32 := graphRun(t, tensor.Float32, c.rows, c.cols, in32, f.build, w)
				for a := range g64 {
					scale := 0.0
					for _, v := range g64[a] {
						scale = math.Max(scale, math.Abs(v))
					}
					for i := range g64[a] {
						if math.IsNaN(g32[a][i]) || math.IsInf(g32[a][i], 0) {
							t.Fatalf("float32 grad wrt input %d element %d is %v", a, i, g32[a][i])
						}
						if math.Abs(g32[a][i]-g64[a][i]) > 1e-4*math.Max(math.Abs(g64[a][i]), 1e-2*math.Max(scale, 1)) {
							t.Errorf("float32 grad wrt input %d element %d = %.8g, float64 %.8g", a, i, g32[a][i], g64[a][i])
						}
					}
				}
			})
		}
	}
}

// TestCategoricalKLNodeHugeGap is the example: [800, 0, −800] vs [0, 900, 1] is 900 nats,
// and the gradients are the closed forms ∂KL/∂q = softmax(q) − softmax(p) and
// ∂KL/∂p_k = p_k (log p_k − log q_k − KL), all finite.
func TestCategoricalKLNodeHugeGap(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		p := []float64{800, 0, -800}
		q := []float64{0, 900, 1}
		out, grads := graphRun(t, dt, 1, 3, [][]float64{p, q},
			func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return CategoricalKLNode(in[0], in[1]) }, []float64{1})
		if math.Abs(out[0]-900) > 1e-12*900 {
			t.Errorf("%v: KL = %.17g, want 900", dt, out[0])
		}
		// p = (1, 0, 0), q = (e^-900, 1, e^-899) up to underflow.
		wantGP := []float64{0, 0, 0}
		wantGQ := []float64{-1, 1, 0}
		for k := 0; k < 3; k++ {
			if math.Abs(grads[0][k]-wantGP[k]) > 1e-9 || math.Abs(grads[1][k]-wantGQ[k]) > 1e-9 {
				t.Errorf("%v: grad p[%d]=%v q[%d]=%v, want %v and %v", dt, k, grads[0][k], k, grads[1][k], wantGP[k], wantGQ[k])
			}
		}
	}
}

// graphGolden loads ../shared/golden/kl.json (found from the repository root) or, failing that,
// the package's testdata/kl.json copy.
func graphGolden(t *testing.T) []map[string]any {
	t.Helper()
	b, p, err := golden.Read("kl.json", "kl/testdata/kl.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []map[string]any `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return doc.Cases
}

func graphGoldenFloats(t *testing.T, c map[string]any, key string) []float64 {
	t.Helper()
	raw, ok := c[key].([]any)
	if !ok {
		t.Fatalf("case %v: %s is not a list", c["kind"], key)
	}
	out := make([]float64, len(raw))
	for i, v := range raw {
		f, ok := v.(float64)
		if !ok {
			t.Fatalf("case %v: %s[%d] = %v is not a number", c["kind"], key, i, v)
		}
		out[i] = f
	}
	return out
}

// TestGraphGolden checks the float64 graph builders against torch.distributions' values in
// kl.json to 1e-9 relative.
func TestGraphGolden(t *testing.T) {
	checked := 0
	for i, c := range graphGolden(t) {
		want, ok := c["kl_nats"].(float64)
		if !ok {
			continue
		}
		var inputs [][]float64
		var build graphBuilder
		switch c["kind"] {
		case "categorical_logits":
			inputs = [][]float64{graphGoldenFloats(t, c, "p_logits"), graphGoldenFloats(t, c, "q_logits")}
			build = func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return CategoricalKLNode(in[0], in[1]) }
		case "diag_normal":
			ls := func(key string) []float64 {
				s := graphGoldenFloats(t, c, key)
				for j := range s {
					s[j] = math.Log(s[j])
				}
				return s
			}
			inputs = [][]float64{graphGoldenFloats(t, c, "mu_p"), ls("sigma_p"), graphGoldenFloats(t, c, "mu_q"), ls("sigma_q")}
			build = func(in ...*gorgonia.Node) (*gorgonia.Node, error) {
				return DiagNormalKLNode(in[0], in[1], in[2], in[3])
			}
		case "vae_standard_normal":
			inputs = [][]float64{graphGoldenFloats(t, c, "mu"), graphGoldenFloats(t, c, "logvar")}
			build = func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return VAEPriorKLNode(in[0], in[1]) }
		default:
			continue
		}
		got, _ := graphRun(t, tensor.Float64, 1, len(inputs[0]), inputs, build, nil)
		if graphRelErr(got[0], want) > 1e-9 {
			t.Errorf("case %d (%v): graph gives %.17g, golden %.17g", i, c["kind"], got[0], want)
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d golden cases checked", checked)
	}
}

func TestGraphBuildersRejectBadInput(t *testing.T) {
	g := gorgonia.NewGraph()
	m64 := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("a"))
	other := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 4), gorgonia.WithName("b"))
	m32 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("c"))
	vec := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(3), gorgonia.WithName("d"))
	ints := gorgonia.NewMatrix(g, tensor.Int, gorgonia.WithShape(2, 3), gorgonia.WithName("e"))
	g2 := gorgonia.NewGraph()
	foreign := gorgonia.NewMatrix(g2, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("f"))
	tests := []struct {
		name    string
		call    func() (*gorgonia.Node, error)
		mention string
	}{
		{"nil logits", func() (*gorgonia.Node, error) { return LogSoftmaxNode(nil) }, "logits is nil"},
		{"vector logits", func() (*gorgonia.Node, error) { return LogSoftmaxNode(vec) }, "logits has shape"},
		{"int logits", func() (*gorgonia.Node, error) { return CategoricalEntropyNode(ints) }, "logits has dtype"},
		{"shape mismatch", func() (*gorgonia.Node, error) { return CategoricalKLNode(m64, other) }, "qLogits has shape"},
		{"dtype mismatch", func() (*gorgonia.Node, error) { return CategoricalKLNode(m64, m32) }, "qLogits has dtype"},
		{"different graphs", func() (*gorgonia.Node, error) { return CategoricalKLNode(m64, foreign) }, "different graphs"},
		{"diag logStdQ", func() (*gorgonia.Node, error) { return DiagNormalKLNode(m64, m64, m64, other) }, "logStdQ has shape"},
		{"diag nil muQ", func() (*gorgonia.Node, error) { return DiagNormalKLNode(m64, m64, nil, m64) }, "muQ is nil"},
		{"vae logVar", func() (*gorgonia.Node, error) { return VAEPriorKLNode(m64, m32) }, "logVar has dtype"},
		{"vae per dim mu", func() (*gorgonia.Node, error) { return VAEPriorKLPerDimNode(vec, m64) }, "mu has shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.call()
			if err == nil {
				t.Fatalf("got node %v, want an error", n)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// TestGorgoniaRowMax records what LogSoftmaxNode relies on in gorgonia v0.9.18's Max(x, 1):
// the forward value is each row's maximum (float32 and float64), and the gradient sends the
// upstream gradient of a row to the position of its maximum — to every tied position in full,
// which is not a subgradient, harmless here because the gradient reaching m is zero.
func TestGorgoniaRowMax(t *testing.T) {
	x := []float64{1, 3, 2, 5, 5, 0, -7, -9, -8}
	w := []float64{1, 10, 100}
	wantMax := []float64{3, 5, -7}
	wantGrad := []float64{0, 1, 0, 10, 10, 0, 100, 0, 0}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		out, grads := graphRun(t, dt, 3, 3, [][]float64{x},
			func(in ...*gorgonia.Node) (*gorgonia.Node, error) { return gorgonia.Max(in[0], 1) }, w)
		for i := range wantMax {
			if out[i] != wantMax[i] {
				t.Errorf("%v: row %d max = %v, want %v", dt, i, out[i], wantMax[i])
			}
		}
		for i := range wantGrad {
			if grads[0][i] != wantGrad[i] {
				t.Errorf("%v: grad[%d] = %v, want %v", dt, i, grads[0][i], wantGrad[i])
			}
		}
	}
}
