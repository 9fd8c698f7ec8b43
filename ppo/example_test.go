package ppo_test

import (
	"fmt"

	"klppo/ppo"
)

func ExampleParsePenalty() {
	p, err := ppo.ParsePenalty("kl-adaptive:0.01+stop:0.05")
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Kind, p.Value, p.StopKL, p.UsesBeta(), p)
	// Output: kl-adaptive 0.01 0.05 true kl-adaptive:0.01+stop:0.05
}

func ExampleAdaptiveBeta() {
	rule := ppo.AdaptiveBeta{Target: 0.01}
	beta := 1.0
	for _, kl := range []float64{0.002, 0.002, 0.01, 0.03} {
		beta = rule.Next(beta, kl, 512)
		fmt.Printf("KL %.3f → β %g\n", kl, beta)
	}
	// Output:
	// KL 0.002 → β 0.5
	// KL 0.002 → β 0.25
	// KL 0.010 → β 0.25
	// KL 0.030 → β 0.5
}

func ExampleDefaultConfig() {
	c, err := ppo.DefaultConfig("CartPole-v1")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Penalty, c.NumEnvs, c.NumSteps, c.NumMinibatches, c.UpdateEpochs, c.LearningRate, c.BatchSize(), c.NumUpdates())
	_, err = ppo.DefaultConfig("Pong-v5")
	fmt.Println(err != nil)
	// Output:
	// kl-adaptive:0.01 4 128 4 4 0.00025 512 976
	// true
}
