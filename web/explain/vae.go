package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var vaePage = Page{
	Slug: "vae", Title: "The VAE prior term",
	Summary: "KL(N(μ, σ²)‖N(0, 1)): the price a VAE's encoder pays for each latent dimension.",
	Intro: `<p>A variational autoencoder encodes an input as a Gaussian N(μ, σ²) per latent dimension and is penalised by KL(N(μ, σ²)‖N(0, 1)) = ½(μ² + σ² − 1 − ln σ²). The mean term ½μ² pulls codes towards the origin; the variance term ½(σ² − 1 − ln σ²) punishes both over-confident (σ → 0) and vague (σ large) codes. A dimension whose KL stays at 0 carries no information: posterior collapse.</p>
<p>The encoder's q(z|x) is the first argument. Against a single N(0, 1) there are no modes to seek: this term is a price (the rate, in nats) for moving a code away from the prior. The mode-seeking direction in a VAE is a different KL, the one the ELBO never computes: maximising the ELBO minimises KL(q(z|x)‖p(z|x)), the gap to the true posterior, which is why a Gaussian q settles on one mode of a multi-modal posterior.</p>`,
	Params: []Param{
		{Name: "mu", Label: "μ", Min: -3, Max: 3, Step: 0.05, Default: 1},
		{Name: "sigma", Label: "σ", Min: 0.05, Max: 3, Step: 0.01, Default: 0.5},
	},
	Examples: []Example{
		{Text: "a collapsed dimension (KL = 0)", Query: "mu=0&sigma=1"},
		{Text: "an over-confident code", Query: "mu=0&sigma=0.05"},
	},
	AtScale: []Scale{{Command: "klppo vae", Shows: "trains a VAE on glyphs or a 2-D ring and charts this term per latent dimension over the epochs", Doc: "docs/vae.md"}},
	Compute: vaePrior,
}

func vaePrior(a Args) (View, error) {
	mu, sigma := a["mu"], a["sigma"]
	logvar := 2 * math.Log(sigma)
	d, err := kl.VAEPriorKL([]float64{mu}, []float64{logvar})
	if err != nil {
		return View{}, err
	}
	meanTerm, err := kl.VAEPriorKL([]float64{mu}, []float64{0})
	if err != nil {
		return View{}, err
	}
	varTerm, err := kl.VAEPriorKL([]float64{0}, []float64{logvar})
	if err != nil {
		return View{}, err
	}
	x := linspace(-5, 5, 401)
	return View{
		Values: []Value{Nats("kl_prior", "KL(N(μ,σ²)‖N(0,1))", d), Nats("kl_mean_term", "mean term ½μ²", meanTerm),
			Nats("kl_var_term", "variance term ½(σ²−1−ln σ²)", varTerm)},
		Charts: []Chart{{Title: "The encoder's q(z|x) and the prior", Kind: "line", XLabel: "z", YLabel: "density",
			Series: []Series{{Name: "q(z|x) = N(μ, σ²)", X: x, Y: density(kl.Normal{Mu: mu, Sigma: sigma}, x), Style: "area"},
				{Name: "prior N(0, 1)", X: x, Y: density(kl.Normal{Mu: 0, Sigma: 1}, x), Style: "dash"}}, YMin: 0, YMax: Auto}},
		Caption: fmt.Sprintf("This latent dimension costs %s nats: %s for its mean, %s for its spread. klppo vae trains a VAE and charts this term per dimension.", Format(d), Format(meanTerm), Format(varTerm)),
		Command: fmt.Sprintf("klppo kl vae --mu %s --logvar %s", num(mu), num(logvar)),
	}, nil
}
