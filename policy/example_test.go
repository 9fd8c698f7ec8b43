package policy_test

import (
	"fmt"
	"math"

	"klppo/policy"
)

func ExampleCategoricalKL() {
	// KL between the biased coin (0.7, 0.3) and the fair coin, from logits.
	p := []float64{math.Log(0.7), math.Log(0.3)}
	q := []float64{0, 0}
	fmt.Printf("%.7f nats\n", policy.CategoricalKL(p, q, make([]float64, 2), make([]float64, 2)))
	// Output: 0.0822829 nats
}
