#!/usr/bin/env python3
"""Generate kl/testdata/highprec.json: high-precision reference values for package kl.

Run from the repository root (python3 with mpmath; deterministic, ~1 minute):

    python3 kl/testdata/gen_highprec.py > kl/testdata/highprec.json

Every input is a float64 (written with Python's repr, which Go parses back to the same bits), and
every reference is computed from those exact binary values with mpmath. The working precision is
at least 60 significant digits and grows with the parameters' magnitude, because the textbook
formulas evaluated here cancel terms of size ~x ln x: each value is computed twice, at the
working precision and 40 digits above it, and the precision is raised until the two agree to 40
digits, so every stored digit (25 of them) is right. Results that overflow float64 are stored as "+Inf"; results below
the smallest normal float64 are not stored (not representable to 1e-9).

The Go tests (kl/golden_test.go: TestHighPrec, FuzzHighPrec) only read the JSON.
"""
import json
import math
import random
import sys
from fractions import Fraction

import mpmath
from mpmath import mp, mpf, log, log1p, exp, loggamma, digamma, fsum, nstr

BASE_DPS = 60
MAX_F64 = mpf(sys.float_info.max)
MIN_NORMAL = mpf(sys.float_info.min)


def xlogy_ratio(p, q):
    """p ln(p/q) with 0 ln 0 = 0."""
    if p == 0:
        return mpf(0)
    if q == 0:
        return mpf("inf")
    return p * log(p / q)


def ref_kl(p, q):
    return fsum(xlogy_ratio(mpf(a), mpf(b)) for a, b in zip(p, q))


def ref_js(p, q):
    s = mpf(0)
    for a, b in zip(p, q):
        a, b = mpf(a), mpf(b)
        m = (a + b) / 2
        s += xlogy_ratio(a, m) / 2 + xlogy_ratio(b, m) / 2
    return s


def log_softmax(x):
    """ln softmax(x), with ln(1 + Σ_{i≠argmax} e^(xᵢ−m)) from log1p so that the largest
    log-probability keeps its relative precision when it is within 1e-100 of 0."""
    x = [mpf(v) for v in x]
    k = max(range(len(x)), key=lambda i: x[i])
    m = x[k]
    l1p = log1p(fsum(exp(v - m) for i, v in enumerate(x) if i != k))
    return [(v - m) - l1p for v in x]


def ref_kl_logits(x, y):
    lp, lq = log_softmax(x), log_softmax(y)
    return fsum(exp(a) * (a - b) for a, b in zip(lp, lq))


def ref_js_logits(x, y):
    lp, lq = log_softmax(x), log_softmax(y)
    s = mpf(0)
    for a, b in zip(lp, lq):
        pa, pb = exp(a), exp(b)
        m = (pa + pb) / 2
        s += pa * (a - log(m)) / 2 + pb * (b - log(m)) / 2
    return s


def ref_dirichlet(a, c):
    a = [mpf(v) for v in a]
    c = [mpf(v) for v in c]
    s, t = fsum(a), fsum(c)
    v = loggamma(s) - loggamma(t)
    for x, y in zip(a, c):
        v += loggamma(y) - loggamma(x) + (x - y) * (digamma(x) - digamma(s))
    return v


def ref_gamma(p, q):
    k1, t1 = map(mpf, p)
    k2, t2 = map(mpf, q)
    return (k1 - k2) * digamma(k1) - loggamma(k1) + loggamma(k2) + k2 * log(t1 / t2) + k1 * (t2 - t1) / t1


def ref_poisson(p, q):
    a, b = mpf(p[0]), mpf(q[0])
    return a * log(a / b) - a + b


def ref_exponential(p, q):
    a, b = mpf(p[0]), mpf(q[0])
    return log(a / b) + b / a - 1


def ref_normal(p, q):
    m1, s1 = map(mpf, p)
    m2, s2 = map(mpf, q)
    return log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - mpf(1) / 2


def ref_normal_logsigma(p, q):
    m1, l1 = map(mpf, p)
    m2, l2 = map(mpf, q)
    return ref_normal([m1, exp(l1)], [m2, exp(l2)])


def ref_bernoulli(p, q):
    a, b = mpf(p[0]), mpf(q[0])
    return xlogy_ratio(a, b) + xlogy_ratio(1 - a, 1 - b)


REFS = {
    "kl": ref_kl,
    "js": ref_js,
    "kl_logits": ref_kl_logits,
    "js_logits": ref_js_logits,
    "beta": ref_dirichlet,  # Beta(a, b) is the two-outcome Dirichlet
    "dirichlet": ref_dirichlet,
    "gamma": ref_gamma,
    "poisson": ref_poisson,
    "exponential": ref_exponential,
    "normal": ref_normal,
    "normal_logsigma": ref_normal_logsigma,
    "bernoulli": ref_bernoulli,
}


def dps_for(p, q):
    mags = [abs(v) for v in list(p) + list(q) if v != 0]
    big = max(mags + [1.0])
    small = min(mags + [1.0])
    extra = max(0, math.log10(big)) + max(0, -math.log10(small))
    return BASE_DPS + int(extra) + 10


def reference(kind, p, q):
    """The value at a working precision where it agrees with 40 more digits to 40 digits
    (raised in steps of 150 digits while it does not, for formulas that cancel)."""
    d = dps_for(p, q)
    while True:
        mp.dps = d
        v1 = REFS[kind](p, q)
        mp.dps = d + 40
        v2 = REFS[kind](p, q)
        if mp.isinf(v1) or mp.isinf(v2):
            assert v1 == v2, (kind, p, q, v1, v2)
            return v2
        if v2 == 0 or abs(v1 - v2) <= abs(v2) * mpf(10) ** (-40):
            return v2
        d += 150
        assert d < 5000, (kind, p, q)


def norm(w):
    s = math.fsum(w)
    return [v / s for v in w]


def loguniform(r, lo, hi):
    return 10 ** r.uniform(math.log10(lo), math.log10(hi))


def categorical_cases(r):
    out = [
        ("issue 9: (1e-20,1) vs (1,1e-20)", [1e-20, 1.0], [1.0, 1e-20]),
        ("issue 9: (1e-17,1) vs (.5,.5)", [1e-17, 1.0], [0.5, 0.5]),
        ("one tiny outcome", [1e-300, 1.0], [0.25, 0.75]),
        ("subnormal outcome", [5e-324, 1.0], [1.0, 5e-324]),
        ("disjoint", [0.0, 1.0], [1.0, 0.0]),
    ]
    for i in range(40):
        n = r.randint(2, 6)
        k = r.choice([5, 20, 100, 300])
        wp = [loguniform(r, 10.0 ** -k, 1) for _ in range(n)]
        wq = [loguniform(r, 10.0 ** -k, 1) for _ in range(n)]
        out.append((f"near-disjoint {i} (weights down to 1e-{k})", norm(wp), norm(wq)))
    for i in range(6):
        n = r.randint(2, 4)
        p = norm([loguniform(r, 1e-320, 1e-300)] * (n - 1) + [1.0])
        q = norm([loguniform(r, 1e-320, 1e-300) for _ in range(n - 1)] + [1.0])
        out.append((f"subnormal outcomes {i}", p, q))
    for i in range(15):
        n = r.randint(2, 6)
        p = norm([r.random() + 0.01 for _ in range(n)])
        d = loguniform(r, 1e-7, 1e-1)
        q = norm([v * (1 + d * r.uniform(-1, 1)) for v in p])
        out.append((f"nearly equal {i} (relative change {d:.1g})", p, q))
    return out


def logit_cases(r):
    out = [
        ("issue 9 as logits", [math.log(1e-20), 0.0], [0.0, math.log(1e-20)]),
        ("800 apart", [800.0, 0.0, -800.0], [0.0, 900.0, 1.0]),
    ]
    for i in range(30):
        n = r.randint(2, 6)
        scale = loguniform(r, 1, 700)
        x = [r.uniform(-1, 1) * scale for _ in range(n)]
        y = [r.uniform(-1, 1) * scale for _ in range(n)]
        out.append((f"random logits {i} (scale {scale:.3g})", x, y))
    return out


def concentration_cases(r, k):
    """(name, alpha_p, alpha_q) for k outcomes: huge, close-huge, mixed, tiny."""
    out = []
    for i in range(12):
        a = [loguniform(r, 1e6, 1e300)] * 1
        a = [a[0] * r.uniform(0.2, 5) for _ in range(k)]
        c = [loguniform(r, 1e-2, 1e2) for _ in range(k)]
        out.append((f"huge P, moderate Q {i}", a, c))
    for i in range(12):
        a = [loguniform(r, 1e6, 1e300) for _ in range(k)]
        c = [loguniform(r, 1e6, 1e300) for _ in range(k)]
        out.append((f"huge P, huge Q {i}", a, c))
    for i in range(16):
        base = loguniform(r, 1e4, 1e250)
        a = [base * r.uniform(0.2, 5) for _ in range(k)]
        d = loguniform(r, 1e-14, 1e-3)
        c = [v * (1 + d * r.uniform(-1, 1)) for v in a]
        out.append((f"huge and close {i} (relative change {d:.1g})", a, c))
    for i in range(8):
        base = loguniform(r, 1e4, 1e250)
        a = [base * r.uniform(0.2, 5) for _ in range(k)]
        s = 1 + loguniform(r, 1e-12, 1e-2)
        c = [v * s for v in a]
        out.append((f"same mean, concentration x{s:.12g} {i}", a, c))
    for i in range(8):
        a = [loguniform(r, 1e-2, 1e2) for _ in range(k)]
        c = [loguniform(r, 1e6, 1e300) for _ in range(k)]
        out.append((f"moderate P, huge Q {i}", a, c))
    for i in range(8):
        a = [loguniform(r, 1e-3, 1e3) for _ in range(k)]
        c = [loguniform(r, 1e-3, 1e3) for _ in range(k)]
        out.append((f"moderate {i}", a, c))
    for i in range(10):
        a = [loguniform(r, 1e-3, 30) for _ in range(k)]
        d = loguniform(r, 1e-12, 1e-3)
        c = [v * (1 + d * r.uniform(-1, 1)) for v in a]
        out.append((f"moderate and close {i} (relative change {d:.1g})", a, c))
    for i in range(6):
        a = [loguniform(r, 1e-300, 1e300) for _ in range(k)]
        c = [loguniform(r, 1e-300, 1e300) for _ in range(k)]
        out.append((f"mixed scales {i}", a, c))
    for i in range(6):
        a = [loguniform(r, 1e-300, 1e-3) for _ in range(k)]
        c = [loguniform(r, 1e-300, 1e3) for _ in range(k)]
        out.append((f"tiny {i}", a, c))
    return out


def closed_cases(r):
    cases = []
    add = lambda kind, name, p, q: cases.append((kind, name, p, q))
    add("beta", "issue 9: Beta(1e16,1e16)‖Beta(1,1)", [1e16, 1e16], [1.0, 1.0])
    add("beta", "issue 9: Beta(3e12,2e12)‖Beta(1.5,0.7)", [3e12, 2e12], [1.5, 0.7])
    add("dirichlet", "issue 9: Dir(4e13,1e13,5e13)‖Dir(1,2,3)", [4e13, 1e13, 5e13], [1.0, 2.0, 3.0])
    for name, a, c in concentration_cases(r, 2):
        add("beta", name, a, c)
    for name, a, c in concentration_cases(r, r.randint(3, 5)):
        add("dirichlet", name, a, c)
    for name, a, c in concentration_cases(r, 2):
        # shape, rate: the concentration families give (k₁, θ₁), (k₂, θ₂).
        add("gamma", name, a, c)
    add("gamma", "Gamma(1e16,1e16)‖Gamma(1,1)", [1e16, 1e16], [1.0, 1.0])
    for i in range(20):
        lam = loguniform(r, 1e-300, 1e300)
        d = loguniform(r, 1e-15, 1)
        add("poisson", f"poisson {i} (relative change {d:.1g})", [lam], [lam * (1 + d * r.choice([-0.9, 1]))])
        rate = loguniform(r, 1e-300, 1e300)
        add("exponential", f"exponential {i} (relative change {d:.1g})", [rate], [rate * (1 + d * r.choice([-0.9, 1]))])
    for i in range(20):
        s = loguniform(r, 1e-300, 1e300)
        d = loguniform(r, 1e-15, 1)
        mu = r.uniform(-1, 1) * loguniform(r, 1e-300, 1e300)
        dmu = r.uniform(-1, 1) * s * loguniform(r, 1e-8, 1e3)
        add("normal", f"normal {i} (sigma change {d:.1g})", [mu, s], [mu + dmu, s * (1 + d)])
    add("normal", "means ±1.7e308, sigma 1e308", [1.7e308, 1e308], [-1.7e308, 1e308])
    add("normal", "sigma ratio 1e600", [0.0, 1e300], [0.0, 1e-300])
    for i in range(10):
        ls = r.uniform(-1000, 1000)
        mu = r.uniform(-1, 1) * math.exp(min(ls, 700)) * r.uniform(0, 3)
        add("normal_logsigma", f"log sigma {ls:.4g} {i}", [mu, ls + r.uniform(-1, 1) * loguniform(r, 1e-12, 1)], [0.0, ls])
    for i in range(20):
        a = loguniform(r, 1e-300, 0.5)
        f = 1 + loguniform(r, 1e-12, 10)
        b = a * f if r.random() < 0.5 else a / f
        if b >= 1:
            b = (a + 1) / 2
        if r.random() < 0.5:
            a, b = 1 - a, 1 - b
        add("bernoulli", f"bernoulli {i}", [a], [b])
    return cases


def main():
    r = random.Random(20261202)
    raw = []
    for name, p, q in categorical_cases(r):
        raw.append(("js", name, p, q))
        raw.append(("kl", name, p, q))
    for name, x, y in logit_cases(r):
        raw.append(("js_logits", name, x, y))
        raw.append(("kl_logits", name, x, y))
    raw += closed_cases(r)

    cases = []
    for kind, name, p, q in raw:
        p, q = [float(v) for v in p], [float(v) for v in q]
        v = reference(kind, p, q)
        if kind == "kl":
            # The package sums pᵢ ln(pᵢ/qᵢ) − pᵢ + qᵢ, equal to KL for vectors that sum to 1
            # exactly; keep only cases where the float inputs' sums make no difference.
            gap = abs(sum(Fraction(x) for x in q) - sum(Fraction(x) for x in p))  # exact
            if not mp.isinf(v) and gap > abs(Fraction(nstr(v, 30))) * Fraction(1, 10**12):
                continue
        if mp.isinf(v):
            want = "+Inf"
        elif v > MAX_F64:
            want = "+Inf"
        elif abs(v) < MIN_NORMAL:
            continue  # underflows float64: not representable to 1e-9
        else:
            want = nstr(v, 25, strip_zeros=False, min_fixed=1, max_fixed=0)
        cases.append({"kind": kind, "name": name, "p": p, "q": q, "kl": want})

    doc = {
        "source": "mpmath " + mpmath.__version__ + "; formulas and method in kl/testdata/gen_highprec.py",
        "command": "python3 kl/testdata/gen_highprec.py > kl/testdata/highprec.json",
        "min_digits": BASE_DPS,
        "cases": cases,
    }
    json.dump(doc, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
