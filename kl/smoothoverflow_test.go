package kl

import (
	"errors"
	"testing"
)

// TestSmoothOverflowNamesEps: when ε·K itself overflows float64 the error is about eps (the
// caller's smoothing), not about the weights, whose sum is finite (klppo kl --smooth 1e308
// blamed --p); weights whose own sum overflows still name the weights.
func TestSmoothOverflowNamesEps(t *testing.T) {
	var ae *ArgError
	if _, err := Smooth([]float64{0.5, 0.5}, 1e308); !errors.As(err, &ae) || ae.Arg != "eps" {
		t.Errorf("Smooth(p, 1e308): %v, want an ArgError on eps", err)
	}
	if _, err := Smooth([]float64{1e308, 1e308}, 1); !errors.As(err, &ae) || ae.Arg != "w" || ae.Of != "sum" {
		t.Errorf("Smooth(huge weights, 1): %v, want an ArgError on sum(w)", err)
	}
	if q, err := Smooth([]float64{1, 0}, 1e300); err != nil || q[0] != 0.5 || q[1] != 0.5 {
		t.Errorf("Smooth(p, 1e300) = %v, %v; want the uniform distribution", q, err)
	}
	_, _, err := CategoricalSpec{Name: "p", Probs: []float64{0.5, 0.5}, Smooth: 1e308}.Resolve()
	if !errors.As(err, &ae) || ae.Arg != "smooth" {
		t.Errorf("Resolve with smooth 1e308: %v, want an ArgError on smooth", err)
	}
}
