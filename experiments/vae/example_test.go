package vae_test

import (
	"fmt"

	"klppo/experiments/vae"
)

// KL warm-up: β rises linearly from 0 to its target over the first epochs.
func ExampleWarmupBeta() {
	for _, p := range []float64{0, 1, 2, 4, 6} {
		fmt.Printf("epoch progress %.0f: β = %.1f\n", p, vae.WarmupBeta(4, 4, p))
	}
	// Output:
	// epoch progress 0: β = 0.0
	// epoch progress 1: β = 1.0
	// epoch progress 2: β = 2.0
	// epoch progress 4: β = 4.0
	// epoch progress 6: β = 4.0
}
