package explain

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/kl"
)

// Every page computes its defaults and every example link, and its view marshals to JSON.
func TestPagesCompute(t *testing.T) {
	seen := map[string]bool{}
	for i := range Pages {
		p := &Pages[i]
		if seen[p.Slug] {
			t.Fatalf("slug %q twice", p.Slug)
		}
		seen[p.Slug] = true
		queries := []string{""}
		for _, e := range p.Examples {
			queries = append(queries, e.Query)
		}
		for _, q := range queries {
			given, err := ParseQuery(q)
			if err != nil {
				t.Fatalf("%s?%s: %v", p.Slug, q, err)
			}
			v, err := p.Run(given)
			if err != nil {
				t.Fatalf("%s?%s: %v", p.Slug, q, err)
			}
			if len(v.Values) == 0 || len(v.Charts) == 0 || v.Command == "" || v.Caption == "" {
				t.Errorf("%s?%s: incomplete view %+v", p.Slug, q, v)
			}
			if _, err := json.Marshal(v); err != nil {
				t.Errorf("%s?%s: marshal: %v", p.Slug, q, err)
			}
			for _, val := range v.Values {
				if val.Text != Format(val.V) {
					t.Errorf("%s %s: text %q for %v", p.Slug, val.Name, val.Text, val.V)
				}
			}
		}
	}
}

func value(t *testing.T, slug, query, name string) float64 {
	t.Helper()
	p, ok := Lookup(slug)
	if !ok {
		t.Fatalf("no page %s", slug)
	}
	given, err := ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Run(given)
	if err != nil {
		t.Fatal(err)
	}
	for _, val := range v.Values {
		if val.Name == name {
			return val.V
		}
	}
	t.Fatalf("%s: no value %s", slug, name)
	return 0
}

// The covering fit matches P's mean and variance (the known minimiser of KL(P‖Q) over Gaussians);
// the seeking fit sits on one mode with about the mode's width.
func TestAsymmetryDirections(t *testing.T) {
	const sep, width, w = 6.0, 1.0, 0.3
	q := "sep=6&width=1&w=0.3"
	mean := -(1-w)*sep/2 + w*sep/2
	variance := width*width + (1-w)*math.Pow(-sep/2-mean, 2) + w*math.Pow(sep/2-mean, 2)
	if mu := value(t, "asymmetry", q, "mu_cover"); math.Abs(mu-mean) > 0.02 {
		t.Errorf("covering μ = %v, want P's mean %v", mu, mean)
	}
	if s := value(t, "asymmetry", q, "sigma_cover"); math.Abs(s-math.Sqrt(variance)) > 0.02 {
		t.Errorf("covering σ = %v, want P's sd %v", s, math.Sqrt(variance))
	}
	if mu := value(t, "asymmetry", q, "mu_seek"); math.Abs(mu-(-sep/2)) > 0.1 {
		t.Errorf("seeking μ = %v, want the heavier (left) mode %v", mu, -sep/2)
	}
	if s := value(t, "asymmetry", q, "sigma_seek"); math.Abs(s-width) > 0.1 {
		t.Errorf("seeking σ = %v, want about the mode's width %v", s, width)
	}
}

// The arithmetic coder decodes what it encoded, and its length is within 2 bits + quantisation
// loss of the ideal code length Σ −log2 q(x).
func TestArithmeticCodeRoundTrip(t *testing.T) {
	q := []float64{0.5, 0.25, 0.125, 0.0625, 0.0625}
	m, err := newCodeModel(q)
	if err != nil {
		t.Fatal(err)
	}
	r := newRand(7)
	sym := make([]int, 3000)
	ideal := 0.0
	for i := range sym {
		sym[i] = draw(r, []float64{0.1, 0.2, 0.3, 0.2, 0.2})
		ideal += -math.Log2(q[sym[i]])
	}
	bits, err := m.encode(sym)
	if err != nil {
		t.Fatal(err)
	}
	back, err := m.decode(bits, len(sym))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sym {
		if back[i] != sym[i] {
			t.Fatalf("symbol %d: decoded %d, encoded %d", i, back[i], sym[i])
		}
	}
	if got := float64(len(bits)); got < ideal-1 || got > ideal*1.001+4 {
		t.Errorf("code length %v bits, ideal %v", got, ideal)
	}
}

// The measured extra bits per symbol approach KL(P‖Q)/ln 2.
func TestCompressionMeasuresKL(t *testing.T) {
	q := "lambda=1&n=20000&seed=3"
	want := value(t, "compression", q, "kl_pq_bits")
	got := value(t, "compression", q, "extra_bits")
	if math.Abs(got-want) > 0.05*want {
		t.Errorf("extra bits %v, KL/ln 2 = %v", got, want)
	}
}

// Headline numbers are kl's: the coin's KL is kl.Bernoulli's, formatted as `klppo kl` prints it.
func TestCoinIsKL(t *testing.T) {
	want, err := kl.Bernoulli{P: 0.7}.KL(kl.Bernoulli{P: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if got := value(t, "coin", "p=0.7&q=0.5", "kl_pq"); got != want {
		t.Errorf("coin kl_pq = %v, kl says %v", got, want)
	}
	if !strings.HasPrefix(Format(want), "0.0822") {
		t.Errorf("Format(%v) = %q", want, Format(want))
	}
	if v := value(t, "zeros", "m=0.1", "kl_pq"); !math.IsInf(v, 1) {
		t.Errorf("zeros with m > 0: KL(P‖Q) = %v, want +Inf", v)
	}
	if js := value(t, "gan", "mu_g=8&sigma_g=0.2", "js"); js > math.Ln2 || js < math.Ln2-1e-6 {
		t.Errorf("GAN far apart: JS = %v, want just under ln 2", js)
	}
}

func TestBadArgs(t *testing.T) {
	p, _ := Lookup("coin")
	if _, err := p.Run(map[string]float64{"p": 1.5}); err == nil || !strings.Contains(err.Error(), "p") {
		t.Errorf("p = 1.5: err = %v", err)
	}
	if _, err := p.Run(map[string]float64{"n": 2.5}); err == nil || !strings.Contains(err.Error(), "n = 2.5") {
		t.Errorf("n = 2.5: err = %v", err)
	}
	if _, err := ParseQuery("p=abc"); err == nil || !strings.Contains(err.Error(), "p") {
		t.Errorf("p=abc: err = %v", err)
	}
}

// The "at scale" references name documentation pages that exist in the repository.
func TestAtScaleDocsExist(t *testing.T) {
	for _, p := range Pages {
		for _, s := range p.AtScale {
			if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(s.Doc))); err != nil {
				t.Errorf("%s: at-scale doc %s: %v", p.Slug, s.Doc, err)
			}
			if !strings.HasPrefix(s.Command, "klppo ") {
				t.Errorf("%s: at-scale command %q", p.Slug, s.Command)
			}
		}
	}
}
