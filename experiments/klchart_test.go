package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/kl"
)

func TestNormalsText(t *testing.T) {
	p, q := kl.Normal{Mu: -3, Sigma: 1}, kl.Normal{Mu: 3, Sigma: 1}
	var b bytes.Buffer
	if err := NormalsText(&b, p, q, "N(-3, 1)", "N(3, 1)", 40, 10); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	// Header, 10 rows, the x axis, its labels and the "x".
	if len(lines) != 14 || !strings.Contains(lines[0], "* P = N(-3, 1)") || !strings.HasPrefix(lines[11], "      0 +") {
		t.Fatalf("chart of %d lines:\n%s", len(lines), b.String())
	}
	// P's peak is left of Q's: the '*' of the top row come before its 'o'.
	top := lines[1]
	if i, j := strings.Index(top, "*"), strings.Index(top, "o"); i < 0 || j < 0 || i > j {
		t.Errorf("top row %q: want P's peak ('*') left of Q's ('o')", top)
	}
	if err := NormalsText(&b, p, q, "", "", 3, 10); err == nil {
		t.Error("a 3-column chart was accepted")
	}
}

func TestNormalsPNG(t *testing.T) {
	p, q := kl.Normal{Mu: 0, Sigma: 1}, kl.Normal{Mu: 1, Sigma: 2}
	path := filepath.Join(t.TempDir(), "n.png")
	if err := NormalsPNG(path, p, q, "P", "Q", 0.44, 0.81); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("not a PNG: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "missing-dir", "n.png")
	if err := NormalsPNG(bad, p, q, "P", "Q", 0.44, 0.81); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("writing into a missing directory: %v, want an error naming the file", err)
	}
}
