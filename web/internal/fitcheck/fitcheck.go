// Package fitcheck is a test oracle for the explainer's Gaussian fits: a brute-force search
// that evaluates KL(Q‖P) at every point of a fine (μ, ln σ) grid, with its own code (not
// package kl's, not the explainer's search), so that a search that stops in a local minimum
// cannot agree with it by accident. It is imported only by tests.
package fitcheck

import "math"

// Grid is the region and the resolution of a brute-force search over Q = N(μ, σ²).
type Grid struct {
	MuLo, MuHi, DMu float64 // μ from MuLo to MuHi in steps of DMu
	SLo, SHi, DS    float64 // ln σ from SLo to SHi in steps of DS
}

// BimodalGrid is the search region for P = (1−w)·N(−sep/2, width²) + w·N(sep/2, width²):
// μ from two mode widths left of the left mode to two right of the right mode, σ from a fifth
// of a mode's width to three times P's standard deviation. The steps, width/20 in μ and 0.03 in
// ln σ, put every point of the region within width/40 and 0.015 of a grid point; near a
// minimum KL(Q‖P) grows like (Δμ)²/(2σ²) + (Δ ln σ)², so the grid's minimum is above the
// true one by at most about 1/3200 + 2.3e-4 ≈ 5.4e-4 nats.
func BimodalGrid(sep, width, w float64) Grid {
	sd := math.Sqrt(width*width + w*(1-w)*sep*sep)
	return Grid{MuLo: -sep/2 - 2*width, MuHi: sep/2 + 2*width, DMu: width / 20,
		SLo: math.Log(width / 5), SHi: math.Log(3 * sd), DS: 0.03}
}

// Min is the best grid point and the divergence there.
type Min struct {
	Mu, Sigma, KL float64
}

// ReverseKL returns the grid point minimising KL(Q‖P) over g, for P given by its
// log-probabilities logP on the evenly spaced points x (see At). Every grid point is evaluated.
func ReverseKL(x, logP []float64, g Grid) Min {
	best := Min{KL: math.Inf(1)}
	nMu := int(math.Round((g.MuHi-g.MuLo)/g.DMu)) + 1
	nS := int(math.Round((g.SHi-g.SLo)/g.DS)) + 1
	for j := range nS {
		s := g.SLo + float64(j)*g.DS
		for k := range nMu {
			mu := g.MuLo + float64(k)*g.DMu
			if d := At(x, logP, mu, math.Exp(s)); d < best.KL {
				best = Min{Mu: mu, Sigma: math.Exp(s), KL: d}
			}
		}
	}
	return best
}

// ReverseKLAtMu returns the grid point minimising KL(Q‖P) over ln σ for one μ: the brute-force
// value of the profile min_σ KL(Q‖P) at mu.
func ReverseKLAtMu(x, logP []float64, mu float64, g Grid) Min {
	best := Min{KL: math.Inf(1)}
	nS := int(math.Round((g.SHi-g.SLo)/g.DS)) + 1
	for j := range nS {
		s := g.SLo + float64(j)*g.DS
		if d := At(x, logP, mu, math.Exp(s)); d < best.KL {
			best = Min{Mu: mu, Sigma: math.Exp(s), KL: d}
		}
	}
	return best
}

// At returns KL(Q‖P) = Σᵢ qᵢ (ln qᵢ − ln pᵢ) for Q = N(mu, sigma²) evaluated on the evenly
// spaced points x and normalised there: qᵢ = e^{aᵢ}/z, aᵢ = −(xᵢ − μ)²/(2σ²), z = Σⱼ e^{aⱼ}, so
// ln qᵢ = aᵢ − ln z. Points more than 40σ from μ are skipped: their e^{a − max a} underflows to
// exactly 0 and adds nothing.
func At(x, logP []float64, mu, sigma float64) float64 {
	h := x[1] - x[0]
	lo := max(0, int(math.Floor((mu-40*sigma-x[0])/h)))
	hi := min(len(x)-1, int(math.Ceil((mu+40*sigma-x[0])/h)))
	inv := 1 / (2 * sigma * sigma)
	amax := math.Inf(-1)
	for i := lo; i <= hi; i++ {
		amax = math.Max(amax, -(x[i]-mu)*(x[i]-mu)*inv)
	}
	z, sum := 0.0, 0.0
	for i := lo; i <= hi; i++ {
		a := -(x[i]-mu)*(x[i]-mu)*inv - amax
		e := math.Exp(a)
		z += e
		sum += e * (a - logP[i])
	}
	return sum/z - math.Log(z) // Σ (e/z)(a − ln z − ln p), the shift by amax cancelling
}
