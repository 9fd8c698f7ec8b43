package rlhf_test

import (
	"fmt"

	"klppo/experiments/rlhf"
)

// The two losses as functions of a pair's margin h = Δ(chosen) − Δ(rejected): DPO's −ln σ(β·h)
// keeps falling as the margin grows (its gradient never vanishes on a deterministic pair), IPO's
// (h − 1/(2τ))² is zero at the margin 1/(2τ) and grows again beyond it.
func ExampleDPOConfig_PairLoss() {
	dpo := rlhf.DefaultDPOConfig(rlhf.LossDPO, 0.1, 1)
	ipo := rlhf.DefaultDPOConfig(rlhf.LossIPO, 0.1, 1) // target margin 1/(2·0.1) = 5
	for _, h := range []float64{0, 5, 10, 50} {
		fmt.Printf("h = %2g: dpo %.4f  ipo %5.2f\n", h, dpo.PairLoss(h), ipo.PairLoss(h))
	}
	// Output:
	// h =  0: dpo 0.6931  ipo 25.00
	// h =  5: dpo 0.4741  ipo  0.00
	// h = 10: dpo 0.3133  ipo 25.00
	// h = 50: dpo 0.0067  ipo 2025.00
}
