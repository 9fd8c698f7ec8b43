package experiments_test

import (
	"fmt"

	"klppo/experiments"
)

// The PPO paper's normalisation: random policy 0, best setting 1.
func ExampleNormalise() {
	// mean returns of three settings on CartPole-v1, random policy 22
	scores := experiments.Normalise([]float64{472, 22, 247}, 22)
	fmt.Printf("%.2f\n", scores)
	// Output: [1.00 0.00 0.50]
}

func ExampleRunDir() {
	fmt.Println(experiments.RunDir("kl-adaptive:0.01", 2))
	// Output: kl-adaptive_0.01/seed-2
}
