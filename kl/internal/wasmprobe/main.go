// Command wasmprobe is the smallest useful program built on package kl: it prints the KL
// divergences, Jensen-Shannon divergence and entropy of two fixed categorical distributions
// given by logits. kl's wasm_test.go builds it with GOOS=js GOARCH=wasm and checks the size of
// the binary, to keep kl (and so an in-browser explainer built on it) small: kl must import
// nothing heavier than the standard library.
//
//	GOOS=js GOARCH=wasm go build -o kl.wasm ./kl/internal/wasmprobe
//	node "$(go env GOROOT)/lib/wasm/wasm_exec_node.js" kl.wasm
package main

import (
	"fmt"
	"os"

	"klppo/kl"
)

func main() {
	p := []float64{800, 0, -800} // P ≈ (1, 0, 0)
	q := []float64{0, 900, 1}    // Q ≈ (0, 1, 0)
	forward, err := kl.KLLogits(p, q)
	if err != nil {
		fail(err)
	}
	reverse, err := kl.ReverseKLLogits(p, q)
	if err != nil {
		fail(err)
	}
	js, err := kl.JSLogits(p, q)
	if err != nil {
		fail(err)
	}
	h, err := kl.EntropyLogits([]float64{0, 0})
	if err != nil {
		fail(err)
	}
	fmt.Printf("KL(P‖Q) = %g nats\nKL(Q‖P) = %g nats\nJS(P,Q) = %.6f nats\nH(fair coin) = %g bits\n",
		forward, reverse, js, kl.Bits.From(h))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wasmprobe:", err)
	os.Exit(1)
}
