package ppo

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestMeasureKLConstraint: hand-made updates against d_targ = 0.01 (band [0.00667, 0.015]) and β
// bounds [1e-4, 1e4], the band's edges and the bounds included.
func TestMeasureKLConstraint(t *testing.T) {
	pen, err := ParsePenalty("kl-adaptive:0.01")
	if err != nil {
		t.Fatal(err)
	}
	ms := []UpdateMetrics{
		{KL: 0.001, Beta: 1},          // below, active
		{KL: 0.01 / 1.5, Beta: 0.5},   // on the lower edge: in the band (the rule keeps β)
		{KL: 0.01, Beta: 0.5},         // in
		{KL: 0.015, Beta: 1e-4},       // on the upper edge: in; β on the floor
		{KL: 0.0151, Beta: 1e-4},      // above; floor
		{KL: 0.08, Beta: 1e4},         // above (8×); ceiling
		{KL: 0.012, Beta: 1e-4 * 1.5}, // in; just off the floor
		{KL: 0, Beta: 3},              // below
	}
	k := MeasureKLConstraint(ms, pen, 1e-4, 1e4)
	want := KLConstraint{Target: 0.01, Updates: 8, KLInBandFrac: 4.0 / 8, KLBelowBandFrac: 2.0 / 8, KLAboveBandFrac: 2.0 / 8,
		KLMaxOverTarget: 8, BetaActiveFrac: 5.0 / 8, BetaFloorFrac: 2.0 / 8, BetaCeilingFrac: 1.0 / 8}
	if math.Abs(k.KLMaxOverTarget-want.KLMaxOverTarget) > 1e-12 {
		t.Fatalf("max over target %v, want 8", k.KLMaxOverTarget)
	}
	k.KLMaxOverTarget = want.KLMaxOverTarget
	if k != want {
		t.Fatalf("MeasureKLConstraint =\n%+v, want\n%+v", k, want)
	}
	s := k.Describe(pen, 1e-4, 1e4)
	for _, w := range []string{"band [0.00667, 0.015]", "in the band in 50 % of the 8 updates", "below it in 25 %", "above it in 25 %",
		"8.0× d_targ", "β was off its floor 0.0001 and ceiling 10000 in 62 % of the updates", "on the floor in 25 %", "on the ceiling in 12 %"} {
		if !strings.Contains(s, w) {
			t.Errorf("Describe lacks %q:\n%s", w, s)
		}
	}

	// kl-prop has a target too; the band is the same.
	prop, _ := ParsePenalty("kl-prop:0.01")
	if kp := MeasureKLConstraint(ms, prop, 1e-4, 1e4); kp.KLInBandFrac != 0.5 || kp.BetaActiveFrac != 5.0/8 {
		t.Fatalf("kl-prop: %+v", kp)
	}

	// A run whose KL never reaches the target: β halves to its floor and stays there.
	var low []UpdateMetrics
	beta := 1.0
	rule, err := pen.BetaController(1e4, 1e-4, 1e4)
	if err != nil {
		t.Fatal(err)
	}
	for range 40 {
		low = append(low, UpdateMetrics{KL: 0.0005, Beta: beta})
		beta = rule.Next(beta, 0.0005, 512)
	}
	kl := MeasureKLConstraint(low, pen, 1e-4, 1e4)
	// β = 1, 1/2, …, 2^-13 > 1e-4 are 14 updates off the floor; the other 26 sit on it.
	if kl.KLInBandFrac != 0 || kl.KLBelowBandFrac != 1 || kl.BetaActiveFrac != 14.0/40 || kl.BetaFloorFrac != 26.0/40 {
		t.Fatalf("KL always below target: %+v", kl)
	}
	if d := kl.Describe(pen, 1e-4, 1e4); !strings.Contains(d, "switched off in effect") {
		t.Fatalf("Describe of a run on the floor:\n%s", d)
	}

	// A run the penalty holds: 3 of 5 updates in the band, β never on a bound.
	held := []UpdateMetrics{{KL: 0.001, Beta: 1}, {KL: 0.01, Beta: 0.5}, {KL: 0.012, Beta: 0.5}, {KL: 0.03, Beta: 0.5}, {KL: 0.009, Beta: 1}}
	kh := MeasureKLConstraint(held, pen, 1e-4, 1e4)
	if kh.KLInBandFrac != 0.6 || kh.BetaActiveFrac != 1 || kh.KLMaxOverTarget != 3 {
		t.Fatalf("held: %+v", kh)
	}
	if d := kh.Describe(pen, 1e-4, 1e4); !strings.Contains(d, "The penalty did the work") || !strings.Contains(d, "in the band in 60 % of the 5 updates") {
		t.Fatalf("Describe of a run the penalty holds:\n%s", d)
	}
}

// TestKLConstraintWithoutTarget: clip, kl-fixed and none (with or without +stop) have no target:
// every fraction is NaN, written as null in summary.json and read back as NaN.
func TestKLConstraintWithoutTarget(t *testing.T) {
	ms := []UpdateMetrics{{KL: 0.01, Beta: 1}, {KL: 0.02, Beta: 1}}
	for _, spec := range []string{"clip:0.2", "kl-fixed:1", "none", "clip:0.2+stop:0.02"} {
		pen, err := ParsePenalty(spec)
		if err != nil {
			t.Fatal(err)
		}
		k := MeasureKLConstraint(ms, pen, 1e-4, 1e4)
		for name, v := range map[string]float64{"target": k.Target, "in band": k.KLInBandFrac, "below": k.KLBelowBandFrac, "above": k.KLAboveBandFrac,
			"max": k.KLMaxOverTarget, "active": k.BetaActiveFrac, "floor": k.BetaFloorFrac, "ceiling": k.BetaCeilingFrac} {
			if !math.IsNaN(v) {
				t.Errorf("%s: %s = %v, want NaN", spec, name, v)
			}
		}
		if k.Updates != 2 {
			t.Errorf("%s: %d updates", spec, k.Updates)
		}
		if d := k.Describe(pen, 1e-4, 1e4); !strings.Contains(d, "no KL target") {
			t.Errorf("%s: Describe = %q", spec, d)
		}
		b, err := json.Marshal(Summary{Penalty: spec, Updates: 2, Constraint: k})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"kl_target", "kl_in_band_frac", "kl_max_over_target", "beta_active_frac", "beta_floor_frac"} {
			if !strings.Contains(string(b), `"`+key+`":null`) {
				t.Errorf("%s: summary.json lacks %s: null: %s", spec, key, b)
			}
		}
	}
}

// TestSummaryJSONConstraint: the fields round-trip through summary.json; a summary written before
// they existed reads them as NaN.
func TestSummaryJSONConstraint(t *testing.T) {
	s := Summary{EnvID: "CartPole-v1", Penalty: "kl-adaptive:0.01", Updates: 4, FinalReturn: 500, SolvedThreshold: 475,
		Constraint: KLConstraint{Target: 0.01, Updates: 4, KLInBandFrac: 0.5, KLBelowBandFrac: 0.25, KLAboveBandFrac: 0.25,
			KLMaxOverTarget: 3.5, BetaActiveFrac: 0.75, BetaFloorFrac: 0.25, BetaCeilingFrac: 0}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"kl_in_band_frac":0.5`, `"beta_active_frac":0.75`, `"kl_max_over_target":3.5`, `"kl_target":0.01`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("summary.json lacks %s: %s", w, b)
		}
	}
	var r Summary
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Constraint != s.Constraint {
		t.Fatalf("round trip: %+v, want %+v", r.Constraint, s.Constraint)
	}
	if err := json.Unmarshal([]byte(`{"env_id":"CartPole-v1","penalty":"kl-adaptive:0.01","updates":3}`), &r); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Constraint.KLInBandFrac) || !math.IsNaN(r.Constraint.BetaActiveFrac) {
		t.Fatalf("old summary: %+v", r.Constraint)
	}
}
