package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestLoadArraysRefusesDamagedWeights: a file can have a valid checksum and still hold weights no
// training produces — NaN, ±Inf, or a magnitude past MaxParam that overflows a forward pass. They
// are refused naming the parameter, before anything is copied, in either dtype. (A reward model
// with such a weight once gave +Inf proxy rewards; loading copied them in silently.)
func TestLoadArraysRefusesDamagedWeights(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		m, err := NewMLP(rand.New(rand.NewPCG(1, 2)), MLPConfig{Name: "rm", In: 3, Out: 1, Dtype: dt})
		if err != nil {
			t.Fatal(err)
		}
		good, err := m.Arrays()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e30, -2 * MaxParam} {
			bad := make([]Array, len(good))
			for i, a := range good {
				bad[i] = Array{Name: a.Name, Shape: a.Shape, F32: slices.Clone(a.F32), F64: slices.Clone(a.F64)}
			}
			if bad[0].F32 != nil {
				bad[0].F32[1] = float32(v)
			} else {
				bad[0].F64[1] = v
			}
			err := m.LoadArrays(bad)
			if err == nil || !strings.Contains(err.Error(), `"rm.l0.W" value 1`) {
				t.Errorf("%v weight %v: %v, want a refusal naming rm.l0.W value 1", dt, v, err)
			}
		}
		if err := m.LoadArrays(good); err != nil {
			t.Errorf("%v: the network's own weights: %v", dt, err)
		}
		// the bound itself is a weight training could reach in principle: accepted
		edge := []Array{{Name: good[0].Name, Shape: good[0].Shape, F64: make([]float64, 3)}, good[1]}
		if dt == tensor.Float32 {
			edge[0] = Array{Name: good[0].Name, Shape: good[0].Shape, F32: make([]float32, 3)}
			edge[0].F32[0] = MaxParam
		} else {
			edge[0].F64[0] = -MaxParam
		}
		if err := m.LoadArrays(edge); err != nil {
			t.Errorf("%v: a weight of ±MaxParam: %v", dt, err)
		}
	}
}

func TestCheckParamValuesAndExtraArrays(t *testing.T) {
	if err := CheckParamValues("p", []float64{0, -1e6, 1e6, 3}); err != nil {
		t.Errorf("finite values within the bound: %v", err)
	}
	if err := CheckParamValues("p", []float64{0, 1e6 * (1 + 1e-12)}); err == nil || !strings.Contains(err.Error(), `"p" value 1`) {
		t.Errorf("just past the bound: %v", err)
	}
	m, err := NewMLP(rand.New(rand.NewPCG(1, 2)), MLPConfig{Name: "rm", In: 3, Out: 1})
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := m.Arrays()
	if err != nil {
		t.Fatal(err)
	}
	if extra := ExtraArrays(arrays, m); len(extra) != 0 {
		t.Errorf("the network's own arrays: extra %v", extra)
	}
	arrays = append(arrays, Array{Name: "junk", Shape: []int{1}, F64: []float64{1}})
	if extra := ExtraArrays(arrays, m); !slices.Equal(extra, []string{"junk"}) {
		t.Errorf("extra %v, want [junk]", extra)
	}
}
