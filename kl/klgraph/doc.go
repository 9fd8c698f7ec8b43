// Package klgraph builds the divergences a training loss needs as differentiable gorgonia graph
// nodes, and applies the row functions of package kl to every row of a gorgonia tensor. It is
// the part of klppo/kl that depends on gorgonia; the formulas are the same as kl's, and tests
// check the graphs against kl and against the golden reference values.
//
// # Graph nodes
//
// Every builder takes matrices of shape (B, K) or (B, D) — one distribution per row — in a
// float32 or float64 graph and returns a node whose gradient gorgonia's Grad can take:
//
//	LogSoftmaxNode          (B, K) → (B, K)   x_bk − m_b − log Σ_j exp(x_bj − m_b),  m_b = max_j x_bj
//	CategoricalKLNode       (B, K) → (B,)     Σ_k p_bk (log p_bk − log q_bk),  log p = LogSoftmaxNode
//	CategoricalEntropyNode  (B, K) → (B,)     −Σ_k p_bk log p_bk
//	DiagNormalKLNode        (B, D) → (B,)     Σ_d ½ [expm1(2r) − 2r + z²],  r = log σP − log σQ,
//	                                          z = (μP − μQ)/σQ
//	VAEPriorKLPerDimNode    (B, D) → (B, D)   ½ (μ² + expm1(log σ²) − log σ²)
//	VAEPriorKLNode          (B, D) → (B,)     the sum of the above over d
//
// LogSoftmaxNode is the one graph-level log-softmax of klppo: policy heads, the PPO objective,
// distillation and the VAE all use it (or a builder above, which uses it).
//
// PPO's trust-region KL(π_old‖π_θ) is CategoricalKLNode(oldLogits, logits) or
// DiagNormalKLNode(oldμ, oldLogσ, μ, logσ) with the old policy's outputs as constant inputs;
// RLHF's KL(π‖π_ref) is the same node with the arguments in that order. Swapping the arguments
// gives the other direction: minimising KL(P‖Q) over Q is mode-covering, KL(Q‖P) mode-seeking.
//
// # Numerical safety
//
// gorgonia v0.9.18's SoftMax/LogSoftMax subtract the first element of the whole tensor instead
// of each row's maximum (rows with large logits overflow) and its LogSumExp is wrong, so none of
// them is used here. LogSoftmaxNode builds the formula above from elementary nodes. Every
// exponent is ≤ 0 and the row's maximum contributes exp(0) = 1, so the sum lies in [1, K]: no
// overflow, no log 0, for any finite logit gap.
//
// The per-row maximum m comes from gorgonia's Max(x, 1). Its forward value is right; its
// gradient routes the upstream gradient to every element equal to the maximum (on ties each
// tied element receives the full gradient, which is not a subgradient). That defect cannot
// reach our result: the output is invariant to m, since for every k
//
//	∂/∂m_b [x_bk − m_b − log Σ_j exp(x_bj − m_b)] = −1 + Σ_j softmax(x)_bj = 0,
//
// so the gradient arriving at m is zero up to rounding (≈ machine ε times the upstream
// gradient). The tests check the assembled gradients against central finite differences,
// with ties and with logit gaps of several hundred.
//
// ByIndices (wrong gradients in v0.9.18) is not used anywhere.
//
// # Rows of tensors
//
// Rows and Reduce apply a kl row function (kl.KL, kl.KLLogits, kl.JS, ...; Unary for
// kl.Entropy) to every row of (B, K) tensors and return the B values or their mean or sum;
// DiagNormalRows and VAEPriorRows do the same for batches of Gaussians. These are plain
// evaluations (no graph), for logging and checks; invalid rows give a *kl.ArgError wrapped with
// the row index.
package klgraph
