package fast_test

import (
	"fmt"

	"klppo/kl/fast"
)

// KL on a small batch: row 0 compares a distribution with itself, row 1 is the issue's
// example with logit gaps of 800 and 900 nats (written out to 16 columns, so that the vector
// kernels run on it: the 13 extra columns have logits −1000, probability 0 under both P and Q).
func ExampleKL() {
	const rows, cols = 2, 16
	p := make([]float32, rows*cols)
	q := make([]float32, rows*cols)
	for i := range p {
		p[i], q[i] = -1000, -1000
	}
	copy(p[0:], []float32{1, 2, 3})
	copy(q[0:], []float32{1, 2, 3})
	copy(p[cols:], []float32{800, 0, -800})
	copy(q[cols:], []float32{0, 900, 1})

	f := fast.New(0) // reuse it: a call allocates nothing
	dst := make([]float64, rows)
	if err := f.KLLogits32(dst, p, q, rows, cols); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("KL(P‖Q) per row: %.4f\n", dst)
	// Output:
	// KL(P‖Q) per row: [0.0000 900.0000]
}
