package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var abTestPage = Page{
	Slug: "ab-test", Title: "An A/B test with Beta posteriors",
	Summary: "Conversions per variant → Beta posteriors → the KL between them as data grows.",
	Intro: `<p>Two page variants convert visitors at unknown rates. Starting from a uniform Beta(1,1) prior, after c conversions in n visitors the posterior of a rate is Beta(1 + c, 1 + n − c). Early on both posteriors are wide and overlap: the KL between them is small — the data cannot tell the variants apart. As visitors arrive the posteriors narrow and, if the rates differ, the KL grows without bound; if they are equal, it stays small.</p>
<p>KL(B‖A) is the expected <i>extra</i> surprise, in nats, of someone who describes rates drawn from B's posterior with A's posterior, beyond the surprise B's own posterior gives: a way to watch the two beliefs separate. It says how different they are, not which variant is better. That is the usual P(B &gt; A), the probability under the two posteriors that B's rate is the higher one, shown beside it.</p>`,
	Params: []Param{
		{Name: "rate_a", Label: "true rate of A", Min: 0.01, Max: 0.5, Step: 0.005, Default: 0.1},
		{Name: "rate_b", Label: "true rate of B", Min: 0.01, Max: 0.5, Step: 0.005, Default: 0.12},
		{Name: "n", Label: "visitors per variant", Min: 100, Max: 20000, Step: 100, Default: 5000, Int: true},
		{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
	},
	Examples: []Example{
		{Text: "no real difference", Query: "rate_a=0.1&rate_b=0.1&n=20000"},
		{Text: "a big lift", Query: "rate_a=0.1&rate_b=0.2&n=2000"},
	},
	Compute: abTest,
}

// betaDensity returns the Beta(α, β) density on the grid x ∈ (0, 1).
func betaDensity(b kl.Beta, x []float64) []float64 {
	la, _ := math.Lgamma(b.Alpha)
	lb, _ := math.Lgamma(b.Beta)
	lab, _ := math.Lgamma(b.Alpha + b.Beta)
	d := make([]float64, len(x))
	for i, xi := range x {
		d[i] = math.Exp((b.Alpha-1)*math.Log(xi) + (b.Beta-1)*math.Log1p(-xi) + lab - la - lb)
	}
	return d
}

func abTest(a Args) (View, error) {
	ra, rb, n := a["rate_a"], a["rate_b"], int(a["n"])
	r := newRand(a["seed"])
	checks := map[int]bool{}
	for _, c := range logspace(10, float64(n), 60) {
		checks[int(math.Round(c))] = true
	}
	checks[n] = true
	var ns, kba, kab, pbs []float64
	ca, cb := 0, 0
	var A, B kl.Beta
	for i := 1; i <= n; i++ {
		if r.Float64() < ra {
			ca++
		}
		if r.Float64() < rb {
			cb++
		}
		if !checks[i] {
			continue
		}
		A = kl.Beta{Alpha: 1 + float64(ca), Beta: 1 + float64(i-ca)}
		B = kl.Beta{Alpha: 1 + float64(cb), Beta: 1 + float64(i-cb)}
		ba, err := B.KL(A)
		if err != nil {
			return View{}, err
		}
		ab, err := A.KL(B)
		if err != nil {
			return View{}, err
		}
		ns, kba, kab, pbs = append(ns, float64(i)), append(kba, ba), append(kab, ab), append(pbs, probGreater(B, A))
	}
	meanA, meanB := A.Alpha/(A.Alpha+A.Beta), B.Alpha/(B.Alpha+B.Beta)
	sd := math.Sqrt(math.Max(meanA*(1-meanA), meanB*(1-meanB)) / float64(n+3))
	lo, hi := math.Max(1e-4, math.Min(meanA, meanB)-6*sd), math.Min(1-1e-4, math.Max(meanA, meanB)+6*sd)
	x := linspace(lo, hi, 300)
	last := len(kba) - 1
	return View{
		Values: []Value{
			Nats("kl_ba", "KL(posterior B‖posterior A)", kba[last]), Nats("kl_ab", "KL(posterior A‖posterior B)", kab[last]),
			Plain("p_b_gt_a", "P(B > A)", pbs[last], ""),
			Plain("conv_a", "conversions of A", float64(ca), ""), Plain("conv_b", "conversions of B", float64(cb), ""),
		},
		Charts: []Chart{
			{Title: fmt.Sprintf("Posteriors after %d visitors each", n), Kind: "line", XLabel: "conversion rate", YLabel: "density",
				Series: []Series{{Name: fmt.Sprintf("A: Beta(%d, %d)", 1+ca, 1+n-ca), X: x, Y: betaDensity(A, x), Style: "area"},
					{Name: fmt.Sprintf("B: Beta(%d, %d)", 1+cb, 1+n-cb), X: x, Y: betaDensity(B, x), Style: "area"}}, YMin: 0, YMax: Auto},
			{Title: "KL between the posteriors as visitors arrive", Kind: "line", XLabel: "visitors per variant", YLabel: "nats", LogX: true, LogY: true,
				Series: []Series{{Name: "KL(B‖A)", X: ns, Y: kba}, {Name: "KL(A‖B)", X: ns, Y: kab, Style: "dash"}}, YMin: Auto, YMax: Auto},
			{Title: "P(B > A) as visitors arrive", Kind: "line", XLabel: "visitors per variant", YLabel: "probability", LogX: true,
				Series: []Series{{Name: "P(B > A)", X: ns, Y: pbs}}, HLines: []Mark{{At: 0.5, Label: "no evidence either way"}}, YMin: 0, YMax: 1},
		},
		Caption: fmt.Sprintf("After %d visitors each: A converted %d, B %d. The posteriors differ by KL(B‖A) = %s nats, and P(B > A) = %s.", n, ca, cb, Format(kba[last]), Format(pbs[last])),
		Command: fmt.Sprintf("klppo kl beta --alpha-p %d --beta-p %d --alpha-q %d --beta-q %d", 1+cb, 1+n-cb, 1+ca, 1+n-ca),
	}, nil
}

// probGreater returns P(x > y) for independent x ~ X, y ~ Y, Beta distributions whose X.Alpha is
// a whole number (a posterior after counting conversions from a Beta(1, 1) prior):
//
//	P(x > y) = Σ_{i=0}^{αx−1} B(αy+i, βy+βx) / ((βx+i)·B(1+i, βx)·B(αy, βy)),
//
// summed in log space with each term from the previous one (B(a+1, b)/B(a, b) = a/(a+b)):
//
//	tᵢ₊₁/tᵢ = (αy+i)/(αy+βy+βx+i) · (βx+i)/(βx+i+1) · (βx+i+1)/(i+1)
//	        = (αy+i)(βx+i) / ((αy+βy+βx+i)(i+1)),
//	t₀ = B(αy, βy+βx)/B(αy, βy).
//
// The sum has αx terms; when αy is smaller, 1 − P(y > x) is summed instead (the same number:
// ties have probability 0).
func probGreater(x, y kl.Beta) float64 {
	if y.Alpha < x.Alpha {
		return 1 - probGreater(y, x)
	}
	lbeta := func(a, b float64) float64 {
		la, _ := math.Lgamma(a)
		lb, _ := math.Lgamma(b)
		lab, _ := math.Lgamma(a + b)
		return la + lb - lab
	}
	ax, bx, ay, by := x.Alpha, x.Beta, y.Alpha, y.Beta
	lt := lbeta(ay, by+bx) - lbeta(ay, by)
	s := 0.0
	for i := 0.0; i < ax; i++ {
		s += math.Exp(lt)
		lt += math.Log((ay + i) * (bx + i) / ((ay + by + bx + i) * (i + 1)))
	}
	return math.Min(1, s)
}
