package vae

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"klppo/experiments/datasets"
	"klppo/nn"
)

// handMLP is an independent forward pass over an MLP's float64 parameters.
func handMLP(t *testing.T, m *nn.MLP, x []float64) []float64 {
	t.Helper()
	sizes, ps := m.Sizes(), m.Params()
	h := x
	for l := 0; l+1 < len(sizes); l++ {
		w, b := ps[2*l].Data().([]float64), ps[2*l+1].Data().([]float64)
		in, out := sizes[l], sizes[l+1]
		rows := len(h) / in
		next := make([]float64, rows*out)
		for r := 0; r < rows; r++ {
			for j := 0; j < out; j++ {
				s := b[j]
				for i := 0; i < in; i++ {
					s += h[r*in+i] * w[i*out+j]
				}
				if l+2 < len(sizes) {
					s = math.Max(s, 0) // ReLU
				}
				next[r*out+j] = s
			}
		}
		h = next
	}
	return h
}

type lossCase struct {
	name     string
	decoder  Decoder
	beta     float64
	freeBits float64
}

var lossCases = []lossCase{
	{"bernoulli β=0.7", Bernoulli, 0.7, 0},
	{"bernoulli β=0", Bernoulli, 0, 0},
	{"bernoulli free bits", Bernoulli, 1.3, 0.4},
	{"gaussian β=2", Gaussian, 2, 0},
}

func tinyModel(t *testing.T, dec Decoder, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(rand.New(rand.NewPCG(seed, 1)), ModelConfig{In: 3, Latent: 2, Hidden: []int{4},
		Activation: nn.ReLU, Decoder: dec, ObsStd: 0.3, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	// Non-zero biases so that every parameter matters.
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, mlp := range []*nn.MLP{m.Enc, m.Dec} {
		for _, p := range mlp.Params() {
			d := p.Data().([]float64)
			for i := range d {
				d[i] += 0.3 * rng.NormFloat64()
			}
		}
	}
	return m
}

var (
	tinyX   = []float64{0.9, 0.1, 0.5, 0, 1, 0.25}
	tinyEps = []float64{0.3, -1.2, 0.8, 0.5}
)

// handLoss computes recon + β·KLterm for the tiny batch without gorgonia.
func handLoss(t *testing.T, m *Model, x, eps []float64, beta, freeBits float64) float64 {
	t.Helper()
	const B, L, D = 2, 2, 3
	h := handMLP(t, m.Enc, x)
	z := make([]float64, B*L)
	klDim := make([]float64, L)
	for b := 0; b < B; b++ {
		for d := 0; d < L; d++ {
			mu, lv := h[b*2*L+d], h[b*2*L+L+d]
			z[b*L+d] = mu + math.Exp(lv/2)*eps[b*L+d]
			// −½(1 + log σ² − μ² − σ²), the textbook form.
			klDim[d] += -0.5 * (1 + lv - mu*mu - math.Exp(lv)) / B
		}
	}
	out := handMLP(t, m.Dec, z)
	var recon float64
	for b := 0; b < B; b++ {
		for j := 0; j < D; j++ {
			xv, o := x[b*D+j], out[b*D+j]
			switch m.cfg.Decoder {
			case Bernoulli:
				p := 1 / (1 + math.Exp(-o))
				recon -= (xv*math.Log(p) + (1-xv)*math.Log(1-p)) / B
			case Gaussian:
				s := m.cfg.ObsStd
				recon -= (-0.5*math.Log(2*math.Pi*s*s) - (xv-o)*(xv-o)/(2*s*s)) / B
			}
		}
	}
	var klTerm float64
	for _, k := range klDim {
		klTerm += math.Max(k, freeBits)
	}
	return recon + beta*klTerm
}

func runLoss(t *testing.T, lg *lossGraph, tr *nn.Trainer, x, eps []float64, beta float64) ([]*tensor.Dense, float64) {
	t.Helper()
	if err := lg.setInputs(x, eps, beta); err != nil {
		t.Fatal(err)
	}
	grads, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	return grads, nn.ValueAt(lg.lossV, 0)
}

func TestLossMatchesHandComputation(t *testing.T) {
	for _, tc := range lossCases {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyModel(t, tc.decoder, 11)
			lg, err := buildLoss(m, 2, tc.freeBits)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			_, got := runLoss(t, lg, tr, tinyX, tinyEps, tc.beta)
			want := handLoss(t, m, tinyX, tinyEps, tc.beta, tc.freeBits)
			if math.Abs(got-want) > 1e-10*math.Max(1, math.Abs(want)) {
				t.Fatalf("graph loss %.15g, hand computation %.15g", got, want)
			}
		})
	}
}

// The gradient of the combined loss (reconstruction + β·KL, with and without free bits) matches
// central finite differences of the hand-computed loss for every parameter.
func TestLossGradientFiniteDifferences(t *testing.T) {
	for _, tc := range lossCases {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyModel(t, tc.decoder, 5)
			lg, err := buildLoss(m, 2, tc.freeBits)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			grads, _ := runLoss(t, lg, tr, tinyX, tinyEps, tc.beta)
			params := tr.Params()
			const h = 1e-6
			checked := 0
			for pi, p := range params {
				g := append([]float64(nil), grads[pi].Data().([]float64)...)
				d := p.Data().([]float64)
				for i := range d {
					orig := d[i]
					d[i] = orig + h
					up := handLoss(t, m, tinyX, tinyEps, tc.beta, tc.freeBits)
					d[i] = orig - h
					down := handLoss(t, m, tinyX, tinyEps, tc.beta, tc.freeBits)
					d[i] = orig
					fd := (up - down) / (2 * h)
					if math.Abs(fd-g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
						t.Errorf("param %d[%d]: graph gradient %.10g, finite difference %.10g", pi, i, g[i], fd)
					}
					checked++
				}
			}
			if checked != m.Enc.NumParams()+m.Dec.NumParams() {
				t.Fatalf("checked %d parameters", checked)
			}
		})
	}
}

// With free bits far above every dimension's KL, the KL term is the constant L·λ: no gradient
// reaches the encoder's log-variance outputs through it, and the loss is recon + β·L·λ.
func TestFreeBitsFloor(t *testing.T) {
	m := tinyModel(t, Bernoulli, 3)
	lg, err := buildLoss(m, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, loss := runLoss(t, lg, tr, tinyX, tinyEps, 2)
	recon := nn.ValueAt(lg.reconV, 0)
	if got := nn.ValueAt(lg.klTermV, 0); math.Abs(got-100) > 1e-12 {
		t.Fatalf("KL term %v, want 2·50", got)
	}
	if math.Abs(loss-(recon+200)) > 1e-9 {
		t.Fatalf("loss %v, want recon %v + 200", loss, recon)
	}
}

func TestWarmupBeta(t *testing.T) {
	tests := []struct {
		beta   float64
		warmup int
		p      float64
		want   float64
	}{
		{1, 0, 0, 1},
		{4, 0, 3.5, 4},
		{1, 10, 0, 0},
		{1, 10, 2.5, 0.25},
		{4, 2, 1, 2},
		{4, 2, 7, 4},
	}
	for _, tc := range tests {
		if got := WarmupBeta(tc.beta, tc.warmup, tc.p); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("WarmupBeta(%v, %d, %v) = %v, want %v", tc.beta, tc.warmup, tc.p, got, tc.want)
		}
	}
}

func smallGlyphs(t *testing.T) *datasets.Split {
	t.Helper()
	gc := datasets.DefaultGlyphConfig()
	gc.Train, gc.Test, gc.Seed, gc.MaxShift = 640, 200, 4, 0
	s, err := datasets.Glyphs(gc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func smallConfig(seed uint64) Config {
	c := DefaultConfig()
	c.Hidden, c.Epochs, c.Batch, c.Seed, c.LR = []int{32}, 4, 32, seed, 3e-3
	return c
}

func TestTrainDeterministic(t *testing.T) {
	data := smallGlyphs(t)
	a, err := Train(data, smallConfig(9))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(data, smallConfig(9))
	if err != nil {
		t.Fatal(err)
	}
	strip := func(r *Result) []EpochMetrics {
		out := append([]EpochMetrics(nil), r.Epochs...)
		for i := range out {
			out[i].Seconds = 0
		}
		return out
	}
	if !reflect.DeepEqual(strip(a), strip(b)) {
		t.Fatal("the same seed gave different metrics")
	}
	for i, p := range a.Model.Enc.Params() {
		if !reflect.DeepEqual(p.Data(), b.Model.Enc.Params()[i].Data()) {
			t.Fatalf("encoder parameter %d differs between identical runs", i)
		}
	}
	c, err := Train(data, smallConfig(10))
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(strip(a), strip(c)) {
		t.Fatal("different seeds gave identical metrics")
	}
}

// A short training run improves the test ELBO, β changes the KL term in the expected direction,
// and the plain-Go KL per dimension sums to the total.
func TestTrainSmoke(t *testing.T) {
	data := smallGlyphs(t)
	kls := map[float64]float64{}
	for _, beta := range []float64{0, 1, 4} {
		cfg := smallConfig(2)
		cfg.Beta, cfg.Epochs = beta, 6
		res, err := Train(data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		first, last := res.Epochs[0].Test, res.Epochs[len(res.Epochs)-1].Test
		if beta == 1 && !(last.ELBO > first.ELBO) {
			t.Errorf("β=1: test ELBO went from %v to %v", first.ELBO, last.ELBO)
		}
		var s float64
		for _, k := range last.KLPerDim {
			s += k
		}
		if math.Abs(s-last.KL) > 1e-9 || math.Abs(last.ELBO+last.Recon+last.KL) > 1e-9 {
			t.Errorf("β=%v: inconsistent eval %+v", beta, last)
		}
		kls[beta] = last.KL
	}
	if !(kls[0] > kls[1] && kls[1] > kls[4]) {
		t.Errorf("KL term should fall with β: %v", kls)
	}
}

func TestWriteOutputs(t *testing.T) {
	data := smallGlyphs(t)
	cfg := smallConfig(1)
	cfg.Epochs = 1
	res, err := Train(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := WriteOutputs(dir, res, data, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("wrote %v", files)
	}
	csv, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "epoch,beta,train_loss") || !strings.Contains(lines[0], "test_kl_dim2") {
		t.Fatalf("metrics.csv:\n%s", csv)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestTrainBadConfig(t *testing.T) {
	data := smallGlyphs(t)
	tests := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Latent = 0 }, "latent = 0"},
		{func(c *Config) { c.Beta = -1 }, "beta = -1"},
		{func(c *Config) { c.FreeBits = math.NaN() }, "free-bits = NaN"},
		{func(c *Config) { c.Batch = 100000 }, "batch = 100000"},
		{func(c *Config) { c.LR = 0 }, "lr = 0"},
		{func(c *Config) { c.Epochs = 0 }, "epochs = 0"},
		{func(c *Config) { c.Hidden = []int{8, -1} }, "hidden[1] = -1"},
		{func(c *Config) { c.Hidden = []int{MaxWidth + 1} }, "hidden[0] = 4097"},
		{func(c *Config) { c.Latent = MaxLatent + 1 }, "latent = 1025"},
		{func(c *Config) { c.Epochs = MaxEpochs + 1 }, "epochs = 100001"},
		{func(c *Config) { c.Warmup = MaxEpochs + 1 }, "warmup = 100001"},
		{func(c *Config) { c.Decoder, c.ObsStd = Gaussian, 1e-30 }, "obs-std = 1e-30"},
	}
	for _, tc := range tests {
		cfg := smallConfig(1)
		tc.mod(&cfg)
		_, err := Train(data, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// The training graph's batch-mean KL per dimension (kl.VAEPriorKLPerDimNode) equals the plain-Go
// evaluation path (Encode + kl.VAEPriorKL) on the same rows and weights.
func TestGraphKLMatchesEvaluate(t *testing.T) {
	data := smallGlyphs(t)
	m, err := NewModel(rand.New(rand.NewPCG(8, 1)), ModelConfig{In: data.Train.Dim, Latent: 3, Hidden: []int{16},
		Activation: nn.Tanh, Decoder: Bernoulli, Dtype: tensor.Float64})
	if err != nil {
		t.Fatal(err)
	}
	const B = 32
	lg, err := buildLoss(m, B, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	x := data.Test.X[:B*data.Test.Dim]
	runLoss(t, lg, tr, x, make([]float64, B*3), 1)
	set := &datasets.Set{X: x, Y: data.Test.Y[:B], N: B, Dim: data.Test.Dim, Classes: 10}
	ev, err := Evaluate(m, set, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 3; d++ {
		if g := nn.ValueAt(lg.klDimV, d); math.Abs(g-ev.KLPerDim[d]) > 1e-12 {
			t.Errorf("dim %d: graph KL %v, evaluation KL %v", d, g, ev.KLPerDim[d])
		}
	}
}

// TestMemoryEstimateGrows: the estimate covers the defaults with room to spare and grows with
// the widths, the latent dimension and the number of examples.
func TestMemoryEstimateGrows(t *testing.T) {
	c := DefaultConfig()
	base := c.MemoryEstimate(144, 5000, 1000)
	if base < 64<<20 || base > 1<<30 {
		t.Errorf("default estimate %d bytes, want 64 MiB to 1 GiB", base)
	}
	for name, mod := range map[string]func(*Config) (int, int){
		"hidden 4096,4096": func(c *Config) (int, int) { c.Hidden = []int{4096, 4096}; return 5000, 1000 },
		"latent 1024":      func(c *Config) (int, int) { c.Latent = 1024; return 5000, 1000 },
		"1e6 examples":     func(c *Config) (int, int) { return 1_000_000, 1000 },
	} {
		d := c
		nTrain, nTest := mod(&d)
		if got := d.MemoryEstimate(144, nTrain, nTest); got <= base {
			t.Errorf("%s: estimate %d, not above the default's %d", name, got, base)
		}
	}
}
