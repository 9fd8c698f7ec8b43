package klgraph

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graphCheckMatrix reports an error unless n is a non-nil 2-D float32 or float64 node with
// non-empty dimensions. fn and arg name the builder and the argument for the message.
func graphCheckMatrix(fn, arg string, n *gorgonia.Node) error {
	if n == nil {
		return fmt.Errorf("klgraph: %s: %s is nil", fn, arg)
	}
	dt := n.Dtype()
	if dt != tensor.Float64 && dt != tensor.Float32 {
		return fmt.Errorf("klgraph: %s: %s has dtype %v, want float32 or float64", fn, arg, dt)
	}
	s := n.Shape()
	if len(s) != 2 || s[0] < 1 || s[1] < 1 {
		return fmt.Errorf("klgraph: %s: %s has shape %v, want a (rows, cols) matrix", fn, arg, s)
	}
	return nil
}

// graphCheckPair checks a and b with graphCheckMatrix and that they share a graph, a dtype
// and a shape.
func graphCheckPair(fn, aName string, a *gorgonia.Node, bName string, b *gorgonia.Node) error {
	if err := graphCheckMatrix(fn, aName, a); err != nil {
		return err
	}
	if err := graphCheckMatrix(fn, bName, b); err != nil {
		return err
	}
	if a.Graph() != b.Graph() {
		return fmt.Errorf("klgraph: %s: %s and %s belong to different graphs", fn, aName, bName)
	}
	if a.Dtype() != b.Dtype() {
		return fmt.Errorf("klgraph: %s: %s has dtype %v but %s has dtype %v", fn, aName, a.Dtype(), bName, b.Dtype())
	}
	if !a.Shape().Eq(b.Shape()) {
		return fmt.Errorf("klgraph: %s: %s has shape %v but %s has shape %v", fn, aName, a.Shape(), bName, b.Shape())
	}
	return nil
}

// graphScalar returns a constant v in the node's dtype (gorgonia needs constants that match
// the graph's dtype).
func graphScalar(like *gorgonia.Node, v float64) *gorgonia.Node {
	if like.Dtype() == tensor.Float32 {
		return gorgonia.NewConstant(float32(v))
	}
	return gorgonia.NewConstant(v)
}

// graphWrap names the builder and the step in an error from gorgonia.
func graphWrap(fn, step string, err error) error {
	return fmt.Errorf("klgraph: %s: %s: %w", fn, step, err)
}

// LogSoftmaxNode returns the row-wise log-softmax of logits, shape (B, K) → (B, K):
//
//	out_bk = x_bk − m_b − log Σ_j exp(x_bj − m_b),  m_b = max_j x_bj.
//
// It is exact for any finite logit gap (e.g. [800, 0, −800] gives [0, −800, −1600]) in float32
// and float64 graphs. Logits must be finite: mask with a large negative number, not −Inf.
func LogSoftmaxNode(logits *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "LogSoftmaxNode"
	if err := graphCheckMatrix(fn, "logits", logits); err != nil {
		return nil, err
	}
	return graphLogSoftmax(fn, logits)
}

func graphLogSoftmax(fn string, x *gorgonia.Node) (*gorgonia.Node, error) {
	m, err := gorgonia.Max(x, 1) // (B,)
	if err != nil {
		return nil, graphWrap(fn, "row max", err)
	}
	shifted, err := gorgonia.BroadcastSub(x, m, nil, []byte{1}) // x − m ≤ 0
	if err != nil {
		return nil, graphWrap(fn, "x − max", err)
	}
	e, err := gorgonia.Exp(shifted)
	if err != nil {
		return nil, graphWrap(fn, "exp", err)
	}
	s, err := gorgonia.Sum(e, 1) // (B,), in [1, K]
	if err != nil {
		return nil, graphWrap(fn, "row sum", err)
	}
	ls, err := gorgonia.Log(s)
	if err != nil {
		return nil, graphWrap(fn, "log", err)
	}
	out, err := gorgonia.BroadcastSub(shifted, ls, nil, []byte{1})
	if err != nil {
		return nil, graphWrap(fn, "x − max − log sum", err)
	}
	return out, nil
}

// CategoricalKLNode returns KL(P‖Q) per row for categorical distributions given by logits,
// shapes (B, K), (B, K) → (B,):
//
//	KL_b = Σ_k p_bk (log p_bk − log q_bk),  log p = LogSoftmaxNode(pLogits), p = exp(log p).
//
// Both arguments are differentiable: use it with pLogits fixed (old/reference policy) for the
// forward direction, or swap the arguments for the reverse direction KL(Q‖P). Terms with
// p_bk underflowing to 0 contribute exactly 0 because log p − log q stays finite, so
// [800, 0, −800] vs [0, 900, 1] gives the finite 900 nats with finite gradients.
func CategoricalKLNode(pLogits, qLogits *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "CategoricalKLNode"
	if err := graphCheckPair(fn, "pLogits", pLogits, "qLogits", qLogits); err != nil {
		return nil, err
	}
	lp, err := graphLogSoftmax(fn, pLogits)
	if err != nil {
		return nil, err
	}
	lq, err := graphLogSoftmax(fn, qLogits)
	if err != nil {
		return nil, err
	}
	p, err := gorgonia.Exp(lp)
	if err != nil {
		return nil, graphWrap(fn, "p = exp(log p)", err)
	}
	diff, err := gorgonia.Sub(lp, lq)
	if err != nil {
		return nil, graphWrap(fn, "log p − log q", err)
	}
	terms, err := gorgonia.HadamardProd(p, diff)
	if err != nil {
		return nil, graphWrap(fn, "p·(log p − log q)", err)
	}
	out, err := gorgonia.Sum(terms, 1)
	if err != nil {
		return nil, graphWrap(fn, "row sum", err)
	}
	return out, nil
}

// CategoricalEntropyNode returns the entropy per row of the categorical distributions given by
// logits, shape (B, K) → (B,):
//
//	H_b = −Σ_k p_bk log p_bk,  log p = LogSoftmaxNode(logits).
func CategoricalEntropyNode(logits *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "CategoricalEntropyNode"
	if err := graphCheckMatrix(fn, "logits", logits); err != nil {
		return nil, err
	}
	lp, err := graphLogSoftmax(fn, logits)
	if err != nil {
		return nil, err
	}
	p, err := gorgonia.Exp(lp)
	if err != nil {
		return nil, graphWrap(fn, "p = exp(log p)", err)
	}
	terms, err := gorgonia.HadamardProd(p, lp)
	if err != nil {
		return nil, graphWrap(fn, "p·log p", err)
	}
	s, err := gorgonia.Sum(terms, 1)
	if err != nil {
		return nil, graphWrap(fn, "row sum", err)
	}
	out, err := gorgonia.Neg(s)
	if err != nil {
		return nil, graphWrap(fn, "negate", err)
	}
	return out, nil
}

// DiagNormalKLNode returns KL(N(μP, σP²)‖N(μQ, σQ²)) per row for diagonal Gaussians given by
// means and log standard deviations, each (B, D) → (B,), summed over the D dimensions:
//
//	KL_b = Σ_d [ log σQ − log σP + (σP² + (μP − μQ)²) / (2 σQ²) − ½ ]
//	     = Σ_d ½ [ expm1(2r) − 2r + z² ],   r = log σP − log σQ,  z = (μP − μQ)·exp(−log σQ).
//
// The second form is the one built: expm1(2r) − 2r ≥ 0 keeps its relative precision when σP ≈ σQ.
// All four arguments are differentiable.
func DiagNormalKLNode(muP, logStdP, muQ, logStdQ *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "DiagNormalKLNode"
	if err := graphCheckPair(fn, "muP", muP, "logStdP", logStdP); err != nil {
		return nil, err
	}
	if err := graphCheckPair(fn, "muP", muP, "muQ", muQ); err != nil {
		return nil, err
	}
	if err := graphCheckPair(fn, "muP", muP, "logStdQ", logStdQ); err != nil {
		return nil, err
	}
	r, err := gorgonia.Sub(logStdP, logStdQ)
	if err != nil {
		return nil, graphWrap(fn, "r = log σP − log σQ", err)
	}
	twoR, err := gorgonia.Mul(graphScalar(r, 2), r)
	if err != nil {
		return nil, graphWrap(fn, "2r", err)
	}
	em, err := gorgonia.Expm1(twoR)
	if err != nil {
		return nil, graphWrap(fn, "expm1(2r)", err)
	}
	varTerm, err := gorgonia.Sub(em, twoR)
	if err != nil {
		return nil, graphWrap(fn, "expm1(2r) − 2r", err)
	}
	dmu, err := gorgonia.Sub(muP, muQ)
	if err != nil {
		return nil, graphWrap(fn, "μP − μQ", err)
	}
	negLogStdQ, err := gorgonia.Neg(logStdQ)
	if err != nil {
		return nil, graphWrap(fn, "−log σQ", err)
	}
	invStdQ, err := gorgonia.Exp(negLogStdQ)
	if err != nil {
		return nil, graphWrap(fn, "1/σQ", err)
	}
	z, err := gorgonia.HadamardProd(dmu, invStdQ)
	if err != nil {
		return nil, graphWrap(fn, "z", err)
	}
	z2, err := gorgonia.Square(z)
	if err != nil {
		return nil, graphWrap(fn, "z²", err)
	}
	sum, err := gorgonia.Add(varTerm, z2)
	if err != nil {
		return nil, graphWrap(fn, "expm1(2r) − 2r + z²", err)
	}
	per, err := gorgonia.Mul(graphScalar(sum, 0.5), sum)
	if err != nil {
		return nil, graphWrap(fn, "½(…)", err)
	}
	out, err := gorgonia.Sum(per, 1)
	if err != nil {
		return nil, graphWrap(fn, "sum over D", err)
	}
	return out, nil
}

// VAEPriorKLPerDimNode returns the VAE prior term per dimension, KL(N(μ, σ²)‖N(0, 1)) with the
// encoder's μ and log σ², shape (B, D) → (B, D):
//
//	KL_bd = ½ (μ² + σ² − 1 − log σ²) = ½ (μ² + expm1(log σ²) − log σ²).
//
// The expm1 form keeps relative precision when σ² ≈ 1. Both arguments are differentiable.
func VAEPriorKLPerDimNode(mu, logVar *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "VAEPriorKLPerDimNode"
	if err := graphCheckPair(fn, "mu", mu, "logVar", logVar); err != nil {
		return nil, err
	}
	return graphVAEPerDim(fn, mu, logVar)
}

func graphVAEPerDim(fn string, mu, logVar *gorgonia.Node) (*gorgonia.Node, error) {
	mu2, err := gorgonia.Square(mu)
	if err != nil {
		return nil, graphWrap(fn, "μ²", err)
	}
	em, err := gorgonia.Expm1(logVar)
	if err != nil {
		return nil, graphWrap(fn, "expm1(log σ²)", err)
	}
	t, err := gorgonia.Sub(em, logVar)
	if err != nil {
		return nil, graphWrap(fn, "σ² − 1 − log σ²", err)
	}
	s, err := gorgonia.Add(mu2, t)
	if err != nil {
		return nil, graphWrap(fn, "μ² + σ² − 1 − log σ²", err)
	}
	out, err := gorgonia.Mul(graphScalar(s, 0.5), s)
	if err != nil {
		return nil, graphWrap(fn, "½(…)", err)
	}
	return out, nil
}

// VAEPriorKLNode returns the VAE prior term per row, shape (B, D) → (B,):
//
//	KL_b = Σ_d ½ (μ_bd² + σ_bd² − 1 − log σ_bd²) = −½ Σ_d (1 + log σ² − μ² − σ²).
func VAEPriorKLNode(mu, logVar *gorgonia.Node) (*gorgonia.Node, error) {
	const fn = "VAEPriorKLNode"
	if err := graphCheckPair(fn, "mu", mu, "logVar", logVar); err != nil {
		return nil, err
	}
	per, err := graphVAEPerDim(fn, mu, logVar)
	if err != nil {
		return nil, err
	}
	out, err := gorgonia.Sum(per, 1)
	if err != nil {
		return nil, graphWrap(fn, "sum over D", err)
	}
	return out, nil
}
