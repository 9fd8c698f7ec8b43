package estimators_test

import (
	"fmt"

	"klppo/experiments/estimators"
)

// Which KL each placement's exact expected gradient follows, on the 5-armed default.
func ExampleAnalyse() {
	ex, err := estimators.Analyse(estimators.Default())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range ex.Configs {
		fmt.Printf("%-10s %s\n", c.Name, c.Follows)
	}
	// Output:
	// k1-reward  reverse
	// k2-reward  other
	// k3-reward  reverse-minus-forward
	// k1-loss    none
	// k2-loss    reverse
	// k3-loss    forward
	// k3-loss-is reverse
	// exact-loss reverse
}

// The two analytic optima: π* ∝ π_ref·exp(r/β) and the forward-KL (mode-covering) one.
func ExampleForwardOptimum() {
	p := estimators.Problem{Logits: []float64{0, 0}, RefLogits: []float64{0, 0}, Reward: []float64{0, 1}, Beta: 1}
	rev, err1 := estimators.ReverseOptimum(p)
	fwd, err2 := estimators.ForwardOptimum(p)
	if err1 != nil || err2 != nil {
		fmt.Println(err1, err2)
		return
	}
	fmt.Printf("reverse %.4f\nforward %.4f\n", rev, fwd)
	// Output:
	// reverse [0.2689 0.7311]
	// forward [0.2929 0.7071]
}
