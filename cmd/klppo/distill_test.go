package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"klppo/experiments/datasets"
	"klppo/experiments/distill"
	"klppo/nn"

	"gorgonia.org/tensor"
)

func TestDistillBadFlags(t *testing.T) {
	noOutputDirs(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"distill", "--temperature", "0"}, "--temperature 0"},
		{[]string{"distill", "--alpha", "1.5"}, "--alpha 1.5"},
		{[]string{"distill", "--epochs", "0"}, "--epochs 0"},
		{[]string{"distill", "--teacher-epochs", "0"}, "--teacher-epochs 0"},
		{[]string{"distill", "--student-hidden", "0"}, "-student-hidden"},
		{[]string{"distill", "--teacher-hidden", "a,b"}, "-teacher-hidden"},
		{[]string{"distill", "--lr", "-1"}, "--lr -1"},
		{[]string{"distill", "--batch", "-1"}, "--batch -1"},
		{[]string{"distill", "--activation", "sigmoid"}, `--activation "sigmoid"`},
		{[]string{"distill", "--teacher", "/nonexistent/teacher.klnn"}, `--teacher "/nonexistent/teacher.klnn"`},
	}
	for _, tc := range tests {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestDistillSmokeAndTeacherReuse(t *testing.T) {
	dir := t.TempDir()
	common := []string{"--train-size", "300", "--test-size", "100", "--student-hidden", "8", "--epochs", "2",
		"--batch", "50", "--seed", "2", "--quiet"}
	args := append([]string{"distill", "--teacher-hidden", "32", "--teacher-epochs", "2", "--out", filepath.Join(dir, "a")}, common...)
	code, stdout, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"teacher 32", "distilled student 8", "label-only student 8", "distillation − label-only"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	args = append([]string{"distill", "--teacher", filepath.Join(dir, "a", "teacher.klnn"), "--out", filepath.Join(dir, "b")}, common...)
	code, stdout2, stderr := vaeRunCLI(args...)
	if code != 0 {
		t.Fatalf("reuse: exit %d: %s", code, stderr)
	}
	// Same teacher, same seed and budget: the comparison table is reproduced exactly.
	table := func(s string) string { return s[strings.Index(s, "model (test split)"):strings.Index(s, "wrote")] }
	if table(stdout) != table(stdout2) {
		t.Errorf("trained and reloaded teacher give different tables:\n%s\n%s", stdout, stdout2)
	}
}

func TestDistillNewBadFlags(t *testing.T) {
	noOutputDirs(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"distill", "--transfer", "test"}, `--transfer "test"`},
		{[]string{"distill", "--transfer-size", "-5"}, "--transfer-size -5"},
		{[]string{"distill", "--transfer-size", "6000"}, "--transfer-size 6000"},
		{[]string{"distill", "--omit-class", "10"}, "--omit-class 10"},
		{[]string{"distill", "--omit-class", "-2"}, "--omit-class -2"},
		{[]string{"distill", "--omit-class", "3", "--curve-sizes", "100,200"}, "--curve-sizes 100,200"},
		{[]string{"distill", "--curve-sizes", "10,200"}, "--curve-sizes 10,200"},
		{[]string{"distill", "--curve-sizes", "100,200", "--transfer-size", "300"}, "--transfer-size 300"},
		{[]string{"distill", "--curve-sizes", "200,x"}, "-curve-sizes"},
		{[]string{"distill", "--curve-sizes", "0"}, `flag -curve-sizes: "0": want a positive integer`}, // not a "width"
		{[]string{"distill", "--transfer-size", "50", "--batch", "64"}, "--batch 64"},
	}
	for _, tc := range tests {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDistillRefusesADamagedTeacher: a teacher file with a valid checksum but a NaN or huge
// weight, or an array that is not the teacher's, is refused before training, naming the flag and
// the file (a NaN teacher failed later with an error about "MeanEntropy row 106").
func TestDistillRefusesADamagedTeacher(t *testing.T) {
	dir := t.TempDir()
	m, err := nn.NewMLP(rand.New(rand.NewPCG(1, 2)), nn.MLPConfig{Name: "teacher", In: 144, Hidden: []int{8}, Out: 10, Activation: nn.ReLU, Dtype: tensor.Float32})
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.klnn")
	if err := distill.SaveTeacher(good, m); err != nil {
		t.Fatal(err)
	}
	arrays, err := nn.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func([]nn.Array) []nn.Array{
		"nan":  func(a []nn.Array) []nn.Array { a[0].F32[5] = float32(math.NaN()); return a },
		"huge": func(a []nn.Array) []nn.Array { a[2].F32[0] = 1e30; return a },
		"extra": func(a []nn.Array) []nn.Array {
			return append(a, nn.Array{Name: "student.l0.W", Shape: []int{1}, F64: []float64{0}})
		},
	} {
		copied := make([]nn.Array, len(arrays))
		for i, a := range arrays {
			copied[i] = nn.Array{Name: a.Name, Shape: a.Shape, F32: slices.Clone(a.F32), F64: slices.Clone(a.F64)}
		}
		path := filepath.Join(dir, name+".klnn")
		if err := nn.WriteFile(path, edit(copied)); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := vaeRunCLI("distill", "--teacher", path, "--out", filepath.Join(dir, "out-"+name), "--quiet")
		if code != 2 || !strings.Contains(stderr, "--teacher") || !strings.Contains(stderr, "teacher file "+path) {
			t.Errorf("%s: exit %d, %q; want 2 naming --teacher and the file", name, code, stderr)
		}
	}
}

// --omit-class on a fresh transfer set writes the omitted-class numbers to summary.json and
// prints the before/after table; --curve-sizes writes the curve.
func TestDistillOmitClassAndCurve(t *testing.T) {
	dir := t.TempDir()
	common := []string{"distill", "--train-size", "300", "--test-size", "200", "--teacher-hidden", "32", "--teacher-epochs", "3",
		"--student-hidden", "8", "--epochs", "2", "--batch", "50", "--seed", "2", "--quiet", "--transfer", "fresh", "--temperature", "8"}
	code, stdout, stderr := vaeRunCLI(append(common, "--omit-class", "7", "--out", filepath.Join(dir, "omit"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"distilled student, bias corrected", "teacher on the transfer set (270 examples)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "omit", "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"teacher_acc", "distilled_acc", "labels_acc", "omitted_class_acc_distilled_raw",
		"omitted_class_acc_distilled", "omitted_class_acc_labels"} {
		if _, ok := m[key].(float64); !ok {
			t.Errorf("summary.json: %s = %v, want a number", key, m[key])
		}
	}
	if m["omit_class"] != 7.0 || m["transfer_size"] != 270.0 {
		t.Errorf("summary.json: omit_class %v, transfer_size %v", m["omit_class"], m["transfer_size"])
	}
	code, stdout, stderr = vaeRunCLI(append(common, "--curve-sizes", "100,300", "--out", filepath.Join(dir, "curve"))...)
	if code != 0 {
		t.Fatalf("curve: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"curve.csv", "curve.png", "teacher.klnn"} {
		if _, err := os.Stat(filepath.Join(dir, "curve", f)); err != nil {
			t.Errorf("curve: %v", err)
		}
	}
	// 2 epochs over 300 examples = 12 steps of 50: 6 epochs at size 100.
	if !strings.Contains(stdout, "     100       6 ") {
		t.Errorf("curve table lacks the 100-example row with 6 epochs:\n%s", stdout)
	}
}

// TestDistillBoundsAndDefaults: as TestVAEBoundsAndDefaults for distill, with the temperature
// bounded where the α·T²·KL loss overflows float32 (T = 1e308 used to fail with "loss = NaN
// (lower --lr?)" after the teacher was trained, and lose it).
func TestDistillBoundsAndDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--student-hidden", "100000,100000"}, "--student-hidden 100000,100000"},
		{[]string{"--teacher-hidden", "100000,100000"}, "--teacher-hidden 100000,100000"},
		{[]string{"--train-size", "1000000000"}, "--train-size 1000000000"},
		{[]string{"--test-size", "1000000000"}, "--test-size 1000000000"},
		{[]string{"--transfer", "fresh", "--transfer-size", "1000000000"}, "--transfer-size 1000000000"},
		{[]string{"--train-size", "0"}, "--train-size 0"},
		{[]string{"--test-size", "0"}, "--test-size 0"},
		{[]string{"--temperature", "1e308"}, "--temperature 1e+308"},
		{[]string{"--temperature", "1e-300"}, "--temperature 1e-300"},
		{[]string{"--epochs", "1000000000"}, "--epochs 1000000000"},
		{[]string{"--teacher-epochs", "1000000000"}, "--teacher-epochs 1000000000"},
		{[]string{"--teacher", ""}, `--teacher ""`},
		{[]string{"--transfer", ""}, `--transfer ""`},
		{[]string{"--activation", ""}, `--activation ""`},
	} {
		args := append([]string{"distill", "--quiet"}, tc.args...)
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat("runs"); !os.IsNotExist(err) {
		t.Errorf("a refused distill created runs/: %v", err)
	}
}

// TestDistillMemoryCheck: sizes within the bounds whose estimated memory exceeds what the
// process may use are refused naming the size flags.
func TestDistillMemoryCheck(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	code, _, stderr := runCmd("distill", "--quiet", "--out", filepath.Join(t.TempDir(), "d"), "--teacher-hidden", "4096,4096", "--train-size", "1000000")
	if code != 2 || !strings.Contains(stderr, "--teacher-hidden 4096,4096") || !strings.Contains(stderr, "--train-size 1000000") || !strings.Contains(stderr, "GOMEMLIMIT") {
		t.Errorf("distill needing more than GOMEMLIMIT: exit %d, stderr %q; want 2 naming the size flags and the limit", code, stderr)
	}
}

// TestDistillKeepsTeacherWhenStudentFails: the teacher is written to --out as soon as it is
// trained, so a failure of a student afterwards loses nothing (teacher.klnn can be reused with
// --teacher).
func TestDistillKeepsTeacherWhenStudentFails(t *testing.T) {
	defer func(f func(*datasets.Split, distill.Config) (*distill.Result, error)) { distillRun = f }(distillRun)
	distillRun = func(data *datasets.Split, cfg distill.Config) (*distill.Result, error) {
		// the real teacher phase, then a student failure
		c := cfg
		c.Epochs = 1
		c.Transfer = &datasets.Set{X: make([]float64, len(data.Train.X)), Y: data.Train.Y, N: data.Train.N,
			Dim: data.Train.Dim, Classes: data.Train.Classes, Width: data.Train.Width, Height: data.Train.Height}
		for i := range c.Transfer.X {
			c.Transfer.X[i] = math.NaN() // the students' inputs are NaN: their loss is NaN
		}
		return distill.Run(data, c)
	}
	out := filepath.Join(t.TempDir(), "d")
	code, stdout, stderr := runCmd("distill", "--quiet", "--out", out, "--train-size", "300", "--test-size", "100",
		"--teacher-hidden", "16", "--teacher-epochs", "1", "--student-hidden", "4", "--epochs", "1", "--batch", "50")
	if code != 1 || !strings.Contains(stderr, "NaN") {
		t.Fatalf("student failure: exit %d, stderr %q; want 1 and the NaN", code, stderr)
	}
	tf := filepath.Join(out, distill.TeacherFile)
	if _, err := distill.LoadTeacher(tf); err != nil {
		t.Fatalf("the trained teacher is lost: %v", err)
	}
	if !strings.Contains(stdout+stderr, tf) {
		t.Errorf("the output does not say where the teacher is kept:\n%s\n%s", stdout, stderr)
	}
}
