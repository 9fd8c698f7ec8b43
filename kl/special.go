package kl

import "math"

// Digamma returns ψ(x) = d/dx ln Γ(x), the logarithmic derivative of the gamma function.
//
// For x > 0 it shifts x up with ψ(x) = ψ(x+1) − 1/x until x ≥ 10 and then sums the asymptotic
// series
//
//	ψ(x) ≈ ln x − 1/(2x) − Σₖ B₂ₖ/(2k x²ᵏ),  k = 1..8,
//
// whose truncation error at x = 10 is below 1e-17. Negative non-integers use the reflection
// ψ(1−x) − ψ(x) = π cot(πx). ψ(0) = −Inf for x = +0 (+Inf for −0), NaN at negative integers,
// ψ(+Inf) = +Inf and ψ(NaN) = NaN.
//
// Against mpmath (40 digits) the error is ≤ 4 ulps at points from 1e-10 to 1e100; near the
// positive zero x₀ ≈ 1.4616 the recurrence cancels, so there the error is absolute (< 1e-15)
// rather than relative (44 ulps at x = 1.5). KL formulas multiply ψ by parameters, so the
// absolute error is what reaches them.
func Digamma(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, -1):
		return math.NaN()
	case math.IsInf(x, 1):
		return x
	case x == 0:
		return math.Copysign(math.Inf(1), -x)
	case x < 0:
		if x == math.Floor(x) {
			return math.NaN()
		}
		// ψ(x) = ψ(1−x) − π cot(πx); reduce the angle first so tan stays accurate.
		_, frac := math.Modf(x)
		return Digamma(1-x) - math.Pi/math.Tan(math.Pi*frac)
	}
	var acc float64
	for x < 10 {
		acc -= 1 / x
		x++
	}
	return acc + math.Log(x) - 0.5/x - digammaTail(x)
}

// Stirling's series. With ln Γ(x) = (x−½) ln x − x + ½ ln 2π + μ(x) and
// ψ(x) = ln x − 1/(2x) − ν(x), the remainders are
//
//	μ(x) = Σₖ B₂ₖ / (2k(2k−1) x²ᵏ⁻¹) ≈ 1/(12x),   ν(x) = −μ'(x) = Σₖ B₂ₖ / (2k x²ᵏ) ≈ 1/(12x²),
//
// summed for k = 1..8 when x ≥ 10 (truncation error below 2e-18 there, relative to the
// remainder itself below 1e-16). They carry everything of ln Γ and ψ that is not an elementary
// function, so the KL of Beta, Dirichlet and Gamma can be written with the huge (x ln x)-sized
// parts cancelled on paper instead of in floating point.

// digammaTail returns ν(x) = ln x − 1/(2x) − ψ(x) for x ≥ 10 from the series.
func digammaTail(x float64) float64 {
	// B₂ₖ/(2k) for k = 1..8.
	const (
		c1 = 1.0 / 12
		c2 = -1.0 / 120
		c3 = 1.0 / 252
		c4 = -1.0 / 240
		c5 = 1.0 / 132
		c6 = -691.0 / 32760
		c7 = 1.0 / 12
		c8 = -3617.0 / 8160
	)
	z := 1 / (x * x)
	return z * (c1 + z*(c2+z*(c3+z*(c4+z*(c5+z*(c6+z*(c7+z*c8)))))))
}

// digammaRem returns ν(x) = ln x − 1/(2x) − ψ(x) ≥ 0 for x > 0: the series for x ≥ 10, else from
// Digamma directly (all three terms are then of moderate size or dominated by 1/x, so the
// absolute error stays ≲ 1e-15·max(1, 1/x)).
func digammaRem(x float64) float64 {
	if x >= 10 {
		return digammaTail(x)
	}
	return math.Log(x) - 0.5/x - Digamma(x)
}

// lgammaRem returns μ(x) = ln Γ(x) − (x−½) ln x + x − ½ ln 2π for x > 0: the series for x ≥ 10,
// else from math.Lgamma (absolute error ≲ 1e-15·max(1, |ln x|)).
func lgammaRem(x float64) float64 {
	if x >= 10 {
		// B₂ₖ/(2k(2k−1)) for k = 1..8.
		const (
			c1 = 1.0 / 12
			c2 = -1.0 / 360
			c3 = 1.0 / 1260
			c4 = -1.0 / 1680
			c5 = 1.0 / 1188
			c6 = -691.0 / 360360
			c7 = 1.0 / 156
			c8 = -3617.0 / 122400
		)
		z := 1 / (x * x)
		return (c1 + z*(c2+z*(c3+z*(c4+z*(c5+z*(c6+z*(c7+z*c8))))))) / x
	}
	lg, _ := math.Lgamma(x) // Γ(x) > 0 for x > 0: the sign is always +1
	return lg - (x-0.5)*math.Log(x) + x - 0.5*math.Log(2*math.Pi)
}

// diffProd returns a·b − c·d with one rounding error relative to the result (Kahan's algorithm
// with a fused multiply-add), where the naive form can lose every digit when a·b ≈ c·d.
func diffProd(a, b, c, d float64) float64 {
	w := c * d
	e := math.FMA(c, d, -w) // c·d = w + e exactly
	f := math.FMA(a, b, -w)
	return f - e
}

// twoSum returns s = fl(a+b) and the rounding error e with a + b = s + e exactly (Knuth).
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// lbeta returns ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b) for a, b > 0.
func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// expm1MinusX returns eˣ − 1 − x without cancellation near 0 (where it is ≈ x²/2).
// It is the building block of every "u − 1 − ln u" term: with u = eˣ, u − 1 − ln u = eˣ − 1 − x.
func expm1MinusX(x float64) float64 {
	if math.IsInf(x, 0) {
		return math.Inf(1) // e^∞ − 1 − ∞ and e^−∞ − 1 + ∞ are both +∞
	}
	if math.Abs(x) >= 0.5 {
		return math.Expm1(x) - x
	}
	// Σ_{k≥2} xᵏ/k!; at |x| < 0.5 the terms fall by ≥ 1/6 per step.
	term := x * x / 2
	sum := term
	for k := 3.0; k < 30; k++ {
		term *= x / k
		if math.Abs(term) < 1e-18*math.Abs(sum) {
			break
		}
		sum += term
	}
	return sum
}

// logRatio returns ln(a/b) for a, b > 0 with a relative error of a few ulps: for ½ ≤ a/b ≤ 2
// as log1p((a−b)/b), where a − b is exact (Sterbenz), so the rounding of a/b cannot swamp a
// logarithm near 0 (ln(3.000000003/3) is 1e-9 to 16 digits, not 8); else from the ratio when it
// is representable, else as ln a − ln b (when a/b would overflow or underflow).
func logRatio(a, b float64) float64 {
	if a >= 0.5*b && a <= 2*b {
		return math.Log1p((a - b) / b)
	}
	if r := a / b; r > 0 && !math.IsInf(r, 1) {
		return math.Log(r)
	}
	return math.Log(a) - math.Log(b)
}

// ratioPhi returns u − 1 − ln u ≥ 0 for u = a/b with a, b > 0: e^x − 1 − x with x = ln u,
// accurate near u = 1 and finite where a/b itself underflows to 0.
func ratioPhi(a, b float64) float64 {
	return expm1MinusX(logRatio(a, b))
}

// logRatio2 returns ln(a·(b+be) / (c·(d+de))) for a, c > 0 and b+be, d+de > 0, where be and
// de are the rounding errors of b and d when those are computed sums (0 otherwise). Near 1 it
// is log1p(x) with x = (a·b − c·d + a·be − c·de)/(c·d) and the difference of products taken
// with one rounding (diffProd), after scaling (a, c) and (b, d) by powers of two (exact, and the
// ratio is unchanged) so that no product overflows or underflows. So ln((1e16+1e8)·2e16 /
// (1e16·(2e16+1e8))) is correct to a few ulps, where forming the ratio first leaves 8 digits.
// When a/c or b/d spans more than ~1e280 it falls back to logRatio(a, c) + logRatio(b, d).
func logRatio2(a, b, be, c, d, de float64) float64 {
	_, ea := math.Frexp(math.Max(a, c))
	_, eb := math.Frexp(math.Max(b, d))
	as, cs := math.Ldexp(a, -ea), math.Ldexp(c, -ea)
	bs, ds := math.Ldexp(b, -eb), math.Ldexp(d, -eb)
	num, den := as*bs, cs*ds
	if num >= 1e-280 && den >= 1e-280 {
		if num < 0.5*den || num > 2*den {
			return math.Log(num / den) // far from 1: the rounding of the products is harmless
		}
		x := (diffProd(as, bs, cs, ds) + (as*math.Ldexp(be, -eb) - cs*math.Ldexp(de, -eb))) / den
		return math.Log1p(x)
	}
	return logRatio(a, c) + logRatio(b, d)
}

// mulRatio returns a·b/c for a, b, c > 0 without a spurious overflow or underflow of b/c (via
// logarithms when b/c is not a normal number; relative error then ≲ 1e-13).
func mulRatio(a, b, c float64) float64 {
	if r := b / c; r >= 0x1p-1000 && !math.IsInf(r, 1) {
		return a * r
	}
	return math.Exp(math.Log(a) + math.Log(b) - math.Log(c))
}

// weightedPhi returns c·(e^{−L} − 1 + L) ≥ 0, a KL term written with L = ln(p/q) for a weight
// c (so c·e^{−L} = c·q/p): from the series of e^x − 1 − x when |L| ≤ 1, else as
// ce − c + c·L with ce = c·e^{−L} supplied by the caller from the parameters (so it does not
// overflow when e^{−L} alone would).
func weightedPhi(c, L, ce float64) float64 {
	if math.Abs(L) <= 1 {
		return c * expm1MinusX(-L)
	}
	return ce - c + c*L
}
