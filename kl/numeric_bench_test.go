package kl

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKLLogitsRow times the plain (allocating, single-threaded) row function on one
// vocabulary-sized row; the large-batch fast path is package kl/fast.
func BenchmarkKLLogitsRow(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 50257
	p, q := make([]float32, n), make([]float32, n)
	for i := range p {
		p[i], q[i] = float32(3*r.NormFloat64()), float32(3*r.NormFloat64())
	}
	b.SetBytes(2 * 4 * n)
	for b.Loop() {
		if _, err := KLLogits(p, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKLProbs times KL over a 1000-outcome probability vector.
func BenchmarkKLProbs(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	p, q := randomProbs(r, 1000, 0), randomProbs(r, 1000, 0)
	for b.Loop() {
		if _, err := KL(p, q); err != nil {
			b.Fatal(err)
		}
	}
}
