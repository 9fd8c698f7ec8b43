package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"klppo/internal/fileio"
)

func TestKindRoundTrip(t *testing.T) {
	for _, k := range Kinds {
		dir := filepath.Join(t.TempDir(), "new", "run") // created by WriteKind
		if err := WriteKind(dir, k); err != nil {
			t.Fatal(err)
		}
		got, err := ReadKind(dir)
		if err != nil || got != k || !got.Known() {
			t.Errorf("kind %q: read back %q, %v", k, got, err)
		}
		// The directory now holds a run: no other command writes into it without --force.
		if err := Check(dir); !HoldsRun(err) {
			t.Errorf("kind %q: Check = %v, want a HoldsRunError", k, err)
		}
	}
	if !slices.Contains(Markers, KindFile) {
		t.Errorf("Markers %v lack %s", Markers, KindFile)
	}
}

func TestKindErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadKind(dir); !errors.Is(err, ErrNoKind) || !strings.Contains(err.Error(), dir) {
		t.Errorf("no run.json: %v, want ErrNoKind naming the directory", err)
	}
	for text, want := range map[string]string{
		"":                      "invalid JSON",
		`{"kind": 3}`:           "invalid JSON",
		`{"kind": ""}`:          `no "kind"`,
		`{}`:                    `no "kind"`,
		`["train"]`:             "invalid JSON",
		`{"kind": "train"} x`:   "invalid JSON",
		`{"kind": "from-2030"}`: "",
	} {
		if err := os.WriteFile(filepath.Join(dir, KindFile), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		k, err := ReadKind(dir)
		switch {
		case want == "" && (err != nil || k != "from-2030" || k.Known()):
			t.Errorf("%q: %q (known %v), %v: want an unknown kind returned as it is", text, k, k.Known(), err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), KindFile)):
			t.Errorf("%q: %q, %v: want an error naming %s and saying %q", text, k, err, KindFile, want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, KindFile), make([]byte, maxKindFile+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKind(dir); !errors.Is(err, fileio.ErrTooLarge) {
		t.Errorf("a huge run.json: %v, want ErrTooLarge", err)
	}
	if err := WriteKind("", KindTrain); !errors.Is(err, ErrEmptyPath) {
		t.Errorf(`WriteKind(""): %v`, err)
	}
	if err := WriteKind(dir, ""); err == nil {
		t.Error("WriteKind with an empty kind: no error")
	}
}
