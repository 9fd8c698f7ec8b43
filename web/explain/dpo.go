package explain

import (
	"fmt"
	"math"

	"klppo/kl"
)

var dpoPage = Page{
	Slug: "dpo", Title: "DPO: the implicit reward is the optimum read backwards",
	Summary: "DPO's implicit reward β·ln(π/π_ref) + β·ln Z inverts the KL-regularised optimum π_ref·exp(r/β)/Z: what β does to the policy and to the reward it implies.",
	Intro: `<p>The rlhf page draws the optimum of E<sub>π</sub>[r] − β·KL(π‖π_ref): π*(y) = π_ref(y)·exp(r(y)/β)/Z. Take logarithms and solve for r:</p>
<p style="text-align:center"><b>r(y) = β·ln(π*(y)/π_ref(y)) + β·ln Z.</b></p>
<p>Every reward has its optimal policy, and every policy is the optimum of a reward — the one it <i>implies</i>. DPO (Rafailov et al. 2023) uses this backwards: instead of learning a reward model and then running RL, it trains the policy directly on preference pairs, with the Bradley–Terry loss −ln σ(β·(Δ<sub>chosen</sub> − Δ<sub>rejected</sub>)), Δ = ln π − ln π_ref. In that loss only <i>differences</i> of the implicit reward appear, so β·ln Z — the same for every response to a prompt — cancels: DPO's implicit reward is known only up to that constant (shift every reward with the second slider: π* does not move, only β·ln Z does). Its β is the KL coefficient of the objective it solves.</p>
<p>What β does to both: a small β lets the same reward differences become large log-ratios — ln(π*(a)/π*(b)) = ln(π_ref(a)/π_ref(b)) + (r(a) − r(b))/β — so the policy moves far from π_ref (large KL); a large β keeps it close. Here r is the reward model of the rlhf page (with its overrated "flattery"), the reward a preference dataset labelled by it would encode.</p>`,
	Params: []Param{
		{Name: "beta", Label: "β", Min: 0.05, Max: 10, Step: 0.01, Default: 0.1, Log: true},
		{Name: "shift", Label: "add c to every reward", Min: -1, Max: 1, Step: 0.05, Default: 0},
	},
	Examples: []Example{
		{Text: "small β: large log-ratios", Query: "beta=0.05&shift=0"},
		{Text: "a large β: π* stays near π_ref", Query: "beta=2&shift=0"},
		{Text: "a shifted reward: the same π*", Query: "beta=0.1&shift=1"},
	},
	AtScale: []Scale{
		{Command: "klppo rlhf", Shows: "the same KL-regularised objective on a toy language, solved by PPO with the leash KL(π‖π_ref)", Doc: "docs/rlhf.md"},
		{Command: "klppo rlhf frontier", Shows: "DPO and IPO trained on preference pairs with the exact KL(π‖π_ref) they never sample: what β does to it, over-optimisation, drift on deterministic preferences", Doc: "docs/rlhf-dpo.md"},
	},
	Compute: dpo,
}

// dpoRMError is the reward model's error used for the DPO page's reward (the rlhf page's default).
const dpoRMError = 1.2

func dpo(a Args) (View, error) {
	beta, c := a["beta"], a["shift"]
	r := rlhfProxy(dpoRMError)
	for i := range r {
		r[i] += c
	}
	pi, logPi, logZ, err := klOptimum(rlhfRef, r, beta)
	if err != nil {
		return View{}, err
	}
	d, err := kl.KL(pi, rlhfRef)
	if err != nil {
		return View{}, err
	}
	// The optimum read backwards: β·ln(π*/π_ref), and with β·ln Z added back.
	implicit, recovered := make([]float64, len(r)), make([]float64, len(r))
	lo, hi := 0, 0
	for i := range r {
		implicit[i] = beta * (logPi[i] - math.Log(rlhfRef[i]))
		recovered[i] = implicit[i] + beta*logZ
		if r[i] < r[lo] {
			lo = i
		}
		if r[i] > r[hi] {
			hi = i
		}
	}
	gap := (logPi[hi] - math.Log(rlhfRef[hi])) - (logPi[lo] - math.Log(rlhfRef[lo]))
	// What β does: each response's log-ratio and β·ln Z against β.
	bs := logspace(0.05, 10, 121)
	ratios := make([][]float64, len(r))
	for i := range ratios {
		ratios[i] = make([]float64, len(bs))
	}
	blz := make([]float64, len(bs))
	for j, b := range bs {
		_, lp, lz, err := klOptimum(rlhfRef, r, b)
		if err != nil {
			return View{}, err
		}
		for i := range r {
			ratios[i][j] = lp[i] - math.Log(rlhfRef[i])
		}
		blz[j] = b * lz
	}
	var ratioSeries []Series
	for i, name := range rlhfResponses {
		ratioSeries = append(ratioSeries, Series{Name: name, X: bs, Y: ratios[i]})
	}
	refR := dot(rlhfRef, r)
	return View{
		Values: []Value{
			Plain("beta_lnz", "β·ln Z", beta*logZ, ""),
			Nats("kl_pi_ref", "KL(π*‖π_ref)", d),
			Plain("logratio_gap", fmt.Sprintf("ln(π*/π_ref) of %s minus that of %s", rlhfResponses[hi], rlhfResponses[lo]), gap, ""),
			Plain("reward_gap_over_beta", "(r(best) − r(worst))/β", (r[hi]-r[lo])/beta, ""),
			Plain("pi_top", fmt.Sprintf("π*(%s)", rlhfResponses[hi]), pi[hi], ""),
		},
		Charts: []Chart{
			{Title: "π_ref and the optimum π* = π_ref·exp(r/β)/Z", Kind: "bars", YLabel: "probability", Categories: rlhfResponses,
				Series: []Series{{Name: "π_ref", Y: rlhfRef}, {Name: "π*", Y: pi}}, YMin: 0, YMax: 1},
			{Title: "The implicit reward: β·ln(π*/π_ref) + β·ln Z = r", Kind: "bars", YLabel: "reward", Categories: rlhfResponses,
				Series: []Series{{Name: "reward r", Y: r}, {Name: "β·ln(π*/π_ref)", Y: implicit}, {Name: "β·ln(π*/π_ref) + β·ln Z", Y: recovered}}, YMin: Auto, YMax: Auto},
			{Title: "What β does to the policy: ln(π*/π_ref) per response", Kind: "line", XLabel: "β (log scale)", YLabel: "ln(π*/π_ref)", LogX: true,
				Series: ratioSeries, VLines: []Mark{{At: beta, Label: "β"}}, YMin: Auto, YMax: Auto},
			{Title: "β·ln Z: a soft maximum of the reward", Kind: "line", XLabel: "β (log scale)", YLabel: "reward", LogX: true,
				Series: []Series{{Name: "β·ln Z", X: bs, Y: blz}},
				HLines: []Mark{{At: r[hi], Label: "max r (β → 0)"}, {At: refR, Label: "E_π_ref[r] (β → ∞)"}},
				Points: []Point{{X: beta, Y: beta * logZ}}, YMin: Auto, YMax: Auto, HideLegend: true},
		},
		Caption: fmt.Sprintf("At β = %s the optimum puts %s on %s (π_ref: %s), %s nats from π_ref. Read backwards, β·ln(π*/π_ref) is r minus the constant β·ln Z = %s for every response: adding β·ln Z back gives r exactly. The gap between the best and the worst response's log-ratio is (r(best) − r(worst))/β = %s: halve β and it doubles.",
			Format(beta), Format(pi[hi]), rlhfResponses[hi], Format(rlhfRef[hi]), Format(d), Format(beta*logZ), Format(gap)),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(pi), list(rlhfRef)),
	}, nil
}
