package kl

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotRepresentable is returned (wrapped) when valid but extreme parameters make a closed
// form's float64 evaluation meaningless (terms of +Inf and −Inf that would give NaN): only
// Beta, Dirichlet and Gamma, and only for parameters outside [1e-300, 1e300] (subnormal or near
// the float64 maximum); TestClosedFormsExtremeParameters and FuzzClosedForms check this.
var ErrNotRepresentable = errors.New("result not representable in float64 (parameters too extreme)")

// notNaN turns a NaN from valid parameters into an error wrapping ErrNotRepresentable and
// clamps rounding below 0 (every KL is ≥ 0).
func notNaN(what string, v float64) (float64, error) {
	if math.IsNaN(v) {
		return 0, fmt.Errorf("kl: %s: %w", what, ErrNotRepresentable)
	}
	return math.Max(v, 0), nil
}

// Divergence is implemented by the closed-form distribution types: d.KL(q) returns KL(d‖q) in
// nats, or an *ArgError if either distribution's parameters are invalid. The reverse direction
// is q.KL(d).
type Divergence[D any] interface {
	KL(q D) (float64, error)
}

var (
	_ Divergence[Normal]      = Normal{}
	_ Divergence[DiagNormal]  = DiagNormal{}
	_ Divergence[Bernoulli]   = Bernoulli{}
	_ Divergence[Beta]        = Beta{}
	_ Divergence[Dirichlet]   = Dirichlet{}
	_ Divergence[Poisson]     = Poisson{}
	_ Divergence[Exponential] = Exponential{}
	_ Divergence[Gamma]       = Gamma{}
)

// positive checks that v is finite and > 0.
func positive(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 1) {
		return argErr(name, -1, v, "must be finite and > 0")
	}
	return nil
}

// finite checks that v is finite.
func finite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return argErr(name, -1, v, "must be finite")
	}
	return nil
}

// normalKLLog is KL(N(μ₁,σ₁²)‖N(μ₂,σ₂²)) from log σ:
//
//	½ [(e^x − 1 − x) + ((μ₁−μ₂)/σ₂)²],  x = 2(ln σ₁ − ln σ₂),
//
// which is the textbook ln(σ₂/σ₁) + (σ₁² + (μ₁−μ₂)²)/(2σ₂²) − ½ without its cancellation.
func normalKLLog(mu1, logSigma1, mu2, logSigma2 float64) float64 {
	z := (mu1 - mu2) * math.Exp(-logSigma2)
	return 0.5 * (expm1MinusX(2*(logSigma1-logSigma2)) + z*z)
}

// normalKL is normalKLLog from σ; the ratio σ₁/σ₂ is taken before the logarithm.
func normalKL(mu1, sigma1, mu2, sigma2 float64) float64 {
	z := (mu1 - mu2) / sigma2
	return 0.5 * (expm1MinusX(2*logRatio(sigma1, sigma2)) + z*z)
}

// Normal is the univariate normal distribution N(Mu, Sigma²); Sigma must be finite and > 0.
type Normal struct {
	Mu    float64 // mean
	Sigma float64 // standard deviation
}

func (n Normal) validate(suffix string) error {
	if err := finite("mu_"+suffix, n.Mu); err != nil {
		return err
	}
	return positive("sigma_"+suffix, n.Sigma)
}

// KL returns KL(P‖Q) for P = p, Q = q:
//
//	KL = ln(σ_q/σ_p) + (σ_p² + (μ_p − μ_q)²)/(2σ_q²) − ½.
//
// Errors name mu_p, sigma_p, mu_q, sigma_q.
func (p Normal) KL(q Normal) (float64, error) {
	if err := p.validate("p"); err != nil {
		return 0, err
	}
	if err := q.validate("q"); err != nil {
		return 0, err
	}
	return normalKL(p.Mu, p.Sigma, q.Mu, q.Sigma), nil
}

// LogProb returns ln of the density at x: −(x−μ)²/(2σ²) − ln σ − ½ ln 2π.
func (n Normal) LogProb(x float64) float64 {
	z := (x - n.Mu) / n.Sigma
	return -0.5*z*z - math.Log(n.Sigma) - 0.5*math.Log(2*math.Pi)
}

// DiagNormal is a Gaussian with diagonal covariance: independent N(Mu[i], σᵢ²). Give the scales
// either as Sigma (σ > 0) or as LogSigma (ln σ, any finite value, the usual policy-network
// output) — exactly one of the two, of the same length as Mu.
type DiagNormal struct {
	Mu       []float64
	Sigma    []float64
	LogSigma []float64
}

// logSigmaAt returns ln σᵢ.
func (d DiagNormal) logSigmaAt(i int) float64 {
	if d.LogSigma != nil {
		return d.LogSigma[i]
	}
	return math.Log(d.Sigma[i])
}

func (d DiagNormal) validate(s string) error {
	mu := "mu_" + s
	if len(d.Mu) == 0 {
		return aggErr(mu, "len", 0, "must be ≥ 1")
	}
	for i, v := range d.Mu {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return argErr(mu, i, v, "must be finite")
		}
	}
	switch {
	case d.Sigma != nil && d.LogSigma != nil:
		return aggErr("log_sigma_"+s, "len", float64(len(d.LogSigma)), "give sigma_"+s+" or log_sigma_"+s+", not both")
	case d.Sigma != nil:
		name := "sigma_" + s
		if len(d.Sigma) != len(d.Mu) {
			return lengthErr(mu, len(d.Mu), name, len(d.Sigma))
		}
		for i, v := range d.Sigma {
			if !(v > 0) || math.IsInf(v, 1) {
				return argErr(name, i, v, "must be finite and > 0")
			}
		}
	case d.LogSigma != nil:
		name := "log_sigma_" + s
		if len(d.LogSigma) != len(d.Mu) {
			return lengthErr(mu, len(d.Mu), name, len(d.LogSigma))
		}
		for i, v := range d.LogSigma {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return argErr(name, i, v, "must be finite")
			}
		}
	default:
		return aggErr("sigma_"+s, "len", 0, "give sigma_"+s+" or log_sigma_"+s)
	}
	return nil
}

// KL returns KL(P‖Q) for diagonal Gaussians, the sum of the univariate terms over dimensions:
//
//	KL = Σᵢ [ln(σ_qᵢ/σ_pᵢ) + (σ_pᵢ² + (μ_pᵢ − μ_qᵢ)²)/(2σ_qᵢ²) − ½].
//
// Errors name mu_p, sigma_p (or log_sigma_p), mu_q, sigma_q (or log_sigma_q).
func (p DiagNormal) KL(q DiagNormal) (float64, error) {
	if err := p.validate("p"); err != nil {
		return 0, err
	}
	if err := q.validate("q"); err != nil {
		return 0, err
	}
	if len(p.Mu) != len(q.Mu) {
		return 0, lengthErr("mu_p", len(p.Mu), "mu_q", len(q.Mu))
	}
	var s float64
	for i := range p.Mu {
		if p.Sigma != nil && q.Sigma != nil {
			s += normalKL(p.Mu[i], p.Sigma[i], q.Mu[i], q.Sigma[i])
		} else {
			s += normalKLLog(p.Mu[i], p.logSigmaAt(i), q.Mu[i], q.logSigmaAt(i))
		}
	}
	return s, nil
}

// VAEPriorKL returns the VAE prior term KL(N(μ, diag σ²)‖N(0, I)) from the encoder's mean and
// log-variance:
//
//	KL = −½ Σᵢ (1 + ln σᵢ² − μᵢ² − σᵢ²) = ½ Σᵢ (μᵢ² + (σᵢ² − 1 − ln σᵢ²)),
//
// evaluated in the second form without cancellation. Errors name "mu" and "logvar".
func VAEPriorKL[F Float](mu, logvar []F) (float64, error) {
	if len(mu) == 0 {
		return 0, aggErr("mu", "len", 0, "must be ≥ 1")
	}
	if len(mu) != len(logvar) {
		return 0, lengthErr("mu", len(mu), "logvar", len(logvar))
	}
	var s float64
	for i := range mu {
		m, lv := float64(mu[i]), float64(logvar[i])
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return 0, argErr("mu", i, m, "must be finite")
		}
		if math.IsNaN(lv) || math.IsInf(lv, 0) {
			return 0, argErr("logvar", i, lv, "must be finite")
		}
		s += m*m + expm1MinusX(lv)
	}
	return s / 2, nil
}

// Bernoulli is the distribution of a coin that shows 1 with probability P ∈ [0, 1].
type Bernoulli struct {
	P float64
}

func (b Bernoulli) validate(name string) error {
	if !(b.P >= 0 && b.P <= 1) {
		return argErr(name, -1, b.P, "must be a probability in [0, 1]")
	}
	return nil
}

// KL returns KL(P‖Q) = a ln(a/b) + (1−a) ln((1−a)/(1−b)) for a = p.P, b = q.P, with the edges
// exact: 0·ln 0 = 0, so a = 0 gives −ln(1−b) and a = 1 gives −ln b; +Inf when b = 0 < a or
// b = 1 > a. Errors name "p" and "q".
func (p Bernoulli) KL(q Bernoulli) (float64, error) {
	if err := p.validate("p"); err != nil {
		return 0, err
	}
	if err := q.validate("q"); err != nil {
		return 0, err
	}
	return klTerm(p.P, q.P) + klTerm(1-p.P, 1-q.P), nil
}

// Beta is the Beta(Alpha, Beta) distribution on [0, 1]; both parameters must be > 0.
type Beta struct {
	Alpha, Beta float64
}

func (b Beta) validate(s string) error {
	if err := positive("alpha_"+s, b.Alpha); err != nil {
		return err
	}
	return positive("beta_"+s, b.Beta)
}

// KL returns KL(Beta(a₁,b₁)‖Beta(a₂,b₂)) with ψ = Digamma and B the beta function:
//
//	ln B(a₂,b₂) − ln B(a₁,b₁) + (a₁−a₂)ψ(a₁) + (b₁−b₂)ψ(b₁) + (a₂−a₁+b₂−b₁)ψ(a₁+b₁).
//
// Errors name alpha_p, beta_p, alpha_q, beta_q.
func (p Beta) KL(q Beta) (float64, error) {
	if err := p.validate("p"); err != nil {
		return 0, err
	}
	if err := q.validate("q"); err != nil {
		return 0, err
	}
	// Grouped as ln B(a₂,b₂) − ln B(a₁,b₁) + (a₁−a₂)(ψ(a₁)−ψ(s)) + (b₁−b₂)(ψ(b₁)−ψ(s)),
	// s = a₁+b₁, so the large ψ(s) terms cancel before they are multiplied.
	a1, b1, a2, b2 := p.Alpha, p.Beta, q.Alpha, q.Beta
	psiS := Digamma(a1 + b1)
	v := lbeta(a2, b2) - lbeta(a1, b1) + (a1-a2)*(Digamma(a1)-psiS) + (b1-b2)*(Digamma(b1)-psiS)
	return notNaN("Beta", v)
}

// Dirichlet is the Dirichlet(Alpha) distribution on the simplex; every αᵢ must be > 0 and there
// must be at least two.
type Dirichlet struct {
	Alpha []float64
}

func (d Dirichlet) validate(name string) error {
	if len(d.Alpha) < 2 {
		return aggErr(name, "len", float64(len(d.Alpha)), "must be ≥ 2")
	}
	for i, v := range d.Alpha {
		if !(v > 0) || math.IsInf(v, 1) {
			return argErr(name, i, v, "must be finite and > 0")
		}
	}
	return nil
}

// KL returns KL(Dir(α)‖Dir(β)) with α₀ = Σαᵢ, β₀ = Σβᵢ:
//
//	ln Γ(α₀) − ln Γ(β₀) − Σᵢ [ln Γ(αᵢ) − ln Γ(βᵢ)] + Σᵢ (αᵢ − βᵢ)(ψ(αᵢ) − ψ(α₀)).
//
// Errors name alpha_p and alpha_q.
func (p Dirichlet) KL(q Dirichlet) (float64, error) {
	if err := p.validate("alpha_p"); err != nil {
		return 0, err
	}
	if err := q.validate("alpha_q"); err != nil {
		return 0, err
	}
	if len(p.Alpha) != len(q.Alpha) {
		return 0, lengthErr("alpha_p", len(p.Alpha), "alpha_q", len(q.Alpha))
	}
	var a0, b0 float64
	for i := range p.Alpha {
		a0 += p.Alpha[i]
		b0 += q.Alpha[i]
	}
	la0, _ := math.Lgamma(a0)
	lb0, _ := math.Lgamma(b0)
	v := la0 - lb0
	psi0 := Digamma(a0)
	for i, a := range p.Alpha {
		b := q.Alpha[i]
		la, _ := math.Lgamma(a)
		lb, _ := math.Lgamma(b)
		v += lb - la + (a-b)*(Digamma(a)-psi0)
	}
	return notNaN("Dirichlet", v)
}

// Poisson is the Poisson distribution with mean Rate (λ > 0).
type Poisson struct {
	Rate float64
}

// KL returns KL(Poisson(λ₁)‖Poisson(λ₂)) = λ₁ ln(λ₁/λ₂) − λ₁ + λ₂, evaluated as
// λ₁·(u − 1 − ln u) with u = λ₂/λ₁. Errors name rate_p and rate_q.
func (p Poisson) KL(q Poisson) (float64, error) {
	if err := positive("rate_p", p.Rate); err != nil {
		return 0, err
	}
	if err := positive("rate_q", q.Rate); err != nil {
		return 0, err
	}
	return p.Rate * ratioPhi(q.Rate, p.Rate), nil
}

// Exponential is the exponential distribution with rate λ > 0 (mean 1/λ).
type Exponential struct {
	Rate float64
}

// KL returns KL(Exp(r₁)‖Exp(r₂)) = ln(r₁/r₂) + r₂/r₁ − 1, evaluated as u − 1 − ln u with
// u = r₂/r₁. Errors name rate_p and rate_q.
func (p Exponential) KL(q Exponential) (float64, error) {
	if err := positive("rate_p", p.Rate); err != nil {
		return 0, err
	}
	if err := positive("rate_q", q.Rate); err != nil {
		return 0, err
	}
	return ratioPhi(q.Rate, p.Rate), nil
}

// Gamma is the gamma distribution with shape k > 0 and rate θ > 0 (density ∝ x^(k−1) e^(−θx),
// mean k/θ).
type Gamma struct {
	Shape, Rate float64
}

func (g Gamma) validate(s string) error {
	if err := positive("shape_"+s, g.Shape); err != nil {
		return err
	}
	return positive("rate_"+s, g.Rate)
}

// KL returns KL(Gamma(k₁,θ₁)‖Gamma(k₂,θ₂)) for shape k and rate θ:
//
//	(k₁−k₂)ψ(k₁) − ln Γ(k₁) + ln Γ(k₂) + k₂ ln(θ₁/θ₂) + k₁(θ₂−θ₁)/θ₁.
//
// Errors name shape_p, rate_p, shape_q, rate_q.
func (p Gamma) KL(q Gamma) (float64, error) {
	if err := p.validate("p"); err != nil {
		return 0, err
	}
	if err := q.validate("q"); err != nil {
		return 0, err
	}
	k1, t1, k2, t2 := p.Shape, p.Rate, q.Shape, q.Rate
	l1, _ := math.Lgamma(k1)
	l2, _ := math.Lgamma(k2)
	v := (k1-k2)*Digamma(k1) - l1 + l2 + k2*logRatio(t1, t2) + k1*(t2/t1-1)
	return notNaN("Gamma", v)
}
