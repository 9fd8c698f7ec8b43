package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var ganPage = Page{
	Slug: "gan", Title: "GANs: Jensen–Shannon and the optimal discriminator",
	Summary: "The data P and the generator G, the optimal discriminator D* = p/(p+g) and the JS divergence it measures.",
	Intro: `<p>A GAN's discriminator D tells data (P) from generated samples (G). For a fixed generator the best discriminator is D*(x) = p(x)/(p(x) + g(x)) — ½ where the two overlap, near 1 where only data live. Plugging D* into the GAN objective gives 2·JS(P,G) − ln 4: the original GAN trains the generator to minimise the Jensen–Shannon divergence.</p>
<p>Move the generator far from the data: JS saturates at ln 2 and D* becomes a step, so its gradient tells the generator nothing about which way to move — the vanishing-gradient problem that motivated other divergences.</p>`,
	Params: []Param{
		{Name: "mu_g", Label: "μ of the generator", Min: -8, Max: 8, Step: 0.1, Default: 2},
		{Name: "sigma_g", Label: "σ of the generator", Min: 0.2, Max: 3, Step: 0.05, Default: 0.7},
	},
	Examples: []Example{
		{Text: "a perfect generator (JS = 0)", Query: "mu_g=0&sigma_g=1"},
		{Text: "far from the data (JS → ln 2)", Query: "mu_g=7&sigma_g=0.5"},
	},
	AtScale: []Scale{{Command: "klppo kl categorical --p … --q …", Shows: "prints JS(P,Q) next to KL both ways for any pair of distributions", Doc: "docs/kl.md"}},
	Compute: gan,
}

func gan(a Args) (View, error) {
	P := kl.Normal{Mu: 0, Sigma: 1}
	G := kl.Normal{Mu: a["mu_g"], Sigma: a["sigma_g"]}
	pg, err := P.KL(G)
	if err != nil {
		return View{}, err
	}
	gp, err := G.KL(P)
	if err != nil {
		return View{}, err
	}
	lo, hi := math.Min(-5, G.Mu-6*G.Sigma), math.Max(5, G.Mu+6*G.Sigma)
	x := linspace(lo, hi, 1201)
	pd, gd := density(P, x), density(G, x)
	pp, err := kl.Normalize(pd)
	if err != nil {
		return View{}, err
	}
	gg, err := kl.Normalize(gd)
	if err != nil {
		return View{}, err
	}
	js, err := kl.JS(pp, gg)
	if err != nil {
		return View{}, err
	}
	dstar := make([]float64, len(x))
	for i := range x {
		dstar[i] = math.NaN()
		if s := pd[i] + gd[i]; s > 1e-300 {
			dstar[i] = pd[i] / s
		}
	}
	return View{
		Values: []Value{Nats("js", "JS(P,G)", js), Nats("v_opt", "GAN value at D*: 2·JS − ln 4", 2*js-math.Log(4)),
			Nats("kl_pg", "KL(P‖G)", pg), Nats("kl_gp", "KL(G‖P)", gp)},
		Charts: []Chart{{Title: "Data, generator and the optimal discriminator", Kind: "line", XLabel: "x", YLabel: "density / D*(x)",
			Series: []Series{{Name: "data p(x)", X: x, Y: pd, Style: "area"}, {Name: "generator g(x)", X: x, Y: gd, Style: "area"},
				{Name: "D*(x) = p/(p+g)", X: x, Y: dstar, Style: "dash"}}, YMin: 0, YMax: 1.05}},
		Caption: fmt.Sprintf("JS(P,G) = %s nats (at most ln 2 = 0.693147); with the optimal discriminator the GAN objective is 2·JS − ln 4 = %s.", Format(js), Format(2*js-math.Log(4))),
		Command: fmt.Sprintf("klppo kl normal --mu-p 0 --sigma-p 1 --mu-q %s --sigma-q %s", num(G.Mu), num(G.Sigma)),
	}, nil
}
