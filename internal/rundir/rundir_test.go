package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	root := t.TempDir()
	if err := Check(filepath.Join(root, "absent")); err != nil {
		t.Fatalf("absent dir: %v", err)
	}
	empty := filepath.Join(root, "empty")
	if err := os.MkdirAll(filepath.Join(empty, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Check(empty); err != nil {
		t.Fatalf("dir without markers: %v", err)
	}
	for _, m := range Markers {
		dir := filepath.Join(root, "with-"+m)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, m), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		err := Check(dir)
		var h *HoldsRunError
		if !errors.As(err, &h) || h.File != m || h.Dir != dir || !HoldsRun(err) {
			t.Errorf("dir with %s: %v, want a HoldsRunError naming it", m, err)
		}
		if err != nil && (!strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), m)) {
			t.Errorf("message %q names neither the dir nor the file", err)
		}
	}
	if err := Check(""); !errors.Is(err, ErrEmptyPath) {
		t.Errorf(`Check(""): %v, want ErrEmptyPath`, err)
	}
	file := filepath.Join(empty, "notes.txt")
	if err := Check(file); err == nil || HoldsRun(err) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v, want 'not a directory'", err)
	}
}
