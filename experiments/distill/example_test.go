package distill_test

import (
	"fmt"

	"klppo/experiments/distill"
)

// The softened KL between a teacher's and a student's logits: identical logits give 0, and a
// higher temperature flattens both distributions and shrinks the divergence.
func ExampleSoftKL() {
	teacher := []float64{4, 1, 0}
	student := []float64{1, 1, 1}
	for _, temp := range []float64{1, 4} {
		same, _ := distill.SoftKL(teacher, teacher, 3, temp)
		diff, _ := distill.SoftKL(teacher, student, 3, temp)
		fmt.Printf("T=%g: KL(t‖t) = %.4f, KL(t‖s) = %.4f\n", temp, same, diff)
	}
	// Output:
	// T=1: KL(t‖t) = 0.0000, KL(t‖s) = 0.8243
	// T=4: KL(t‖t) = 0.0000, KL(t‖s) = 0.0963
}
