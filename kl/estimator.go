package kl

import (
	"encoding"
	"fmt"
	"math"
)

// Estimator is one of J. Schulman's sample estimators of KL(Q‖P) ("Approximating KL
// Divergence", 2020). Each maps a log-ratio
//
//	ℓ = ln p(x) − ln q(x) = ln r,  x ~ Q (the sampling distribution, e.g. the old policy),
//
// to one sample whose mean over x ~ Q estimates KL(Q‖P) = E_Q[−ln r]. In PPO, Q = π_old and
// P = π_new, so ℓ = new log-prob − old log-prob: CleanRL logs old_approx_kl = mean K1 and
// approx_kl = mean K3.
//
// The same three functions estimate RLHF's KL(π‖π_ref) from tokens x ~ π: there Q = π and
// P = π_ref, so the log-ratio to pass is ln π_ref(x) − ln π(x), the negative of the RLHF
// papers' l = ln π(x) − ln π_ref(x). In their notation k1 = l, k2 = ½l², k3 = e^(−l) − 1 + l
// (see RLHF and Deriv; package ppo's KLRef places these in the reward or in the loss).
type Estimator int

const (
	// K1 = −ℓ = −ln r: unbiased (E_Q[−ln r] is the definition of KL(Q‖P)) but high-variance,
	// and single samples — even the mean of a small batch — can be negative.
	K1 Estimator = iota + 1
	// K2 = ½ℓ² = ½(ln r)²: always ≥ 0 and low-variance, but biased. Its mean is an f-divergence
	// that agrees with KL(Q‖P) to second order, so the bias is small when Q ≈ P (it is ¼ of the
	// KL when Q and P are unit-variance normals with KL = ½: mean 0.625 instead of 0.5).
	K2
	// K3 = (r − 1) − ln r = e^ℓ − 1 − ℓ: unbiased (E_Q[r] = 1 adds a zero-mean control variate to
	// K1), always ≥ 0 (since ln r ≤ r − 1), and low-variance when Q ≈ P. Heavy-tailed when p(x) ≫
	// q(x) somewhere. Used as a differentiable loss its gradient is biased (see verl, OpenRLHF).
	K3
	// Exact is not a sample estimator: it stands for the exact KL over the whole support, for a
	// caller that has both distributions whole (an RLHF trainer has π(·|s) and π_ref(·|s) over the
	// vocabulary at every position). Sample, Deriv and RLHF return NaN for it.
	Exact
)

var (
	_ fmt.Stringer             = K1
	_ encoding.TextMarshaler   = K1
	_ encoding.TextUnmarshaler = (*Estimator)(nil)
)

// estimatorNames are the names of the estimators, the one place they are spelled.
var estimatorNames = map[Estimator]string{K1: "k1", K2: "k2", K3: "k3", Exact: "exact"}

// String returns "k1", "k2", "k3" or "exact".
func (e Estimator) String() string {
	if n, ok := estimatorNames[e]; ok {
		return n
	}
	return fmt.Sprintf("Estimator(%d)", int(e))
}

// ParseEstimator returns the estimator named name ("k1", "k2", "k3" or "exact").
func ParseEstimator(name string) (Estimator, error) {
	for e, n := range estimatorNames {
		if n == name {
			return e, nil
		}
	}
	return 0, fmt.Errorf("kl: estimator %q: want k1, k2, k3 or exact", name)
}

// Sampled reports whether e is one of the sample estimators K1, K2, K3.
func (e Estimator) Sampled() bool { return e == K1 || e == K2 || e == K3 }

// MarshalText writes the estimator's name (so that it reads "k3" in JSON and YAML).
func (e Estimator) MarshalText() ([]byte, error) {
	if _, ok := estimatorNames[e]; !ok {
		return nil, fmt.Errorf("kl: marshal %v: not an estimator", e)
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads an estimator's name.
func (e *Estimator) UnmarshalText(text []byte) error {
	v, err := ParseEstimator(string(text))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// Sample returns the estimator's value for one log-ratio ℓ = ln p(x) − ln q(x), x ~ Q.
// K3 is computed as e^ℓ − 1 − ℓ without cancellation near ℓ = 0. An unknown estimator gives NaN.
func (e Estimator) Sample(logRatio float64) float64 {
	switch e {
	case K1:
		return -logRatio
	case K2:
		return 0.5 * logRatio * logRatio
	case K3:
		return expm1MinusX(logRatio)
	}
	return math.NaN()
}

// Deriv returns the derivative of the estimator's value with respect to the log-ratio
// ℓ = ln p(x) − ln q(x): −1 for K1, ℓ for K2, e^ℓ − 1 for K3 (NaN for an unknown estimator).
//
// This is what a loss that contains the estimate differentiates. With Q the trained policy
// π_θ and x held fixed, ∂k/∂ln q(x) = −Deriv(ℓ), and ∂k/∂θ = −Deriv(ℓ)·∇_θ ln q(x).
func (e Estimator) Deriv(logRatio float64) float64 {
	switch e {
	case K1:
		return -1
	case K2:
		return logRatio
	case K3:
		return math.Expm1(logRatio)
	}
	return math.NaN()
}

// RLHF returns the estimator's value and its derivative with respect to ln π(x) for RLHF's
// KL(π‖π_ref), from the two log-probabilities of one token x ~ π: with l = logPi − logRef,
//
//	k1 = l,            ∂k1/∂ln π = 1
//	k2 = ½l²,          ∂k2/∂ln π = l
//	k3 = e^(−l) − 1 + l, ∂k3/∂ln π = 1 − e^(−l) = 1 − π_ref(x)/π(x)
//
// It is Sample and Deriv at ℓ = logRef − logPi (Q = π, P = π_ref), so PPO's and RLHF's
// estimators are one set of functions.
func (e Estimator) RLHF(logPi, logRef float64) (value, dLogPi float64) {
	l := logRef - logPi
	return e.Sample(l), -e.Deriv(l)
}

// ShiftedNormalMoments returns the exact mean and standard deviation of one sample of e when
// Q = N(μ, σ²) and P = N(μ + δσ, σ²) (Schulman's table has Q = N(0,1), P = N(0.1,1) and
// N(1,1)). The log-ratio ℓ = ln p(x) − ln q(x) is then normal with mean −δ²/2 and variance δ²,
// the true KL(Q‖P) is δ²/2, and (Stein's lemma gives Cov(e^ℓ, ℓ) = δ²·E[e^ℓ] = δ²):
//
//	k1 = −ℓ:            mean δ²/2,           variance δ²
//	k2 = ½ℓ²:           mean ½(δ² + δ⁴/4),   variance δ⁴/2 + δ⁶/4
//	k3 = e^ℓ − 1 − ℓ:   mean δ²/2,           variance e^(δ²) − 1 − δ²
//
// so bias/KL of k2 is δ²/4 and std/KL is 2/|δ| (k1), √(δ² + 2) (k2), 2√(e^(δ²) − 1 − δ²)/δ² (k3).
// Errors name "delta" (NaN or |δ| so large that e^(δ²) overflows) or "estimator".
func (e Estimator) ShiftedNormalMoments(delta float64) (mean, std float64, err error) {
	if math.IsNaN(delta) || delta*delta > 700 {
		return 0, 0, argErr("delta", -1, delta, "must be a number with δ² ≤ 700")
	}
	d2 := delta * delta
	switch e {
	case K1:
		return d2 / 2, math.Abs(delta), nil
	case K2:
		return 0.5 * (d2 + d2*d2/4), math.Sqrt(d2*d2/2 + d2*d2*d2/4), nil
	case K3:
		return d2 / 2, math.Sqrt(expm1MinusX(d2)), nil
	}
	return 0, 0, argErr("estimator", -1, float64(e), "must be K1, K2 or K3")
}

// Estimate returns the mean of e over log-ratios ℓᵢ = ln p(xᵢ) − ln q(xᵢ), xᵢ ~ Q: an estimate
// of KL(Q‖P) in nats. Errors name "estimator", or "log_ratio" for a NaN or an empty slice.
// A ±Inf log-ratio is allowed (a sample that P or Q rules out) and gives an infinite estimate.
func Estimate[F Float](e Estimator, logRatio []F) (float64, error) {
	if e < K1 || e > K3 {
		return 0, argErr("estimator", -1, float64(e), "must be K1, K2 or K3")
	}
	if len(logRatio) == 0 {
		return 0, aggErr("log_ratio", "len", 0, "must be ≥ 1")
	}
	var s float64
	for i, v := range logRatio {
		x := float64(v)
		if math.IsNaN(x) {
			return 0, argErr("log_ratio", i, x, "must not be NaN")
		}
		s += e.Sample(x)
	}
	return s / float64(len(logRatio)), nil
}

// EstimateFromLogProbs is Estimate with ℓᵢ = logP[i] − logQ[i], the log-probabilities that
// P and Q assign to the samples xᵢ ~ Q (e.g. new and old policy log-probs of the taken actions).
// Errors name "log_p" and "log_q".
func EstimateFromLogProbs[F Float](e Estimator, logP, logQ []F) (float64, error) {
	if len(logP) != len(logQ) {
		return 0, lengthErr("log_p", len(logP), "log_q", len(logQ))
	}
	lr := make([]float64, len(logP))
	for i := range logP {
		a, b := float64(logP[i]), float64(logQ[i])
		if math.IsNaN(a) || math.IsInf(a, 1) {
			return 0, argErr("log_p", i, a, "log-probability must not be NaN or +Inf")
		}
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return 0, argErr("log_q", i, b, "log-probability of a sample from Q must be finite")
		}
		lr[i] = a - b
	}
	return Estimate(e, lr)
}
