package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var rlhfPage = Page{
	Slug: "rlhf", Title: "RLHF's KL leash: do we still need it?",
	Summary: "The KL-regularised optimum π_ref·exp(r/β)/Z for a proxy reward that is wrong on a few responses and for the gold reward: gold against β and against KL(π‖π_ref).",
	Intro: `<p>RLHF fine-tunes a policy π to earn reward r while staying close to a frozen reference π_ref: maximise E<sub>π</sub>[r] − β·KL(π‖π_ref). For one prompt with a few possible responses the best π is known exactly: π*(y) = π_ref(y)·exp(r(y)/β)/Z. A large β keeps π* ≈ π_ref; a small β lets it chase the highest reward, far from the reference.</p>
<p>But the reward a policy is trained on is rarely the reward we want. Here the <b>gold</b> reward is what a careful labeller would give, and the <b>proxy</b> is a reward model trained to imitate it, wrong on a few responses: it overrates "flattery", a response π_ref almost never gives (by the error on the slider), and misjudges "terse" and "great" a little. Optimising the proxy, gold first rises with the proxy and then falls as π* moves its mass onto the response the reward model overrates: the best β is in the middle, and the leash is what protects the gold. Optimising the gold itself — a verifiable reward, with nothing to game — gold only rises as β shrinks, and the leash is pure cost. Set the error to 0 and the two curves become one. That is the whole answer to "do we still need the KL leash?": only as far as the reward can be gamed.</p>
<p>Every number is computed by package kl in your browser (kl.Softmax for π*, kl.KL for the divergence). Do not confuse this KL with PPO's own: PPO keeps each update inside a trust region around the <i>previous</i> policy, KL(π_old‖π_θ) (the ppo-kl page); RLHF's KL(π‖π_ref) is a leash to a <i>fixed</i> reference.</p>`,
	Params: []Param{
		{Name: "beta", Label: "β (KL coefficient)", Min: 0.01, Max: 10, Step: 0.01, Default: 0.1, Log: true},
		{Name: "rm_error", Label: "reward model's error on flattery", Min: 0, Max: 3, Step: 0.05, Default: 1.2},
	},
	Examples: []Example{
		{Text: "a tight leash (β = 2)", Query: "beta=2&rm_error=1.2"},
		{Text: "too loose a leash (β = 0.02)", Query: "beta=0.02&rm_error=1.2"},
		{Text: "an exact reward model: no leash needed", Query: "beta=0.05&rm_error=0"},
	},
	AtScale: []Scale{
		{Command: "klppo rlhf", Shows: "trains a toy language model with PPO against a learned reward model, with and without the leash, and measures the gold reward it really earns", Doc: "docs/rlhf.md"},
		{Command: "klppo rlhf estimators", Shows: "where RLHF's KL(π‖π_ref) penalty goes (reward or loss) and which estimator (k1, k2, k3): exact expected gradients, fixed points, Schulman's table", Doc: "docs/rlhf-estimators.md"},
	},
	Compute: rlhf,
}

// The toy: six responses to one prompt, the reference policy's probabilities, the gold reward
// and the pattern of the reward model's error (scaled by the rm_error slider).
var (
	rlhfResponses = []string{"off-topic", "terse", "plain", "helpful", "great", "flattery"}
	rlhfRef       = []float64{0.25, 0.3, 0.25, 0.12, 0.079, 0.001}
	rlhfGold      = []float64{0, 0.3, 0.5, 0.8, 1, 0}
	rlhfErrShape  = []float64{0, 0.1, 0, 0, -0.05, 1} // proxy = gold + rm_error·shape
)

// rlhfProxy returns the reward model's reward: gold plus its error.
func rlhfProxy(rmError float64) []float64 {
	r := make([]float64, len(rlhfGold))
	for i := range r {
		r[i] = rlhfGold[i] + rmError*rlhfErrShape[i]
	}
	return r
}

// klOptimum returns the KL-regularised optimum π* = argmax_π E_π[r] − β·KL(π‖π_ref) =
// π_ref·exp(r/β)/Z, computed as softmax(ln π_ref + r/β), its log-probabilities and ln Z.
func klOptimum(ref, r []float64, beta float64) (pi, logPi []float64, logZ float64, err error) {
	z := make([]float64, len(ref))
	for i := range z {
		z[i] = math.Log(ref[i]) + r[i]/beta
	}
	if pi, err = kl.Softmax(z); err != nil {
		return nil, nil, 0, err
	}
	if logPi, err = kl.LogSoftmax(z); err != nil {
		return nil, nil, 0, err
	}
	return pi, logPi, z[0] - logPi[0], nil // ln π*ᵢ = zᵢ − ln Z for every i
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// leashPoint is one β of the leash curves: the optimum for the proxy and for the gold.
type leashPoint struct {
	beta                      float64
	piProxy, piGold           []float64
	klProxy, klGold           float64 // KL(π*‖π_ref)
	goldOfProxy, proxyOfProxy float64 // E_π*[gold], E_π*[proxy] for π* optimising the proxy
	goldOfGold                float64 // E_π*[gold] for π* optimising the gold
}

func leashAt(beta float64, proxy []float64) (leashPoint, error) {
	pp, _, _, err := klOptimum(rlhfRef, proxy, beta)
	if err != nil {
		return leashPoint{}, err
	}
	pg, _, _, err := klOptimum(rlhfRef, rlhfGold, beta)
	if err != nil {
		return leashPoint{}, err
	}
	kp, err := kl.KL(pp, rlhfRef)
	if err != nil {
		return leashPoint{}, err
	}
	kg, err := kl.KL(pg, rlhfRef)
	if err != nil {
		return leashPoint{}, err
	}
	return leashPoint{beta: beta, piProxy: pp, piGold: pg, klProxy: kp, klGold: kg,
		goldOfProxy: dot(pp, rlhfGold), proxyOfProxy: dot(pp, proxy), goldOfGold: dot(pg, rlhfGold)}, nil
}

// leashBetas is the β grid of the curves: 1e-3 to 100, evenly in log.
var leashBetas = logspace(1e-3, 100, 161)

func rlhf(a Args) (View, error) {
	beta, rmErr := a["beta"], a["rm_error"]
	proxy := rlhfProxy(rmErr)
	now, err := leashAt(beta, proxy)
	if err != nil {
		return View{}, err
	}
	n := len(leashBetas)
	gp, gg, pp := make([]float64, n), make([]float64, n), make([]float64, n)
	kp, kg := make([]float64, n), make([]float64, n)
	best := 0
	for i, b := range leashBetas {
		pt, err := leashAt(b, proxy)
		if err != nil {
			return View{}, err
		}
		gp[i], gg[i], pp[i], kp[i], kg[i] = pt.goldOfProxy, pt.goldOfGold, pt.proxyOfProxy, pt.klProxy, pt.klGold
		if gp[i] > gp[best] {
			best = i
		}
	}
	// Refine the best β for the proxy between the grid's neighbours of the best grid point.
	bestBeta, bestGold := leashBetas[best], gp[best]
	if best > 0 && best < n-1 {
		var gerr error
		lb, g := goldenMin(func(lb float64) float64 {
			pt, err := leashAt(math.Exp(lb), proxy)
			if err != nil {
				gerr = err
				return math.Inf(1)
			}
			return -pt.goldOfProxy
		}, math.Log(leashBetas[best-1]), math.Log(leashBetas[best+1]), 1e-6)
		if gerr != nil {
			return View{}, gerr
		}
		if -g >= bestGold {
			bestBeta, bestGold = math.Exp(lb), -g
		}
	}
	refGold := dot(rlhfRef, rlhfGold)
	return View{
		Values: []Value{
			Nats("kl_pi_ref", "KL(π*‖π_ref), optimising the proxy", now.klProxy),
			Plain("proxy", "proxy reward of π* (what training sees)", now.proxyOfProxy, ""),
			Plain("gold", "gold reward of π* (what we wanted)", now.goldOfProxy, ""),
			Plain("gold_opt_gold", "gold reward when optimising the gold", now.goldOfGold, ""),
			Nats("kl_gold", "KL(π*‖π_ref), optimising the gold", now.klGold),
			Plain("reward_ref", "gold reward of π_ref", refGold, ""),
			Plain("best_beta", "best β for the proxy (most gold)", bestBeta, ""),
			Plain("best_gold", "gold at that β", bestGold, ""),
		},
		Charts: []Chart{
			{Title: "π_ref and the optimum π* ∝ π_ref·exp(r/β) for each reward", Kind: "bars", YLabel: "probability", Categories: rlhfResponses,
				Series: []Series{{Name: "π_ref", Y: rlhfRef}, {Name: "π* for the proxy", Y: now.piProxy}, {Name: "π* for the gold", Y: now.piGold}}, YMin: 0, YMax: 1},
			{Title: "The rewards: gold, and the reward model's proxy", Kind: "bars", YLabel: "reward", Categories: rlhfResponses,
				Series: []Series{{Name: "gold", Y: rlhfGold}, {Name: "proxy = gold + error", Y: proxy}}, YMin: Auto, YMax: Auto},
			{Title: "Gold reward earned against β", Kind: "line", XLabel: "β (log scale)", YLabel: "gold reward", LogX: true,
				Series: []Series{{Name: "optimising the proxy", X: leashBetas, Y: gp}, {Name: "optimising the gold", X: leashBetas, Y: gg, Style: "dash"}},
				HLines: []Mark{{At: refGold, Label: "π_ref"}}, VLines: []Mark{{At: beta, Label: "β"}}, YMin: Auto, YMax: Auto},
			{Title: "Reward against KL(π*‖π_ref)", Kind: "line", XLabel: "KL(π*‖π_ref) (nats)", YLabel: "reward",
				Series: []Series{{Name: "gold, optimising the proxy", X: kp, Y: gp}, {Name: "gold, optimising the gold", X: kg, Y: gg, Style: "dash"},
					{Name: "proxy, optimising the proxy (what training sees)", X: kp, Y: pp}},
				Points: []Point{{X: now.klProxy, Y: now.goldOfProxy, Label: "β = " + Format(beta)}}, YMin: Auto, YMax: Auto},
		},
		Caption: rlhfCaption(beta, rmErr, now, refGold, bestBeta, bestGold),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(now.piProxy), list(rlhfRef)),
	}, nil
}

func rlhfCaption(beta, rmErr float64, now leashPoint, refGold, bestBeta, bestGold float64) string {
	if rmErr == 0 {
		return fmt.Sprintf("The reward model is exact here (proxy = gold): with β = %s the optimum earns gold %s (π_ref: %s) at a KL of %s nats, and gold only rises as β shrinks. With a reward that cannot be gamed, the leash only costs reward.",
			Format(beta), Format(now.goldOfProxy), Format(refGold), Format(now.klProxy))
	}
	s := fmt.Sprintf("With β = %s, optimising the proxy scores %s on the proxy but earns gold %s (π_ref: %s), at a KL of %s nats. ",
		Format(beta), Format(now.proxyOfProxy), Format(now.goldOfProxy), Format(refGold), Format(now.klProxy))
	if bestBeta <= leashBetas[0] {
		return s + fmt.Sprintf("With this small error gold still rises down to β = %s: the leash is not needed yet. Optimising the gold earns %s.", Format(leashBetas[0]), Format(now.goldOfGold))
	}
	return s + fmt.Sprintf("Gold peaks at β ≈ %s (gold %s) and falls for smaller β, as π* moves its mass onto flattery, which the reward model overrates by %s: the leash protects the gold. Optimising the gold itself needs no leash: it earns %s here and only more as β → 0.",
		Format(bestBeta), Format(bestGold), Format(rmErr), Format(now.goldOfGold))
}
