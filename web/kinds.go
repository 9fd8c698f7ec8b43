package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"klppo/internal/rundir"
	"klppo/ppo"
)

// What each kind of run adds to its row in the list and to its page.

// kindNames says in words what each kind of run is.
var kindNames = map[rundir.Kind]string{
	rundir.KindTrain:        "training run (klppo train)",
	rundir.KindCompare:      "comparison of penalties (klppo compare)",
	rundir.KindVAE:          "β-VAE (klppo vae)",
	rundir.KindDistill:      "distillation (klppo distill)",
	rundir.KindRLHFStory:    "RLHF story: no leash against the leash (klppo rlhf)",
	rundir.KindRLHFSFT:      "RLHF π_ref trained by SFT (klppo rlhf sft)",
	rundir.KindRLHFRM:       "RLHF reward model (klppo rlhf rm)",
	rundir.KindRLHFPPO:      "RLHF PPO run (klppo rlhf ppo)",
	rundir.KindRLHFGRPO:     "RLHF GRPO run (klppo rlhf grpo)",
	rundir.KindRLHFRLOO:     "RLHF RLOO run (klppo rlhf rloo)",
	rundir.KindRLHFLeash:    "RLHF leash experiment: PPO, GRPO, RLOO × gold/rm reward × β (klppo rlhf leash)",
	rundir.KindRLHFBoN:      "RLHF best-of-n (klppo rlhf bon)",
	rundir.KindRLHFSweep:    "RLHF β sweep (klppo rlhf sweep)",
	rundir.KindEstimators:   "KL(π‖π_ref) estimators (klppo rlhf estimators)",
	rundir.KindRLHFDPO:      "RLHF DPO or IPO run (klppo rlhf dpo)",
	rundir.KindRLHFDrift:    "RLHF DPO/IPO drift on deterministic preferences (klppo rlhf drift)",
	rundir.KindRLHFFrontier: "RLHF frontier of every method (klppo rlhf frontier)",
}

func kindName(kind string) string {
	if kind == "" {
		return "kind not stated: written before klppo recorded run kinds in " + rundir.KindFile
	}
	if n, ok := kindNames[rundir.Kind(kind)]; ok {
		return n
	}
	return "kind " + strconv.Quote(kind) + ", unknown to this klppo (written by a newer one?)"
}

// short formats a number to three significant digits without an exponent between 1e-3 and 1e6.
func short(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v == 0:
		return "0"
	case a >= 1000 && a < 1e6:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a < 1e-3 || a >= 1e6:
		m, e, _ := strings.Cut(strconv.FormatFloat(v, 'e', 2, 64), "e")
		if strings.Contains(m, ".") {
			m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
		}
		exp, _ := strconv.Atoi(e)
		return m + "e" + strconv.Itoa(exp)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// pct formats a fraction as a percentage.
func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + " %" }

// num returns m[key] as a finite number.
func num(m map[string]any, key string) (float64, bool) {
	v, ok := m[key].(float64)
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// column returns the numeric values of a CSV column (NaN where a cell is not a number).
func column(t *CSVData, name string) []float64 {
	if t == nil {
		return nil
	}
	i := t.col(name)
	if i < 0 {
		return nil
	}
	out := make([]float64, len(t.Rows))
	for r, row := range t.Rows {
		v, err := strconv.ParseFloat(row[i], 64)
		if err != nil {
			v = math.NaN()
		}
		out[r] = v
	}
	return out
}

// last returns the last finite value of xs.
func last(xs []float64) (float64, bool) {
	for i := len(xs) - 1; i >= 0; i-- {
		if !math.IsNaN(xs[i]) && !math.IsInf(xs[i], 0) {
			return xs[i], true
		}
	}
	return 0, false
}

// headline is the run in one line for the list.
func (r *Runs) headline(l *loaded) string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	sum, metrics := l.summary, l.Tables["metrics.csv"]
	switch rundir.Kind(l.Kind) {
	case rundir.KindTrain:
		if s, _ := sum["env_id"].(string); s != "" {
			add("%s", s)
		} else if s, _ := l.config["env_id"].(string); s != "" {
			add("%s", s)
		}
		if s, _ := l.config["penalty"].(string); s != "" {
			add("%s", s)
		}
		if v, ok := num(sum, "steps"); ok {
			add("%s steps", short(v))
		} else if v, ok := last(column(metrics, "global_step")); ok {
			add("step %s", short(v))
		}
		if v, ok := num(sum, "final_return"); ok {
			add("final return %s", short(v))
		} else if v, ok := last(column(metrics, "episodic_return")); ok {
			add("return %s", short(v))
		}
		if v, ok := num(sum, "first_step_return_ge"); ok {
			th, _ := num(sum, "solved_threshold")
			if v < 0 {
				add("threshold %s not reached", short(th))
			} else {
				add("solved (≥ %s) at step %s", short(th), short(v))
			}
		}
		if st := trainStory(l); st != nil && st.Short != "" {
			add("%s", st.Short)
		}
	case rundir.KindCompare:
		t := l.Tables["runs.csv"]
		if t == nil {
			break
		}
		set, status, fr := t.col("setting"), t.col("status"), t.col("final_return")
		seeds, counts := map[string]int{}, map[string]int{}
		sums := map[string][2]float64{}
		for _, row := range t.Rows {
			if set < 0 || status < 0 || fr < 0 {
				break
			}
			seeds[row[set]]++
			counts[row[status]]++
			if v, err := strconv.ParseFloat(row[fr], 64); row[status] == "ok" && err == nil && !math.IsNaN(v) {
				s := sums[row[set]]
				sums[row[set]] = [2]float64{s[0] + v, s[1] + 1}
			}
		}
		add("%d settings, %d runs", len(seeds), len(t.Rows))
		var cs []string
		for _, k := range []string{"ok", "failed", "interrupted", "pending"} {
			if counts[k] > 0 {
				cs = append(cs, fmt.Sprintf("%d %s", counts[k], k))
			}
		}
		add("%s", strings.Join(cs, ", "))
		best, bestV := "", math.Inf(-1)
		for k, s := range sums {
			if m := s[0] / s[1]; m > bestV || (m == bestV && k < best) {
				best, bestV = k, m
			}
		}
		if best != "" {
			add("best mean final return %s (%s)", short(bestV), best)
		}
	case rundir.KindVAE:
		if metrics == nil || len(metrics.Rows) == 0 {
			break
		}
		e, _ := last(column(metrics, "epoch"))
		b, _ := last(column(metrics, "beta"))
		add("epoch %s, β %s", short(e), short(b))
		if v, ok := last(column(metrics, "test_elbo")); ok {
			add("test ELBO %s", short(v))
		}
		if v, ok := last(column(metrics, "test_kl")); ok {
			add("KL(q(z|x)‖N(0,I)) %s nats", short(v))
		}
		if v, ok := last(column(metrics, "active_dims")); ok {
			add("%s active latent dims", short(v))
		}
	case rundir.KindDistill:
		for _, f := range []struct{ key, name string }{{"teacher_acc", "teacher"}, {"distilled_acc", "distilled student"}, {"labels_acc", "label-only student"}} {
			if v, ok := num(sum, f.key); ok {
				add("%s %s", f.name, pct(v))
			}
		}
		if v, ok := num(sum, "temperature"); ok {
			add("T = %s", short(v))
		}
	case rundir.KindRLHFPPO, rundir.KindRLHFGRPO, rundir.KindRLHFRLOO:
		return rlhfHeadline(sum, metrics)
	case rundir.KindRLHFSFT:
		ce, ok1 := num(sum, "ce_token")
		h, ok2 := num(sum, "h_token")
		kl, ok3 := num(sum, "kl_token")
		if ok1 && ok2 && ok3 {
			add("held-out CE %s = H(P) %s + KL(P‖π_ref) %s nats/token", short(ce), short(h), short(kl))
		}
		if v, ok := num(sum, "in_language"); ok {
			add("%s of π_ref's samples in the language", pct(v))
		}
	case rundir.KindRLHFRM:
		if v, ok := num(sum, "test_accuracy"); ok {
			add("held-out accuracy %s", pct(v))
		}
		if v, ok := num(sum, "gold_accuracy"); ok {
			add("agrees with the gold order on %s", pct(v))
		}
		if w := rmWords("", sum); w != nil && len(w.Top) > 0 && len(w.Bottom) > 0 {
			add("heaviest words %q %+.2f … %q %+.2f", w.Top[0].Word, w.Top[0].Weight, w.Bottom[0].Word, w.Bottom[0].Weight)
		}
	case rundir.KindRLHFStory:
		for _, c := range []struct{ dir, name string }{{"no-leash", "no leash"}, {"leash", "leash"}} {
			v, err := r.readJSON(path.Join(l.Name, c.dir), "summary.json")
			s, _ := v.(map[string]any)
			if err != nil || s == nil {
				continue
			}
			g, _ := num(s, "final_gold")
			p, _ := num(s, "peak_gold")
			k, _ := num(s, "final_kl")
			add("%s: gold %s at the end (peak %s), KL(π‖π_ref) %s", c.name, short(g), short(p), short(k))
		}
	case rundir.KindRLHFBoN:
		t := l.Tables["bon.csv"]
		if t == nil || len(t.Rows) == 0 {
			break
		}
		n, g, b := column(t, "n"), column(t, "gold_reward"), column(t, "kl_bound")
		add("best-of-n for n = %s … %s: gold %s → %s, KL bound up to %s nats", short(n[0]), short(n[len(n)-1]), short(g[0]), short(g[len(g)-1]), short(b[len(b)-1]))
	case rundir.KindRLHFSweep:
		cfg, _ := l.config["config"].(map[string]any)
		betas, _ := cfg["betas"].([]any)
		seeds, _ := cfg["seeds"].([]any)
		runs, _ := l.config["runs"].([]any)
		if len(betas) > 0 {
			add("%d β × %d seeds: %d PPO runs written", len(betas), len(seeds), len(runs))
		}
		if fit, ok := l.config["fit_rl"].(map[string]any); ok {
			if peaked, _ := fit["peaked"].(bool); !peaked {
				add("Gao's RL law has no peak within the fitted points")
			} else if d, ok := num(fit, "peak_d"); ok {
				add("Gao's RL law peaks at √KL = %s", short(d))
			}
		}
	case rundir.KindEstimators:
		add("the optimiser's paths under each KL placement: rlhf-estimators.png")
	case rundir.KindRLHFDPO:
		if sum == nil {
			break
		}
		m, _ := sum["method"].(string)
		b, _ := num(sum, "beta")
		g, _ := num(sum, "final_gold")
		pg, _ := num(sum, "peak_gold")
		rg, _ := num(sum, "ref_gold")
		k, _ := num(sum, "final_kl")
		dc, _ := num(sum, "final_chosen_logp_change")
		dr, _ := num(sum, "final_rejected_logp_change")
		add("%s β %s: gold %s at the end, peak %s (π_ref %s), KL(π‖π_ref) %s nats", m, short(b), short(g), short(pg), short(rg), short(k))
		add("ln π − ln π_ref of chosen %s, of rejected %s", short(dc), short(dr))
	default:
		if metrics != nil {
			add("%d rows of metrics.csv: %s", len(metrics.Rows), strings.Join(metrics.Header, ", "))
		}
	}
	return strings.Join(parts, " · ")
}

// rlhfHeadline summarises an RLHF PPO run from its summary.json (or, while it runs, the last
// row of its metrics.csv).
func rlhfHeadline(sum map[string]any, metrics *CSVData) string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	if sum == nil {
		if metrics == nil || len(metrics.Rows) == 0 {
			return ""
		}
		u, _ := last(column(metrics, "update"))
		p, _ := last(column(metrics, "proxy_reward"))
		g, _ := last(column(metrics, "gold_reward"))
		k, _ := last(column(metrics, "kl"))
		return fmt.Sprintf("update %s: proxy %s, gold %s, KL(π‖π_ref) %s", short(u), short(p), short(g), short(k))
	}
	b, _ := num(sum, "kl_coef")
	ctl, _ := sum["kl_ctl"].(string)
	est, _ := sum["kl_estimator"].(string)
	in, _ := sum["kl_in"].(string)
	add("β %s (%s, %s in the %s)", short(b), ctl, est, in)
	g, _ := num(sum, "final_gold")
	pg, _ := num(sum, "peak_gold")
	pu, _ := num(sum, "peak_update")
	rg, _ := num(sum, "ref_gold")
	add("gold %s at the end, peak %s at update %s (π_ref %s)", short(g), short(pg), short(pu), short(rg))
	if v, ok := num(sum, "final_proxy"); ok {
		add("proxy %s", short(v))
	}
	if v, ok := num(sum, "final_kl"); ok {
		add("KL(π‖π_ref) %s nats", short(v))
	}
	if v, ok := num(sum, "final_in_language"); ok {
		add("%s in the language", pct(v))
	}
	return strings.Join(parts, " · ")
}

// TrainStory is how much the KL constrained a training run, computed from its metrics.csv and
// config.json (or taken from summary.json's kl_in_band_frac and beta_active_frac when the run
// wrote them).
type TrainStory struct {
	Penalty    string  `json:"penalty"`
	Objective  string  `json:"objective"`           // clip, kl-fixed, kl-adaptive, kl-prop, none
	Target     float64 `json:"target,omitempty"`    // d_targ (kl-adaptive, kl-prop)
	BandLo     float64 `json:"band_lo,omitempty"`   // d_targ/1.5
	BandHi     float64 `json:"band_hi,omitempty"`   // 1.5·d_targ
	StopKL     float64 `json:"stop_kl,omitempty"`   // +stop:KL
	ClipEps    float64 `json:"clip_eps"`            // the |r − 1| that counts in clipfrac
	BetaMin    float64 `json:"beta_min,omitempty"`  // β's floor (kl-adaptive, kl-prop)
	BetaMax    float64 `json:"beta_max,omitempty"`  // β's ceiling
	Updates    int     `json:"updates"`             // rows of metrics.csv used
	InBand     float64 `json:"kl_in_band_frac"`     // fraction of updates with BandLo ≤ KL ≤ BandHi
	OffFloor   float64 `json:"beta_off_floor_frac"` // fraction with β > BetaMin
	Active     float64 `json:"beta_active_frac"`    // fraction with BetaMin < β < BetaMax
	AtCeiling  float64 `json:"beta_at_ceiling_frac"`
	Overshoot  float64 `json:"max_kl_over_target,omitempty"` // the largest KL / d_targ
	MeanKL     float64 `json:"mean_kl"`
	MaxKL      float64 `json:"max_kl"`
	StoppedEar float64 `json:"early_stop_frac,omitempty"` // fraction of updates with fewer epochs than update_epochs (+stop)
	Source     string  `json:"source"`                    // where InBand and Active come from
	Sentence   string  `json:"sentence"`
	Short      string  `json:"short"` // the sentence in a few words, for the list
}

// trainStory computes the story of a training run; nil without a parsable penalty or metrics.
func trainStory(l *loaded) *TrainStory {
	spec, _ := l.config["penalty"].(string)
	if spec == "" {
		spec, _ = l.summary["penalty"].(string)
	}
	pen, err := ppo.ParsePenalty(spec)
	t := l.Tables["metrics.csv"]
	if err != nil || t == nil {
		return nil
	}
	st := &TrainStory{Penalty: spec, Objective: string(pen.Kind), StopKL: pen.StopKL, Source: "metrics.csv"}
	st.ClipEps, _ = num(l.config, "clipfrac_threshold")
	if pen.Kind == ppo.PenaltyClip {
		st.ClipEps = pen.Value
	}
	adaptive := pen.Kind == ppo.PenaltyKLAdaptive || pen.Kind == ppo.PenaltyKLProp
	if adaptive {
		st.Target = pen.Value
		st.BandLo, st.BandHi = pen.Value/1.5, 1.5*pen.Value
		st.BetaMin, _ = num(l.config, "beta_min")
		st.BetaMax, _ = num(l.config, "beta_max")
	}
	kl, beta, epochs := column(t, "kl"), column(t, "beta"), column(t, "epochs")
	ue, _ := num(l.config, "update_epochs")
	var ms []ppo.UpdateMetrics
	var stopped float64
	for i, k := range kl {
		if math.IsNaN(k) {
			continue
		}
		b := math.NaN()
		if i < len(beta) {
			b = beta[i]
		}
		ms = append(ms, ppo.UpdateMetrics{KL: k, Beta: b})
		st.MeanKL += k
		st.MaxKL = math.Max(st.MaxKL, k)
		if ue > 0 && len(epochs) > i && epochs[i] < ue {
			stopped++
		}
	}
	if len(ms) == 0 {
		return nil
	}
	n := float64(len(ms))
	st.Updates = len(ms)
	st.MeanKL /= n
	st.StoppedEar = stopped / n
	if adaptive {
		// The band and β's bounds have one definition, ppo.MeasureKLConstraint: the one
		// summary.json records (a config without beta_max leaves β without a ceiling).
		betaMax := st.BetaMax
		if betaMax == 0 {
			betaMax = math.Inf(1)
		}
		c := ppo.MeasureKLConstraint(ms, pen, st.BetaMin, betaMax)
		st.InBand, st.Active, st.AtCeiling, st.Overshoot = c.KLInBandFrac, c.BetaActiveFrac, c.BetaCeilingFrac, c.KLMaxOverTarget
		st.OffFloor = 1 - c.BetaFloorFrac
	}
	if v, ok := num(l.summary, "kl_in_band_frac"); ok {
		st.InBand, st.Source = v, "summary.json"
	}
	if v, ok := num(l.summary, "beta_active_frac"); ok {
		st.Active, st.Source = v, "summary.json"
	}
	band := fmt.Sprintf("[%s, %s]", short(st.BandLo), short(st.BandHi))
	var s, sh string
	switch pen.Kind {
	case ppo.PenaltyKLAdaptive:
		s = fmt.Sprintf("β left its floor (%s) in %s of updates", short(st.BetaMin), pct(st.OffFloor))
		if st.AtCeiling > 0 {
			s += fmt.Sprintf(" and sat on its ceiling (%s) in %s", short(st.BetaMax), pct(st.AtCeiling))
		}
		s += fmt.Sprintf("; the KL was in the band %s around d_targ = %s in %s of updates (largest: %s × d_targ)",
			band, short(st.Target), pct(st.InBand), short(st.Overshoot))
		sh = fmt.Sprintf("β active %s, KL in band %s", pct(st.Active), pct(st.InBand))
	case ppo.PenaltyKLProp:
		s = fmt.Sprintf("β left its floor (%s) in %s of updates; the KL was within a factor 1.5 of its target d_targ = %s (%s) in %s of updates (largest: %s × d_targ)",
			short(st.BetaMin), pct(st.OffFloor), short(st.Target), band, pct(st.InBand), short(st.Overshoot))
		sh = fmt.Sprintf("β active %s, KL in band %s", pct(st.Active), pct(st.InBand))
	case ppo.PenaltyKLFixed:
		s = fmt.Sprintf("β fixed at %s; the KL per update averaged %s (largest %s)", short(pen.Value), short(st.MeanKL), short(st.MaxKL))
	case ppo.PenaltyClip:
		cf := column(t, "clipfrac")
		var m, c float64
		for _, v := range cf {
			if !math.IsNaN(v) {
				m, c = m+v, c+1
			}
		}
		if c > 0 {
			m /= c
		}
		s = fmt.Sprintf("the ratio clip ε = %s: on average %s of samples had |r − 1| > ε; the KL per update averaged %s (largest %s)",
			short(pen.Value), pct(m), short(st.MeanKL), short(st.MaxKL))
	default:
		s = fmt.Sprintf("no constraint: the KL per update averaged %s (largest %s)", short(st.MeanKL), short(st.MaxKL))
	}
	if st.StopKL > 0 {
		s += fmt.Sprintf("; the early stop at KL %s cut the epochs short in %s of updates", short(st.StopKL), pct(st.StoppedEar))
		if sh == "" {
			sh = "stopped early in " + pct(st.StoppedEar)
		}
	}
	st.Sentence = s + fmt.Sprintf(" (%d updates).", st.Updates)
	st.Short = sh
	return st
}

// SampleRow is one text an RLHF run sampled, with its rewards.
type SampleRow struct {
	When       string   `json:"when"` // "start", "gold peak", "end"
	Update     int      `json:"update"`
	Text       string   `json:"text"`
	Proxy      *float64 `json:"proxy_reward,omitempty"`
	Gold       *float64 `json:"gold_reward,omitempty"`
	InLanguage *bool    `json:"in_language,omitempty"`
}

// samples returns the texts an RLHF run sampled at its first update, at its gold peak
// (summary.json's peak_update) and at its last update, from samples.jsonl (or, without it, the
// texts summary.json keeps).
func (r *Runs) samples(dir string, summary map[string]any) []SampleRow {
	var all []SampleRow
	if b, err := r.readFile(dir, "samples.jsonl", maxCSVBytes); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var s SampleRow
			if json.Unmarshal(sc.Bytes(), &s) == nil && s.Update > 0 {
				all = append(all, s)
			}
		}
	} else if summary != nil {
		for _, w := range []struct{ key, when string }{{"samples_start", "start"}, {"samples_peak", "gold peak"}, {"samples_end", "end"}} {
			texts, _ := summary[w.key].([]any)
			for _, t := range texts {
				if s, ok := t.(string); ok {
					all = append(all, SampleRow{When: w.when, Text: s})
				}
			}
		}
		return all
	}
	if len(all) == 0 {
		return nil
	}
	first, lastU := all[0].Update, all[len(all)-1].Update
	peak := -1
	if v, ok := num(summary, "peak_update"); ok {
		peak = int(v)
	}
	// The three moments, in order; a moment that falls on the same update as another shares its
	// rows ("gold peak and end").
	var updates []int
	when := map[int]string{}
	for _, w := range []struct {
		update int
		name   string
	}{{first, "start"}, {peak, "gold peak"}, {lastU, "end"}} {
		if w.update < 0 {
			continue
		}
		if _, seen := when[w.update]; seen {
			when[w.update] += " and " + w.name
			continue
		}
		when[w.update] = w.name
		updates = append(updates, w.update)
	}
	var out []SampleRow
	for _, u := range updates {
		for _, s := range all {
			if s.Update == u {
				s.When = when[u]
				out = append(out, s)
			}
		}
	}
	return out
}

// WordWeight is one word of the reward model and its weight.
type WordWeight struct {
	Word   string  `json:"word"`
	Weight float64 `json:"weight"`
}

// RMWords are the words a (linear) reward model weighs most, from its summary.json.
type RMWords struct {
	Run    string       `json:"run"` // the reward model's run, relative to the runs directory ("" if not inside it)
	Bias   float64      `json:"bias"`
	Top    []WordWeight `json:"top"`    // the largest weights, largest first
	Bottom []WordWeight `json:"bottom"` // the most negative weights, most negative first
	Words  int          `json:"words"`
}

// rmTopK is how many words of each end RMWords keeps.
const rmTopK = 8

// rmWords reads the weights of a reward model's summary.json; nil without them.
func rmWords(run string, sum map[string]any) *RMWords {
	ws, _ := sum["weights"].(map[string]any)
	if len(ws) == 0 {
		return nil
	}
	var all []WordWeight
	for w, v := range ws {
		if x, ok := v.(float64); ok {
			all = append(all, WordWeight{w, x})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Weight != all[j].Weight {
			return all[i].Weight > all[j].Weight
		}
		return all[i].Word < all[j].Word
	})
	k := min(rmTopK, len(all)/2)
	rm := &RMWords{Run: run, Words: len(all), Top: all[:k]}
	for i := len(all) - 1; i >= len(all)-k; i-- {
		rm.Bottom = append(rm.Bottom, all[i])
	}
	rm.Bias, _ = num(sum, "bias")
	return rm
}

// rewardModelOf finds the reward model an RLHF run was trained against, from the rm_dir its
// config.json records, when that directory lies inside the runs directory and states the kind
// rlhf-rm.
func (r *Runs) rewardModelOf(run string, cfg map[string]any) *RMWords {
	rec, _ := cfg["rm_dir"].(string)
	dir := r.resolve(rec)
	if dir == "" {
		return nil
	}
	b, err := r.readFile(dir, rundir.KindFile, maxJSONBytes)
	if err != nil {
		return nil
	}
	if k, err := rundir.ParseKind(b); err != nil || k != rundir.KindRLHFRM {
		return nil
	}
	v, err := r.readJSON(dir, "summary.json")
	if err != nil {
		return nil
	}
	sum, _ := v.(map[string]any)
	return rmWords(dir, sum)
}
