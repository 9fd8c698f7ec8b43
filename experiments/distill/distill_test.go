package distill

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"klppo/experiments/datasets"
	"klppo/kl"
	"klppo/nn"
)

const tinyB, tinyIn, tinyK = 3, 4, 3

func tinyNet(t *testing.T, seed uint64) *nn.MLP {
	t.Helper()
	m, err := NewClassifier(rand.New(rand.NewPCG(seed, 1)), "student", tinyIn, []int{5}, tinyK, nn.Tanh, tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.Params() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.2 * rng.NormFloat64()
		}
	}
	return m
}

var (
	tinyX       = []float64{0.2, -0.4, 1.1, 0.5, -1, 0.3, 0.0, 0.8, 0.7, 0.7, -0.2, -0.9}
	tinyLabels  = []int{2, 0, 1}
	tinyTeacher = []float64{1.5, -0.5, 3.0, 4.0, 0.1, -2.0, -1.0, 2.5, 0.5}
)

func tinyOneHot() []float64 {
	y := make([]float64, tinyB*tinyK)
	for r, c := range tinyLabels {
		y[r*tinyK+c] = 1
	}
	return y
}

// handTanhNet is an independent forward pass of a one-hidden-layer tanh MLP.
func handTanhNet(m *nn.MLP, x []float64) []float64 {
	ps := m.Params()
	w0, b0, w1, b1 := ps[0].Data().([]float64), ps[1].Data().([]float64), ps[2].Data().([]float64), ps[3].Data().([]float64)
	H := len(b0)
	out := make([]float64, tinyB*tinyK)
	for r := 0; r < tinyB; r++ {
		h := make([]float64, H)
		for j := range h {
			s := b0[j]
			for i := 0; i < tinyIn; i++ {
				s += x[r*tinyIn+i] * w0[i*H+j]
			}
			h[j] = math.Tanh(s)
		}
		for k := 0; k < tinyK; k++ {
			s := b1[k]
			for j := range h {
				s += h[j] * w1[j*tinyK+k]
			}
			out[r*tinyK+k] = s
		}
	}
	return out
}

// handCE is the mean cross-entropy −log softmax(s)_y, written out directly.
func handCE(s []float64) float64 {
	var ce float64
	for r, y := range tinyLabels {
		row := s[r*tinyK : (r+1)*tinyK]
		var z float64
		for _, v := range row {
			z += math.Exp(v)
		}
		ce -= math.Log(math.Exp(row[y]) / z)
	}
	return ce / tinyB
}

// handKL is the mean KL(softmax(t/T) ‖ softmax(s/T)) from kl's numeric KLLogits.
func handKL(t *testing.T, s []float64, temp float64) float64 {
	t.Helper()
	v, err := SoftKL(tinyTeacher, s, tinyK, temp)
	if err != nil {
		t.Fatal(err)
	}
	// Cross-check one row against the textbook sum with explicit probabilities.
	p, q := softmax(tinyTeacher[:tinyK], temp), softmax(s[:tinyK], temp)
	var row0 float64
	for k := range p {
		row0 += p[k] * math.Log(p[k]/q[k])
	}
	tp, sp := make([]float64, tinyK), make([]float64, tinyK)
	for k := 0; k < tinyK; k++ {
		tp[k], sp[k] = tinyTeacher[k]/temp, s[k]/temp
	}
	if k0, err := kl.KLLogits(tp, sp); err != nil || math.Abs(k0-row0) > 1e-12 {
		t.Fatalf("KLLogits row 0 = %v (%v), textbook %v", k0, err, row0)
	}
	return v
}

func softmax(x []float64, temp float64) []float64 {
	out := make([]float64, len(x))
	var z float64
	for i, v := range x {
		out[i] = math.Exp(v / temp)
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

func runTiny(t *testing.T, m *nn.MLP, temp, alpha float64) (float64, []*tensor.Dense, []*tensor.Dense) {
	t.Helper()
	lg, err := buildLoss(m, tinyB, temp, alpha, true)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learnables)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	if err := lg.setInputs(tinyX, tinyOneHot(), tinyTeacher); err != nil {
		t.Fatal(err)
	}
	grads, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	return nn.ValueAt(lg.lossV, 0), grads, tr.Params()
}

func TestDistillLossSpecialCases(t *testing.T) {
	tests := []struct {
		name        string
		temp, alpha float64
		want        func(t *testing.T, s []float64, temp float64) float64
	}{
		{"α=1 is T²·KL", 4, 1, func(t *testing.T, s []float64, temp float64) float64 { return temp * temp * handKL(t, s, temp) }},
		{"α=1, T=1 is KL", 1, 1, func(t *testing.T, s []float64, temp float64) float64 { return handKL(t, s, temp) }},
		{"α=0 is CE", 3, 0, func(_ *testing.T, s []float64, _ float64) float64 { return handCE(s) }},
		{"α=0.3 mixes", 2.5, 0.3, func(t *testing.T, s []float64, temp float64) float64 {
			return 0.3*temp*temp*handKL(t, s, temp) + 0.7*handCE(s)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyNet(t, 7)
			got, _, _ := runTiny(t, m, tc.temp, tc.alpha)
			want := tc.want(t, handTanhNet(m, tinyX), tc.temp)
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Fatalf("graph loss %.15g, want %.15g", got, want)
			}
		})
	}
}

func TestDistillGradientFiniteDifferences(t *testing.T) {
	for _, tc := range []struct{ temp, alpha float64 }{{4, 0.9}, {1, 1}, {2, 0}, {0.5, 0.5}} {
		m := tinyNet(t, 3)
		_, grads, params := runTiny(t, m, tc.temp, tc.alpha)
		loss := func() float64 {
			s := handTanhNet(m, tinyX)
			return tc.alpha*tc.temp*tc.temp*handKL(t, s, tc.temp) + (1-tc.alpha)*handCE(s)
		}
		const h = 1e-6
		for pi, p := range params {
			g := grads[pi].Data().([]float64)
			d := p.Data().([]float64)
			for i := range d {
				orig := d[i]
				d[i] = orig + h
				up := loss()
				d[i] = orig - h
				down := loss()
				d[i] = orig
				fd := (up - down) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-6*math.Max(1, math.Abs(fd)) {
					t.Errorf("T=%v α=%v param %d[%d]: gradient %.10g, finite difference %.10g", tc.temp, tc.alpha, pi, i, g[i], fd)
				}
			}
		}
	}
}

func smallData(t *testing.T) *datasets.Split {
	t.Helper()
	gc := datasets.DefaultGlyphConfig()
	gc.Train, gc.Test, gc.Seed, gc.MaxShift = 600, 200, 3, 0
	s, err := datasets.Glyphs(gc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func smallConfig(seed uint64) Config {
	c := DefaultConfig()
	c.TeacherHidden, c.StudentHidden, c.TeacherEpochs, c.Epochs, c.Batch, c.Seed = []int{64}, []int{8}, 15, 3, 50, seed
	return c
}

func TestRunDeterministicAndSmoke(t *testing.T) {
	data := smallData(t)
	a, err := Run(data, smallConfig(5))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(data, smallConfig(5))
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
	// %v prints NaN as NaN, so equal runs print equal (reflect.DeepEqual has NaN ≠ NaN).
	if fmt.Sprintf("%v", strip(a)) != fmt.Sprintf("%v", strip(b)) {
		t.Fatal("the same seed gave different metrics")
	}
	if len(a.Epochs) != 15+3+3 {
		t.Fatalf("%d epoch rows, want 21", len(a.Epochs))
	}
	if a.TeacherAcc < 0.5 {
		t.Errorf("teacher test accuracy %v after 15 epochs, want > 0.5 (10 classes)", a.TeacherAcc)
	}
	for _, e := range a.Epochs {
		if (e.Model == Distilled) == math.IsNaN(e.TrainKL) {
			t.Errorf("%s epoch %d: train KL %v", e.Model, e.Epoch, e.TrainKL)
		}
	}
	// The distilled student is pulled towards the teacher's softened outputs.
	if !(a.DistilledKL < a.LabelsKL) {
		t.Errorf("test KL to the teacher: distilled %v, label-only %v", a.DistilledKL, a.LabelsKL)
	}
}

// With α = 0 the distillation loss is the label cross-entropy, and both students share seed,
// batches and budget: they end bit-identical.
func TestAlphaZeroStudentsIdentical(t *testing.T) {
	data := smallData(t)
	cfg := smallConfig(2)
	cfg.Alpha, cfg.TeacherEpochs = 0, 1
	res, err := Run(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range res.Distilled.Params() {
		if !reflect.DeepEqual(p.Data(), res.Labels.Params()[i].Data()) {
			t.Fatalf("parameter %d differs between the α=0 student and the label-only student", i)
		}
	}
	if res.DistilledAcc != res.LabelsAcc {
		t.Fatalf("accuracies %v vs %v", res.DistilledAcc, res.LabelsAcc)
	}
}

func TestTeacherRoundTrip(t *testing.T) {
	data := smallData(t)
	cfg := smallConfig(4)
	cfg.TeacherEpochs, cfg.Epochs = 1, 1
	res, err := Run(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := WriteOutputs(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 5 {
		t.Fatalf("wrote %v", files)
	}
	back, err := LoadTeacher(filepath.Join(dir, TeacherFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Sizes(), res.Teacher.Sizes()) || back.Activation() != res.Teacher.Activation() {
		t.Fatalf("loaded %v %v, saved %v %v", back.Sizes(), back.Activation(), res.Teacher.Sizes(), res.Teacher.Activation())
	}
	l1, _ := Logits(res.Teacher, data.Test)
	l2, _ := Logits(back, data.Test)
	if !reflect.DeepEqual(l1, l2) {
		t.Fatal("loaded teacher computes different logits")
	}
	// A loaded teacher is used as is: its accuracy is unchanged and it is not trained.
	cfg.Teacher = back
	res2, err := Run(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res2.TeacherAcc != res.TeacherAcc || res2.Epochs[0].Model != Distilled {
		t.Fatalf("loaded teacher: acc %v vs %v, first row %s", res2.TeacherAcc, res.TeacherAcc, res2.Epochs[0].Model)
	}
	if _, err := LoadTeacher(filepath.Join(dir, "missing.klnn")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestRunBadConfig(t *testing.T) {
	data := smallData(t)
	tests := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Temperature = 0 }, "temperature = 0"},
		{func(c *Config) { c.Alpha = 1.5 }, "alpha = 1.5"},
		{func(c *Config) { c.Epochs = -1 }, "epochs = -1"},
		{func(c *Config) { c.StudentHidden = []int{0} }, "student-hidden[0] = 0"},
		{func(c *Config) { c.Batch = 601 }, "batch = 601"},
		{func(c *Config) { c.LR = math.Inf(1) }, "lr = +Inf"},
	}
	for _, tc := range tests {
		cfg := smallConfig(1)
		tc.mod(&cfg)
		if _, err := Run(data, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

func TestAccuracy(t *testing.T) {
	logits := []float64{0, 1, 0, 2, 0, 0, 0, 0, 3}
	if got := Accuracy(logits, []int{1, 0, 1}, 3); math.Abs(got-2.0/3) > 1e-15 {
		t.Fatalf("Accuracy = %v, want 2/3", got)
	}
}
