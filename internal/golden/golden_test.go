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
	// A name that is not in ../shared/golden: Read must use the in-repo fallback.
	data, path, err := Read("no-such-reference.json", "internal/golden/golden.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, filepath.Join("internal", "golden", "golden.go")) || !strings.Contains(string(data), "package golden") {
		t.Fatalf("Read fell back to %s (%d bytes), want internal/golden/golden.go", path, len(data))
	}
	// Neither present: an error naming the file, never empty data.
	if _, _, err := Read("no-such-reference.json", "no/such/copy.json"); err == nil || !strings.Contains(err.Error(), "no-such-reference.json") {
		t.Fatalf("Read with nothing present: err = %v, want an error naming the file", err)
	}
}
