package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var coinPage = Page{
	Slug: "coin", Title: "A biased coin against a fair one",
	Summary: "KL both ways for two coins, the surprise of each outcome, and simulated flips whose average log-likelihood ratio converges to KL(P‖Q).",
	Intro: `<p>P is the coin you actually flip; Q is the coin you believe in. Each outcome x surprises you by −ln Q(x) nats, but it "should" surprise you by −ln P(x). KL(P‖Q) is the average extra surprise, <b>averaged over flips of P</b>: KL(P‖Q) = E<sub>x~P</sub>[ln P(x) − ln Q(x)].</p>
<p>The two directions differ: KL(Q‖P) averages over flips of Q instead. Flip the coin below and watch the running mean of ln(P(x)/Q(x)) settle on KL(P‖Q). If Q gives an outcome probability 0 that P produces, that outcome is infinitely surprising and KL(P‖Q) = +Inf.</p>`,
	Params: []Param{
		{Name: "p", Label: "P(heads)", Min: 0, Max: 1, Step: 0.01, Default: 0.7},
		{Name: "q", Label: "Q(heads)", Min: 0, Max: 1, Step: 0.01, Default: 0.5},
		{Name: "n", Label: "flips", Min: 10, Max: 5000, Step: 10, Default: 1000, Int: true},
		{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
	},
	Examples: []Example{
		{Text: "a loaded coin (P(heads) = 0.99)", Query: "p=0.99&q=0.5"},
		{Text: "the same pair reversed", Query: "p=0.5&q=0.99"},
		{Text: "Q rules out heads (KL = +Inf)", Query: "p=0.7&q=0"},
	},
	Compute: coin,
}

func coin(a Args) (View, error) {
	p, q, n := a["p"], a["q"], int(a["n"])
	P, Q := kl.Bernoulli{P: p}, kl.Bernoulli{P: q}
	pq, err := P.KL(Q)
	if err != nil {
		return View{}, err
	}
	qp, err := Q.KL(P)
	if err != nil {
		return View{}, err
	}
	// Flips of P. In kl's estimator convention the sampling distribution is the second argument:
	// ℓ = ln q(x) − ln p(x) with x ~ P, and K1 = −ℓ averages to KL(P‖Q). A flip that Q rules out
	// has ℓ = −Inf: from then on the running mean is +Inf.
	r := newRand(a["seed"])
	lp := [2]float64{math.Log1p(-p), math.Log(p)} // ln P(tails), ln P(heads)
	lq := [2]float64{math.Log1p(-q), math.Log(q)}
	ell := make([]float64, n)
	heads, firstRuledOut := 0, 0
	xs, ys := []float64{}, []float64{}
	sum := 0.0
	for i := range ell {
		x := 0
		if r.Float64() < p {
			x, heads = 1, heads+1
		}
		ell[i] = lq[x] - lp[x]
		if math.IsInf(ell[i], -1) && firstRuledOut == 0 {
			firstRuledOut = i + 1
		}
		sum += kl.K1.Sample(ell[i])
		if i < 50 || (i+1)%max(1, n/400) == 0 || i == n-1 {
			xs, ys = append(xs, float64(i+1)), append(ys, sum/float64(i+1))
		}
	}
	est, err := kl.Estimate(kl.K1, ell)
	if err != nil {
		return View{}, err
	}
	caption := fmt.Sprintf("Each flip of P costs on average %s nats more surprise under Q than under P; after %d flips the running mean is %s.", Format(pq), n, Format(est))
	if math.IsInf(pq, 1) {
		side := "heads" // P produces heads, Q rules them out
		if q == 1 {
			side = "tails"
		}
		caption = fmt.Sprintf("Q gives %s probability 0 but P produces it: a flip of %s is infinitely surprising under Q, so KL(P‖Q) = +Inf.", side, side)
		if firstRuledOut > 0 {
			caption += fmt.Sprintf(" The running mean is +Inf from flip %d on, the first that came up %s.", firstRuledOut, side)
		} else {
			caption += fmt.Sprintf(" None of these %d flips came up %s yet, so their mean (%s) is still finite; the expectation is not.", n, side, Format(est))
		}
	}
	return View{
		Values: []Value{
			Nats("kl_pq", "KL(P‖Q)", pq), Nats("kl_qp", "KL(Q‖P)", qp),
			Nats("surprise_p_heads", "−ln P(heads)", -lp[1]), Nats("surprise_q_heads", "−ln Q(heads)", -lq[1]),
			Nats("surprise_p_tails", "−ln P(tails)", -lp[0]), Nats("surprise_q_tails", "−ln Q(tails)", -lq[0]),
			Nats("llr_mean", fmt.Sprintf("mean ln(P(x)/Q(x)) over %d flips", n), est),
			Plain("heads", "heads seen", float64(heads), ""),
		},
		Charts: []Chart{
			{Title: "The two coins", Kind: "bars", YLabel: "probability", Categories: []string{"heads", "tails"},
				Series: []Series{{Name: "P", Y: Floats{p, 1 - p}}, {Name: "Q", Y: Floats{q, 1 - q}}}, YMin: 0, YMax: 1},
			{Title: "Running mean of ln(P(x)/Q(x)), x ~ P", Kind: "line", XLabel: "flips", YLabel: "nats", LogX: true,
				Series: []Series{{Name: "running mean", X: xs, Y: ys}},
				HLines: []Mark{{At: pq, Label: "KL(P‖Q)"}}, YMin: Auto, YMax: Auto},
		},
		Caption: caption,
		Command: fmt.Sprintf("klppo kl bernoulli --p %s --q %s", num(p), num(q)),
	}, nil
}
