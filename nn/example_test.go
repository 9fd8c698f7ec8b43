package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"klppo/nn"
)

// Example trains a small float64 regression y = x₀·x₁ with a graph built once for batch 8, then
// evaluates the trained network with the plain-Go forward pass over the same weights.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := nn.NewMLP(rng, nn.MLPConfig{Name: "reg", In: 2, Hidden: []int{16}, Out: 1, Dtype: tensor.Float64})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Training graph for batch B = 8: cost = mean((net(x) − y)²).
	const B = 8
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(B, 2), gorgonia.WithName("x"))
	y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(B, 1), gorgonia.WithName("y"))
	out, err := net.Graph(g, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	diff, err := gorgonia.Sub(out, y)
	if err != nil {
		fmt.Println(err)
		return
	}
	sq, err := gorgonia.Square(diff)
	if err != nil {
		fmt.Println(err)
		return
	}
	cost, err := gorgonia.Mean(sq)
	if err != nil {
		fmt.Println(err)
		return
	}
	var costVal gorgonia.Value
	gorgonia.Read(cost, &costVal) // register reads before building the machine
	learnables, err := net.Learnables(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := nn.NewTrainer(g, cost, learnables)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{Eps: 1e-5})
	if err != nil {
		fmt.Println(err)
		return
	}

	xs, ys := make([]float64, B*2), make([]float64, B)
	xT := tensor.New(tensor.WithShape(B, 2), tensor.WithBacking(xs))
	yT := tensor.New(tensor.WithShape(B, 1), tensor.WithBacking(ys))
	const steps = 2000
	for i := 0; i < steps; i++ {
		for r := 0; r < B; r++ {
			xs[2*r], xs[2*r+1] = 2*rng.Float64()-1, 2*rng.Float64()-1
			ys[r] = xs[2*r] * xs[2*r+1]
		}
		if err := gorgonia.Let(x, xT); err != nil {
			fmt.Println(err)
			return
		}
		if err := gorgonia.Let(y, yT); err != nil {
			fmt.Println(err)
			return
		}
		grads, err := tr.Run()
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, err := nn.ClipGradNorm(grads, 1); err != nil {
			fmt.Println(err) // a NaN/Inf norm: skip the update
			continue
		}
		lr := 1e-2 * (1 - float64(i)/steps) // linear annealing
		if err := opt.Step(lr, grads); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Acting-style evaluation: plain Go, no graph, same weight tensors.
	var ws nn.Workspace
	pred, err := net.Forward(&ws, []float64{0.5, 0.5, -0.8, 0.6}, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("f(0.5, 0.5) ≈ 0.25:", math.Abs(pred[0]-0.25) < 0.05)
	fmt.Println("f(-0.8, 0.6) ≈ -0.48:", math.Abs(pred[1]+0.48) < 0.05)
	fmt.Println("Adam steps:", opt.Steps())
	// Output:
	// f(0.5, 0.5) ≈ 0.25: true
	// f(-0.8, 0.6) ≈ -0.48: true
	// Adam steps: 2000
}

// ExampleOrthogonal draws a 4×2 matrix with orthonormal columns scaled by √2.
func ExampleOrthogonal() {
	w, err := nn.Orthogonal(rand.New(rand.NewPCG(7, 7)), 4, 2, math.Sqrt2)
	if err != nil {
		fmt.Println(err)
		return
	}
	dot := func(a, b int) float64 {
		var s float64
		for i := 0; i < 4; i++ {
			s += w[i*2+a] * w[i*2+b]
		}
		return s
	}
	fmt.Printf("|c0|² = %.6f, |c1|² = %.6f, c0·c1 = %.6f\n", dot(0, 0), dot(1, 1), math.Abs(dot(0, 1)))
	// Output:
	// |c0|² = 2.000000, |c1|² = 2.000000, c0·c1 = 0.000000
}
