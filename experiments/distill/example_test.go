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

// The bias correction of the missing-class experiment: a student that never saw class 2 gives
// it too little probability; BiasShift finds the amount to add to its class-2 logit so that its
// mean probability of class 2 matches the teacher's on the same inputs.
func ExampleBiasShift() {
	student := []float64{ // two inputs, three classes
		2, 0, -3,
		0, 1, -3,
	}
	teacher := []float64{
		2, 0, 0,
		0, 1, 0,
	}
	shift, _ := distill.BiasShift(student, teacher, 3, 2)
	before, _ := distill.MeanClassProb(student, 3, 2, 0)
	after, _ := distill.MeanClassProb(student, 3, 2, shift)
	want, _ := distill.MeanClassProb(teacher, 3, 2, 0)
	fmt.Printf("shift %.4f: mean p(class 2) %.4f → %.4f (teacher %.4f)\n", shift, before, after, want)
	// Output:
	// shift 3.0000: mean p(class 2) 0.0096 → 0.1592 (teacher 0.1592)
}
