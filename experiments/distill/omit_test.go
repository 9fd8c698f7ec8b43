package distill

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"klppo/experiments/datasets"
)

// The bias-correction rule on hand examples whose answer is known in closed form.
func TestBiasShiftHand(t *testing.T) {
	tests := []struct {
		name string
		k, c int
		s, t []float64
		want float64
	}{
		// Two classes, student logits (0, 0): p₁(δ) = σ(δ). Teacher (0, 1) on both rows: σ(1).
		{"two classes", 2, 1, []float64{0, 0, 0, 0}, []float64{0, 1, 0, 1}, 1},
		// Three classes, student (0, 0, 0): p₂(δ) = e^δ/(2+e^δ). Teacher (0, 0, ln 2): p₂ = 1/2, so e^δ = 2.
		{"three classes", 3, 2, []float64{0, 0, 0}, []float64{0, 0, math.Log(2)}, math.Log(2)},
		// The student already agrees with the teacher: no shift.
		{"already matched", 3, 0, []float64{1, -2, 0.5, 3, 0, 0}, []float64{1, -2, 0.5, 3, 0, 0}, 0},
		// A student that gives class 0 too much probability is shifted down.
		// Student (2, 0): p₀(δ) = σ(2+δ). Teacher (0, 0): 1/2, so δ = −2.
		{"downward", 2, 0, []float64{2, 0}, []float64{0, 0}, -2},
	}
	for _, tc := range tests {
		got, err := BiasShift(tc.s, tc.t, tc.k, tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if math.Abs(got-tc.want) > 1e-8 {
			t.Errorf("%s: shift %.12g, want %.12g", tc.name, got, tc.want)
		}
	}
	// Rows that differ: after the shift the student's mean probability equals the teacher's.
	s := []float64{0.3, -1, 2, 0, 0.5, -3, 1, 1, -4, 2, 0, -0.5}
	tt := []float64{0, 1, 1, 2, -1, 0.5, 0, 0, 0, 1, 2, 3}
	d, err := BiasShift(s, tt, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	ps, err1 := MeanClassProb(s, 3, 2, d)
	pt, err2 := MeanClassProb(tt, 3, 2, 0)
	if err1 != nil || err2 != nil || math.Abs(ps-pt) > 1e-9 {
		t.Fatalf("after shift %v: student %v, teacher %v (%v, %v)", d, ps, pt, err1, err2)
	}
	// Hand value of MeanClassProb: rows (0, 0) and (ln 3, 0) give p₀ = 1/2 and 3/4.
	if p, err := MeanClassProb([]float64{0, 0, math.Log(3), 0}, 2, 0, 0); err != nil || math.Abs(p-0.625) > 1e-15 {
		t.Fatalf("MeanClassProb = %v (%v), want 0.625", p, err)
	}
	for _, bad := range []struct {
		s, t []float64
		k, c int
	}{{[]float64{0, 0}, []float64{0, 0, 0, 0}, 2, 0}, {[]float64{0, 0}, []float64{0, 0}, 2, 2}, {[]float64{0, 0}, []float64{0, -1e300}, 2, 1}} {
		if _, err := BiasShift(bad.s, bad.t, bad.k, bad.c); err == nil {
			t.Errorf("BiasShift(%v, %v, %d, %d) accepted", bad.s, bad.t, bad.k, bad.c)
		}
	}
}

func TestMeanEntropyAndClassAccuracy(t *testing.T) {
	// Equal logits: ln k at any temperature. Logits (ln 3, 0) at T = 1: p = (3/4, 1/4).
	h, err := MeanEntropy([]float64{5, 5, 5, 5, math.Log(3), 0, 0, 0}, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := MeanEntropy([]float64{2 * math.Log(3), 0}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Row 2 at T = 2: logits (ln 3, 0, 0, 0)/2 give weights (√3, 1, 1, 1).
	e := math.Exp(math.Log(3) / 2)
	z := e + 3
	want := (math.Log(4) + -(e/z*math.Log(e/z) + 3/z*math.Log(1/z))) / 2
	if math.Abs(h-want) > 1e-12 {
		t.Errorf("MeanEntropy = %v, want %v", h, want)
	}
	if want2 := -(0.75*math.Log(0.75) + 0.25*math.Log(0.25)); math.Abs(h2-want2) > 1e-12 {
		t.Errorf("MeanEntropy at T=2 of (2 ln 3, 0) = %v, want %v", h2, want2)
	}
	acc := ClassAccuracy([]float64{0, 1, 0, 2, 0, 0, 0, 0, 3, 1, 0, 0}, []int{1, 0, 1, 1}, 3)
	if acc[0] != 1 || math.Abs(acc[1]-1.0/3) > 1e-15 || !math.IsNaN(acc[2]) {
		t.Fatalf("ClassAccuracy = %v, want [1 1/3 NaN]", acc)
	}
}

// The omitted class has no example in the transfer set: not among the rows the students train
// on, and every other row is kept in order.
func TestOmitClassTransferSet(t *testing.T) {
	gc := datasets.DefaultGlyphConfig()
	gc.Train, gc.Test, gc.Transfer, gc.Seed = 400, 50, 300, 9
	data, err := datasets.Glyphs(gc)
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []*datasets.Set{nil, data.Transfer} {
		full := data.Train
		if src != nil {
			full = src
		}
		for k := 0; k < 10; k++ {
			cfg := DefaultConfig()
			cfg.Transfer, cfg.OmitClass = src, k
			set, err := cfg.TransferSet(data)
			if err != nil {
				t.Fatal(err)
			}
			j := 0
			for i, y := range full.Y {
				if y == k {
					continue
				}
				if set.Y[j] != y || fmt.Sprint(set.Row(j)) != fmt.Sprint(full.Row(i)) {
					t.Fatalf("class %d: row %d of the transfer set is not example %d", k, j, i)
				}
				j++
			}
			if j != set.N || len(set.Y) != set.N || len(set.X) != set.N*set.Dim {
				t.Fatalf("class %d: %d kept examples, set has N=%d", k, j, set.N)
			}
			for i, y := range set.Y {
				if y == k {
					t.Fatalf("class %d: transfer example %d has label %d", k, i, y)
				}
			}
		}
	}
}

func omitRun(t *testing.T, dir string) (*Result, []byte) {
	t.Helper()
	gc := datasets.DefaultGlyphConfig()
	gc.Train, gc.Test, gc.Transfer, gc.Seed = 600, 300, 600, 4
	data, err := datasets.Glyphs(gc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(4)
	cfg.Transfer, cfg.OmitClass, cfg.Temperature, cfg.StudentHidden, cfg.Epochs = data.Transfer, 3, 8, []int{32}, 5
	res, err := Run(data, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteOutputs(dir, res); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// An --omit-class run is deterministic, reports the required summary keys, and the
// label-only student, which never saw the class, never predicts it.
func TestOmitClassRun(t *testing.T) {
	a, sa := omitRun(t, t.TempDir())
	_, sb := omitRun(t, t.TempDir())
	if string(sa) != string(sb) {
		t.Fatalf("same seed, different summaries:\n%s\n%s", sa, sb)
	}
	var m map[string]any
	if err := json.Unmarshal(sa, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"teacher_acc", "distilled_acc", "labels_acc", "omitted_class_acc_distilled_raw",
		"omitted_class_acc_distilled", "omitted_class_acc_labels", "teacher_transfer_entropy", "bias_shift"} {
		if _, ok := m[key].(float64); !ok {
			t.Errorf("summary.json: %s = %v, want a number", key, m[key])
		}
	}
	o := a.Omitted
	if o == nil || o.Class != 3 {
		t.Fatalf("Omitted = %+v", o)
	}
	if want := 600 - 60; a.TransferN != want {
		t.Errorf("transfer set has %d examples, want %d (600 balanced glyphs minus the 60 threes)", a.TransferN, want)
	}
	if o.Labels != 0 {
		t.Errorf("label-only student gets %v of the omitted class right, want 0", o.Labels)
	}
	// The correction raises the student's mean probability of the class to the teacher's.
	if !(o.StudentRawRate < o.TeacherRate) || !(o.Shift > 0) || o.Distilled < o.DistilledRaw {
		t.Errorf("student rate %v, teacher rate %v, shift %v, accuracy %v → %v", o.StudentRawRate, o.TeacherRate, o.Shift, o.DistilledRaw, o.Distilled)
	}
	if a.ClassAcc.Distilled[3] != o.Distilled || a.ClassAcc.DistilledRaw[3] != o.DistilledRaw {
		t.Errorf("per-class and omitted accuracies disagree")
	}
}

func TestCurveEqualBudget(t *testing.T) {
	data := smallData(t)
	cfg := smallConfig(6)
	cfg.TeacherEpochs, cfg.Epochs = 2, 2
	pts, teacher, err := Curve(data, data.Train, cfg, []int{100, 200, 600})
	if err != nil {
		t.Fatal(err)
	}
	if teacher == nil || len(pts) != 3 {
		t.Fatalf("%d points, teacher %v", len(pts), teacher)
	}
	// 2 epochs of 600/50 = 12 steps: 24 steps, so 12 epochs of 2 steps and 6 of 4.
	for i, want := range []int{12, 6, 2} {
		if pts[i].Epochs != want {
			t.Errorf("size %d: %d epochs, want %d", pts[i].Size, pts[i].Epochs, want)
		}
		if pts[i].TeacherAcc != pts[0].TeacherAcc {
			t.Errorf("the teacher changed between points")
		}
	}
	if _, _, err := Curve(data, data.Train, cfg, []int{10}); err == nil {
		t.Error("a size below the batch was accepted")
	}
	files, err := WriteCurve(t.TempDir(), pts, "test")
	if err != nil || len(files) != 2 {
		t.Fatalf("WriteCurve: %v %v", files, err)
	}
}
