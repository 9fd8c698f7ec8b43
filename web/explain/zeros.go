package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var zerosPage = Page{
	Slug: "zeros", Title: "Zeros, smoothing and Jensen–Shannon",
	Summary: "Q = 0 where P > 0 gives +∞; ε-smoothing makes it finite but the number then depends on ε; JS stays ≤ ln 2.",
	Intro: `<p>If Q gives probability 0 to an outcome that P produces, KL(P‖Q) = +∞: a code built for Q has no codeword for it. klppo reports +Inf rather than hiding it.</p>
<p>A common fix is to smooth Q: Q̃ = (Q + ε)/(1 + Kε). The divergence becomes finite — but look at the second chart: as ε shrinks it keeps growing, like m·ln(1/ε) plus a constant, where m is P's mass on the outcomes Q rules out. Every tenfold smaller ε adds about m·ln 10 nats: the number reports the ε you chose as much as the data.</p>
<p>The Jensen–Shannon divergence JS(P,Q) = ½KL(P‖M) + ½KL(Q‖M), M = ½(P+Q), compares both to their average, is symmetric, always finite, and at most ln 2 ≈ 0.693 nats (1 bit), reached only when P and Q do not overlap.</p>`,
	Params: []Param{
		{Name: "m", Label: "P's mass on outcomes Q rules out", Min: 0, Max: 0.5, Step: 0.01, Default: 0.1},
		{Name: "eps", Label: "smoothing ε", Min: 1e-6, Max: 0.2, Step: 0.01, Default: 0.01, Log: true},
	},
	Examples: []Example{
		{Text: "no mass where Q is zero", Query: "m=0&eps=0.01"},
		{Text: "tiny ε", Query: "m=0.1&eps=1e-6"},
	},
	Compute: zeros,
}

var zerosLabels = []string{"A", "B", "C", "D", "E"}

// zerosQ is the model: it rules out D and E.
var zerosQ = []float64{0.35, 0.35, 0.3, 0, 0}

// zerosP returns P: mass m on D and E (which Q rules out), the rest like 0.5 : 0.3 : 0.2.
func zerosP(m float64) []float64 {
	return []float64{(1 - m) * 0.5, (1 - m) * 0.3, (1 - m) * 0.2, m / 2, m / 2}
}

// smoothSlope returns d KL(P‖Q̃ε) / d ln(1/ε) for Q̃ε = (Q + ε)/(1 + Kε): with
// KL = Σ pᵢ ln pᵢ − Σ pᵢ ln(qᵢ + ε) + ln(1 + Kε),
//
//	−ε·dKL/dε = Σᵢ ε·pᵢ/(qᵢ + ε) − Kε/(1 + Kε),
//
// whose terms with qᵢ = 0 sum to m exactly and whose other terms vanish as ε → 0.
func smoothSlope(p, q []float64, eps float64) float64 {
	k := float64(len(q))
	s := -k * eps / (1 + k*eps)
	for i := range p {
		s += eps * p[i] / (q[i] + eps)
	}
	return s
}

func zeros(a Args) (View, error) {
	m, eps := a["m"], a["eps"]
	P, Q := zerosP(m), zerosQ
	pq, err := kl.KL(P, Q)
	if err != nil {
		return View{}, err
	}
	qp, err := kl.KL(Q, P)
	if err != nil {
		return View{}, err
	}
	js, err := kl.JS(P, Q)
	if err != nil {
		return View{}, err
	}
	Qs, err := kl.Smooth(Q, eps)
	if err != nil {
		return View{}, err
	}
	pqs, err := kl.KL(P, Qs)
	if err != nil {
		return View{}, err
	}
	disjoint, err := kl.JS([]float64{1, 0}, []float64{0, 1})
	if err != nil {
		return View{}, err
	}
	es := logspace(1e-7, 0.5, 80)
	curve, jsLine := make([]float64, len(es)), make([]float64, len(es))
	for i, e := range es {
		qe, err := kl.Smooth(Q, e)
		if err != nil {
			return View{}, err
		}
		if curve[i], err = kl.KL(P, qe); err != nil {
			return View{}, err
		}
		jsLine[i] = js
	}
	slope := smoothSlope(P, Q, eps)
	reading := "finite: P puts no mass where Q is zero"
	if math.IsInf(pq, 1) {
		reading = "+∞: P produces D and E, which Q rules out"
	}
	growth := fmt.Sprintf(" At this ε it grows by %s nats per unit of ln(1/ε) (%s per tenfold smaller ε); as ε → 0 that slope tends to m = %s.",
		Format(slope), Format(slope*math.Ln10), Format(m))
	if m == 0 {
		growth = " With m = 0 smoothing only perturbs it: it tends to KL(P‖Q) as ε → 0."
	}
	return View{
		Values: []Value{
			Nats("kl_pq", "KL(P‖Q)", pq), Nats("kl_pq_smooth", "KL(P‖Q̃ε)", pqs), Nats("kl_qp", "KL(Q‖P)", qp),
			Nats("js", "JS(P,Q)", js), Nats("ln2", "ln 2 (JS of disjoint P, Q)", disjoint),
			Plain("slope", "d KL(P‖Q̃ε) / d ln(1/ε)", slope, ""),
		},
		Charts: []Chart{
			{Title: "P, Q and the smoothed Q̃ε", Kind: "bars", YLabel: "probability", Categories: zerosLabels,
				Series: []Series{{Name: "P", Y: P}, {Name: "Q", Y: Q}, {Name: "Q̃ε", Y: Qs}}, YMin: 0, YMax: Auto},
			{Title: "KL(P‖Q̃ε) depends on your ε", Kind: "line", XLabel: "ε", YLabel: "nats", LogX: true,
				Series: []Series{{Name: "KL(P‖Q̃ε)", X: es, Y: curve}, {Name: "JS(P,Q)", X: es, Y: jsLine, Style: "dash"}},
				HLines: []Mark{{At: disjoint, Label: "ln 2"}}, VLines: []Mark{{At: eps, Label: "ε"}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("KL(P‖Q) is %s. Smoothed with ε = %s it reads %s nats.%s JS(P,Q) = %s ≤ ln 2.", reading, Format(eps), Format(pqs), growth, Format(js)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s --smooth %s", list(P), list(Q), num(eps)),
	}, nil
}
