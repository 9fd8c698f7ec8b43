package kl

import (
	"fmt"
	"math"
)

// Float is the element type of the slice functions: float32 or float64 (or a type based on
// them). Values are widened to float64 and every result is a float64.
type Float interface{ ~float32 | ~float64 }

// SumTolerance is how far from 1 the sum of a probability vector may be: |Σpᵢ − 1| ≤ 1e-6.
// Use Normalize (or Smooth) for vectors that are only proportional to probabilities.
const SumTolerance = 1e-6

// ValidateProbs checks that p is a probability vector: not empty, every element finite and ≥ 0,
// and |Σpᵢ − 1| ≤ SumTolerance. name is used in the error (an *ArgError), e.g. "p" or "q".
func ValidateProbs[F Float](name string, p []F) error {
	if len(p) == 0 {
		return aggErr(name, "len", 0, "must be ≥ 1")
	}
	var sum float64
	for i, v := range p {
		x := float64(v)
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return argErr(name, i, x, "must be a finite probability")
		case x < 0:
			return argErr(name, i, x, "probability must be ≥ 0")
		}
		sum += x
	}
	if math.Abs(sum-1) > SumTolerance {
		return aggErr(name, "sum", sum, fmt.Sprintf("must be 1 within %g (normalise explicitly if meant)", SumTolerance))
	}
	return nil
}

// validatePair checks the lengths, then p, then q.
func validatePair[F Float](pn string, p []F, qn string, q []F) error {
	if len(p) != len(q) {
		return lengthErr(pn, len(p), qn, len(q))
	}
	if err := ValidateProbs(pn, p); err != nil {
		return err
	}
	return ValidateProbs(qn, q)
}

// checkWeights checks that w is a non-empty vector of finite, non-negative numbers and returns its sum.
func checkWeights[F Float](name string, w []F) (float64, error) {
	if len(w) == 0 {
		return 0, aggErr(name, "len", 0, "must be ≥ 1")
	}
	var sum float64
	for i, v := range w {
		x := float64(v)
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			return 0, argErr(name, i, x, "must be finite")
		case x < 0:
			return 0, argErr(name, i, x, "must be ≥ 0")
		}
		sum += x
	}
	return sum, nil
}

// Normalize returns w / Σw, for non-negative weights w that are proportional to a probability
// vector (computed in float64, returned in w's type). The error names "w" (an *ArgError) when an
// element is negative or not finite or when Σw is 0 or overflows.
func Normalize[F Float](w []F) ([]F, error) {
	sum, err := checkWeights("w", w)
	if err != nil {
		return nil, err
	}
	if sum == 0 || math.IsInf(sum, 0) {
		return nil, aggErr("w", "sum", sum, "must be finite and > 0 to normalise")
	}
	out := make([]F, len(w))
	for i, v := range w {
		out[i] = F(float64(v) / sum)
	}
	return out, nil
}

// Smooth returns additively smoothed probabilities
//
//	p̃ᵢ = (pᵢ + ε) / Σⱼ (pⱼ + ε),
//
// for users who want a finite divergence where Q has zeros (KL(P‖Q̃) is finite). It is never
// applied implicitly. Because it renormalises, w need only be non-negative weights. eps must be
// finite and > 0 (the error names "eps").
func Smooth[F Float](w []F, eps float64) ([]F, error) {
	if !(eps > 0) || math.IsInf(eps, 1) {
		return nil, argErr("eps", -1, eps, "smoothing must be finite and > 0")
	}
	sum, err := checkWeights("w", w)
	if err != nil {
		return nil, err
	}
	total := sum + eps*float64(len(w))
	if math.IsInf(total, 0) {
		if !math.IsInf(eps*float64(len(w)), 0) {
			return nil, aggErr("w", "sum", total, "must be finite to smooth")
		}
		// The smoothing itself overflows: ε·len(w) > MaxFloat64 (any ε past ~1e300 already makes
		// every distribution uniform to float64 precision).
		return nil, argErr("eps", -1, eps, fmt.Sprintf("too large: ε·%d outcomes overflows float64 (beyond about 1e300 smoothing gives the uniform distribution anyway)", len(w)))
	}
	out := make([]F, len(w))
	for i, v := range w {
		out[i] = F((float64(v) + eps) / total)
	}
	return out, nil
}

// klTerm returns the contribution of one outcome to KL(P‖Q) in the form
//
//	p ln(p/q) − p + q  (≥ 0 for all p, q ≥ 0),
//
// whose sum over outcomes equals Σ p ln(p/q) when P and Q both sum to 1. Each term is ≥ 0, so
// rounding can never make a divergence negative, and near p = q the term is computed from a
// series (q·Σₖ₌₂ (−d)ᵏ/(k(k−1)), d = (p−q)/q) instead of by cancellation.
// p = 0 gives q (0·ln 0 = 0); p > 0 with q = 0 gives +Inf.
func klTerm(p, q float64) float64 {
	// p − q is exact when p and q are within a factor of 2 (Sterbenz).
	return klTermDiff(p, q, p-q)
}

// klTermDiff is klTerm with the difference p − q supplied by the caller (Bernoulli passes
// b − a for the pair 1−a, 1−b, whose own difference has lost the digits that matter). Near
// p = q, d = (p−q)/q comes from that difference: from the rounded ratio p/q, d = 1e-8 would
// keep only 8 correct digits.
func klTermDiff(p, q, pMinusQ float64) float64 {
	switch {
	case p == 0:
		return q
	case q == 0:
		return math.Inf(1)
	}
	if d := pMinusQ / q; math.Abs(d) < 0.1 {
		// Σ_{k≥2} (−1)ᵏ dᵏ / (k(k−1)).
		pow := d * d
		sum := pow / 2
		for k := 3.0; k < 25; k++ {
			pow *= -d
			t := pow / (k * (k - 1))
			sum += t
			if math.Abs(t) < 1e-18*sum {
				break
			}
		}
		return q * sum
	}
	return p*(logSafe(p)-logSafe(q)) - p + q
}

// jsTerm returns one outcome's contribution to JS(P,Q):
//
//	½ p ln(2p/(p+q)) + ½ q ln(2q/(p+q))  (≥ 0 and ≤ ½(p+q) ln 2),
//
// from jsTermRatio with the larger probability as q.
func jsTerm(p, q float64) float64 {
	if p > q {
		p, q = q, p
	}
	switch {
	case q == 0:
		return 0
	case p == 0:
		return 0.5 * q * math.Ln2
	}
	return jsTermRatio(q, p/q, logRatio(p, q), (p-q)/(p+q))
}

// jsTermRatio is one outcome's JS term written with the larger probability q, the ratio
// r = p/q ∈ (0, 1], ln r, and t = (p−q)/(p+q) = (r−1)/(r+1):
//
//	½ q [(1+r)(ln 2 − ln(1+r)) + r ln r].
//
// Every part stays finite as r → 0, so a nearly impossible outcome under P still contributes
// its ½ q ln 2 (the form ½ p·log1p(t) with t → −1 gave −Inf there). For |t| < 0.3 the
// bracket cancels, and the series ½ m Σₖ t²ᵏ/(k(2k−1)), m = (p+q)/2, is used instead.
func jsTermRatio(q, r, lnr, t float64) float64 {
	if math.Abs(t) < 0.3 {
		m := 0.5 * q * (1 + r)
		t2 := t * t
		pow := t2
		sum := t2
		for k := 2.0; k < 40; k++ {
			pow *= t2
			term := pow / (k * (2*k - 1))
			sum += term
			if term < 1e-18*sum {
				break
			}
		}
		return m * sum / 2
	}
	v := (1 + r) * (math.Ln2 - math.Log1p(r))
	if r > 0 {
		v += r * lnr
	}
	return math.Max(0.5*q*v, 0)
}

// KL returns the Kullback-Leibler divergence of Q from P in nats,
//
//	KL(P‖Q) = Σᵢ pᵢ ln(pᵢ/qᵢ),
//
// with 0·ln(0/q) = 0 and +Inf when some pᵢ > 0 has qᵢ = 0 (never NaN, never a silent epsilon;
// see Smooth for a finite alternative). p and q must be probability vectors of the same length
// (ValidateProbs; errors name "p" and "q"). The sum is accumulated term-wise as
// Σ [pᵢ ln(pᵢ/qᵢ) − pᵢ + qᵢ], equal to the formula above for normalised inputs, so the result is
// ≥ 0 and accurate even when P ≈ Q.
func KL[F Float](p, q []F) (float64, error) {
	if err := validatePair("p", p, "q", q); err != nil {
		return 0, err
	}
	return klSum(p, q), nil
}

func klSum[F Float](p, q []F) float64 {
	var s float64
	for i := range p {
		s += klTerm(float64(p[i]), float64(q[i]))
	}
	return s
}

// ReverseKL returns KL(Q‖P) = Σᵢ qᵢ ln(qᵢ/pᵢ), the same as KL(q, p) but with errors that still
// name p and q as passed. It is the direction of variational inference and of RLHF's penalty
// (the model Q measured against the reference P): mode-seeking where KL(P‖Q) is mode-covering.
func ReverseKL[F Float](p, q []F) (float64, error) {
	if err := validatePair("p", p, "q", q); err != nil {
		return 0, err
	}
	return klSum(q, p), nil
}

// JS returns the Jensen-Shannon divergence in nats,
//
//	JS(P,Q) = ½ KL(P‖M) + ½ KL(Q‖M),  M = ½(P+Q),
//
// which is symmetric, always finite and 0 ≤ JS ≤ ln 2 (1 bit). Each outcome's term is summed
// in a form that is exact for nearly disjoint inputs too: P = (1e-20, 1), Q = (1, 1e-20) gives
// ln 2 to the last bit, P = (1e-17, 1), Q = (½, ½) gives 0.215761554338836.
func JS[F Float](p, q []F) (float64, error) {
	if err := validatePair("p", p, "q", q); err != nil {
		return 0, err
	}
	var s float64
	for i := range p {
		s += jsTerm(float64(p[i]), float64(q[i]))
	}
	return math.Min(s, math.Ln2), nil
}

// Entropy returns the Shannon entropy H(P) = −Σᵢ pᵢ ln pᵢ in nats, with 0·ln 0 = 0.
func Entropy[F Float](p []F) (float64, error) {
	if err := ValidateProbs("p", p); err != nil {
		return 0, err
	}
	var s float64
	for _, v := range p {
		if x := float64(v); x > 0 {
			s -= x * logSafe(x)
		}
	}
	return s, nil
}

// CrossEntropy returns H(P,Q) = −Σᵢ pᵢ ln qᵢ = H(P) + KL(P‖Q) in nats: the expected code length
// of symbols drawn from P under a code built for Q. 0·ln q = 0; pᵢ > 0 with qᵢ = 0 gives +Inf.
func CrossEntropy[F Float](p, q []F) (float64, error) {
	if err := validatePair("p", p, "q", q); err != nil {
		return 0, err
	}
	var s float64
	for i := range p {
		x := float64(p[i])
		if x == 0 {
			continue
		}
		y := float64(q[i])
		if y == 0 {
			return math.Inf(1), nil
		}
		s -= x * logSafe(y)
	}
	return s, nil
}
