package experiments

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
)

// MeanSE is a mean over seeds with its standard error sd/√n (sd with n−1; SE is NaN when n < 2).
type MeanSE struct {
	Mean, SE float64
	N        int
}

// NewMeanSE summarises the finite values of xs.
func NewMeanSE(xs []float64) MeanSE {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	m := MeanSE{Mean: nan, SE: nan, N: len(v)}
	if len(v) == 0 {
		return m
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	m.Mean = s / float64(len(v))
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - m.Mean) * (x - m.Mean)
		}
		m.SE = math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
	}
	return m
}

// Normalise maps per-setting mean returns to the PPO paper's normalised score: the random policy's
// return scores 0 and the best setting's mean scores 1,
//
//	score_i = (mean_i − random) / (max_j mean_j − random).
//
// Because the map is affine, the score of a setting's mean equals the mean of its seeds' scores, and a
// standard error scales by 1/(max_j mean_j − random). When no setting beats the random policy the
// scale is undefined and every score is NaN. NaN means (settings without a finished run) stay NaN.
func Normalise(means []float64, random float64) []float64 {
	best := maxFinite(means)
	out := make([]float64, len(means))
	scale := best - random
	for i, m := range means {
		if math.IsNaN(best) || !(scale > 0) || math.IsNaN(m) {
			out[i] = nan
			continue
		}
		out[i] = (m - random) / scale
	}
	return out
}

// SettingStats summarises one penalty setting over its finished (status ok) seeds.
type SettingStats struct {
	Setting    string
	Runs       int // status ok
	Failed     int
	Unfinished int // interrupted or pending
	Final      MeanSE
	Last100    MeanSE
	AUC        MeanSE
	// Score and ScoreAUC are the normalised scores of Last100 and AUC (see Normalise).
	Score, ScoreAUC MeanSE
	Solved          int     // seeds that reached the solved threshold
	MedianSolved    float64 // median FirstStepSolved over the seeds that did (NaN if none)
	KLMean, KLMax   float64 // means over seeds of each run's mean and max KL
	BetaMean        float64
	ClipFrac        float64
}

// Results is a finished (or partial) sweep: its runs, per-setting statistics and curves.
type Results struct {
	Sweep    Sweep
	Baseline Baseline
	Runs     []RunRecord
	Settings []SettingStats
	Curves   map[string][]Curves // per setting, the curves of its ok runs in seed order (without the raw episodes)
}

// Collect reads every run's files under outDir, fills the statistics of the records and
// aggregates them per setting.
func Collect(outDir string, s Sweep, records []RunRecord, bl Baseline) (*Results, error) {
	res := &Results{Sweep: s, Baseline: bl, Curves: map[string][]Curves{}}
	for _, r := range records {
		r.FinalReturn, r.Last100Return, r.AUCReturn = nan, nan, nan
		r.KLMean, r.KLMax, r.BetaMean, r.ClipFracMean = nan, nan, nan, nan
		r.FirstStepSolved, r.Episodes = -1, 0
		if r.Status != StatusPending {
			c, err := ReadCurves(filepath.Join(outDir, r.Dir), s.Steps)
			if err == nil {
				fillStats(&r, c, bl.SolvedThreshold)
				// the table and charts need only the grid and per-update series: drop the raw
				// episodes, whose number grows with the budget, so memory stays bounded per run
				c.EpisodeSteps, c.EpisodeReturns = nil, nil
				if r.Status == StatusOK {
					res.Curves[r.Setting] = append(res.Curves[r.Setting], c)
				}
			} else if r.Status == StatusOK {
				r.Status = StatusFailed
				r.Error = fmt.Sprintf("reading results: %v", err)
			}
		}
		res.Runs = append(res.Runs, r)
	}
	for _, p := range s.Penalties {
		st := SettingStats{Setting: p, MedianSolved: nan}
		var final, last, auc, kl, klmax, beta, clip, solved []float64
		for _, r := range res.Runs {
			if r.Setting != p {
				continue
			}
			switch r.Status {
			case StatusOK:
				st.Runs++
			case StatusFailed:
				st.Failed++
				continue
			default:
				st.Unfinished++
				continue
			}
			final = append(final, r.FinalReturn)
			last = append(last, r.Last100Return)
			auc = append(auc, r.AUCReturn)
			kl = append(kl, r.KLMean)
			klmax = append(klmax, r.KLMax)
			beta = append(beta, r.BetaMean)
			clip = append(clip, r.ClipFracMean)
			if r.FirstStepSolved >= 0 {
				solved = append(solved, float64(r.FirstStepSolved))
			}
		}
		st.Final, st.Last100, st.AUC = NewMeanSE(final), NewMeanSE(last), NewMeanSE(auc)
		st.KLMean, st.KLMax, st.BetaMean, st.ClipFrac = meanFinite(kl), meanFinite(klmax), meanFinite(beta), meanFinite(clip)
		st.Solved = len(solved)
		if len(solved) > 0 {
			st.MedianSolved = median(solved)
		}
		res.Settings = append(res.Settings, st)
	}
	res.normalise()
	return res, nil
}

func (res *Results) normalise() {
	for _, which := range []struct {
		get   func(*SettingStats) MeanSE
		score func(*SettingStats) *MeanSE
	}{
		{func(s *SettingStats) MeanSE { return s.Last100 }, func(s *SettingStats) *MeanSE { return &s.Score }},
		{func(s *SettingStats) MeanSE { return s.AUC }, func(s *SettingStats) *MeanSE { return &s.ScoreAUC }},
	} {
		means := make([]float64, len(res.Settings))
		for i := range res.Settings {
			means[i] = which.get(&res.Settings[i]).Mean
		}
		scores := Normalise(means, res.Baseline.RandomReturn)
		scale := maxFinite(means) - res.Baseline.RandomReturn
		for i := range res.Settings {
			m := which.get(&res.Settings[i])
			*which.score(&res.Settings[i]) = MeanSE{Mean: scores[i], SE: m.SE / scale, N: m.N}
			if math.IsNaN(scores[i]) {
				which.score(&res.Settings[i]).SE = nan
			}
		}
	}
}

func fillStats(r *RunRecord, c Curves, threshold float64) {
	r.Episodes = len(c.EpisodeReturns)
	r.FinalReturn = tailMean(c.EpisodeReturns, 10)
	r.Last100Return = tailMean(c.EpisodeReturns, 100)
	r.AUCReturn = meanFinite(c.Return)
	r.FirstStepSolved = firstSolved(c.EpisodeSteps, c.EpisodeReturns, threshold)
	r.KLMean, r.KLMax = meanFinite(c.KL), maxFinite(c.KL)
	if usesBeta(r.Setting) {
		r.BetaMean = meanFinite(c.Beta)
	}
	r.ClipFracMean = meanFinite(c.ClipFrac)
}

// usesBeta reports whether a canonical penalty spec has a KL coefficient β (kl-fixed, kl-adaptive, kl-prop).
func usesBeta(spec string) bool { return strings.HasPrefix(spec, "kl-") }

func median(xs []float64) float64 {
	v := append([]float64(nil), xs...)
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Table renders the per-setting table: Markdown when markdown is true, else aligned plain text for
// a terminal. The best setting (highest last-100 mean) is marked with '*'.
func (res *Results) Table(markdown bool) string {
	header := []string{"setting", "runs", "final return", "last-100 return", "score", "AUC return", "score (AUC)", "solved", "mean KL", "max KL", "mean β", "clip frac"}
	rows := [][]string{}
	for _, st := range res.Settings {
		name := st.Setting
		if st.Score.Mean == 1 {
			name += " *"
		}
		runs := fmt.Sprint(st.Runs)
		if st.Failed > 0 {
			runs += fmt.Sprintf(" (%d failed)", st.Failed)
		}
		if st.Unfinished > 0 {
			runs += fmt.Sprintf(" (%d unfinished)", st.Unfinished)
		}
		solved := "—"
		if !math.IsNaN(res.Baseline.SolvedThreshold) {
			solved = fmt.Sprintf("%d/%d", st.Solved, st.Runs)
			if st.Solved > 0 {
				solved += " @ " + fmtSteps(st.MedianSolved)
			}
		}
		beta := "—"
		if usesBeta(st.Setting) {
			beta = fmtG(st.BetaMean)
		}
		rows = append(rows, []string{name, runs, fmtMSE(st.Final, 1), fmtMSE(st.Last100, 1), fmtMSE(st.Score, 2), fmtMSE(st.AUC, 1), fmtMSE(st.ScoreAUC, 2),
			solved, fmtG(st.KLMean), fmtG(st.KLMax), beta, fmtFixed(st.ClipFrac, 3)})
	}
	var b strings.Builder
	if markdown {
		b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
		for range header {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, r := range rows {
			b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		}
		return b.String()
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	return b.String()
}

// Heading is the one-paragraph description of the sweep printed above the table.
func (res *Results) Heading() string {
	s := res.Sweep
	name := s.Name
	if name == "" {
		name = "compare"
	}
	thr := "none defined"
	if !math.IsNaN(res.Baseline.SolvedThreshold) {
		thr = fmtG(res.Baseline.SolvedThreshold)
	}
	h := fmt.Sprintf("%s: %s, %d settings × %d seeds × %s steps. Random policy: mean return %.2f over %d episodes "+
		"(uniform random actions, seed %d); solved threshold %s.",
		name, s.Env, len(s.Penalties), len(s.Seeds), fmtSteps(float64(s.Steps)), res.Baseline.RandomReturn,
		res.Baseline.RandomEpisodes, res.Baseline.RandomSeed, thr)
	if len(s.Overrides) > 0 {
		keys := make([]string, 0, len(s.Overrides))
		for k := range s.Overrides {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%v", k, s.Overrides[k])
		}
		h += " Hyperparameters: the env's defaults with " + strings.Join(parts, ", ") + "."
	}
	return h
}

// tableNotes defines the columns of table.md.
const tableNotes = `Columns (mean ± standard error over seeds; runs = seeds that finished their budget):
- final return: mean return of each run's last 10 episodes;
- last-100 return: mean return of each run's last 100 training episodes (the PPO paper's Table 1 measure);
- score: that mean normalised so the random policy is 0 and the best setting (*) is 1;
- AUC return: the mean of the learning curve R(x) (mean return of the last 10 episodes finished by step x)
  over 100 evenly spaced steps x: the area under the curve divided by the budget; score (AUC) normalises it;
- solved: seeds whose R(x) reached the env's threshold, and the median first step at which it did;
- mean KL / max KL: the exact mean KL(π_old‖π_new) per update, averaged / maximised over updates;
- mean β: the KL coefficient averaged over updates (KL settings); clip frac: fraction of probability ratios
  outside [1−ε, 1+ε] (ε = 0.2 for the settings that do not clip).
`

// WriteReport writes table.md and the charts (returns.png, kl.png, beta.png) into dir.
func (res *Results) WriteReport(dir string) error {
	md := "# " + res.Heading() + "\n\n" + res.Table(true) + "\n" + tableNotes
	if err := os.WriteFile(filepath.Join(dir, TableFile), []byte(md), 0o644); err != nil {
		return fmt.Errorf("table.md: %w", err)
	}
	if err := res.WriteCharts(dir); err != nil {
		return err
	}
	return nil
}

func fmtMSE(m MeanSE, prec int) string {
	if math.IsNaN(m.Mean) {
		return "—"
	}
	if math.IsNaN(m.SE) {
		return fmt.Sprintf("%.*f", prec, m.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, m.Mean, prec, m.SE)
}

func fmtG(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtFixed(v float64, prec int) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// fmtSteps writes a step count compactly: 61440 → "61.4k", 1000000 → "1M".
func fmtSteps(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.2f", v/1e6)) + "M"
	case v >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
