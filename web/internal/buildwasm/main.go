// Command buildwasm builds web/wasm for GOOS=js GOARCH=wasm into <out>/klppo.wasm and copies the
// Go toolchain's matching loader, wasm_exec.js, beside it. `go generate ./web` runs it with
// -o site/static; web's tests run it into a temporary directory and check that the committed
// files are current.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("o", "site/static", "output directory")
	flag.Parse()
	if err := build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "buildwasm:", err)
		os.Exit(1)
	}
}

func build(out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if os.Getenv("GOROOT") == "" {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(abs, "klppo.wasm"), "klppo/web/wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build web/wasm: %w", err)
	}
	root, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %w", err)
	}
	loader, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return fmt.Errorf("the Go toolchain's wasm loader: %w", err)
	}
	return os.WriteFile(filepath.Join(abs, "wasm_exec.js"), loader, 0o644)
}
