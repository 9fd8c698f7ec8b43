//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// Outside the browser this command only says how to build it.
func main() {
	fmt.Fprintln(os.Stderr, "web/wasm runs in a browser: build it with `go generate ./web` (GOOS=js GOARCH=wasm)")
	os.Exit(2)
}
