// Package rng is the one way klppo derives its random streams: every run has a seed, every
// source of randomness in it (weight initialisation, action sampling, minibatch shuffling,
// environment resets, …) a named stream number, and PCG(seed, stream) the generator of that
// stream. The two PCG state words are the seed and the stream mixed by SplitMix64's finaliser,
// so runs whose seeds differ by one, and streams with nearby numbers, give unrelated
// sequences; the same (seed, stream) always gives the same sequence, which is what makes a run
// reproducible and a checkpointed generator restorable.
package rng

import "math/rand/v2"

// PCG returns the generator of stream stream of a run seeded with seed.
func PCG(seed, stream uint64) *rand.PCG {
	z := seed*0x9E3779B97F4A7C15 + stream*0xD1B54A32D192ED03 + 0x632BE59BD9B4E019
	return rand.NewPCG(mix(z), mix(z+0x9E3779B97F4A7C15))
}

// New returns a *rand.Rand over PCG(seed, stream).
func New(seed, stream uint64) *rand.Rand { return rand.New(PCG(seed, stream)) }

// mix is SplitMix64's output function, a bijection of uint64 with good avalanche.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	return x ^ x>>31
}
