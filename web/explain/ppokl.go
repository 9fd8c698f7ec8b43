package explain

import (
	"fmt"
	"math"
	"strings"

	"klppo/kl"
)

var ppoKLPage = Page{
	Slug: "ppo-kl", Title: "PPO's own KL: the trust region of one update",
	Summary: "Drag a softmax policy's logits away from π_old: the probability ratios against the clip band [1−ε, 1+ε], KL(π_old‖π_new), and what the adaptive rule does to β next.",
	Intro: `<p>PPO improves a policy in small steps. Each update starts from the current policy, <b>π_old</b>, collects experience with it, and then changes the network to a new policy π_θ — but not too far, because the experience only describes π_old. Two mechanisms keep the step small, and both are on this page for one state with four actions.</p>
<p><b>The clip.</b> PPO-Clip weighs each action's advantage by the probability ratio r(a) = π_θ(a)/π_old(a) and clips it to the band [1−ε, 1+ε]: beyond the band the objective stops rewarding a further move of that action in the direction its advantage pushes. PPO logs the clip fraction, the share of π_old's samples whose ratio is outside the band.</p>
<p><b>The KL penalty.</b> PPO-Penalty subtracts β·KL(π_old‖π_θ) and, after every update, adapts β to a target d<sub>targ</sub> (Schulman et al. 2017, §4): with d the measured KL, d &gt; 1.5·d<sub>targ</sub> doubles β, d &lt; d<sub>targ</sub>/1.5 halves it, and anything in between leaves it alone.</p>
<p>This is PPO's <b>trust-region KL(π_old‖π_θ)</b> between two consecutive policies: π_old is replaced by the new policy after every update, so the KL starts from 0 each time. It is not RLHF's KL(π‖π_ref), a leash to a reference that never moves (the rlhf page); an RLHF run trained with PPO has both.</p>
<p>Move the sliders to drag π's logits away from π_old's (the chart of probabilities shows both), then watch the ratios leave the band and the KL cross the rule's thresholds.</p>`,
	Params: []Param{
		{Name: "d1", Label: "drag the logit of a1", Min: -2, Max: 2, Step: 0.05, Default: -0.2},
		{Name: "d2", Label: "drag the logit of a2", Min: -2, Max: 2, Step: 0.05, Default: 0.3},
		{Name: "d3", Label: "drag the logit of a3", Min: -2, Max: 2, Step: 0.05, Default: 0},
		{Name: "d4", Label: "drag the logit of a4", Min: -2, Max: 2, Step: 0.05, Default: 0},
		{Name: "eps", Label: "clip ε", Min: 0.05, Max: 0.5, Step: 0.01, Default: 0.2},
		{Name: "target", Label: "KL target d_targ (nats)", Min: 0.001, Max: 0.1, Step: 0.01, Default: 0.01, Log: true},
		{Name: "beta", Label: "β of this update", Min: 0.001, Max: 100, Step: 0.01, Default: 1, Log: true},
	},
	Examples: []Example{
		{Text: "no change (KL = 0: β halves)", Query: "d1=0&d2=0&d3=0&d4=0"},
		{Text: "a small step inside the band", Query: "d1=-0.1&d2=0.15&d3=0&d4=0"},
		{Text: "the same logits shifted together (no change at all)", Query: "d1=1&d2=1&d3=1&d4=1"},
		{Text: "a rare action boosted", Query: "d1=0&d2=0&d3=0&d4=2"},
	},
	AtScale: []Scale{
		{Command: "klppo train", Shows: "trains CartPole with the adaptive KL penalty and logs this KL, β and the clip fraction after every update", Doc: "docs/training.md"},
		{Command: "klppo compare", Shows: "clipping, fixed and adaptive β side by side over seeds, with the KL of every update", Doc: "docs/compare.md"},
	},
	Compute: ppoKL,
}

var ppoActions = []string{"a1", "a2", "a3", "a4"}

// ppoOldLogits are π_old's logits: probabilities about 0.52, 0.26, 0.16, 0.07.
var ppoOldLogits = []float64{1, 0.3, -0.2, -1}

// adaptiveBeta is the adaptive rule of the PPO paper (§4), the rule of ppo.AdaptiveBeta (which
// this package cannot import: ppo builds on gorgonia, too large for the browser; a test checks
// that both give the same β): β/2 when d < d_targ/1.5, 2β when d > 1.5·d_targ, else β.
func adaptiveBeta(beta, d, target float64) float64 {
	switch {
	case d < target/1.5:
		return beta / 2
	case d > target*1.5:
		return beta * 2
	}
	return beta
}

func ppoKL(a Args) (View, error) {
	eps, target, beta := a["eps"], a["target"], a["beta"]
	drag := []float64{a["d1"], a["d2"], a["d3"], a["d4"]}
	newLogits := make([]float64, len(ppoOldLogits))
	for i := range newLogits {
		newLogits[i] = ppoOldLogits[i] + drag[i]
	}
	pOld, err := kl.Softmax(ppoOldLogits)
	if err != nil {
		return View{}, err
	}
	pNew, err := kl.Softmax(newLogits)
	if err != nil {
		return View{}, err
	}
	lpOld, err := kl.LogSoftmax(ppoOldLogits)
	if err != nil {
		return View{}, err
	}
	lpNew, err := kl.LogSoftmax(newLogits)
	if err != nil {
		return View{}, err
	}
	d, err := kl.KLLogits(ppoOldLogits, newLogits) // KL(π_old‖π_new)
	if err != nil {
		return View{}, err
	}
	lnR := make([]float64, len(pOld))
	clipFrac := 0.0
	var outside []string
	values := []Value{Nats("kl_old_new", "KL(π_old‖π_new)", d)}
	for i := range lnR {
		lnR[i] = lpNew[i] - lpOld[i]
		r := math.Exp(lnR[i])
		if r < 1-eps || r > 1+eps {
			clipFrac += pOld[i]
			outside = append(outside, ppoActions[i])
		}
		values = append(values, Plain("ratio_"+ppoActions[i], "r("+ppoActions[i]+") = π_new/π_old", r, ""))
	}
	next := adaptiveBeta(beta, d, target)
	values = append(values,
		Plain("clip_frac", "clip fraction: π_old's mass outside [1−ε, 1+ε]", clipFrac, ""),
		Plain("beta_next", "β for the next update", next, ""),
		Plain("penalty", "β·KL (this update's penalty)", beta*d, ""))

	// The rule as a function of d: β's factor against the KL, the band shaded.
	lo, hi := math.Min(target/100, d/2), math.Max(target*100, d*2)
	if !(d > 0) {
		lo = target / 100
	}
	ds := logspace(lo, hi, 400)
	factor := make([]float64, len(ds))
	for i, x := range ds {
		factor[i] = adaptiveBeta(1, x, target)
	}
	// KL along the drag: logits old + t·drag for t from 0 to 2 (t = 1 is the current π).
	ts := linspace(0, 2, 81)
	path := make([]float64, len(ts))
	tl := make([]float64, len(newLogits))
	for i, t := range ts {
		for j := range tl {
			tl[j] = ppoOldLogits[j] + t*drag[j]
		}
		if path[i], err = kl.KLLogits(ppoOldLogits, tl); err != nil {
			return View{}, err
		}
	}
	var rulePts []Point
	if d > 0 {
		rulePts = []Point{{X: d, Y: next / beta, Label: "this update"}}
	}
	return View{
		Values: values,
		Charts: []Chart{
			{Title: "π_old and the dragged π_new", Kind: "bars", YLabel: "probability", Categories: ppoActions,
				Series: []Series{{Name: "π_old", Y: pOld}, {Name: "π_new", Y: pNew}}, YMin: 0, YMax: 1},
			{Title: "ln r = ln(π_new/π_old) against the clip band", Kind: "bars", YLabel: "ln r", Categories: ppoActions,
				Series: []Series{{Name: "ln r(a)", Y: lnR}},
				HLines: []Mark{{At: math.Log1p(eps), Label: "band: r in [1−ε, 1+ε]"}, {At: math.Log1p(-eps)}}, YMin: Auto, YMax: Auto, HideLegend: true},
			{Title: "The adaptive rule: β's factor for the next update", Kind: "line", XLabel: "KL(π_old‖π_new) (nats)", YLabel: "β_next / β", LogX: true,
				Series: []Series{{Name: "factor", X: ds, Y: factor, Style: "steps"}},
				Bands:  []Band{{From: target / 1.5, To: target * 1.5, Label: "β kept"}},
				Points: rulePts, YMin: 0, YMax: 2.3, HideLegend: true},
			{Title: "KL(π_old‖π) along the drag", Kind: "line", XLabel: "fraction of your drag", YLabel: "nats",
				Series: []Series{{Name: "KL(π_old‖π_old + t·drag)", X: ts, Y: path}},
				Points: []Point{{X: 1, Y: d, Label: "now"}}, YMin: 0, YMax: Auto, HideLegend: true},
		},
		Caption: ppoCaption(d, target, beta, next, eps, outside, clipFrac),
		Command: fmt.Sprintf("klppo kl categorical --p-logits %s --q-logits %s", list(ppoOldLogits), list(newLogits)),
	}, nil
}

func ppoCaption(d, target, beta, next, eps float64, outside []string, clipFrac float64) string {
	var s string
	switch {
	case next > beta:
		s = fmt.Sprintf("KL(π_old‖π_new) = %s nats is above 1.5·d_targ = %s: the adaptive rule doubles β, from %s to %s, for the next update.", Format(d), Format(1.5*target), Format(beta), Format(next))
	case next < beta:
		s = fmt.Sprintf("KL(π_old‖π_new) = %s nats is below d_targ/1.5 = %s: the step was smaller than the target, so the rule halves β, from %s to %s.", Format(d), Format(target/1.5), Format(beta), Format(next))
	default:
		s = fmt.Sprintf("KL(π_old‖π_new) = %s nats is inside the band [d_targ/1.5, 1.5·d_targ] = [%s, %s]: β stays %s.", Format(d), Format(target/1.5), Format(1.5*target), Format(beta))
	}
	if len(outside) == 0 {
		return s + fmt.Sprintf(" Every ratio is inside [%s, %s]: the clip does not act.", Format(1-eps), Format(1+eps))
	}
	subject, it := "The ratio of "+outside[0]+" is", "it"
	if len(outside) > 1 {
		subject = "The ratios of " + strings.Join(outside[:len(outside)-1], ", ") + " and " + outside[len(outside)-1] + " are"
		it = "them"
	}
	return s + fmt.Sprintf(" %s outside [%s, %s] (clip fraction %s): beyond the band PPO-Clip's objective is flat in the direction the advantage pushes, so the update stops pushing %s further.",
		subject, Format(1-eps), Format(1+eps), Format(clipFrac), it)
}
