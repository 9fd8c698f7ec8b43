package kl

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wasmMaxBytes bounds the js/wasm binary of internal/wasmprobe, a small program that calls
// KLLogits, ReverseKLLogits, JSLogits and EntropyLogits. Measured (Go 1.26, linux/amd64
// host): 2,689,068 bytes, of which a fmt "hello world" is 2,631,434; before kl dropped gorgonia
// the same program was 27,450,543 bytes. The bound (3 MiB, well under 4 MB) leaves room for
// kl to grow a little and fails as soon as it pulls in a heavy dependency.
const wasmMaxBytes = 3 << 20

// goTool returns the go command that runs these tests. There is no fallback: a test of the
// build must not pass because the compiler was missing.
func goTool(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check kl's dependencies and wasm build: %v", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goCmd runs go with args in this package's directory, with extra environment variables, and
// returns its standard output; a failure ends the test with go's messages.
func goCmd(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goTool(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s go %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Package kl must stay pure Go: no gorgonia (the graph nodes live in kl/klgraph, the fused
// kernels in kl/fast), in fact nothing outside the standard library.
func TestNoGorgoniaDependency(t *testing.T) {
	deps := strings.Fields(goCmd(t, nil, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
	if len(deps) == 0 {
		t.Fatal("go list -deps printed no non-standard package, not even klppo/kl itself")
	}
	var gorgonia, other []string
	for _, d := range deps {
		switch {
		case strings.Contains(d, "gorgonia"):
			gorgonia = append(gorgonia, d)
		case d != "klppo/kl":
			other = append(other, d)
		}
	}
	if len(gorgonia) > 0 {
		t.Errorf("klppo/kl depends on %v; graph code belongs in kl/klgraph, tensor code in kl/klgraph or kl/fast", gorgonia)
	}
	if len(other) > 0 {
		t.Errorf("klppo/kl depends on %d non-standard packages, want none: %v", len(other), other)
	}
}

// kl builds for the browser (GOOS=js GOARCH=wasm), and a small program using it stays small.
func TestWasmBuild(t *testing.T) {
	wasm := []string{"GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0"}
	goCmd(t, wasm, "build", ".")
	out := filepath.Join(t.TempDir(), "wasmprobe.wasm")
	goCmd(t, wasm, "build", "-o", out, "./internal/wasmprobe")
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GOOS=js GOARCH=wasm go build ./kl/internal/wasmprobe: %d bytes (%.2f MB)", fi.Size(), float64(fi.Size())/1e6)
	if fi.Size() > wasmMaxBytes {
		t.Errorf("the js/wasm build of kl/internal/wasmprobe is %d bytes, over the %d-byte bound: what did kl start to import?", fi.Size(), wasmMaxBytes)
	}
}
