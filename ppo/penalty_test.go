package ppo

import (
	"math"
	"strings"
	"testing"
)

func TestParsePenalty(t *testing.T) {
	for _, tc := range []struct {
		spec   string
		kind   PenaltyKind
		value  float64
		stop   float64
		canon  string
		errHas string
	}{
		{spec: "clip:0.2", kind: PenaltyClip, value: 0.2, canon: "clip:0.2"},
		{spec: "kl-fixed:1", kind: PenaltyKLFixed, value: 1, canon: "kl-fixed:1"},
		{spec: "kl-adaptive:0.01", kind: PenaltyKLAdaptive, value: 0.01, canon: "kl-adaptive:0.01"},
		{spec: "kl-prop:0.01", kind: PenaltyKLProp, value: 0.01, canon: "kl-prop:0.01"},
		{spec: "none", kind: PenaltyNone, canon: "none"},
		{spec: "clip:0.2+stop:0.02", kind: PenaltyClip, value: 0.2, stop: 0.02, canon: "clip:0.2+stop:0.02"},
		{spec: "none+stop:0.015", kind: PenaltyNone, stop: 0.015, canon: "none+stop:0.015"},
		{spec: "kl-fixed:1e+1", kind: PenaltyKLFixed, value: 10, canon: "kl-fixed:10"},
		{spec: "kl-fixed:1e+30+stop:1e+1", kind: PenaltyKLFixed, value: 1e30, stop: 10, canon: "kl-fixed:1e+30+stop:10"},
		{spec: " kl-adaptive:1e-2 ", kind: PenaltyKLAdaptive, value: 0.01, canon: "kl-adaptive:0.01"},
		{spec: "", errHas: "empty"},
		{spec: "clip", errHas: "needs a value"},
		{spec: "clip:1.5", errHas: "(0, 1)"},
		{spec: "clip:-0.2", errHas: "> 0"},
		{spec: "kl-fixed:abc", errHas: "not a number"},
		{spec: "kl-fixed:NaN", errHas: "finite"},
		{spec: "none:1", errHas: "no value"},
		{spec: "trust-region:0.1", errHas: "unknown kind"},
		{spec: "clip:0.2+halt:0.1", errHas: "unknown suffix"},
		{spec: "clip:0.2+stop:0", errHas: "> 0"},
	} {
		p, err := ParsePenalty(tc.spec)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("ParsePenalty(%q) error = %v, want one containing %q", tc.spec, err, tc.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePenalty(%q): %v", tc.spec, err)
			continue
		}
		if p.Kind != tc.kind || p.Value != tc.value || p.StopKL != tc.stop {
			t.Errorf("ParsePenalty(%q) = %+v", tc.spec, p)
		}
		if p.String() != tc.canon {
			t.Errorf("ParsePenalty(%q).String() = %q, want %q", tc.spec, p.String(), tc.canon)
		}
		q, err := ParsePenalty(p.String())
		if err != nil || q != p {
			t.Errorf("round trip of %q: %+v, %v", p.String(), q, err)
		}
		if p.UsesBeta() != (tc.kind == PenaltyKLFixed || tc.kind == PenaltyKLAdaptive || tc.kind == PenaltyKLProp) {
			t.Errorf("%q UsesBeta = %v", tc.spec, p.UsesBeta())
		}
	}
}

// TestAdaptiveBetaRule walks the PPO paper's rule step by step with d_targ = 0.01:
// below 0.01/1.5 halves β, above 0.015 doubles it, in between leaves it.
func TestAdaptiveBetaRule(t *testing.T) {
	p, _ := ParsePenalty("kl-adaptive:0.01")
	beta := p.InitialBeta(1)
	steps := []struct{ d, want float64 }{
		{0.001, 0.5},   // d < 0.00667 → β/2
		{0.005, 0.25},  // still below
		{0.0067, 0.25}, // just above d_targ/1.5: unchanged
		{0.01, 0.25},   // on target
		{0.015, 0.25},  // exactly 1.5·d_targ: not above, unchanged
		{0.0151, 0.5},  // above → 2β
		{0.1, 1},
		{math.NaN(), 1}, // non-finite KL leaves β alone
	}
	for i, s := range steps {
		beta = mustController(t, p, 10000, 0, math.Inf(1)).Next(beta, s.d, 512)
		if beta != s.want {
			t.Fatalf("step %d (d=%v): β = %v, want %v", i, s.d, beta, s.want)
		}
	}
}

// TestPropBetaRule checks TRL's proportional controller: e = clip(d/d_targ − 1, ±0.2),
// β ← β(1 + e·n/horizon).
func TestPropBetaRule(t *testing.T) {
	p, _ := ParsePenalty("kl-prop:0.01")
	beta := p.InitialBeta(0.2)
	if beta != 0.2 {
		t.Fatalf("initial β = %v", beta)
	}
	steps := []struct{ d, e float64 }{
		{0.011, 0.1},  // 10% above target
		{0.009, -0.1}, // 10% below
		{0.5, 0.2},    // clipped at +0.2
		{0, -0.2},     // clipped at −0.2
		{0.01, 0},     // on target
	}
	for i, s := range steps {
		want := beta * (1 + s.e*512/10000)
		beta = mustController(t, p, 10000, 0, math.Inf(1)).Next(beta, s.d, 512)
		if math.Abs(beta-want) > 1e-15 {
			t.Fatalf("step %d: β = %v, want %v", i, beta, want)
		}
	}
}

func TestFixedAndClipBeta(t *testing.T) {
	f, _ := ParsePenalty("kl-fixed:3")
	if b := f.InitialBeta(1); b != 3 {
		t.Fatalf("kl-fixed:3 initial β = %v", b)
	}
	if b := mustController(t, f, 1e4, 0, 1).Next(3, 100, 512); b != 3 {
		t.Fatalf("kl-fixed β moved to %v", b)
	}
	c, _ := ParsePenalty("clip:0.2")
	if b := c.InitialBeta(1); b != 0 {
		t.Fatalf("clip initial β = %v, want 0", b)
	}
}

func mustController(t *testing.T, p Penalty, horizon, betaMin, betaMax float64) BetaController {
	t.Helper()
	c, err := p.BetaController(horizon, betaMin, betaMax)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestNewBetaControllerRefuses: each bad parameter is named.
func TestNewBetaControllerRefuses(t *testing.T) {
	for _, tc := range []struct {
		rule                              BetaRule
		target, horizon, betaMin, betaMax float64
		want                              string
	}{
		{"pid", 1, 1, 0, 1, "β rule"},
		{BetaAdaptive, 0, 1, 0, 1, "target"},
		{BetaProp, math.Inf(1), 1, 0, 1, "target"},
		{BetaProp, 1, 0, 0, 1, "horizon"},
		{BetaAdaptive, 1, 1, -1, 1, "beta_min"},
		{BetaAdaptive, 1, 1, 2, 1, "beta_max"},
	} {
		_, err := NewBetaController(tc.rule, tc.target, tc.horizon, tc.betaMin, tc.betaMax)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc, err, tc.want)
		}
	}
	c, err := NewBetaController(BetaAdaptive, 0.01, 0, DefaultBetaMin, DefaultBetaMax)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Next(DefaultBetaMin, 0, 1); got != DefaultBetaMin {
		t.Errorf("adaptive β at its floor after a zero KL: %v, want the floor %v", got, DefaultBetaMin)
	}
	if got := c.Next(1, 1, 1); got != 2 {
		t.Errorf("adaptive β after KL 100·target: %v, want 2", got)
	}
}
