package rlhf_test

import (
	"fmt"

	"klppo/experiments/rlhf"
)

// The reviews language: its exact entropy, the probability of one sentence, and the gold
// reward inside and outside the language.
func Example() {
	g, err := rlhf.Reviews()
	if err != nil {
		fmt.Println(err)
		return
	}
	gold, err := rlhf.NewGold(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	h, meanLen := g.Entropy()
	fmt.Printf("%d words, H(P) = %.4f nats per sentence, E|x| = %.3f tokens\n", g.V(), h, meanLen)
	for _, s := range []string{
		"the food was very good .",
		"the food was good but the staff was rude .",
		"the food was great great great .",
	} {
		x, err := g.Parse(s)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-44q in language %-5v gold %+.3f\n", s, g.Accepts(x), gold.Score(x))
	}
	// Output:
	// 25 words, H(P) = 8.4186 nats per sentence, E|x| = 7.602 tokens
	// "the food was very good ."                   in language true  gold +1.000
	// "the food was good but the staff was rude ." in language true  gold -0.200
	// "the food was great great great ."           in language false gold -1.000
}

// Best-of-n over a discrete distribution: the exact distribution of the reward model's favourite
// among n draws, and its KL to the base distribution against the bound ln n − (n−1)/n.
func ExampleBoNDistribution() {
	p := []float64{0.5, 0.3, 0.2} // base probabilities
	r := []float64{0, 1, 2}       // rewards (no ties)
	q, err := rlhf.BoNDistribution(p, r, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("π_bon = %.2f, bound %.4f\n", q, rlhf.BoNBound(2))
	// Output:
	// π_bon = [0.25 0.39 0.36], bound 0.1931
}

// Two prompts, two completions each: GRPO centres each group on its mean and divides by its
// standard deviation (Dr. GRPO does not); RLOO's baseline is the other completion's reward.
func ExampleGroupAdvantages() {
	rewards := []float64{1, 0, 0.5, 0.5} // prompt 1: 1 and 0; prompt 2: a tie
	grpo, _ := rlhf.GroupAdvantages(rewards, 2, true)
	drgrpo, _ := rlhf.GroupAdvantages(rewards, 2, false)
	rloo, _ := rlhf.LeaveOneOut(rewards, 2)
	fmt.Printf("GRPO %.3f\nDr. GRPO %.3f\nRLOO %.3f\n", grpo, drgrpo, rloo)
	// Output:
	// GRPO [0.707 -0.707 0.000 0.000]
	// Dr. GRPO [0.500 -0.500 0.000 0.000]
	// RLOO [1.000 -1.000 0.000 0.000]
}
