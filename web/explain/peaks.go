package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var peaksPage = Page{
	Slug: "peaks", Title: "Two Gaussian peaks",
	Summary: "Two normals, their densities, the pointwise integrand p·ln(p/q) and KL both ways.",
	Intro: `<p>For continuous distributions KL(P‖Q) = ∫ p(x) ln(p(x)/q(x)) dx. The shaded curve is the integrand: its area is KL(P‖Q). It is large where P has mass and Q has little; where Q has mass P lacks, it is small — that region counts in KL(Q‖P) instead.</p>
<p>Make Q narrower than P and KL(P‖Q) grows fast (P's tails land where Q is tiny); make Q wider and it grows slowly.</p>`,
	Params: []Param{
		{Name: "mu_p", Label: "μ of P", Min: -5, Max: 5, Step: 0.1, Default: -1},
		{Name: "sigma_p", Label: "σ of P", Min: 0.2, Max: 4, Step: 0.05, Default: 1},
		{Name: "mu_q", Label: "μ of Q", Min: -5, Max: 5, Step: 0.1, Default: 1.5},
		{Name: "sigma_q", Label: "σ of Q", Min: 0.2, Max: 4, Step: 0.05, Default: 1.5},
	},
	Examples: []Example{
		{Text: "far apart", Query: "mu_p=-3&sigma_p=1&mu_q=3&sigma_q=1"},
		{Text: "Q narrower than P", Query: "mu_p=0&sigma_p=2&mu_q=0&sigma_q=0.5"},
	},
	Compute: peaks,
}

func peaks(a Args) (View, error) {
	P := kl.Normal{Mu: a["mu_p"], Sigma: a["sigma_p"]}
	Q := kl.Normal{Mu: a["mu_q"], Sigma: a["sigma_q"]}
	pq, err := P.KL(Q)
	if err != nil {
		return View{}, err
	}
	qp, err := Q.KL(P)
	if err != nil {
		return View{}, err
	}
	s := math.Max(P.Sigma, Q.Sigma)
	x := linspace(math.Min(P.Mu, Q.Mu)-4*s, math.Max(P.Mu, Q.Mu)+4*s, 401)
	pd, qd := density(P, x), density(Q, x)
	integrand := make([]float64, len(x))
	area := 0.0
	for i, xi := range x {
		integrand[i] = pd[i] * (P.LogProb(xi) - Q.LogProb(xi))
		if i > 0 {
			area += (x[i] - x[i-1]) * (integrand[i] + integrand[i-1]) / 2
		}
	}
	return View{
		Values: []Value{Nats("kl_pq", "KL(P‖Q)", pq), Nats("kl_qp", "KL(Q‖P)", qp),
			Nats("area", "area under the integrand (trapezoid rule)", area)},
		Charts: []Chart{
			{Title: "Densities", Kind: "line", XLabel: "x", YLabel: "density",
				Series: []Series{{Name: "p(x)", X: x, Y: pd}, {Name: "q(x)", X: x, Y: qd}}, YMin: 0, YMax: Auto},
			{Title: "p(x)·ln(p(x)/q(x)): its area is KL(P‖Q)", Kind: "line", XLabel: "x", YLabel: "nats per unit x",
				Series: []Series{{Name: "p·ln(p/q)", X: x, Y: integrand, Style: "area"}}, HLines: []Mark{{At: 0}}, YMin: Auto, YMax: Auto},
		},
		Caption: fmt.Sprintf("KL(P‖Q) = %s nats but KL(Q‖P) = %s nats: the two directions differ unless the σs are equal.", Format(pq), Format(qp)),
		Command: fmt.Sprintf("klppo kl normal --mu-p %s --sigma-p %s --mu-q %s --sigma-q %s", num(P.Mu), num(P.Sigma), num(Q.Mu), num(Q.Sigma)),
	}, nil
}
