// Package explain computes the interactive KL explainer pages of `klppo serve`.
//
// Each Page has sliders (Params) and a Compute function that turns their values into a View: the
// headline numbers (Values, in nats, each formatted exactly as `klppo kl` prints it, "+Inf" for
// an infinite divergence and "undefined" for a NaN) and the charts to draw. Every page lives in
// its own file (coin.go, asymmetry.go, ppokl.go, …) with its text, sliders and links beside its
// Compute; pages.go lists them in the order of the index.
//
// A Param's Min, Max, Int and Log are the one definition of its range: the browser draws the
// slider from them, and Page.Args accepts exactly the values the slider can reach (any other
// value in a URL is a *ParamError naming the parameter). Page.Run accepts every such state and
// returns a view that marshals to JSON: a chart mark at +Inf is left out, the value says +Inf.
//
// Every divergence, entropy, softmax and estimator comes from package kl; this package adds only
// the small glue an explainer needs — grids of densities, a seeded sampler, the Gaussian fits of
// the asymmetry page (KL(P‖Q) is convex in Q's natural parameters, so one search finds its
// minimum; KL(Q‖P) can have a minimum per mode and one between them, so the search draws its
// whole landscape over μ and refines every dip, and the minimum it reports is the global one),
// a real arithmetic coder that measures the extra bits of coding P with a code built for Q, and
// the exact optima of the KL-regularised objective of RLHF and DPO.
//
// The package is pure Go so that cmd web/wasm compiles it, together with package kl, to
// WebAssembly: the browser computes the same digits as the command line, and a static export of
// the site works from any file server. The pages' HTML is built from the same Page list by
// package web.
//
// Directions matter. Minimising KL(P‖Q) over Q is mode-COVERING (Q spreads to put mass wherever
// P has mass, or pays +∞); minimising KL(Q‖P) over Q is mode-SEEKING (Q may ignore a mode of P
// but must not put mass where P has none) — visibly so once the modes are far enough apart. The
// asymmetry page fits both and shows it. And the two KLs of klppo are on two pages: PPO's
// trust region KL(π_old‖π_θ) between consecutive policies (ppo-kl) and RLHF's leash
// KL(π‖π_ref) to a frozen reference (rlhf, dpo).
package explain
