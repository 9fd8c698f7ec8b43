package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDistillBadFlags(t *testing.T) {
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
		{[]string{"distill", "--transfer-size", "50", "--batch", "64"}, "--batch 64"},
	}
	for _, tc := range tests {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
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
