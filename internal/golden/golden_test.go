package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootHoldsGoMod(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "module klppo") {
		t.Fatalf("RepoRoot = %s, whose go.mod is not klppo's", root)
	}
}

func TestReadFallsBackAndFails(t *testing.T) {
	// A name that is not in ../shared/golden: Read returns the in-repo copy unchecked.
	data, path, err := Read("no-such-reference.json", "internal/golden/golden.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, filepath.Join("internal", "golden", "golden.go")) || !strings.Contains(string(data), "package golden") {
		t.Fatalf("Read fell back to %s (%d bytes), want internal/golden/golden.go", path, len(data))
	}
	// No copy: an error naming the file, never empty data.
	if _, _, err := Read("no-such-reference.json", "no/such/copy.json"); err == nil || !strings.Contains(err.Error(), "no-such-reference.json") {
		t.Fatalf("Read with nothing present: err = %v, want an error naming the file", err)
	}
}

// TestReadComparesWithShared builds a repository beside a shared/golden directory and checks
// that Read returns the copy when it equals the shared file and refuses it when it differs.
func TestReadComparesWithShared(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "repo")
	for _, d := range []string{filepath.Join(repo, "x"), filepath.Join(base, "shared", "golden")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(repo, "go.mod"), "module klppo\n")
	write(filepath.Join(repo, "x", "ref.json"), `{"v": 1}`)
	write(filepath.Join(base, "shared", "golden", "ref.json"), `{"v": 1}`)
	t.Chdir(filepath.Join(repo, "x"))

	shared, err := Shared("ref.json")
	if err != nil || !strings.HasSuffix(shared, filepath.Join("shared", "golden", "ref.json")) {
		t.Fatalf("Shared = %q, %v; want the shared file", shared, err)
	}
	data, path, err := Read("ref.json", "x/ref.json")
	if err != nil || string(data) != `{"v": 1}` || !strings.HasSuffix(path, filepath.Join("repo", "x", "ref.json")) {
		t.Fatalf("equal copy: Read = %q, %q, %v; want the in-repo copy", data, path, err)
	}
	write(filepath.Join(base, "shared", "golden", "ref.json"), `{"v": 2}`)
	if _, _, err := Read("ref.json", "x/ref.json"); err == nil || !strings.Contains(err.Error(), "differs from") {
		t.Fatalf("differing copy: err = %v, want an error saying the copy differs", err)
	}
	if s, err := Shared("absent.json"); s != "" || err != nil {
		t.Fatalf("Shared(absent) = %q, %v; want \"\", nil", s, err)
	}
}
