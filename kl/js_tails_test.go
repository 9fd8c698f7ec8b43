package kl

import (
	"math"
	"testing"
)

// JS keeps the term of an outcome that one distribution gives 1e-30 of the other's probability
// (1 − t rounds to 0 there): nearly disjoint P and Q have JS ≈ ln 2, not ½ ln 2.
func TestJSNearlyDisjoint(t *testing.T) {
	js, err := JS([]float64{0.5, 0.5, 1e-30, 0}, []float64{0, 1e-30, 0.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(js-math.Ln2) > 1e-12 {
		t.Errorf("JS = %v, want ln 2 = %v", js, math.Ln2)
	}
}
