package nn

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestValueAt(t *testing.T) {
	f32 := gorgonia.F32(1.5)
	f64 := gorgonia.F64(-2.25)
	t32 := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4}))
	t64 := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{7, 8, 9}))
	tint := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))
	for _, tc := range []struct {
		name string
		v    gorgonia.Value
		i    int
		want float64 // NaN means "want NaN"
	}{
		{"F32 scalar", &f32, 0, 1.5},
		{"F64 scalar ignores index", &f64, 5, -2.25},
		{"float32 tensor row-major", t32, 2, 3},
		{"float64 tensor", t64, 1, 8},
		{"index past the end", t64, 3, math.NaN()},
		{"negative index", t32, -1, math.NaN()},
		{"int tensor", tint, 0, math.NaN()},
		{"nil", nil, 0, math.NaN()},
	} {
		got := ValueAt(tc.v, tc.i)
		if math.IsNaN(tc.want) {
			if !math.IsNaN(got) {
				t.Errorf("%s: ValueAt = %v, want NaN", tc.name, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s: ValueAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}
