package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var compressionPage = Page{
	Slug: "compression", Title: "Compression: the price of the wrong code",
	Summary: "Symbols from P coded with a real arithmetic code built for Q: the measured extra bits per symbol against KL(P‖Q)/ln 2.",
	Intro: `<p>The best code for symbols from P spends −log₂ P(x) bits on x, H(P) bits per symbol on average (entropy in bits). A code built for the wrong distribution Q spends −log₂ Q(x), on average H(P,Q) bits: <b>KL(P‖Q)/ln 2 extra bits per symbol</b>.</p>
<p>This is measured, not assumed: n symbols are drawn from P and encoded twice with an arithmetic coder (32-bit integer arithmetic, the model quantised to 2¹⁶ counts), once built for P and once for Q. The bars compare the bits the coder actually produced with the theory.</p>
<p>H(P) is an average over all samples. One sample can beat it: if it happens to hold more of P's likely symbols than P predicts, the code for P spends less than H(P) bits per symbol on it. What the coder tracks is the sample's own ideal length, Σ −log₂ P(x) over its symbols: it stays within a few bits of it, above or below H(P) as the sample falls.</p>`,
	Params: []Param{
		{Name: "lambda", Label: "Q: from P (0) to P reversed (1)", Min: 0, Max: 1, Step: 0.01, Default: 0.6},
		{Name: "n", Label: "symbols", Min: 100, Max: 20000, Step: 100, Default: 5000, Int: true},
		{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
	},
	Examples: []Example{
		{Text: "the right code (no extra bits)", Query: "lambda=0&n=5000"},
		{Text: "a badly wrong code", Query: "lambda=1&n=20000"},
	},
	Compute: compression,
}

var codeSymbols = []string{"a", "b", "c", "d", "e", "f"}
var codeP = []float64{0.4, 0.2, 0.15, 0.1, 0.1, 0.05}

func compression(a Args) (View, error) {
	lambda, n := a["lambda"], int(a["n"])
	Q := make([]float64, len(codeP))
	for i := range Q {
		Q[i] = (1-lambda)*codeP[i] + lambda*codeP[len(codeP)-1-i]
	}
	Q, err := kl.Normalize(Q)
	if err != nil {
		return View{}, err
	}
	h, err := kl.Entropy(codeP)
	if err != nil {
		return View{}, err
	}
	hpq, err := kl.CrossEntropy(codeP, Q)
	if err != nil {
		return View{}, err
	}
	d, err := kl.KL(codeP, Q)
	if err != nil {
		return View{}, err
	}
	r := newRand(a["seed"])
	sym := make([]int, n)
	ideal := 0.0 // this sample's ideal length under P, Σ −log₂ P(x), in bits
	for i := range sym {
		sym[i] = draw(r, codeP)
		ideal -= math.Log2(codeP[sym[i]])
	}
	mp, err := newCodeModel(codeP)
	if err != nil {
		return View{}, err
	}
	mq, err := newCodeModel(Q)
	if err != nil {
		return View{}, err
	}
	bp, err := mp.encode(sym)
	if err != nil {
		return View{}, err
	}
	bq, err := mq.encode(sym)
	if err != nil {
		return View{}, err
	}
	perP, perQ := float64(len(bp))/float64(n), float64(len(bq))/float64(n)
	lenP, lenQ := make([]float64, len(codeP)), make([]float64, len(codeP))
	for i := range codeP {
		lenP[i], lenQ[i] = -math.Log2(codeP[i]), -math.Log2(Q[i])
	}
	return View{
		Values: []Value{
			Nats("kl_pq", "KL(P‖Q)", d),
			Plain("kl_pq_bits", "KL(P‖Q)/ln 2: predicted extra bits per symbol", kl.ToBits(d), "bits"),
			Plain("extra_bits", "measured extra bits per symbol", perQ-perP, "bits"),
			Plain("bits_p", "code built for P: bits per symbol", perP, "bits"),
			Plain("ideal_p_bits", "this sample's Σ −log₂ P(x) per symbol", ideal/float64(n), "bits"),
			Plain("bits_q", "code built for Q: bits per symbol", perQ, "bits"),
			Plain("h_p_bits", "H(P) in bits", kl.ToBits(h), "bits"),
			Plain("h_pq_bits", "H(P,Q) in bits", kl.ToBits(hpq), "bits"),
		},
		Charts: []Chart{
			{Title: "Bits per symbol: theory and the arithmetic coder", Kind: "bars", YLabel: "bits per symbol",
				Categories: []string{"code for P", "code for Q", "extra"},
				Series: []Series{{Name: "theory: H(P), H(P,Q), KL/ln 2", Y: Floats{kl.ToBits(h), kl.ToBits(hpq), kl.ToBits(d)}},
					{Name: fmt.Sprintf("measured on %d symbols", n), Y: Floats{perP, perQ, perQ - perP}}}, YMin: 0, YMax: Auto},
			{Title: "Ideal code length of each symbol", Kind: "bars", YLabel: "bits", Categories: codeSymbols,
				Series: []Series{{Name: "−log₂ P(x): code for P", Y: lenP}, {Name: "−log₂ Q(x): code for Q", Y: lenQ}}, YMin: 0, YMax: Auto},
		},
		Caption: compressionCaption(n, perP, perQ, ideal/float64(n), kl.ToBits(h), kl.ToBits(d)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s --bits", list(codeP), list(Q)),
	}, nil
}

// compressionCaption reads the measurement, and says why the code for P can beat H(P) on one
// sample when it does.
func compressionCaption(n int, perP, perQ, idealP, hBits, klBits float64) string {
	s := fmt.Sprintf("Coding %d symbols of P with the code for Q took %s extra bits per symbol; KL(P‖Q)/ln 2 predicts %s.", n, Format(perQ-perP), Format(klBits))
	if perP < hBits {
		s += fmt.Sprintf(" The code for P used %s bits per symbol, below H(P) = %s: H(P) is the average over samples, and this sample happens to be more probable under P than a typical one (its Σ −log₂ P(x) is %s bits per symbol, and the coder stays within a few bits of that in total).",
			Format(perP), Format(hBits), Format(idealP))
	}
	return s
}
