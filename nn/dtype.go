package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The dtype helpers: klppo's graphs are float32 or float64, its plain-Go code float64.

// NewDense returns a zero tensor of dtype dt (tensor.Float32 or tensor.Float64) and the given
// shape, filled from init (converted to dt) when init is non-nil. Its engine is the one of
// NewTrainer's machines (the standard engine with exact AVX2 kernels, see engine), so that a
// product whose first operand is an input or a parameter — X·W₁ and Xᵀ·∂Z of a first layer — takes
// the same fast paths as one of intermediate values.
func NewDense(dt tensor.Dtype, shape []int, init []float64) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if dt == tensor.Float32 {
		d := make([]float32, n)
		for i, v := range init {
			d[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d), tensor.WithEngine(engine{}))
	}
	d := make([]float64, n)
	copy(d, init)
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d), tensor.WithEngine(engine{}))
}

// CopyInto copies v into t's elements, converting to t's element type; len(v) must equal t's
// size.
func CopyInto(t *tensor.Dense, v []float64) error {
	switch d := t.Data().(type) {
	case []float32:
		if len(d) != len(v) {
			return fmt.Errorf("nn: CopyInto: %d values for %d elements", len(v), len(d))
		}
		for i, x := range v {
			d[i] = float32(x)
		}
	case []float64:
		if len(d) != len(v) {
			return fmt.Errorf("nn: CopyInto: %d values for %d elements", len(v), len(d))
		}
		copy(d, v)
	default:
		return fmt.Errorf("nn: CopyInto: unsupported element type %T", d)
	}
	return nil
}

// Float64s appends the elements of a float32 or float64 value (a tensor, or a scalar read back
// with gorgonia.Read) as float64 to dst[:0]; other types give an empty slice.
func Float64s(v G.Value, dst []float64) []float64 {
	dst = dst[:0]
	switch x := v.Data().(type) {
	case float32:
		return append(dst, float64(x))
	case float64:
		return append(dst, x)
	case []float32:
		for _, e := range x {
			dst = append(dst, float64(e))
		}
	case []float64:
		dst = append(dst, x...)
	}
	return dst
}
