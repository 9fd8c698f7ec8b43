// Package kl computes the Kullback-Leibler divergence and its relatives in pure Go, exactly at
// the edges: categorical distributions given as probabilities or as logits, closed forms of
// common families, Schulman's Monte Carlo estimators, Jensen-Shannon, entropy, cross-entropy
// and units. It imports nothing beyond the standard library, so it builds anywhere Go does,
// including GOOS=js GOARCH=wasm (wasm_test.go checks it).
// Its two companions hold what needs more:
//
//	klppo/kl          pure Go: slices and closed forms (this package)
//	klppo/kl/klgraph  gorgonia graph nodes (differentiable losses) and per-row helpers over tensors
//	klppo/kl/fast     fused multi-threaded KL from large logit matrices (AVX2 assembly on amd64)
//
// # The divergence
//
// For distributions P and Q over the same outcomes,
//
//	KL(P‖Q) = Σᵢ pᵢ ln(pᵢ/qᵢ) = E_P[ln p(x) − ln q(x)]   (nats; KL/ln 2 bits, see Unit)
//
// with 0·ln(0/q) = 0 and KL = +Inf when some pᵢ > 0 has qᵢ = 0. It is ≥ 0, zero only for P = Q,
// and not symmetric: KL(P‖Q) weighs the log-ratio by P. Minimising KL(P‖Q) over Q is
// mode-covering (Q must put mass wherever P has it); minimising KL(Q‖P) over Q is mode-seeking
// (Q may drop modes of P but must not put mass where P has none).
//
// In klppo the KL appears twice, in two different roles: PPO's trust region KL(π_old‖π_θ)
// (how far one update moved the policy) and RLHF's leash KL(π‖π_ref) to a frozen reference
// policy. Both are this function with different arguments.
//
// # Categorical distributions
//
// KL, ReverseKL, JS, Entropy and CrossEntropy take probability vectors (checked by
// ValidateProbs: finite, ≥ 0, summing to 1 within SumTolerance); Normalize and Smooth turn
// weights into such vectors:
//
//	JS(P,Q)  = ½ KL(P‖M) + ½ KL(Q‖M),  M = (P+Q)/2     (symmetric, 0 ≤ JS ≤ ln 2)
//	H(P)     = −Σᵢ pᵢ ln pᵢ
//	H(P,Q)   = −Σᵢ pᵢ ln qᵢ = H(P) + KL(P‖Q)
//	Smooth(w, ε)ᵢ = (wᵢ + ε)/(Σw + K·ε)   (add ε to every weight, then normalise)
//
// Every sum is accumulated term by term in a form whose terms are ≥ 0 (for KL,
// pᵢ ln(pᵢ/qᵢ) − pᵢ + qᵢ), so rounding never makes a divergence negative and P ≈ Q keeps its
// relative precision.
//
// The ...Logits forms (KLLogits, ReverseKLLogits, JSLogits, EntropyLogits, CrossEntropyLogits)
// take unnormalised log-probabilities, as a policy network outputs them, and go through the
// one stable log-softmax of the package (LogSoftmax, LogSoftmaxInto):
//
//	log softmax(x)ᵢ = xᵢ − m − ln Σⱼ exp(xⱼ − m),   m = maxⱼ xⱼ,
//
// so no exponential overflows: logits [800, 0, −800] against [0, 900, 1] give exactly 900 nats.
// Softmax (and SoftmaxInto) turn logits into probabilities with the same maximum subtracted.
// A −Inf logit is a zero probability (a masked action). KLLogitsBuf is KLLogits with
// caller-owned scratch, for loops over many rows (a trainer's KL at every state): same value, no
// allocation.
//
// # Closed forms
//
// Normal, DiagNormal, Bernoulli, Beta, Dirichlet, Poisson, Exponential and Gamma are small value
// types; p.KL(q) returns KL(p‖q) (the Divergence interface). For example, for normals
//
//	KL(N(μ₁,σ₁²)‖N(μ₂,σ₂²)) = ln(σ₂/σ₁) + (σ₁² + (μ₁−μ₂)²)/(2σ₂²) − ½,
//
// evaluated without its cancellation when σ₁ ≈ σ₂; each method's doc comment gives its formula.
// VAEPriorKL is the VAE's KL(N(μ, diag σ²)‖N(0, I)) = ½ Σ (μ² + σ² − 1 − ln σ²).
//
// # Estimators
//
// When only samples x ~ Q and the log-ratio ℓ = ln p(x) − ln q(x) are available, the mean of
// K1 = −ℓ, K2 = ℓ²/2 or K3 = e^ℓ − 1 − ℓ estimates KL(Q‖P) (Estimate, EstimateFromLogProbs).
//
// # Input as people give it
//
// ParseVector and ReadVector read numbers separated by commas and/or white space (a command
// line's "0.7,0.3", a file of one number per line). CategoricalSpec describes a categorical
// distribution the way a user gives it — probabilities, weights (Normalize) or logits, with an
// optional additive smoothing
//
//	p̃ᵢ = (pᵢ + ε) / Σⱼ (pⱼ + ε)
//
// — and Resolve turns it into log-probabilities for the ...Logits functions. SupportGap names
// the outcome that makes a KL(P‖Q) infinite (P > 0 where Q = 0); without one, an infinite
// float64 result is an overflow of a finite value. The klppo kl command is built on these.
//
// # Errors
//
// Invalid input is an *ArgError naming the argument as the klppo command does ("p",
// "q_logits", "sigma_p", ...), its index and value: "kl: p[1] = -0.2: must be ≥ 0". No function
// panics, and none returns NaN for valid input.
package kl
