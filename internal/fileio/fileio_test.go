package fileio

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(p, 10)
	if err != nil || string(got) != "0123456789" {
		t.Fatalf("ReadFile at the limit = %q, %v", got, err)
	}
	if _, err := ReadFile(p, 9); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("ReadFile over the limit: %v, want ErrTooLarge naming the path", err)
	}
	if _, err := ReadFile(dir, 1<<20); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("ReadFile(dir): %v, want ErrNotRegular naming a directory", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "absent"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile(absent): %v, want ErrNotExist", err)
	}
}

// TestReadFileRefusesFIFO: a named pipe would block a plain os.ReadFile forever.
func TestReadFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.csv")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadFile(p, 100)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("ReadFile(FIFO): %v, want ErrNotRegular naming a pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile(FIFO) blocked")
	}
}

// endless is an infinite stream of 'x'.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestReadAllStopsAtTheLimit(t *testing.T) {
	if _, err := ReadAll(endless{}, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadAll(endless): %v, want ErrTooLarge", err)
	}
	got, err := ReadAll(strings.NewReader("abc"), 3)
	if err != nil || string(got) != "abc" {
		t.Fatalf("ReadAll at the limit = %q, %v", got, err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "summary.json")
	if err := WriteAtomic(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old file and no temporary file behind.
	boom := errors.New("boom")
	err := WriteAtomicFunc(p, func(w io.Writer) error {
		if _, err := w.Write([]byte("half")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Fatalf("failing write: %v, want boom naming the path", err)
	}
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, []byte("old")) {
		t.Fatalf("after a failed write the file is %q, %v; want the old contents", got, err)
	}
	if err := WriteAtomic(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) != "new" {
		t.Fatalf("file = %q, want new", got)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want only summary.json (temporary files left?)", len(ents))
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if err := WriteAtomic(filepath.Join(dir, "no", "such", "dir", "x"), nil); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

// TestReadFileFS: the same limits through an os.Root's FS, which also keeps reads inside the root.
func TestReadFileFS(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(dir, "leak")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "metrics.csv"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	fsys := root.FS()
	if got, err := ReadFileFS(fsys, "a.json", 10); err != nil || string(got) != "0123456789" {
		t.Fatalf("at the limit: %q, %v", got, err)
	}
	if _, err := ReadFileFS(fsys, "a.json", 9); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "a.json") {
		t.Errorf("over the limit: %v, want ErrTooLarge naming a.json", err)
	}
	if _, err := ReadFileFS(fsys, ".", 100); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a directory: %v, want ErrNotRegular", err)
	}
	if _, err := ReadFileFS(fsys, "leak", 100); err == nil {
		t.Error("a symbolic link out of the root was read")
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadFileFS(fsys, "metrics.csv", 100)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
			t.Fatalf("FIFO: %v, want ErrNotRegular naming a pipe", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFileFS(FIFO) blocked")
	}
}
