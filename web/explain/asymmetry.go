package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var asymmetryPage = Page{
	Slug: "asymmetry", Title: "The asymmetry: covering or seeking",
	Summary: "A bimodal P and a single Gaussian Q fitted by minimising KL(P‖Q) (covers both modes) and KL(Q‖P) (picks one mode once the modes are far enough apart).",
	Intro: `<p>P has two modes; Q is a single Gaussian. Which Q is "closest" depends on the direction.</p>
<p><b>Minimising KL(P‖Q) over Q is mode-covering.</b> Wherever P has mass, Q must have mass too, or the ratio p/q explodes; the best single Gaussian stretches over both modes (it matches P's mean and variance), even if that puts Q's peak where P has almost nothing. This is maximum likelihood, and the direction of distillation's and a language model's cross-entropy loss.</p>
<p><b>Minimising KL(Q‖P) over Q is mode-seeking</b> — once the modes are far enough apart. Q pays for putting mass where P has none and pays nothing for ignoring a mode, so when a valley of almost no mass separates the modes, the best Gaussian sits on one of them. When the modes are close, the valley is shallow and the best Q still spans both: slide the modes apart and watch the fit jump. This is the direction of variational inference (the VAE's posterior) and of RLHF's KL(π‖π_ref) penalty.</p>
<p>Both fits are found live, with each divergence computed by kl on a fine grid. KL(P‖Q) has a single minimum over Gaussians (it is convex in Q's natural parameters). KL(Q‖P) can have several, so the search first draws its whole landscape — the best σ for every μ, the second chart — and then refines every dip: the minimum shown is the global one.</p>`,
	Params: []Param{
		{Name: "sep", Label: "distance between P's modes", Min: 0, Max: 8, Step: 0.1, Default: 6},
		{Name: "width", Label: "σ of each mode", Min: 0.3, Max: 2, Step: 0.05, Default: 1},
		{Name: "w", Label: "weight of the right mode", Min: 0.1, Max: 0.9, Step: 0.05, Default: 0.5},
	},
	Examples: []Example{
		{Text: "modes close together (both fits agree)", Query: "sep=1.5&width=1&w=0.5"},
		{Text: "separation 4: reverse KL still spans both modes", Query: "sep=4&width=1&w=0.5"},
		{Text: "an unequal mixture", Query: "sep=6&width=0.8&w=0.3"},
	},
	Compute: asymmetry,
}

// AsymmetryTarget returns the asymmetry page's P: the mixture (1−w)·N(−sep/2, width²) +
// w·N(sep/2, width²) discretised on an even grid x over ±5 standard deviations of P (between
// 161 and 401 points, spacing at most a quarter of width when 401 allow it), as normalised
// log-probabilities logP (ln of the density at each grid point, minus ln Σ, computed in log
// space so that no tail underflows to 0). Both fits of the page are measured against it.
func AsymmetryTarget(sep, width, w float64) (x, logP []float64, err error) {
	if !(width > 0) || !(w > 0 && w < 1) || math.IsInf(sep, 0) || math.IsNaN(sep) {
		return nil, nil, fmt.Errorf("asymmetry: sep = %v, width = %v, w = %v: need a finite sep, width > 0 and 0 < w < 1", sep, width, w)
	}
	half := 5 * math.Sqrt(width*width+sep*sep/4) // ≥ 5·sd(P) + |P's mean|: room for both fits' tails
	x = linspace(-half, half, min(401, max(161, int(8*half/width)+1)))
	l := make([]float64, len(x))
	for i, xi := range x {
		l[i] = mixLog(xi, sep, width, w)
	}
	logP, err = kl.LogSoftmax(l)
	return x, logP, err
}

func asymmetry(a Args) (View, error) {
	sep, width, w := a["sep"], a["width"], a["w"]
	x, lp, err := AsymmetryTarget(sep, width, w)
	if err != nil {
		return View{}, err
	}
	dx := x[1] - x[0]
	dens := make([]float64, len(x)) // P's density for the chart: probability / spacing
	for i, l := range lp {
		dens[i] = math.Exp(l) / dx
	}
	mean := sep * (w - 0.5)                        // (1−w)(−sep/2) + w·sep/2
	sd := math.Sqrt(width*width + w*(1-w)*sep*sep) // the mixture's standard deviation
	g := newGridTarget(x, lp)
	cover := g.coverFit(mean, sd)
	// The seeking landscape: μ from a mode's width left of the left mode to one right of the
	// right mode, every quarter width; σ from a quarter width to twice P's spread.
	seek, minima, land := g.seekFit(-sep/2-2*width, sep/2+2*width, width/4, math.Log(width/4), math.Log(2*sd))
	if math.IsInf(cover.KL, 1) || math.IsInf(seek.KL, 1) {
		return View{}, fmt.Errorf("asymmetry: no Gaussian fits P on the grid: %v", g.err)
	}
	// The fits are reported to 4 decimals, the search's resolution: beyond that the digits are
	// noise that differs between platforms (math.Exp is assembly on amd64, Go in WebAssembly).
	for _, f := range []*Fit{&cover, &seek} {
		f.Mu, f.Sigma = round4(f.Mu), round4(f.Sigma)
	}
	qc, qs := density(kl.Normal{Mu: cover.Mu, Sigma: cover.Sigma}, x), density(kl.Normal{Mu: seek.Mu, Sigma: seek.Sigma}, x)
	// Which mode the seeking fit sits on: the share of Q's mass that P attributes to its right
	// mode, Σ q(x)·w·N_R(x)/p(x) (P's responsibility of the right mode, averaged over Q).
	right := kl.Normal{Mu: sep / 2, Sigma: width}
	qsum, onRight := 0.0, 0.0
	for i, xi := range x {
		resp := math.Exp(math.Log(w) + right.LogProb(xi) - mixLog(xi, sep, width, w))
		qsum += qs[i]
		onRight += qs[i] * resp
	}
	shareRight := onRight / qsum
	tie := false
	for _, f := range minima {
		if math.Abs(f.KL-seek.KL) <= 1e-6*(1+seek.KL) && math.Abs(f.Mu-seek.Mu) > width { // another basin as low
			tie = true
		}
	}
	caption := fmt.Sprintf("Minimising KL(P‖Q) gives μ = %s, σ = %s (P's mean %s and standard deviation %s): Q covers both modes. ",
		Format(cover.Mu), Format(cover.Sigma), Format(mean), Format(sd)) + seekCaption(seek, shareRight, sep, width, w, tie)
	return View{
		Values: []Value{
			Nats("kl_pq", "min over Q of KL(P‖Q)", cover.KL), Nats("kl_qp", "min over Q of KL(Q‖P)", seek.KL),
			Plain("mu_cover", "covering fit: μ", cover.Mu, ""), Plain("sigma_cover", "covering fit: σ", cover.Sigma, ""),
			Plain("mu_seek", "seeking fit: μ", seek.Mu, ""), Plain("sigma_seek", "seeking fit: σ", seek.Sigma, ""),
			Plain("seek_right_share", "seeking fit's mass on the right mode", shareRight, ""),
		},
		Charts: []Chart{
			{Title: "P (two modes) and the two best single Gaussians", Kind: "line", XLabel: "x", YLabel: "density",
				Series: []Series{{Name: "P", X: x, Y: dens, Style: "area"},
					{Name: "argmin KL(P‖Q): mode-covering", X: x, Y: qc},
					{Name: "argmin KL(Q‖P): mode-seeking", X: x, Y: qs, Style: "dash"}}, YMin: 0, YMax: Auto},
			{Title: "The seeking landscape: KL(Q‖P) at the best σ for each μ", Kind: "line", XLabel: "μ of Q", YLabel: "nats",
				Series: []Series{{Name: "min over σ of KL(Q‖P)", X: land.Mu, Y: land.KL}},
				Points: []Point{{X: seek.Mu, Y: seek.KL}}, VLines: []Mark{{At: seek.Mu, Label: "global minimum"}}, YMin: 0, YMax: Auto},
		},
		Caption: caption,
		Command: "klppo kl categorical --p … --q …  (the same divergences on any discretised pair)",
	}, nil
}

// mixLog returns ln p(x) for the mixture (1−w)·N(−sep/2, width²) + w·N(sep/2, width²).
func mixLog(x, sep, width, w float64) float64 {
	a := math.Log1p(-w) + kl.Normal{Mu: -sep / 2, Sigma: width}.LogProb(x)
	b := math.Log(w) + kl.Normal{Mu: sep / 2, Sigma: width}.LogProb(x)
	return math.Max(a, b) + math.Log1p(math.Exp(-math.Abs(a-b))) // ln(e^a + e^b)
}

// seekCaption reads the seeking fit from the share of its mass on each mode, against P's own
// weights: Q seeks a mode (and ignores the other) when it gives the other mode less than a
// tenth of P's weight there, leans to a mode when it gives it less than half, and otherwise
// spans both.
func seekCaption(f Fit, shareRight, sep, width, w float64, tie bool) string {
	s := fmt.Sprintf("Minimising KL(Q‖P) gives μ = %s, σ = %s: ", Format(f.Mu), Format(f.Sigma))
	side, qOther, pOther := "left", shareRight, w // the mode Q favours, and its shares of the other
	if shareRight > 0.5 {
		side, qOther, pOther = "right", 1-shareRight, 1-w
	}
	pct := func(v float64) string {
		if v < 0.0005 {
			return "under 0.1 %"
		}
		return Format(math.Round(1000*v)/10) + " %"
	}
	switch r := qOther / pOther; {
	case r >= 0.5 && sep < 2*width:
		return s + "P is a single bump (its modes are closer than 2σ), and the best Q spans it like the covering fit."
	case r >= 0.5:
		return s + fmt.Sprintf("Q still spans both modes (%s of its mass on the left one, %s on the right; P has %s and %s): at this separation the valley between them is too shallow for the reverse KL to drop one. Mode-seeking appears only when the modes are far enough apart.",
			pct(1-shareRight), pct(shareRight), pct(1-w), pct(w))
	case r >= 0.1:
		return s + fmt.Sprintf("Q leans to the %s mode: it gives the other mode %s of its mass, where P has %s. Move the modes further apart and it drops it.", side, pct(qOther), pct(pOther))
	}
	s += fmt.Sprintf("Q seeks the %s mode and ignores the other (%s of its mass there, where P has %s): the modes are far enough apart for the reverse KL to drop one.", side, pct(qOther), pct(pOther))
	switch {
	case tie:
		s += " By symmetry the other mode fits exactly as well."
	case w == 0.5:
	case (side == "right") == (w > 0.5):
		s += " It picks the heavier mode."
	default:
		s += " It picks the lighter mode."
	}
	return s
}

// round4 rounds to 4 decimals (and turns −0 into 0).
func round4(x float64) float64 { return math.Round(x*1e4)/1e4 + 0 }
