package policy

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/kl"
	"klppo/nn"
)

func testConfig(discrete bool, dtype string) Config {
	c := Config{ObsDim: 4, Hidden: []int{8, 8}, Activation: "tanh", DType: dtype}
	if discrete {
		c.Discrete, c.NumActions = true, 3
	} else {
		c.ActDim, c.ActLow, c.ActHigh, c.InitLogStd = 2, []float64{-2, -2}, []float64{2, 2}, -0.5
	}
	return c
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"obs_dim", func(c *Config) { c.ObsDim = 0 }},
		{"num_actions", func(c *Config) { c.NumActions = 1 }},
		{"dtype", func(c *Config) { c.DType = "int8" }},
		{"activation", func(c *Config) { c.Activation = "gelu" }},
	} {
		c := testConfig(true, "float32")
		tc.edit(&c)
		if _, err := New(rand.New(rand.NewPCG(1, 1)), c); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: New error = %v", tc.field, err)
		}
	}
}

// TestInitialisation checks CleanRL's init: orthogonal hidden layers with gain √2 (WᵀW = 2I for
// the square 8×8 layer), a near-uniform policy head (gain 0.01), zero biases, and that the same
// seed gives the same weights.
func TestInitialisation(t *testing.T) {
	a, _ := New(rand.New(rand.NewPCG(3, 4)), testConfig(true, "float64"))
	b, _ := New(rand.New(rand.NewPCG(3, 4)), testConfig(true, "float64"))
	w1 := a.Pi.Params()[2].Data().([]float64) // 8×8
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			s := 0.0
			for k := 0; k < 8; k++ {
				s += w1[k*8+i] * w1[k*8+j]
			}
			want := 0.0
			if i == j {
				want = 2
			}
			if math.Abs(s-want) > 1e-9 {
				t.Fatalf("(WᵀW)[%d][%d] = %v, want %v", i, j, s, want)
			}
		}
	}
	for i, p := range a.Params() {
		pa, pb := p.Data().([]float64), b.Params()[i].Data().([]float64)
		for j := range pa {
			if pa[j] != pb[j] {
				t.Fatalf("param %d differs between two builds with the same seed", i)
			}
		}
	}
	act := NewActor(a)
	out, err := act.Act([]float64{0.1, -0.2, 0.03, 0.5}, 1, nil, true, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range out.Dist {
		if math.Abs(l) > 0.05 {
			t.Fatalf("policy head gain 0.01 should give near-zero logits, got %v", out.Dist)
		}
	}
}

// TestActSampling checks that sampled categorical actions follow softmax(logits) and that the
// returned log-probabilities match kl's LogSoftmax; Gaussian samples have the policy's mean
// and standard deviation.
func TestActSampling(t *testing.T) {
	ac, _ := New(rand.New(rand.NewPCG(5, 6)), testConfig(true, "float64"))
	for _, p := range ac.PolicyParams() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.5 * math.Sin(float64(i))
		}
	}
	obs := []float64{0.3, -0.1, 0.2, 0.4}
	const n = 40000
	batch := make([]float64, 0, n*4)
	for i := 0; i < n; i++ {
		batch = append(batch, obs...)
	}
	actor := NewActor(ac)
	out, err := actor.Act(batch, n, rand.New(rand.NewPCG(9, 9)), false, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kl.LogSoftmax(out.Dist[:3])
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]float64, 3)
	for r := 0; r < n; r++ {
		a := int(out.Actions[r])
		counts[a]++
		if math.Abs(out.LogP[r]-want[a]) > 1e-12 {
			t.Fatalf("logp %v, kl.LogSoftmax %v", out.LogP[r], want[a])
		}
	}
	for k := range counts {
		p := math.Exp(want[k])
		if f := counts[k] / n; math.Abs(f-p) > 4*math.Sqrt(p*(1-p)/n) {
			t.Fatalf("action %d frequency %v, probability %v", k, f, p)
		}
	}
	det, _ := actor.Act(obs, 1, nil, true, false)
	best := 0
	for k := range want {
		if want[k] > want[best] {
			best = k
		}
	}
	if int(det.Actions[0]) != best {
		t.Fatalf("deterministic action %v, argmax %d", det.Actions[0], best)
	}

	g, _ := New(rand.New(rand.NewPCG(5, 6)), testConfig(false, "float64"))
	ga := NewActor(g)
	out, err = ga.Act(batch, n, rand.New(rand.NewPCG(1, 2)), false, true)
	if err != nil {
		t.Fatal(err)
	}
	sigma := math.Exp(-0.5)
	for j := 0; j < 2; j++ {
		m, v := 0.0, 0.0
		for r := 0; r < n; r++ {
			m += out.Actions[r*2+j]
		}
		m /= n
		for r := 0; r < n; r++ {
			d := out.Actions[r*2+j] - m
			v += d * d
		}
		sd := math.Sqrt(v / n)
		if math.Abs(m-out.Dist[j]) > 4*sigma/math.Sqrt(n) || math.Abs(sd-sigma) > 0.02 {
			t.Fatalf("dim %d: sample mean %v sd %v, want %v %v", j, m, sd, out.Dist[j], sigma)
		}
	}
	if len(out.Values) != n {
		t.Fatalf("%d values for %d states", len(out.Values), n)
	}
	// Env actions are clipped to the Box.
	out.Actions[0] = 5
	if ea := ga.EnvAction(out, 0); ea[0] != 2 {
		t.Fatalf("EnvAction did not clip 5 to the bound 2: %v", ea)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		discrete bool
		dtype    string
	}{{true, "float32"}, {false, "float64"}} {
		ac, _ := New(rand.New(rand.NewPCG(1, 2)), testConfig(tc.discrete, tc.dtype))
		path := filepath.Join(t.TempDir(), "ck")
		c, err := ac.Snapshot([]Array{{Name: "extra", Values: []float64{1.5, math.Pi, -0}}}, map[string]int{"update": 7})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteCheckpoint(path, c); err != nil {
			t.Fatal(err)
		}
		r, err := ReadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Load(r)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ac.Params() {
			a, b := nn.Float64s(p, nil), nn.Float64s(back.Params()[i], nil)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("param %d[%d]: %v → %v", i, j, a[j], b[j])
				}
			}
		}
		if e := r.Array("extra"); len(e) != 3 || e[1] != math.Pi {
			t.Fatalf("extra array: %v", e)
		}
		if string(r.Meta) != `{"update":7}` {
			t.Fatalf("meta: %s", r.Meta)
		}
	}
}

func TestCheckpointCorruptAndMismatched(t *testing.T) {
	ac, _ := New(rand.New(rand.NewPCG(1, 2)), testConfig(true, "float32"))
	dir := t.TempDir()
	path := filepath.Join(dir, "ck")
	c, _ := ac.Snapshot(nil, nil)
	if err := WriteCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name string
		data []byte
		msg  string
	}{
		{"flipped byte", func() []byte { b := append([]byte(nil), good...); b[len(b)/2] ^= 0x40; return b }(), "checksum"},
		{"truncated", good[:len(good)-100], "checksum"},
		{"not a checkpoint", []byte("hello, this is not a checkpoint file at all"), "bad magic"},
		{"empty", nil, "bad magic"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, err := ReadCheckpoint(p)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	other, _ := New(rand.New(rand.NewPCG(1, 2)), Config{ObsDim: 4, Hidden: []int{16}, Activation: "tanh", DType: "float32", Discrete: true, NumActions: 3})
	r, _ := ReadCheckpoint(path)
	if err := other.Restore(r); !errors.Is(err, ErrMismatch) {
		t.Fatalf("restoring 8-8 weights into a 16 net: %v", err)
	}
	if _, err := ReadCheckpoint(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file: no error")
	}
}
