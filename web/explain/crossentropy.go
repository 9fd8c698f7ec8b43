package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var crossEntropyPage = Page{
	Slug: "cross-entropy", Title: "Cross-entropy = entropy + KL",
	Summary: "H(P,Q) = H(P) + KL(P‖Q) as stacked bars, with the language-model reading.",
	Intro: `<p>A language model Q predicts the next token; the data come from P. Training minimises the cross-entropy H(P,Q) = −Σ P(x) ln Q(x), the average surprise of the model on real text. It splits into two parts: H(P) = −Σ P(x) ln P(x), the uncertainty that is really there (no model can beat it), and KL(P‖Q) ≥ 0, the part that is the model's fault.</p>
<p>Since H(P) does not depend on the model, minimising cross-entropy <i>is</i> minimising KL(P‖Q) — the mode-covering direction: a model that gives a real continuation zero probability pays +∞. The perplexity exp H(P,Q) is the effective number of tokens the model hesitates between.</p>
<p>Here Q is P sharpened or flattened by a temperature and blended with a uniform distribution.</p>`,
	Params: []Param{
		{Name: "t", Label: "model temperature", Min: 0.25, Max: 4, Step: 0.05, Default: 1.8},
		{Name: "lambda", Label: "blend with uniform λ", Min: 0, Max: 1, Step: 0.01, Default: 0.1},
	},
	Examples: []Example{
		{Text: "a perfect model (KL = 0)", Query: "t=1&lambda=0"},
		{Text: "an over-confident model", Query: "t=0.3&lambda=0"},
	},
	Compute: crossEntropy,
}

var lmTokens = []string{"cat", "dog", "sat", "ran", "the", "a"}
var lmP = []float64{0.4, 0.3, 0.13, 0.13, 0.02, 0.02}

// tempered returns (1−λ)·softmax(ln p / T) + λ/K, a model that sharpens (T < 1) or flattens
// (T > 1) p and mixes in the uniform distribution.
func tempered(p []float64, t, lambda float64) ([]float64, error) {
	sharp := p // softmax(ln p / 1) is p itself; computing it would only add rounding
	if t != 1 {
		z := make([]float64, len(p))
		for i, v := range p {
			z[i] = math.Log(v) / t
		}
		var err error
		if sharp, err = kl.Softmax(z); err != nil {
			return nil, err
		}
	}
	q := make([]float64, len(p))
	for i := range q {
		q[i] = (1-lambda)*sharp[i] + lambda/float64(len(p))
	}
	return kl.Normalize(q)
}

func crossEntropy(a Args) (View, error) {
	Q, err := tempered(lmP, a["t"], a["lambda"])
	if err != nil {
		return View{}, err
	}
	h, err := kl.Entropy(lmP)
	if err != nil {
		return View{}, err
	}
	hpq, err := kl.CrossEntropy(lmP, Q)
	if err != nil {
		return View{}, err
	}
	d, err := kl.KL(lmP, Q)
	if err != nil {
		return View{}, err
	}
	return View{
		Values: []Value{Nats("h_p", "H(P)", h), Nats("kl_pq", "KL(P‖Q)", d), Nats("h_pq", "H(P,Q)", hpq),
			Plain("perplexity", "perplexity exp H(P,Q)", math.Exp(hpq), "tokens")},
		Charts: []Chart{
			{Title: "H(P,Q) = H(P) + KL(P‖Q)", Kind: "stacked", YLabel: "nats", Categories: []string{"H(P) + KL(P‖Q)", "H(P,Q)"},
				Series: []Series{{Name: "H(P): irreducible", Y: Floats{h, 0}}, {Name: "KL(P‖Q): the model's fault", Y: Floats{d, 0}},
					{Name: "H(P,Q): the training loss", Y: Floats{0, hpq}}}, YMin: 0, YMax: Auto},
			{Title: "Next token after \"the ___\": data P and model Q", Kind: "bars", YLabel: "probability", Categories: lmTokens,
				Series: []Series{{Name: "P (data)", Y: lmP}, {Name: "Q (model)", Y: Q}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("The loss H(P,Q) = %s nats = H(P) %s + KL %s; only the KL can be trained away.", Format(hpq), Format(h), Format(d)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(lmP), list(Q)),
	}, nil
}
