package policy_test

import (
	"fmt"

	"klppo/policy"
)

// The policy head outputs one logit per action for a categorical policy, one mean per action
// dimension for a Gaussian one (whose log σ is a separate parameter vector).
func ExampleConfig_HeadWidth() {
	cartPole := policy.Config{ObsDim: 4, Discrete: true, NumActions: 2}
	pendulum := policy.Config{ObsDim: 3, ActDim: 1}
	fmt.Println(cartPole.HeadWidth(), cartPole.ActionWidth())
	fmt.Println(pendulum.HeadWidth(), pendulum.ActionWidth())
	// Output:
	// 2 1
	// 1 1
}
