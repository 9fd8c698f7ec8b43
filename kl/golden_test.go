package kl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"klppo/internal/golden"
)

// goldenCase is one case of golden/kl.json: kind, the parameters under the kind's names, kl_nats.
type goldenCase struct {
	Kind    string          `json:"kind"`
	P       json.RawMessage `json:"p"` // a vector (categorical, JS) or a scalar (bernoulli)
	Q       json.RawMessage `json:"q"`
	PLogits []float64       `json:"p_logits"`
	QLogits []float64       `json:"q_logits"`
	MuP     json.RawMessage `json:"mu_p"` // scalar (normal) or vector (diag_normal)
	SigmaP  json.RawMessage `json:"sigma_p"`
	MuQ     json.RawMessage `json:"mu_q"`
	SigmaQ  json.RawMessage `json:"sigma_q"`
	Mu      []float64       `json:"mu"`
	Logvar  []float64       `json:"logvar"`
	AlphaP  json.RawMessage `json:"alpha_p"` // scalar (beta) or vector (dirichlet)
	BetaP   float64         `json:"beta_p"`
	AlphaQ  json.RawMessage `json:"alpha_q"`
	BetaQ   float64         `json:"beta_q"`
	RateP   float64         `json:"rate_p"`
	RateQ   float64         `json:"rate_q"`
	ShapeP  float64         `json:"shape_p"`
	ShapeQ  float64         `json:"shape_q"`
	KLNats  json.RawMessage `json:"kl_nats"` // a number or "+Inf"
}

// loadGolden reads ../shared/golden/kl.json from the repo root, or else testdata/kl.json; it
// fails (never skips) if neither exists.
func loadGolden(t testing.TB) ([]goldenCase, string) {
	t.Helper()
	b, path, err := golden.Read("kl.json", "kl/testdata/kl.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc.Cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return doc.Cases, path
}

func mustNum(t testing.TB, raw json.RawMessage) float64 {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "+Inf":
			return math.Inf(1)
		case "-Inf":
			return math.Inf(-1)
		}
		t.Fatalf("unexpected string %q", s)
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

func mustVec(t testing.TB, raw json.RawMessage) []float64 {
	t.Helper()
	var v []float64
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

// goldenKL evaluates one golden case with the package's functions.
func goldenKL(t testing.TB, c goldenCase) (float64, error) {
	t.Helper()
	switch c.Kind {
	case "categorical_probs":
		return KL(mustVec(t, c.P), mustVec(t, c.Q))
	case "categorical_logits":
		return KLLogits(c.PLogits, c.QLogits)
	case "jensen_shannon":
		return JS(mustVec(t, c.P), mustVec(t, c.Q))
	case "normal":
		return Normal{mustNum(t, c.MuP), mustNum(t, c.SigmaP)}.KL(Normal{mustNum(t, c.MuQ), mustNum(t, c.SigmaQ)})
	case "diag_normal":
		p := DiagNormal{Mu: mustVec(t, c.MuP), Sigma: mustVec(t, c.SigmaP)}
		return p.KL(DiagNormal{Mu: mustVec(t, c.MuQ), Sigma: mustVec(t, c.SigmaQ)})
	case "vae_standard_normal":
		return VAEPriorKL(c.Mu, c.Logvar)
	case "bernoulli":
		return Bernoulli{mustNum(t, c.P)}.KL(Bernoulli{mustNum(t, c.Q)})
	case "beta":
		return Beta{mustNum(t, c.AlphaP), c.BetaP}.KL(Beta{mustNum(t, c.AlphaQ), c.BetaQ})
	case "dirichlet":
		return Dirichlet{mustVec(t, c.AlphaP)}.KL(Dirichlet{mustVec(t, c.AlphaQ)})
	case "poisson":
		return Poisson{c.RateP}.KL(Poisson{c.RateQ})
	case "exponential":
		return Exponential{c.RateP}.KL(Exponential{c.RateQ})
	case "gamma":
		return Gamma{c.ShapeP, c.RateP}.KL(Gamma{c.ShapeQ, c.RateQ})
	}
	return 0, fmt.Errorf("unknown kind %q", c.Kind)
}

// closeRel reports whether got matches want to rel relative tolerance (infinities must be equal).
func closeRel(got, want, rel float64) bool {
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return got == want
	}
	if math.IsNaN(got) || math.IsNaN(want) {
		return false
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestGolden(t *testing.T) {
	cases, path := loadGolden(t)
	t.Logf("%d cases from %s", len(cases), path)
	kinds := map[string]int{}
	for i, c := range cases {
		want := mustNum(t, c.KLNats)
		got, err := goldenKL(t, c)
		if err != nil {
			t.Errorf("case %d (%s): %v", i, c.Kind, err)
			continue
		}
		kinds[c.Kind]++
		if !closeRel(got, want, 1e-9) {
			t.Errorf("case %d (%s): got %.17g, want %.17g (rel %.3g)", i, c.Kind, got, want, math.Abs(got-want)/math.Abs(want))
		}
	}
	if len(kinds) != 12 {
		t.Errorf("golden kinds covered: %v, want all 12", kinds)
	}
}

// TestGoldenTestdataCopy checks that the testdata copy is the shared file when both exist.
func TestGoldenTestdataCopy(t *testing.T) {
	local, err := os.ReadFile(filepath.Join("testdata", "kl.json"))
	if err != nil {
		t.Fatalf("testdata/kl.json: %v", err)
	}
	sharedPath, err := golden.SharedPath("kl.json")
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(sharedPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Log("shared golden absent; the testdata copy is used")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(local) != string(shared) {
		t.Error("kl/testdata/kl.json differs from ../shared/golden/kl.json: refresh the copy")
	}
}

// highPrecCase is one case of testdata/highprec.json (made by testdata/gen_highprec.py with
// mpmath): the parameters of P and Q in the order of the Go struct fields (probabilities or
// logits for the categorical kinds) and the divergence as a decimal string or "+Inf".
type highPrecCase struct {
	Kind string    `json:"kind"`
	Name string    `json:"name"`
	P    []float64 `json:"p"`
	Q    []float64 `json:"q"`
	KL   string    `json:"kl"`
}

// highPrecTol is the acceptance bound of issue 9: relative error ≤ 1e-9 wherever the result is
// representable (the file holds no result below the smallest normal float64).
const highPrecTol = 1e-9

// highPrecKinds are the kinds the file must cover, each with this package's function.
var highPrecKinds = map[string]func(p, q []float64) (float64, error){
	"kl":        func(p, q []float64) (float64, error) { return KL(p, q) },
	"js":        func(p, q []float64) (float64, error) { return JS(p, q) },
	"kl_logits": func(p, q []float64) (float64, error) { return KLLogits(p, q) },
	"js_logits": func(p, q []float64) (float64, error) { return JSLogits(p, q) },
	"beta":      func(p, q []float64) (float64, error) { return Beta{p[0], p[1]}.KL(Beta{q[0], q[1]}) },
	"dirichlet": func(p, q []float64) (float64, error) { return Dirichlet{p}.KL(Dirichlet{q}) },
	"gamma":     func(p, q []float64) (float64, error) { return Gamma{p[0], p[1]}.KL(Gamma{q[0], q[1]}) },
	"poisson":   func(p, q []float64) (float64, error) { return Poisson{p[0]}.KL(Poisson{q[0]}) },
	"exponential": func(p, q []float64) (float64, error) {
		return Exponential{p[0]}.KL(Exponential{q[0]})
	},
	"normal": func(p, q []float64) (float64, error) { return Normal{p[0], p[1]}.KL(Normal{q[0], q[1]}) },
	"normal_logsigma": func(p, q []float64) (float64, error) {
		return DiagNormal{Mu: p[:1], LogSigma: p[1:]}.KL(DiagNormal{Mu: q[:1], LogSigma: q[1:]})
	},
	"bernoulli": func(p, q []float64) (float64, error) { return Bernoulli{p[0]}.KL(Bernoulli{q[0]}) },
}

// loadHighPrec reads testdata/highprec.json (this package's own reference data; it has no copy
// in ../shared/golden) and parses every reference value.
func loadHighPrec(t testing.TB) ([]highPrecCase, []float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "highprec.json"))
	if err != nil {
		t.Fatalf("%v (regenerate with: python3 kl/testdata/gen_highprec.py > kl/testdata/highprec.json)", err)
	}
	var doc struct {
		Command string         `json:"command"`
		Cases   []highPrecCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("testdata/highprec.json: %v", err)
	}
	want := make([]float64, len(doc.Cases))
	for i, c := range doc.Cases {
		v, err := strconv.ParseFloat(c.KL, 64)
		if err != nil || highPrecKinds[c.Kind] == nil {
			t.Fatalf("testdata/highprec.json case %d (%s %q): kind or value %q not understood (%v)", i, c.Kind, c.Name, c.KL, err)
		}
		want[i] = v
	}
	return doc.Cases, want
}

// relErr is |got − want|/|want|, 0 when both are the same infinity, +Inf for NaN.
func relErr(got, want float64) float64 {
	switch {
	case math.IsNaN(got):
		return math.Inf(1)
	case got == want:
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestHighPrec checks every case of testdata/highprec.json — nearly disjoint categoricals,
// huge and nearly equal concentrations, overflowing and underflowing parameters — against its
// mpmath reference to 1e-9 relative error, and logs the worst error of each kind.
func TestHighPrec(t *testing.T) {
	cases, want := loadHighPrec(t)
	worst := map[string]float64{}
	count := map[string]int{}
	for i, c := range cases {
		got, err := highPrecKinds[c.Kind](c.P, c.Q)
		if err != nil {
			t.Errorf("%s %q: %v", c.Kind, c.Name, err)
			continue
		}
		e := relErr(got, want[i])
		count[c.Kind]++
		worst[c.Kind] = math.Max(worst[c.Kind], e)
		if !(e <= highPrecTol) {
			t.Errorf("%s %q: P=%v Q=%v: got %.17g, want %s (relative error %.2g)", c.Kind, c.Name, c.P, c.Q, got, c.KL, e)
		}
	}
	for kind := range highPrecKinds {
		if count[kind] < 5 {
			t.Errorf("testdata/highprec.json has %d %s cases, want ≥ 5", count[kind], kind)
		}
		t.Logf("%-16s %3d cases, worst relative error %.2g", kind, count[kind], worst[kind])
	}
}
