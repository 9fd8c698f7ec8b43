package main

import (
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
