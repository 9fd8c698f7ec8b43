package klgraph_test

import (
	"fmt"
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"klppo/kl"
	"klppo/kl/klgraph"
)

// The categorical KL between two rows of logits inside a gorgonia graph, with its gradient
// wrt Q's logits. The second row has logit gaps of 800 and 900 nats and stays finite.
func ExampleCategoricalKLNode() {
	g := gorgonia.NewGraph()
	p := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("p"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{
			0, 0, 0,
			800, 0, -800,
		}))))
	q := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("q"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{
			0, 0, 0,
			0, 900, 1,
		}))))
	klRows, err := klgraph.CategoricalKLNode(p, q) // shape (2,)
	if err != nil {
		fmt.Println(err)
		return
	}
	loss, err := gorgonia.Sum(klRows)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := gorgonia.Grad(loss, q); err != nil {
		fmt.Println(err)
		return
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	grad, _ := q.Grad()
	fmt.Printf("KL per row: %.6g\n", klRows.Value().Data())
	fmt.Print("dKL/dq:")
	for _, v := range grad.Data().([]float64) {
		fmt.Printf(" %g", math.Round(v*1e9)/1e9+0) // rounding hides 1e-16 residues
	}
	fmt.Println()
	// Output:
	// KL per row: [0 900]
	// dKL/dq: 0 0 0 -1 1 0
}

// The VAE prior term ½ Σ_d (μ² + σ² − 1 − log σ²) for one encoder output.
func ExampleVAEPriorKLNode() {
	g := gorgonia.NewGraph()
	mu := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(1, 2), gorgonia.WithName("mu"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 0}))))
	logVar := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(1, 2), gorgonia.WithName("logVar"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{0, 0}))))
	out, err := klgraph.VAEPriorKLNode(mu, logVar)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4g\n", out.Value().Data())
	// Output:
	// [0.5]
}

// One divergence per row of a (batch, classes) tensor of logits, and their mean.
func ExampleRows() {
	p := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 0, 2, 0}))
	q := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{0, 0, 0, 2}))
	rows, err := klgraph.Rows(kl.KLLogits, p, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	mean, err := klgraph.Reduce(kl.KLLogits, p, q, klgraph.Mean)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f mean %.4f\n", rows.Data(), mean)
	// Output:
	// [0.0000 1.5232] mean 0.7616
}
