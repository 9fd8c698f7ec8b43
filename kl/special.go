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
	return logSafe(x) - 0.5/x - Digamma(x)
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
	return lgammaPos(x) - (x-0.5)*logSafe(x) + x - 0.5*math.Log(2*math.Pi)
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

// logSafe returns ln x for x ≥ 0 like math.Log, but also right for subnormal x: on amd64 (and
// s390x) math.Log does not normalise subnormal arguments and returns −709.09 for 5e-324, whose
// logarithm is −744.44 (golang/go#56600, open in Go 1.26). Subnormals are scaled by 2⁵⁴ first.
func logSafe(x float64) float64 {
	if x > 0 && x < 0x1p-1022 {
		return math.Log(x*0x1p54) - 54*math.Ln2
	}
	return math.Log(x)
}

// lgammaPos returns ln Γ(x) for x > 0; math.Lgamma inherits math.Log's error for subnormal x,
// where ln Γ(x) = −ln x − γx + O(x²) = −ln x to double precision.
func lgammaPos(x float64) float64 {
	if x < 0x1p-1022 {
		return -logSafe(x)
	}
	lg, _ := math.Lgamma(x) // Γ(x) > 0 for x > 0: the sign is always +1
	return lg
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
		return logSafe(r)
	}
	return logSafe(a) - logSafe(b)
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
	return math.Exp(logSafe(a) + logSafe(b) - logSafe(c))
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

// Differences of Stirling remainders at nearby arguments. When x ≈ y, μ(x) − μ(y) and
// ν(x) − ν(y) are far smaller than μ and ν themselves, and subtracting two rounded remainders
// leaves only an absolute accuracy of ~1e-16·μ. The functions below take the exact difference
// d = x − y from the caller and return the difference with a relative error of ≲ 1e-13:
// for x, y ≥ 10 from the series with x^−m − y^−m = y^−m·expm1(−m ln(x/y)), below 10 after
// shifting both arguments up with μ(z) = μ(z+1) + h(z) and ν(z) = ν(z+1) + g(z),
//
//	h(z) = (z + ½) ln(1 + 1/z) − 1,   g(z) = 1/(2z) + 1/(2(z+1)) − ln(1 + 1/z),
//
// whose differences are written with d as well. Arguments further apart than a factor e^½ fall
// back to the plain difference, which then has no cancellation to fear.

// lgammaRemDiff returns μ(x) − μ(y) for x, y > 0, where d = x − y exactly.
func lgammaRemDiff(x, y, d float64) float64 {
	if d == 0 {
		return 0
	}
	if math.Abs(logRatio(x, y)) > 0.5 {
		return lgammaRem(x) - lgammaRem(y)
	}
	var acc float64
	for math.Min(x, y) < 10 {
		lx := math.Log1p(1 / x)
		acc += d*lx + (y+0.5)*math.Log1p(-(d/x)/(y+1)) // h(x) − h(y)
		x, y = x+1, y+1
	}
	// B₂ₖ/(2k(2k−1)) for k = 1..8, as in lgammaRem.
	c := [...]float64{1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360, 1.0 / 156, -3617.0 / 122400}
	l := math.Log1p(d / y) // ln(x/y)
	yp := 1 / y            // y^(1−2k)
	y2 := 1 / (y * y)
	var s float64
	for k, ck := range c {
		m := float64(2*k + 1)
		s += ck * yp * math.Expm1(-m*l)
		yp *= y2
	}
	return acc + s
}

// digammaRemDiff returns ν(x) − ν(y) for x, y > 0, where d = x − y exactly.
func digammaRemDiff(x, y, d float64) float64 {
	if d == 0 {
		return 0
	}
	if math.Abs(logRatio(x, y)) > 0.5 {
		return digammaRem(x) - digammaRem(y)
	}
	var acc float64
	for math.Min(x, y) < 10 {
		// g(x) − g(y)
		acc += -(d/x)/(2*y) - d/(2*(x+1)*(y+1)) - math.Log1p(-(d/x)/(y+1))
		x, y = x+1, y+1
	}
	// B₂ₖ/(2k) for k = 1..8, as in digammaTail.
	c := [...]float64{1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760, 1.0 / 12, -3617.0 / 8160}
	l := math.Log1p(d / y)
	y2 := 1 / (y * y)
	yp := y2 // y^(−2k)
	var s float64
	for k, ck := range c {
		m := float64(2*k + 2)
		s += ck * yp * math.Expm1(-m*l)
		yp *= y2
	}
	return acc + s
}

// xMinusLog1p returns w − ln(1+w) ≥ 0 for w > −1 without cancellation near 0 (≈ w²/2).
func xMinusLog1p(w float64) float64 {
	if math.Abs(w) >= 0.5 {
		return w - math.Log1p(w)
	}
	// Σ_{k≥2} (−1)ᵏ wᵏ/k
	pow := w * w
	sum := pow / 2
	for k := 3.0; k < 70; k++ {
		pow *= -w
		t := pow / k
		sum += t
		if math.Abs(t) < 1e-18*sum {
			break
		}
	}
	return sum
}

// lgammaRemBregman returns μ(c) − μ(a) + (c − a)ν(a) = μ(c) − μ(a) − μ'(a)(c − a) ≥ 0, the
// Bregman divergence of the convex Stirling remainder μ, for a, c > 0 with d = c − a exact.
// It is of second order in d; computed as that difference it would keep only an absolute
// accuracy of ~1e-16·|d·ν(a)|, so near c = a it is summed in second-order form: for a ≥ 10 from
// the series, a^(1−2k)·[(c/a)^−m − 1 + m(c/a − 1)] = a^(1−2k)·[φ(−mℓ) + m φ(ℓ)] with m = 2k−1,
// ℓ = ln(c/a), φ(x) = eˣ − 1 − x; below 10 after shifting with μ(z) = μ(z+1) + h(z), whose
// Bregman term is
//
//	(a+½)[(u − ln(1+u)) − (v − ln(1+v))] − d·ln((1+u)/(1+v)),  u = d/a, v = d/(a+1).
func lgammaRemBregman(a, c, d float64) float64 {
	if d == 0 {
		return 0
	}
	if math.Abs(logRatio(c, a)) > 0.5 {
		return lgammaRem(c) - lgammaRem(a) + d*digammaRem(a)
	}
	var acc float64
	for math.Min(a, c) < 10 {
		u, v := d/a, d/(a+1)
		acc += (a+0.5)*(xMinusLog1p(u)-xMinusLog1p(v)) - d*math.Log1p((d/a)/(a+1)/(1+v))
		a, c = a+1, c+1
	}
	// B₂ₖ/(2k(2k−1)) for k = 1..8, as in lgammaRem.
	coef := [...]float64{1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360, 1.0 / 156, -3617.0 / 122400}
	l := math.Log1p(d / a)
	phiL := expm1MinusX(l)
	ap := 1 / a // a^(1−2k)
	a2 := 1 / (a * a)
	var s float64
	for k, ck := range coef {
		m := float64(2*k + 1)
		s += ck * ap * (expm1MinusX(-m*l) + m*phiL)
		ap *= a2
	}
	return acc + s
}
