package nn

import (
	"errors"
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuilderFormula builds mean(clip(exp(x − y), 0.9, 1.1)) and checks the value and that
// the gradient is zero for the clipped elements.
func TestBuilderFormula(t *testing.T) {
	g := G.NewGraph()
	b := NewBuilder(g, tensor.Float64)
	x, xt := b.Vector("x", 3)
	y, yt := b.Vector("y", 3)
	out := b.Mean(b.Clip(b.Exp(b.Sub(x, y)), 0.9, 1.1))
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(out, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := SetVector(x, xt, []float64{0, 1, math.Log(1.05)}); err != nil {
		t.Fatal(err)
	}
	if err := SetVector(y, yt, []float64{0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got, err := Scalar(out.Value())
	if err != nil {
		t.Fatal(err)
	}
	if want := (1 + 1.1 + 1.05) / 3; math.Abs(got-want) > 1e-12 {
		t.Fatalf("value %v, want %v", got, want)
	}
	gv, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	gx := gv.Data().([]float64)
	if math.Abs(gx[0]-1.0/3) > 1e-12 || gx[1] != 0 || math.Abs(gx[2]-1.05/3) > 1e-12 {
		t.Fatalf("gradient %v, want [1/3, 0, 1.05/3]", gx)
	}
}

// TestBuilderStickyError: the first failure is kept, names the operation, and later calls
// return nil without panicking.
func TestBuilderStickyError(t *testing.T) {
	g := G.NewGraph()
	b := NewBuilder(g, tensor.Float32)
	x, _ := b.Vector("x", 3)
	y, _ := b.Vector("y", 4)
	bad := b.HadamardProd(x, y) // shape mismatch
	if bad != nil || b.Err() == nil || !strings.Contains(b.Err().Error(), "hadamard") {
		t.Fatalf("mismatched shapes: node %v, err %v", bad, b.Err())
	}
	first := b.Err()
	if n := b.Exp(b.Neg(x)); n != nil || !errors.Is(b.Err(), first) || b.Err() != first {
		t.Fatalf("after an error: node %v, err %v", n, b.Err())
	}
	b2 := NewBuilder(g, tensor.Float32)
	if n := b2.Exp(nil); n != nil || b2.Err() == nil {
		t.Fatalf("nil operand: node %v, err %v", n, b2.Err())
	}
	if NewBuilder(g, tensor.Int).Err() == nil {
		t.Fatal("int dtype accepted")
	}
	if err := SetVector(x, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, 0})), []float64{1, 2, 3}); err == nil {
		t.Fatal("SetVector accepted 3 values for 2 elements")
	}
}
