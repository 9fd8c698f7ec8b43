// Package fast computes row-wise KL(P‖Q) from two large matrices of logits — an RLHF batch of
// 256 × 50257 vocabulary logits — fused into one pass per row, spread over goroutines,
// allocation-free per call. It is the large-batch companion of package kl, whose KLLogits is
// the exact (slower, allocating) reference it is tested against and falls back on.
//
//	f := fast.New(0)                           // one per goroutine; reuse it
//	err := f.KLLogits32(dst, p, q, rows, cols) // dst[r] = KL(softmax(p_r)‖softmax(q_r))
//
// Kernel reports which row kernels run: "avx512" (float32 rows on 16 lanes, amd64 CPUs with
// AVX-512F), "avx2" (the assembly of kernels_amd64.s, on amd64 CPUs with AVX2 and FMA) or "go".
// `klppo bench kl` times it.
//
// # The formula
//
// For one row with logits x (P) and y (Q), with mx = max x, my = max y:
//
//	a_k = x_k − mx,   b_k = y_k − my,
//	Sx = Σ_k e^{a_k},   Sy = Σ_k e^{b_k},   T = Σ_k e^{a_k} (a_k − b_k),
//	KL(P‖Q) = Σ_k p_k (log p_k − log q_k) = T/Sx + log(Sy/Sx),
//
// since log p_k = a_k − log Sx, log q_k = b_k − log Sy and Σ_k p_k = 1. With the maxima as
// the reference every exponent is ≤ 0, so nothing overflows; Sx, Sy ∈ [1, K]. Using the same computed a_k, b_k in the exponentials
// and in T makes their rounding act like a tiny change of the logits (the result is the exact
// KL of logits perturbed by a few ulps), so a small KL between close P and Q is not swamped by
// the rounding of x_k − y_k.
//
// The AVX2 kernels read a row once from memory, in blocks that stay in the L1 cache (each
// block's maxima, then its sums), with an online log-sum-exp: when a block raises a row maximum
// the running sums are rescaled (fastOnline in row.go). The AVX-512 kernels go further: after
// the first block, a block is summed relative to the current maxima in the same pass that finds
// its own (exponents may then be positive, up to a headroom of 60 nats; a block beyond it is
// summed again), so that the memory reads overlap the arithmetic. The pure-Go kernels,
// compute-bound, read the row twice (maxima, then sums).
//
// # Accuracy
//
// e^a is evaluated by a table-driven exponential (exp.go) with relative error below 2e-13;
// sums are accumulated in float64, also for float32 logits. Rows whose fast value is not finite
// (a −Inf logit, i.e. a masked token, or invalid input) are recomputed with kl.KLLogits, which
// gives +Inf where Q has probability 0 and P does not and an error naming the row for NaN or
// +Inf logits.
package fast
