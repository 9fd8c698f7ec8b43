// Package golden reads the project's reference data: tests use the copy kept inside the repository, which must equal ../shared/golden beside it whenever that exists.
package golden

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// RepoRoot walks up from the working directory (a package directory under `go test`) to the
// directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("golden: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("golden: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SharedPath is the path of reference file name in ../shared/golden beside the repository root.
func SharedPath(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "..", "shared", "golden", name), nil
}

// Read returns the in-repo copy of reference file name (e.g. "kl.json"), kept at copyPath
// relative to the repository root (e.g. "kl/testdata/kl.json"), and the path it read. Tests
// always use the copy. When ../shared/golden/name exists beside the repository, the copy must
// equal it byte for byte, else Read returns an error naming both files (refresh the copy); use
// Shared to learn whether that comparison was possible. A missing copy is an error, so a test
// built on Read fails instead of skipping.
func Read(name, copyPath string) (data []byte, path string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, "", err
	}
	path = filepath.Join(root, copyPath)
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("golden: in-repo copy of %s: %w", name, err)
	}
	shared, err := Shared(name)
	if err != nil || shared == "" {
		return data, path, err
	}
	ref, err := os.ReadFile(shared)
	if err != nil {
		return nil, "", fmt.Errorf("golden: %w", err)
	}
	if !bytes.Equal(data, ref) {
		return nil, "", fmt.Errorf("golden: %s (%d bytes) differs from %s (%d bytes): refresh the in-repo copy", path, len(data), shared, len(ref))
	}
	return data, path, nil
}

// Shared returns the path of ../shared/golden/name beside the repository root when that file
// exists, or "" when it does not (then only the in-repo copy can be used, unchecked).
func Shared(name string) (string, error) {
	p, err := SharedPath(name)
	if err != nil {
		return "", err
	}
	switch _, err := os.Stat(p); {
	case errors.Is(err, os.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("golden: %w", err)
	}
	return p, nil
}
