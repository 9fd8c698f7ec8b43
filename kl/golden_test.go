package kl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
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
