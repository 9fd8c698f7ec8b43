package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

// Pages lists the explainers in the order of the index.
var Pages = []Page{
	{
		Slug: "coin", Title: "A biased coin against a fair one",
		Summary: "KL both ways for two coins, the surprise of each outcome, and simulated flips whose average log-likelihood ratio converges to KL(P‖Q).",
		Intro: `<p>P is the coin you actually flip; Q is the coin you believe in. Each outcome x surprises you by −ln Q(x) nats, but it "should" surprise you by −ln P(x). KL(P‖Q) is the average extra surprise, <b>averaged over flips of P</b>: KL(P‖Q) = E<sub>x~P</sub>[ln P(x) − ln Q(x)].</p>
<p>The two directions differ: KL(Q‖P) averages over flips of Q instead. Flip the coin below and watch the running mean of ln(P(x)/Q(x)) settle on KL(P‖Q).</p>`,
		Params: []Param{
			{Name: "p", Label: "P(heads)", Min: 0.01, Max: 0.99, Step: 0.01, Default: 0.7},
			{Name: "q", Label: "Q(heads)", Min: 0.01, Max: 0.99, Step: 0.01, Default: 0.5},
			{Name: "n", Label: "flips", Min: 10, Max: 5000, Step: 10, Default: 1000, Int: true},
			{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
		},
		Examples: []Example{
			{Text: "a loaded coin (P(heads) = 0.99)", Query: "p=0.99&q=0.5"},
			{Text: "the same pair reversed", Query: "p=0.5&q=0.99"},
		},
		Compute: coin,
	},
	{
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
	},
	{
		Slug: "asymmetry", Title: "The asymmetry: covering or seeking",
		Summary: "A bimodal P and a single Gaussian Q fitted by minimising KL(P‖Q) (covers both modes) and KL(Q‖P) (picks one).",
		Intro: `<p>P has two modes; Q is a single Gaussian. Which Q is "closest" depends on the direction.</p>
<p><b>Minimising KL(P‖Q) over Q is mode-covering.</b> Wherever P has mass, Q must have mass too, or the ratio p/q explodes; the best single Gaussian stretches over both modes (it matches P's mean and variance), even if that puts Q's peak where P has almost nothing. This is maximum likelihood, and the direction of distillation's and a language model's cross-entropy loss.</p>
<p><b>Minimising KL(Q‖P) over Q is mode-seeking.</b> Now Q pays for putting mass where P has none, and pays nothing for ignoring a mode; the best Gaussian sits on one mode. This is the direction of variational inference (the VAE's posterior) and of RLHF's KL(π‖π_ref) penalty.</p>
<p>Both fits are found live by a Nelder–Mead search over Q's μ and σ, with each divergence computed by kl.KL on a fine grid.</p>`,
		Params: []Param{
			{Name: "sep", Label: "distance between P's modes", Min: 0, Max: 8, Step: 0.1, Default: 6},
			{Name: "width", Label: "σ of each mode", Min: 0.3, Max: 2, Step: 0.05, Default: 1},
			{Name: "w", Label: "weight of the right mode", Min: 0.1, Max: 0.9, Step: 0.05, Default: 0.5},
		},
		Examples: []Example{
			{Text: "modes close together (both fits agree)", Query: "sep=1.5&width=1&w=0.5"},
			{Text: "an unequal mixture", Query: "sep=6&width=0.8&w=0.3"},
		},
		Compute: asymmetry,
	},
	{
		Slug: "zeros", Title: "Zeros, smoothing and Jensen–Shannon",
		Summary: "Q = 0 where P > 0 gives +∞; ε-smoothing makes it finite but the number then measures ε; JS stays ≤ ln 2.",
		Intro: `<p>If Q gives probability 0 to an outcome that P produces, KL(P‖Q) = +∞: a code built for Q has no codeword for it. klppo reports +Inf rather than hiding it.</p>
<p>A common fix is to smooth Q: Q̃ = (Q + ε)/(1 + Kε). The divergence becomes finite — but look at the second chart: its value is mostly m·ln(1/ε), a number you chose, not a property of the data.</p>
<p>The Jensen–Shannon divergence JS(P,Q) = ½KL(P‖M) + ½KL(Q‖M), M = ½(P+Q), compares both to their average, is symmetric, always finite, and at most ln 2 ≈ 0.693 nats (1 bit), reached only when P and Q do not overlap.</p>`,
		Params: []Param{
			{Name: "m", Label: "P's mass on outcomes Q rules out", Min: 0, Max: 0.5, Step: 0.01, Default: 0.1},
			{Name: "eps", Label: "smoothing ε", Min: 1e-6, Max: 0.2, Step: 0.05, Default: 0.01, Log: true},
		},
		Examples: []Example{
			{Text: "no mass where Q is zero", Query: "m=0&eps=0.01"},
			{Text: "tiny ε", Query: "m=0.1&eps=1e-6"},
		},
		Compute: zeros,
	},
	{
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
	},
	{
		Slug: "compression", Title: "Compression: the price of the wrong code",
		Summary: "Symbols from P coded with a real arithmetic code built for Q: the measured extra bits per symbol against KL(P‖Q)/ln 2.",
		Intro: `<p>The best code for symbols from P spends −log₂ P(x) bits on x, H(P) bits per symbol on average (entropy in bits). A code built for the wrong distribution Q spends −log₂ Q(x), on average H(P,Q) bits: <b>KL(P‖Q)/ln 2 extra bits per symbol</b>.</p>
<p>This is measured, not assumed: n symbols are drawn from P and encoded twice with an arithmetic coder (32-bit integer arithmetic, the model quantised to 2¹⁶ counts), once built for P and once for Q. The bars compare the bits the coder actually produced with the theory.</p>`,
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
	},
	{
		Slug: "ab-test", Title: "An A/B test with Beta posteriors",
		Summary: "Conversions per variant → Beta posteriors → the KL between them as data grows.",
		Intro: `<p>Two page variants convert visitors at unknown rates. Starting from a uniform Beta(1,1) prior, after c conversions in n visitors the posterior of a rate is Beta(1 + c, 1 + n − c). Early on both posteriors are wide and overlap: the KL between them is small — the data cannot tell the variants apart. As visitors arrive the posteriors narrow and, if the rates differ, the KL grows without bound; if they are equal, it stays small.</p>
<p>KL(B‖A) is the expected surprise, in nats, of someone holding A's posterior when the rate is drawn from B's: a way to watch an experiment separate, next to the usual P(B &gt; A).</p>`,
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
	},
	{
		Slug: "anomaly", Title: "Anomaly detection in a traffic stream",
		Summary: "Histograms of a request stream, each compared with the baseline by KL; a burst crosses the threshold.",
		Intro: `<p>A web server sees requests to eight kinds of page. Every window of w requests gives a histogram P<sub>t</sub>; the baseline Q is the long-run mix. KL(P<sub>t</sub>‖Q) measures how surprising the window is under the baseline. It is finite because the baseline gives every kind some probability (the other direction, KL(Q‖P<sub>t</sub>), would be +∞ whenever a window happens to miss a kind).</p>
<p>A burst of logins (windows 60–70, shaded) shifts the mix. Even normal windows have KL &gt; 0 from sampling noise alone — about (K−1)/(2w) nats for K kinds — so the threshold must sit above that floor: larger windows lower the floor but react later.</p>`,
		Params: []Param{
			{Name: "burst", Label: "burst: share of extra logins", Min: 0, Max: 0.6, Step: 0.01, Default: 0.2},
			{Name: "threshold", Label: "alarm threshold (nats)", Min: 0.005, Max: 0.5, Step: 0.05, Default: 0.06, Log: true},
			{Name: "w", Label: "window size (requests)", Min: 50, Max: 1000, Step: 50, Default: 200, Int: true},
			{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
		},
		Examples: []Example{
			{Text: "a subtle burst in small windows", Query: "burst=0.08&w=100&threshold=0.06"},
			{Text: "the same burst in large windows", Query: "burst=0.08&w=1000&threshold=0.015"},
		},
		Compute: anomaly,
	},
	{
		Slug: "vae", Title: "The VAE prior term",
		Summary: "KL(N(μ, σ²)‖N(0, 1)): the price a VAE's encoder pays for each latent dimension.",
		Intro: `<p>A variational autoencoder encodes an input as a Gaussian N(μ, σ²) per latent dimension and is penalised by KL(N(μ, σ²)‖N(0, 1)) = ½(μ² + σ² − 1 − ln σ²). The mean term ½μ² pulls codes towards the origin; the variance term ½(σ² − 1 − ln σ²) punishes both over-confident (σ → 0) and vague (σ large) codes. A dimension whose KL stays at 0 carries no information: posterior collapse.</p>
<p>The encoder's q(z|x) is the first argument: during training this term is minimised over q — the mode-seeking direction.</p>`,
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
	},
	{
		Slug: "distillation", Title: "Distillation: temperature and T²·KL",
		Summary: "A student matching a teacher's softened outputs: KL at temperature T, scaled by T².",
		Intro: `<p>In knowledge distillation the student learns from the teacher's whole output distribution, not just its top class. Both logit vectors are divided by a temperature T before the softmax: a large T softens the teacher's distribution and reveals its "dark knowledge" — which wrong classes it thinks are close.</p>
<p>The loss is KL(teacher_T‖student_T), the mode-covering direction (the student must cover every class the teacher deems possible). Its gradients shrink like 1/T², so Hinton et al. multiply it by T²: the second chart shows KL falling with T while T²·KL stays of the same order.</p>`,
		Params: []Param{
			{Name: "t", Label: "temperature T", Min: 0.5, Max: 10, Step: 0.1, Default: 4},
		},
		Examples: []Example{
			{Text: "T = 1 (plain softmax)", Query: "t=1"},
			{Text: "very soft targets", Query: "t=10"},
		},
		AtScale: []Scale{{Command: "klppo distill", Shows: "distils a glyph classifier with α·T²·KL + (1−α)·CE and compares the student with a label-only one", Doc: "docs/distillation.md"}},
		Compute: distillation,
	},
	{
		Slug: "rlhf", Title: "PPO and RLHF: the KL leash",
		Summary: "The KL-regularised optimum π_ref·exp(r/β)/Z: reward against KL(π‖π_ref) as β moves.",
		Intro: `<p>RLHF fine-tunes a policy π to earn reward r while staying close to a frozen reference π_ref: maximise E<sub>π</sub>[r] − β·KL(π‖π_ref). For one prompt with a few possible responses the best π is known exactly: π*(y) = π_ref(y)·exp(r(y)/β)/Z. A large β keeps π* ≈ π_ref (KL ≈ 0, little reward); a small β lets it chase the highest reward, far from the reference. The curve is the whole reward-against-KL frontier.</p>
<p>Do not confuse this KL with PPO's own: PPO keeps each update inside a trust region around the <i>previous</i> policy, KL(π_old‖π_θ) (clipping or an adaptive β), whatever reward it optimises. <code>klppo train</code> and <code>klppo compare</code> show that one at scale; RLHF's KL(π‖π_ref) is a leash to a <i>fixed</i> reference.</p>`,
		Params: []Param{
			{Name: "beta", Label: "β (KL coefficient)", Min: 0.02, Max: 5, Step: 0.05, Default: 0.3, Log: true},
		},
		Examples: []Example{
			{Text: "a tight leash (β = 5)", Query: "beta=5"},
			{Text: "almost no leash (β = 0.02)", Query: "beta=0.02"},
		},
		AtScale: []Scale{
			{Command: "klppo rlhf estimators", Shows: "where RLHF's KL(π‖π_ref) penalty goes (reward or loss) and which estimator (k1, k2, k3): exact expected gradients, fixed points, Schulman's table", Doc: "docs/rlhf-estimators.md"},
			{Command: "klppo compare", Shows: "PPO's own trust-region KL(π_old‖π_θ) per update under clipping, fixed and adaptive β, over seeds", Doc: "docs/compare.md"},
		},
		Compute: rlhf,
	},
	{
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
	},
}

// ---- coin ----

func coin(a Args) (View, error) {
	p, q, n := a["p"], a["q"], int(a["n"])
	if err := rangeCheck("n", a["n"], 1, 100000); err != nil {
		return View{}, err
	}
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
	// ℓ = ln q(x) − ln p(x) with x ~ P, and K1 = −ℓ averages to KL(P‖Q).
	r := newRand(a["seed"])
	lp := [2]float64{math.Log1p(-p), math.Log(p)} // ln P(tails), ln P(heads)
	lq := [2]float64{math.Log1p(-q), math.Log(q)}
	ell := make([]float64, n)
	heads := 0
	xs, ys := []float64{}, []float64{}
	sum := 0.0
	for i := range ell {
		x := 0
		if r.Float64() < p {
			x, heads = 1, heads+1
		}
		ell[i] = lq[x] - lp[x]
		sum += kl.K1.Sample(ell[i])
		if i < 50 || (i+1)%max(1, n/400) == 0 || i == n-1 {
			xs, ys = append(xs, float64(i+1)), append(ys, sum/float64(i+1))
		}
	}
	est, err := kl.Estimate(kl.K1, ell)
	if err != nil {
		return View{}, err
	}
	v := View{
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
		Caption: fmt.Sprintf("Each flip of P costs on average %s nats more surprise under Q than under P; after %d flips the running mean is %s.", Format(pq), n, Format(est)),
		Command: fmt.Sprintf("klppo kl bernoulli --p %s --q %s", num(p), num(q)),
	}
	return v, nil
}

// ---- peaks ----

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

// ---- asymmetry ----

func asymmetry(a Args) (View, error) {
	sep, width, w := a["sep"], a["width"], a["w"]
	if err := rangeCheck("w", w, 0.01, 0.99); err != nil {
		return View{}, err
	}
	if err := rangeCheck("width", width, 0.1, 5); err != nil {
		return View{}, err
	}
	if err := rangeCheck("sep", sep, 0, 12); err != nil {
		return View{}, err
	}
	left, right := kl.Normal{Mu: -sep / 2, Sigma: width}, kl.Normal{Mu: sep / 2, Sigma: width}
	// ±5 standard deviations of P (at most √(width² + sep²/4)): room for the covering fit's tails.
	// Grid spacing a quarter of a mode's σ (between 161 and 401 points): every fit evaluates
	// both divergences on it a few hundred times, so it is as coarse as the accuracy allows.
	half := 5 * math.Sqrt(width*width+sep*sep/4)
	x := linspace(-half, half, min(401, max(161, int(8*half/width)+1)))
	dens := make([]float64, len(x))
	for i, xi := range x {
		dens[i] = (1-w)*math.Exp(left.LogProb(xi)) + w*math.Exp(right.LogProb(xi))
	}
	p, err := gridProbs(dens)
	if err != nil {
		return View{}, err
	}
	// KL(P‖Q) has one minimum over Gaussians (the search finds P's mean and variance from
	// anywhere); KL(Q‖P) can have one per mode, so its search starts on each mode.
	cover, err := fitGaussian(p, x, true, []float64{0}, width)
	if err != nil {
		return View{}, err
	}
	seek, err := fitGaussian(p, x, false, []float64{-sep / 2, sep / 2}, width)
	if err != nil {
		return View{}, err
	}
	// The fits are reported to 4 decimals, the search's resolution: beyond that the digits are
	// noise that differs between platforms (math.Exp is assembly on amd64, Go in WebAssembly).
	for _, f := range []*Fit{&cover, &seek} {
		f.Mu, f.Sigma = round4(f.Mu), round4(f.Sigma)
	}
	qc, qs := density(kl.Normal{Mu: cover.Mu, Sigma: cover.Sigma}, x), density(kl.Normal{Mu: seek.Mu, Sigma: seek.Sigma}, x)
	return View{
		Values: []Value{
			Nats("kl_pq", "min over Q of KL(P‖Q)", cover.KL), Nats("kl_qp", "min over Q of KL(Q‖P)", seek.KL),
			Plain("mu_cover", "covering fit: μ", cover.Mu, ""), Plain("sigma_cover", "covering fit: σ", cover.Sigma, ""),
			Plain("mu_seek", "seeking fit: μ", seek.Mu, ""), Plain("sigma_seek", "seeking fit: σ", seek.Sigma, ""),
		},
		Charts: []Chart{{Title: "P (two modes) and the two best single Gaussians", Kind: "line", XLabel: "x", YLabel: "density",
			Series: []Series{{Name: "P", X: x, Y: dens, Style: "area"},
				{Name: "argmin KL(P‖Q): mode-covering", X: x, Y: qc},
				{Name: "argmin KL(Q‖P): mode-seeking", X: x, Y: qs, Style: "dash"}}, YMin: 0, YMax: Auto}},
		Caption: fmt.Sprintf("Minimising KL(P‖Q) gives μ = %s, σ = %s: Q covers both modes. Minimising KL(Q‖P) gives μ = %s, σ = %s: Q seeks %s.",
			Format(cover.Mu), Format(cover.Sigma), Format(seek.Mu), Format(seek.Sigma), seekWhich(sep, width, seek.Mu)),
		Command: "klppo kl categorical --p … --q …  (the same divergences on any discretised pair)",
	}, nil
}

// round4 rounds to 4 decimals (and turns −0 into 0).
func round4(x float64) float64 { return math.Round(x*1e4)/1e4 + 0 }

func seekWhich(sep, width, mu float64) string {
	switch {
	case sep < 2*width:
		return "the single bump P has become"
	case mu > 0:
		return "the right mode"
	default:
		return "the left mode"
	}
}

// ---- zeros ----

var zerosLabels = []string{"A", "B", "C", "D", "E"}

func zeros(a Args) (View, error) {
	m, eps := a["m"], a["eps"]
	if err := rangeCheck("m", m, 0, 1); err != nil {
		return View{}, err
	}
	P := []float64{(1 - m) * 0.5, (1 - m) * 0.3, (1 - m) * 0.2, m / 2, m / 2}
	Q := []float64{0.35, 0.35, 0.3, 0, 0}
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
	reading := "finite: P puts no mass where Q is zero"
	if math.IsInf(pq, 1) {
		reading = "+∞: P produces D and E, which Q rules out"
	}
	return View{
		Values: []Value{
			Nats("kl_pq", "KL(P‖Q)", pq), Nats("kl_pq_smooth", "KL(P‖Q̃ε)", pqs), Nats("kl_qp", "KL(Q‖P)", qp),
			Nats("js", "JS(P,Q)", js), Nats("ln2", "ln 2 (JS of disjoint P, Q)", disjoint),
		},
		Charts: []Chart{
			{Title: "P, Q and the smoothed Q̃ε", Kind: "bars", YLabel: "probability", Categories: zerosLabels,
				Series: []Series{{Name: "P", Y: P}, {Name: "Q", Y: Q}, {Name: "Q̃ε", Y: Qs}}, YMin: 0, YMax: Auto},
			{Title: "KL(P‖Q̃ε) is set by your ε", Kind: "line", XLabel: "ε", YLabel: "nats", LogX: true,
				Series: []Series{{Name: "KL(P‖Q̃ε)", X: es, Y: curve}, {Name: "JS(P,Q)", X: es, Y: jsLine, Style: "dash"}},
				HLines: []Mark{{At: disjoint, Label: "ln 2"}}, VLines: []Mark{{At: eps, Label: "ε"}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("KL(P‖Q) is %s. Smoothed with ε = %s it reads %s nats; JS(P,Q) = %s ≤ ln 2.", reading, Format(eps), Format(pqs), Format(js)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s --smooth %s", list(P), list(Q), num(eps)),
	}, nil
}

// ---- cross-entropy ----

var lmTokens = []string{"cat", "dog", "sat", "ran", "the", "a"}
var lmP = []float64{0.4, 0.3, 0.13, 0.13, 0.02, 0.02}

// tempered returns (1−λ)·softmax(ln p / T) + λ/K, a model that sharpens (T < 1) or flattens
// (T > 1) p and mixes in the uniform distribution.
func tempered(p []float64, t, lambda float64) ([]float64, error) {
	if err := rangeCheck("lambda", lambda, 0, 1); err != nil {
		return nil, err
	}
	if !(t > 0) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("t = %v: must be > 0", t)
	}
	sharp := p // softmax(ln p / 1) is p itself; computing it would only add rounding
	if t != 1 {
		z := make([]float64, len(p))
		for i, v := range p {
			z[i] = math.Log(v) / t
		}
		lq, err := kl.LogSoftmax(z)
		if err != nil {
			return nil, err
		}
		sharp = make([]float64, len(p))
		for i, v := range lq {
			sharp[i] = math.Exp(v)
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

// ---- compression ----

var codeSymbols = []string{"a", "b", "c", "d", "e", "f"}
var codeP = []float64{0.4, 0.2, 0.15, 0.1, 0.1, 0.05}

func compression(a Args) (View, error) {
	lambda, n := a["lambda"], int(a["n"])
	if err := rangeCheck("lambda", lambda, 0, 1); err != nil {
		return View{}, err
	}
	if err := rangeCheck("n", a["n"], 1, 200000); err != nil {
		return View{}, err
	}
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
	for i := range sym {
		sym[i] = draw(r, codeP)
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
		Caption: fmt.Sprintf("Coding %d symbols of P with the code for Q took %s extra bits per symbol; KL(P‖Q)/ln 2 predicts %s.", n, Format(perQ-perP), Format(kl.ToBits(d))),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s --bits", list(codeP), list(Q)),
	}, nil
}

// ---- A/B test ----

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
	if err := rangeCheck("rate_a", ra, 0, 1); err != nil {
		return View{}, err
	}
	if err := rangeCheck("rate_b", rb, 0, 1); err != nil {
		return View{}, err
	}
	if err := rangeCheck("n", a["n"], 1, 1e6); err != nil {
		return View{}, err
	}
	r := newRand(a["seed"])
	checks := map[int]bool{}
	for _, c := range logspace(10, float64(n), 60) {
		checks[int(math.Round(c))] = true
	}
	checks[n] = true
	var ns, kba, kab []float64
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
		ns, kba, kab = append(ns, float64(i)), append(kba, ba), append(kab, ab)
	}
	meanA, meanB := A.Alpha/(A.Alpha+A.Beta), B.Alpha/(B.Alpha+B.Beta)
	sd := math.Sqrt(math.Max(meanA*(1-meanA), meanB*(1-meanB)) / float64(n+3))
	lo, hi := math.Max(1e-4, math.Min(meanA, meanB)-6*sd), math.Min(1-1e-4, math.Max(meanA, meanB)+6*sd)
	x := linspace(lo, hi, 300)
	last := len(kba) - 1
	return View{
		Values: []Value{
			Nats("kl_ba", "KL(posterior B‖posterior A)", kba[last]), Nats("kl_ab", "KL(posterior A‖posterior B)", kab[last]),
			Plain("conv_a", "conversions of A", float64(ca), ""), Plain("conv_b", "conversions of B", float64(cb), ""),
		},
		Charts: []Chart{
			{Title: fmt.Sprintf("Posteriors after %d visitors each", n), Kind: "line", XLabel: "conversion rate", YLabel: "density",
				Series: []Series{{Name: fmt.Sprintf("A: Beta(%d, %d)", 1+ca, 1+n-ca), X: x, Y: betaDensity(A, x), Style: "area"},
					{Name: fmt.Sprintf("B: Beta(%d, %d)", 1+cb, 1+n-cb), X: x, Y: betaDensity(B, x), Style: "area"}}, YMin: 0, YMax: Auto},
			{Title: "KL between the posteriors as visitors arrive", Kind: "line", XLabel: "visitors per variant", YLabel: "nats", LogX: true, LogY: true,
				Series: []Series{{Name: "KL(B‖A)", X: ns, Y: kba}, {Name: "KL(A‖B)", X: ns, Y: kab, Style: "dash"}}, YMin: Auto, YMax: Auto},
		},
		Caption: fmt.Sprintf("After %d visitors each: A converted %d, B %d; KL(B‖A) = %s nats.", n, ca, cb, Format(kba[last])),
		Command: fmt.Sprintf("klppo kl beta --alpha-p %d --beta-p %d --alpha-q %d --beta-q %d", 1+cb, 1+n-cb, 1+ca, 1+n-ca),
	}, nil
}

// ---- anomaly detection ----

var trafficKinds = []string{"/", "/login", "/api", "/img", "/search", "/cart", "/static", "other"}
var trafficBase = []float64{0.2, 0.05, 0.25, 0.15, 0.1, 0.05, 0.15, 0.05}

const (
	trafficWindows          = 100
	burstFrom, burstTo      = 60, 70
	trafficLogin            = 1 // index of /login in trafficKinds
	trafficMaxWindowRequest = 100000
)

func anomaly(a Args) (View, error) {
	burst, thr, w := a["burst"], a["threshold"], int(a["w"])
	if err := rangeCheck("burst", burst, 0, 1); err != nil {
		return View{}, err
	}
	if err := rangeCheck("w", a["w"], 10, trafficMaxWindowRequest); err != nil {
		return View{}, err
	}
	burstMix := make([]float64, len(trafficBase))
	for i, v := range trafficBase {
		burstMix[i] = (1 - burst) * v
	}
	burstMix[trafficLogin] += burst
	r := newRand(a["seed"])
	ts, kls := make([]float64, trafficWindows), make([]float64, trafficWindows)
	var worst []float64
	worstT, alarms, falseAlarms, quietMax, first := 0, 0, 0, 0.0, -1
	for t := range trafficWindows {
		mix := trafficBase
		inBurst := t >= burstFrom && t < burstTo
		if inBurst {
			mix = burstMix
		}
		counts := make([]float64, len(mix))
		for range w {
			counts[draw(r, mix)]++
		}
		hist, err := kl.Normalize(counts)
		if err != nil {
			return View{}, err
		}
		d, err := kl.KL(hist, trafficBase)
		if err != nil {
			return View{}, err
		}
		ts[t], kls[t] = float64(t), d
		if d > thr {
			alarms++
			if !inBurst {
				falseAlarms++
			} else if first < 0 {
				first = t
			}
		}
		if !inBurst && d > quietMax {
			quietMax = d
		}
		if worst == nil || d > kls[worstT] {
			worst, worstT = hist, t
		}
	}
	detected := "the burst is not detected"
	if first >= 0 {
		detected = fmt.Sprintf("the burst is detected at window %d", first)
	}
	return View{
		Values: []Value{
			Nats("kl_max", "largest KL(window‖baseline)", kls[worstT]),
			Nats("kl_quiet_max", "largest KL outside the burst", quietMax),
			Nats("noise_floor", "expected KL from sampling noise ≈ (K−1)/(2w)", float64(len(trafficBase)-1)/(2*float64(w))),
			Plain("alarms", "windows above the threshold", float64(alarms), ""),
			Plain("false_alarms", "false alarms", float64(falseAlarms), ""),
		},
		Charts: []Chart{
			{Title: "KL(window‖baseline) over time", Kind: "line", XLabel: "window", YLabel: "nats", LogY: true,
				Series: []Series{{Name: "KL(Pₜ‖Q)", X: ts, Y: kls, Style: "steps"}},
				HLines: []Mark{{At: thr, Label: "threshold"}}, Bands: []Band{{From: burstFrom, To: burstTo, Label: "burst"}}, YMin: Auto, YMax: Auto},
			{Title: fmt.Sprintf("Most surprising window (%d) and the baseline", worstT), Kind: "bars", YLabel: "share of requests",
				Categories: trafficKinds, Series: []Series{{Name: "baseline Q", Y: trafficBase}, {Name: fmt.Sprintf("window %d", worstT), Y: worst}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("With %d requests per window the noise floor is about %s nats; %s (%d false alarms).", w, Format(float64(len(trafficBase)-1)/(2*float64(w))), detected, falseAlarms),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(worst), list(trafficBase)),
	}, nil
}

// ---- VAE ----

func vaePrior(a Args) (View, error) {
	mu, sigma := a["mu"], a["sigma"]
	if !(sigma > 0) {
		return View{}, fmt.Errorf("sigma = %v: must be > 0", sigma)
	}
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

// ---- distillation ----

var distillClasses = []string{"cat", "dog", "fox", "car", "cup"}
var teacherLogits = []float64{6, 3.5, 2.5, 0, -1}
var studentLogits = []float64{5, 1.5, 3.5, 0.5, 0.5}

// soft returns softmax(z/T) and ln softmax(z/T).
func soft(z []float64, t float64) ([]float64, []float64, error) {
	s := make([]float64, len(z))
	for i, v := range z {
		s[i] = v / t
	}
	l, err := kl.LogSoftmax(s)
	if err != nil {
		return nil, nil, err
	}
	p := make([]float64, len(l))
	for i, v := range l {
		p[i] = math.Exp(v)
	}
	return p, s, nil
}

func distillation(a Args) (View, error) {
	t := a["t"]
	if err := rangeCheck("t", t, 0.05, 100); err != nil {
		return View{}, err
	}
	klAt := func(t float64) (float64, []float64, []float64, error) {
		pt, zt, err := soft(teacherLogits, t)
		if err != nil {
			return 0, nil, nil, err
		}
		ps, zs, err := soft(studentLogits, t)
		if err != nil {
			return 0, nil, nil, err
		}
		d, err := kl.KLLogits(zt, zs)
		return d, pt, ps, err
	}
	d, pt, ps, err := klAt(t)
	if err != nil {
		return View{}, err
	}
	d1, _, _, err := klAt(1)
	if err != nil {
		return View{}, err
	}
	ts := linspace(0.5, 10, 96)
	k, k2 := make([]float64, len(ts)), make([]float64, len(ts))
	for i, ti := range ts {
		v, _, _, err := klAt(ti)
		if err != nil {
			return View{}, err
		}
		k[i], k2[i] = v, ti*ti*v
	}
	return View{
		Values: []Value{Nats("kl_t", "KL(teacher_T‖student_T)", d), Nats("t2_kl", "T²·KL: the distillation loss", t*t*d),
			Nats("kl_1", "KL at T = 1", d1)},
		Charts: []Chart{
			{Title: fmt.Sprintf("Soft targets at T = %s", Format(t)), Kind: "bars", YLabel: "probability", Categories: distillClasses,
				Series: []Series{{Name: "teacher", Y: pt}, {Name: "student", Y: ps}}, YMin: 0, YMax: 1},
			{Title: "KL shrinks with T; T²·KL keeps its scale", Kind: "line", XLabel: "temperature T", YLabel: "nats",
				Series: []Series{{Name: "KL(teacher_T‖student_T)", X: ts, Y: k}, {Name: "T²·KL", X: ts, Y: k2, Style: "dash"}},
				VLines: []Mark{{At: t, Label: "T"}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("At T = %s the soft targets differ by %s nats; the loss T²·KL = %s. klppo distill trains a student this way.", Format(t), Format(d), Format(t*t*d)),
		Command: fmt.Sprintf("klppo kl categorical --p-logits %s --q-logits %s", list(scaled(teacherLogits, t)), list(scaled(studentLogits, t))),
	}, nil
}

func scaled(z []float64, t float64) []float64 {
	s := make([]float64, len(z))
	for i, v := range z {
		s[i] = v / t
	}
	return s
}

// ---- RLHF ----

var rlhfResponses = []string{"y1", "y2", "y3", "y4", "y5", "y6"}
var rlhfRef = []float64{0.35, 0.25, 0.15, 0.12, 0.08, 0.05}
var rlhfReward = []float64{0.1, 0.3, 0.5, 0.2, 0.9, 1.0}

// klOptimum returns π* = π_ref·exp(r/β)/Z, its expected reward and KL(π*‖π_ref).
func klOptimum(beta float64) (pi []float64, reward, d float64, err error) {
	z := make([]float64, len(rlhfRef))
	for i := range z {
		z[i] = math.Log(rlhfRef[i]) + rlhfReward[i]/beta
	}
	l, err := kl.LogSoftmax(z)
	if err != nil {
		return nil, 0, 0, err
	}
	pi = make([]float64, len(l))
	for i, v := range l {
		pi[i] = math.Exp(v)
		reward += pi[i] * rlhfReward[i]
	}
	d, err = kl.KL(pi, rlhfRef)
	return pi, reward, d, err
}

func rlhf(a Args) (View, error) {
	beta := a["beta"]
	if !(beta > 0) {
		return View{}, fmt.Errorf("beta = %v: must be > 0", beta)
	}
	pi, reward, d, err := klOptimum(beta)
	if err != nil {
		return View{}, err
	}
	refReward := 0.0
	for i, p := range rlhfRef {
		refReward += p * rlhfReward[i]
	}
	bs := logspace(0.01, 20, 120)
	fx, fy := make([]float64, len(bs)), make([]float64, len(bs))
	for i, b := range bs {
		_, r, k, err := klOptimum(b)
		if err != nil {
			return View{}, err
		}
		fx[i], fy[i] = k, r
	}
	return View{
		Values: []Value{
			Nats("kl_pi_ref", "KL(π*‖π_ref)", d), Plain("reward", "E_π*[r]", reward, ""), Plain("reward_ref", "E_π_ref[r]", refReward, ""),
			Plain("objective", "E_π*[r] − β·KL", reward-beta*d, ""),
		},
		Charts: []Chart{
			{Title: "π_ref and the KL-regularised optimum π*", Kind: "bars", YLabel: "probability", Categories: rlhfResponses,
				Series: []Series{{Name: "π_ref", Y: rlhfRef}, {Name: "π* ∝ π_ref·exp(r/β)", Y: pi}, {Name: "reward r", Y: rlhfReward}}, YMin: 0, YMax: 1},
			{Title: "Reward against KL(π*‖π_ref), β from 20 to 0.01", Kind: "line", XLabel: "KL(π*‖π_ref) (nats)", YLabel: "expected reward",
				Series: []Series{{Name: "frontier", X: fx, Y: fy}}, Points: []Point{{X: d, Y: reward, Label: "β = " + Format(beta)}}, YMin: Auto, YMax: Auto},
		},
		Caption: fmt.Sprintf("With β = %s the optimum earns %s (the reference: %s) at a KL of %s nats from π_ref.", Format(beta), Format(reward), Format(refReward), Format(d)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(pi), list(rlhfRef)),
	}, nil
}

// ---- GAN ----

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
	pp, err := gridProbs(pd)
	if err != nil {
		return View{}, err
	}
	gg, err := gridProbs(gd)
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
