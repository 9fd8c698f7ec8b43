// Package explain computes the interactive KL explainer pages of `klppo serve`.
//
// Each Page has sliders (Params) and a Compute function that turns their values into a View: the
// headline numbers (Values, in nats, each formatted exactly as `klppo kl` prints it) and the
// charts to draw. Every divergence, entropy and estimator comes from package kl; this package
// adds only the small glue an explainer needs — grids of densities, a seeded sampler, a
// Nelder–Mead search that fits a Gaussian to a bimodal P (the mode-covering and mode-seeking
// fits), and a real arithmetic coder that measures the extra bits of coding P with a code built
// for Q.
//
// The package is pure Go so that cmd web/wasm compiles it, together with package kl, to
// WebAssembly: the browser computes the same digits as the command line, and a static export of
// the site works from any file server. The pages' HTML is built from the same Page list by
// package web.
//
// Directions matter. Minimising KL(P‖Q) over Q is mode-COVERING (Q spreads to put mass wherever
// P has mass, or pays +∞); minimising KL(Q‖P) over Q is mode-SEEKING (Q may ignore a mode of P
// but must not put mass where P has none). The asymmetry page fits both and shows it.
package explain
