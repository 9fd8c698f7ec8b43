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

// Shard 2 of 3 of a sweep of 2 settings × 3 seeds: the runs, in the seed-major order a sweep
// starts them, are dealt round-robin, so shard 2 gets runs 1 and 4 (counting from 0).
func ExampleShard_Runs() {
	s := experiments.Sweep{Env: "CartPole-v1", Penalties: []string{"clip:0.2", "kl-fixed:1"}, Seeds: experiments.SeedRange(3), Steps: 1000}
	sh, err := experiments.ParseShard("2/3")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range sh.Runs(s) {
		fmt.Println(experiments.RunDir(r.Setting, r.Seed))
	}
	// Output:
	// kl-fixed_1/seed-1
	// clip_0.2/seed-3
}
