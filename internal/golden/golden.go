// Package golden finds the project's reference data: ../shared/golden beside the repository, or the copy kept inside it.
package golden

import (
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

// Read returns the reference file name (e.g. "kl.json") from ../shared/golden beside the
// repository root or, when that file does not exist, the copy at fallback (a path relative to
// the repository root, e.g. "kl/testdata/kl.json"), together with the path it read. It returns an
// error when neither exists, so a test built on it fails instead of skipping.
func Read(name, fallback string) (data []byte, path string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, "", err
	}
	paths := []string{filepath.Join(root, "..", "shared", "golden", name), filepath.Join(root, fallback)}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("golden: %w", err)
		}
		return data, p, nil
	}
	return nil, "", fmt.Errorf("golden: %s not found: tried %v", name, paths)
}
