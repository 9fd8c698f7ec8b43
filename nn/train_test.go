package nn

import (
	"bytes"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

var (
	xorX = []float64{0, 0, 0, 1, 1, 0, 1, 1}
	xorY = []float64{0, 1, 1, 0}
)

// trainXOR trains a 2→8→1 tanh network on XOR with MSE, Adam and gradient clipping; it returns
// the final loss and the trained parameters.
func trainXOR(t *testing.T, seed uint64, dt tensor.Dtype, steps int) (float64, *MLP) {
	t.Helper()
	m, err := NewMLP(seeded(seed), MLPConfig{In: 2, Hidden: []int{8}, Out: 1, Dtype: dt})
	if err != nil {
		t.Fatal(err)
	}
	s := newMSEGraph(t, m, 4)
	defer s.tr.Close()
	ad, err := NewAdam(s.tr.Params(), AdamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	x, y := denseFrom(dt, []int{4, 2}, xorX), denseFrom(dt, []int{4, 1}, xorY)
	var loss float64
	for i := 0; i < steps; i++ {
		var grads []*tensor.Dense
		loss, grads = s.run(t, x, y)
		if _, err := ClipGradNorm(grads, 1); err != nil {
			t.Fatal(err)
		}
		if err := ad.Step(0.05*(1-float64(i)/float64(steps)), grads); err != nil {
			t.Fatal(err)
		}
	}
	return loss, m
}

func TestTrainXOR(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		loss1, m1 := trainXOR(t, 1, dt, 400)
		loss2, m2 := trainXOR(t, 1, dt, 400)
		// The plain-Go forward pass of the trained network solves XOR.
		var ws Workspace
		out, err := m1.Forward(&ws, xorX, 4)
		if err != nil {
			t.Fatal(err)
		}
		var mse float64
		for i, v := range out {
			mse += (v - xorY[i]) * (v - xorY[i]) / 4
		}
		if mse > 1e-3 {
			t.Errorf("%v: trained XOR mse %v (graph's last loss %v), want < 1e-3", dt, mse, loss1)
		}
		if math.Float64bits(loss1) != math.Float64bits(loss2) {
			t.Errorf("%v: same seed, different final loss: %v vs %v", dt, loss1, loss2)
		}
		for i, p := range m1.Params() {
			a, b := toF64(p), toF64(m2.Params()[i])
			for j := range a {
				if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
					t.Fatalf("%v: same seed, parameter %d[%d] differs: %v vs %v", dt, i, j, a[j], b[j])
				}
			}
		}
		if loss3, _ := trainXOR(t, 2, dt, 400); loss3 == loss1 {
			t.Errorf("%v: seeds 1 and 2 gave the identical loss %v", dt, loss1)
		}
	}
}

// TestResumeBitIdentical trains 12 steps straight, and 6 steps + save (parameters and Adam
// state) + load into freshly built (differently seeded) objects + 6 steps: the parameters must
// be bit-identical.
func TestResumeBitIdentical(t *testing.T) {
	const steps, split, rows = 12, 6, 16
	dt := tensor.Float32
	cfg := MLPConfig{Name: "net", In: 3, Hidden: []int{16, 16}, Out: 2, Dtype: dt}
	batch := func(i int) (*tensor.Dense, *tensor.Dense) {
		r := seeded(uint64(100 + i))
		return denseFrom(dt, []int{rows, 3}, randomBatch(r, rows*3)), denseFrom(dt, []int{rows, 2}, randomBatch(r, rows*2))
	}
	lr := func(i int) float64 { return 3e-3 * (1 - float64(i)/steps) }
	type run struct {
		m  *MLP
		s  *mseGraph
		ad *Adam
	}
	start := func(seed uint64) run {
		m, err := NewMLP(seeded(seed), cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := newMSEGraph(t, m, rows)
		ad, err := NewAdam(s.tr.Params(), AdamConfig{Eps: 1e-5})
		if err != nil {
			t.Fatal(err)
		}
		return run{m, s, ad}
	}
	step := func(r run, i int) {
		x, y := batch(i)
		_, grads := r.s.run(t, x, y)
		if _, err := ClipGradNorm(grads, 0.5); err != nil {
			t.Fatal(err)
		}
		if err := r.ad.Step(lr(i), grads); err != nil {
			t.Fatal(err)
		}
	}

	straight := start(1)
	for i := 0; i < steps; i++ {
		step(straight, i)
	}

	first := start(1)
	for i := 0; i < split; i++ {
		step(first, i)
	}
	params, err := first.m.Arrays()
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := Encode(&file, append(params, first.ad.Arrays("opt")...)); err != nil {
		t.Fatal(err)
	}
	resumed := start(99)
	arrays, err := Decode(&file)
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.m.LoadArrays(arrays); err != nil {
		t.Fatal(err)
	}
	if err := resumed.ad.LoadArrays("opt", arrays); err != nil {
		t.Fatal(err)
	}
	for i := split; i < steps; i++ {
		step(resumed, i)
	}
	for i, p := range straight.m.Params() {
		a, b := toF64(p), toF64(resumed.m.Params()[i])
		for j := range a {
			if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
				t.Fatalf("%s[%d]: straight %v, resumed %v", straight.m.ParamNames()[i], j, a[j], b[j])
			}
		}
	}
	if resumed.ad.Steps() != steps {
		t.Errorf("resumed Adam at step %d, want %d", resumed.ad.Steps(), steps)
	}
}
