package rlhf

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"klppo/internal/fileio"
	"klppo/internal/rundir"
)

// The frontier puts every method's runs on one chart of the gold reward gained over π_ref against
// d = √KL(π‖π_ref), with Gao et al.'s RL law fitted per method. A method plugs in with its run
// directories alone: each holds
//
//	metrics.csv   one row per update or evaluation with the columns kl (the sequence
//	              KL(π‖π_ref) per sample, PPO's measurement), gold_reward and proxy_reward
//	              (means over the row's samples), and optionally in_language;
//	summary.json  with the numbers seed, ref_gold and ref_proxy (π_ref's rewards on the seed's
//	              reference samples) and the method's KL setting as kl_coef (PPO, and the other
//	              online methods) or beta (DPO's β, IPO's τ).
//
// Everything the frontier reports is computed from these files the same way for every method:
// "final" is the mean over the last 10% of a run's rows (as Summarize), and the peak is the
// maximum of the gold reward smoothed by a centred moving average over PathWindow rows, with the
// KL smoothed the same way there.

// FrontierRunRef says where a run of a method is.
type FrontierRunRef struct {
	Method  string  `json:"method"`  // "ppo", "dpo", "ipo", "grpo", …
	Setting float64 `json:"setting"` // its KL coefficient: PPO's β, DPO's β, IPO's τ, …
	Seed    uint64  `json:"seed"`
	Dir     string  `json:"dir"`
}

// FrontierRun is a run read from its files.
type FrontierRun struct {
	FrontierRunRef
	RefGold, RefProxy float64
	// The path: one value per row of metrics.csv (InLanguage NaN when the column is absent).
	KL, Gold, Proxy, InLanguage []float64
	// Computed from the path.
	FinalGold, FinalKL, FinalProxy, FinalInLanguage, PeakGold, PeakKL float64
	PeakRow                                                           int
}

// PathWindow is the smoothing window of a path of n rows: the odd number nearest n/30, at least
// 3 — 5 for PPO's 150 updates (as its summary's peak), 3 for DPO's 33 evaluations (as its own).
func PathWindow(n int) int {
	w := max(3, int(math.Round(float64(n)/30)))
	if w%2 == 0 {
		w++
	}
	return w
}

// LoadFrontierRun reads ref's metrics.csv and summary.json.
func LoadFrontierRun(ref FrontierRunRef) (FrontierRun, error) {
	r := FrontierRun{FrontierRunRef: ref}
	cols, err := ReadColumns(filepath.Join(ref.Dir, MetricsFile), "kl", "gold_reward", "proxy_reward")
	if err != nil {
		return r, err
	}
	r.KL, r.Gold, r.Proxy = cols[0], cols[1], cols[2]
	if len(r.KL) == 0 {
		return r, fmt.Errorf("rlhf: frontier: %s: no rows", ref.Dir)
	}
	if in, err := ReadColumns(filepath.Join(ref.Dir, MetricsFile), "in_language"); err == nil {
		r.InLanguage = in[0]
	} else {
		r.InLanguage = make([]float64, len(r.KL))
		for i := range r.InLanguage {
			r.InLanguage[i] = math.NaN()
		}
	}
	var sum struct {
		RefGold  *float64 `json:"ref_gold"`
		RefProxy *float64 `json:"ref_proxy"`
	}
	if err := readJSON(filepath.Join(ref.Dir, SummaryFile), &sum); err != nil {
		return r, err
	}
	if sum.RefGold == nil || sum.RefProxy == nil {
		return r, fmt.Errorf("rlhf: frontier: %s: summary.json lacks ref_gold or ref_proxy", ref.Dir)
	}
	r.RefGold, r.RefProxy = *sum.RefGold, *sum.RefProxy
	id := func(x float64) float64 { return x }
	r.FinalGold, r.FinalKL, r.FinalProxy, r.FinalInLanguage = finalMean(r.Gold, id), finalMean(r.KL, id), finalMean(r.Proxy, id), finalMean(r.InLanguage, id)
	r.PeakRow, r.PeakGold, r.PeakKL = peakGold(r.Gold, r.KL, PathWindow(len(r.Gold)))
	return r, nil
}

// DiscoverRuns returns the runs of method under root: every directory below it holding both
// metrics.csv and summary.json, with the seed from summary.json's seed and the setting from its
// kl_coef or, failing that, beta. This is how runs written by any command (GRPO, RLOO, …) join
// the frontier.
func DiscoverRuns(method, root string) ([]FrontierRunRef, error) {
	var out []FrontierRunRef
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if _, err := os.Stat(filepath.Join(path, MetricsFile)); err != nil {
			return nil
		}
		data, err := fileio.ReadFile(filepath.Join(path, SummaryFile), fileio.SmallFile)
		if err != nil {
			return nil
		}
		var s struct {
			Seed    *uint64  `json:"seed"`
			KLCoef  *float64 `json:"kl_coef"`
			Beta    *float64 `json:"beta"`
			RefGold *float64 `json:"ref_gold"`
		}
		if err := json.Unmarshal(data, &s); err != nil || s.Seed == nil || s.RefGold == nil {
			return nil // not a run of the kind the frontier reads (an SFT or reward-model directory)
		}
		ref := FrontierRunRef{Method: method, Seed: *s.Seed, Dir: path}
		switch {
		case s.KLCoef != nil:
			ref.Setting = *s.KLCoef
		case s.Beta != nil:
			ref.Setting = *s.Beta
		default:
			return fmt.Errorf("rlhf: frontier: %s: summary.json has neither kl_coef nor beta", path)
		}
		out = append(out, ref)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rlhf: frontier: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rlhf: frontier: no runs (metrics.csv and summary.json) under %s", root)
	}
	slices.SortFunc(out, func(a, b FrontierRunRef) int {
		return cmp.Or(cmp.Compare(a.Seed, b.Seed), cmp.Compare(a.Setting, b.Setting), strings.Compare(a.Dir, b.Dir))
	})
	return out, nil
}

// Frontier is every method's runs, best-of-n, and Gao's law fitted per method.
type Frontier struct {
	Runs    []FrontierRun         `json:"-"`
	Refs    []FrontierRunRef      `json:"runs"`
	Methods []string              `json:"methods"`       // in the order they first appear in Runs
	BoN     map[string][]BoNPoint `json:"bon,omitempty"` // per seed
	RefGold map[string]float64    `json:"ref_gold"`      // per seed: what best-of-n gains are measured from
	// Fits is Gao's RL law per method (on every path row with d ≤ FitMaxD, gold and KL smoothed
	// over PathWindow rows, gains over the run's ref_gold) and the best-of-n law under "bon".
	Fits    map[string]*GaoFit `json:"fits"`
	FitMaxD float64            `json:"fit_max_d"`
}

// NewFrontier loads the runs and fits the laws. bon and refGold (per seed, keys as
// strconv.FormatUint) may be nil.
func NewFrontier(refs []FrontierRunRef, bon map[string][]BoNPoint, refGold map[string]float64, fitMaxD float64) (*Frontier, error) {
	f := &Frontier{Refs: refs, BoN: bon, RefGold: refGold, Fits: map[string]*GaoFit{}, FitMaxD: fitMaxD}
	if f.RefGold == nil {
		f.RefGold = map[string]float64{}
	}
	for _, ref := range refs {
		r, err := LoadFrontierRun(ref)
		if err != nil {
			return nil, err
		}
		f.Runs = append(f.Runs, r)
		if !slices.Contains(f.Methods, ref.Method) {
			f.Methods = append(f.Methods, ref.Method)
		}
	}
	for _, m := range f.Methods {
		var d, r []float64
		for _, run := range f.Runs {
			if run.Method != m {
				continue
			}
			w := PathWindow(len(run.Gold))
			gold, kls := smooth(run.Gold, w), smooth(run.KL, w)
			for i := range gold {
				if kls[i] > 0 && (fitMaxD <= 0 || math.Sqrt(kls[i]) <= fitMaxD) {
					d, r = append(d, math.Sqrt(kls[i])), append(r, gold[i]-run.RefGold)
				}
			}
		}
		if fit, err := FitGao("rl", d, r); err == nil {
			f.Fits[m] = &fit
		}
	}
	var d, r []float64
	for key, pts := range bon {
		for _, p := range pts {
			if p.N > 1 {
				d, r = append(d, math.Sqrt(p.KLBound)), append(r, p.Gold-f.RefGold[key])
			}
		}
	}
	if fit, err := FitGao("bon", d, r); err == nil {
		f.Fits["bon"] = &fit
	}
	return f, nil
}

// FrontierRow aggregates one setting of one method over seeds (means, and standard deviations
// where named).
type FrontierRow struct {
	Method                      string
	Setting                     float64
	Seeds                       int
	PeakGold, PeakGoldSD        float64
	PeakKL                      float64
	FinalGold, FinalGoldSD      float64
	FinalKL, FinalKLSD, FinalIn float64
	RefGold                     float64
}

// Table aggregates the runs per method and setting, methods in order, settings increasing.
func (f *Frontier) Table() []FrontierRow {
	var out []FrontierRow
	for _, m := range f.Methods {
		by := map[float64][]FrontierRun{}
		for _, r := range f.Runs {
			if r.Method == m {
				by[r.Setting] = append(by[r.Setting], r)
			}
		}
		settings := make([]float64, 0, len(by))
		for s := range by {
			settings = append(settings, s)
		}
		slices.Sort(settings)
		for _, s := range settings {
			rs := by[s]
			col := func(g func(FrontierRun) float64) (float64, float64) {
				xs := make([]float64, len(rs))
				for i, r := range rs {
					xs[i] = g(r)
				}
				return meanStd(xs)
			}
			row := FrontierRow{Method: m, Setting: s, Seeds: len(rs)}
			row.PeakGold, row.PeakGoldSD = col(func(r FrontierRun) float64 { return r.PeakGold })
			row.PeakKL, _ = col(func(r FrontierRun) float64 { return r.PeakKL })
			row.FinalGold, row.FinalGoldSD = col(func(r FrontierRun) float64 { return r.FinalGold })
			row.FinalKL, row.FinalKLSD = col(func(r FrontierRun) float64 { return r.FinalKL })
			row.FinalIn, _ = col(func(r FrontierRun) float64 { return r.FinalInLanguage })
			row.RefGold, _ = col(func(r FrontierRun) float64 { return r.RefGold })
			out = append(out, row)
		}
	}
	return out
}

// Best returns, per method, the row of the setting with the highest mean peak gold.
func (f *Frontier) Best() []FrontierRow {
	var out []FrontierRow
	for _, r := range f.Table() {
		if n := len(out); n > 0 && out[n-1].Method == r.Method {
			if r.PeakGold > out[n-1].PeakGold {
				out[n-1] = r
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// bonMean returns the mean over seeds of best-of-n's gold for every n (in the order of the first
// seed's points) and the KL bound.
func (f *Frontier) bonMean() (ns []int, gold, klBound []float64) {
	keys := make([]string, 0, len(f.BoN))
	for k := range f.BoN {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return nil, nil, nil
	}
	for i, p := range f.BoN[keys[0]] {
		var s float64
		for _, k := range keys {
			s += f.BoN[k][i].Gold
		}
		ns, gold, klBound = append(ns, p.N), append(gold, s/float64(len(keys))), append(klBound, p.KLBound)
	}
	return ns, gold, klBound
}

// Markdown is the frontier's tables: per method its best setting (peak gold, the KL there, the
// gold at the end) with Gao's fit, then every setting.
func (f *Frontier) Markdown() string {
	var b strings.Builder
	var refs []float64
	for _, v := range f.RefGold {
		refs = append(refs, v)
	}
	if len(refs) > 0 {
		rg, _ := meanStd(refs)
		fmt.Fprintf(&b, "π_ref: gold %.3f (mean over %d seeds).\n\n", rg, len(refs))
	}
	b.WriteString("| method | best setting | seeds | peak gold | KL at the peak | gold at the end | KL at the end | Gao fit R(d) | fit's peak gain (at KL) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	fitText := func(m string) (string, string) {
		g := f.Fits[m]
		if g == nil {
			return "—", "—"
		}
		law := g.Law() + fmt.Sprintf(", RMSE %.3f", g.RMSE)
		if !g.Peaked {
			return law, "no peak"
		}
		return law, fmt.Sprintf("%.3f (%.2f)", g.PeakGain, g.PeakKL)
	}
	for _, r := range f.Best() {
		law, pk := fitText(r.Method)
		fmt.Fprintf(&b, "| %s | β = %g | %d | %.3f ± %.3f | %.2f | %.3f ± %.3f | %.2f | %s | %s |\n", r.Method, r.Setting, r.Seeds,
			r.PeakGold, r.PeakGoldSD, r.PeakKL, r.FinalGold, r.FinalGoldSD, r.FinalKL, law, pk)
	}
	if ns, gold, kb := f.bonMean(); len(ns) > 0 {
		best := 0
		for i := range gold {
			if gold[i] > gold[best] {
				best = i
			}
		}
		law, pk := fitText("bon")
		fmt.Fprintf(&b, "| best-of-n | n = %d | %d | %.3f | %.2f (bound) | %.3f (n = %d) | %.2f (bound) | %s | %s |\n", ns[best], len(f.BoN),
			gold[best], kb[best], gold[len(gold)-1], ns[len(ns)-1], kb[len(kb)-1], law, pk)
	}
	b.WriteString("\n| method | β | seeds | peak gold | KL at the peak | final gold | final KL | final in-language |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range f.Table() {
		in := "—"
		if !math.IsNaN(r.FinalIn) {
			in = fmt.Sprintf("%.0f%%", 100*r.FinalIn)
		}
		fmt.Fprintf(&b, "| %s | %g | %d | %.3f ± %.3f | %.2f | %.3f ± %.3f | %.2f ± %.2f | %s |\n", r.Method, r.Setting, r.Seeds,
			r.PeakGold, r.PeakGoldSD, r.PeakKL, r.FinalGold, r.FinalGoldSD, r.FinalKL, r.FinalKLSD, in)
	}
	fmt.Fprintf(&b, "\nPeak: the maximum of the gold reward smoothed over a centred window of ≈ 1/30 of a run's rows (at least 3: 5 of PPO's 150 updates, 3 of a DPO run's evaluations), the KL smoothed the same way there; final: the mean of the last 10%% of rows; fits on every row with d = √KL ≤ %g.\n", f.FitMaxD)
	return b.String()
}

// Law is the fitted law as text, "d(0.45 − 0.46 ln d)" or "d(0.81 − 0.31 d)", signs folded.
func (f GaoFit) Law() string {
	x := "ln d"
	if f.Kind == "bon" {
		x = "d"
	}
	sign, b := "−", f.Beta
	if b < 0 {
		sign, b = "+", -b
	}
	return fmt.Sprintf("d(%.2f %s %.2f %s)", f.Alpha, sign, b, x)
}

// methodColour is a method's colour on the frontier charts.
func methodColour(m string, i int) int {
	switch m {
	case "ppo":
		return 4
	case "dpo":
		return 5
	case "ipo":
		return 3
	}
	return []int{1, 2, 6, 7}[i%4]
}

// WriteCharts writes frontier-methods-gold.png (gold gained over π_ref against d = √KL: every
// run's final point, the path of every run of the first seed, best-of-n, each method's fitted
// law over the range of its data) and frontier-methods-gold-zoom.png (the same for d ≤ 1.2·FitMaxD,
// or 3.5).
func (f *Frontier) WriteCharts(dir string) error {
	var firstSeed uint64
	if len(f.Runs) > 0 {
		firstSeed = f.Runs[0].Seed
		for _, r := range f.Runs {
			firstSeed = min(firstSeed, r.Seed)
		}
	}
	zoom := 3.5
	if f.FitMaxD > 0 {
		zoom = 1.2 * f.FitMaxD
	}
	for _, z := range []float64{math.Inf(1), zoom} {
		var ss []series
		clip := func(x, y []float64) ([]float64, []float64) {
			var cx, cy []float64
			for i := range x {
				if x[i] <= z {
					cx, cy = append(cx, x[i]), append(cy, y[i])
				}
			}
			return cx, cy
		}
		for i, m := range f.Methods {
			col := palette[methodColour(m, i)%len(palette)]
			var x, y []float64
			maxD := 0.0
			for _, r := range f.Runs {
				if r.Method != m {
					continue
				}
				d := math.Sqrt(math.Max(0, r.FinalKL))
				x, y = append(x, d), append(y, r.FinalGold-r.RefGold)
				w := PathWindow(len(r.Gold))
				px, py := smooth(r.KL, w), smooth(r.Gold, w)
				for j := range px {
					px[j], py[j] = math.Sqrt(math.Max(0, px[j])), py[j]-r.RefGold
					maxD = math.Max(maxD, px[j])
				}
				if r.Seed == firstSeed {
					px, py = clip(px, py)
					ss = append(ss, series{x: px, y: py, col: withAlpha(col, 0x60), thin: true})
				}
			}
			x, y = clip(x, y)
			ss = append(ss, series{name: m + " (end of each run)", x: x, y: y, col: col, points: true})
			if g := f.Fits[m]; g != nil {
				hi := math.Min(maxD, z)
				if f.FitMaxD > 0 {
					hi = math.Min(hi, f.FitMaxD)
				}
				var fx, fy []float64
				for k := 1; k <= 200; k++ {
					d := hi * float64(k) / 200
					fx, fy = append(fx, d), append(fy, g.Eval(d))
				}
				ss = append(ss, series{name: m + " fit: " + g.Law(), x: fx, y: fy, col: col, dashed: true})
			}
		}
		if ns, gold, kb := f.bonMean(); len(ns) > 0 {
			var rg []float64
			for _, v := range f.RefGold {
				rg = append(rg, v)
			}
			ref, _ := meanStd(rg)
			x, y := make([]float64, len(ns)), make([]float64, len(ns))
			for i := range ns {
				x[i], y[i] = math.Sqrt(kb[i]), gold[i]-ref
			}
			x, y = clip(x, y)
			ss = append(ss, series{name: "best-of-n (mean over seeds, KL bound)", x: x, y: y, col: palette[0], dashed: true})
		}
		file, title := "frontier-methods-gold.png", "gold reward gained over π_ref vs d = √KL(π‖π_ref), every method"
		if !math.IsInf(z, 1) {
			file, title = "frontier-methods-gold-zoom.png", fmt.Sprintf("the same for d ≤ %.3g", z)
		}
		if err := chartWith(filepath.Join(dir, file), title, "d = √KL (nats^½)", "gold reward − π_ref's", ss, chartOptions{legendBottom: true, legendLeft: true}); err != nil {
			return err
		}
	}
	return nil
}

// writeCSV writes one line per run.
func (f *Frontier) writeCSV(path string) error {
	var b strings.Builder
	b.WriteString("method,setting,seed,final_gold,final_kl,sqrt_final_kl,final_in_language,peak_gold,peak_kl,ref_gold,ref_proxy,rows,dir\n")
	for _, r := range f.Runs {
		fmt.Fprintf(&b, "%s,%g,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%s\n", r.Method, r.Setting, r.Seed, r.FinalGold, r.FinalKL,
			math.Sqrt(math.Max(0, r.FinalKL)), r.FinalInLanguage, r.PeakGold, r.PeakKL, r.RefGold, r.RefProxy, len(r.Gold), r.Dir)
	}
	return writeAtomic(path, []byte(b.String()))
}

// Save writes dir/frontier-methods.json (the runs' places, best-of-n, the fits), .csv (one line
// per run), the charts and, last, .md (Markdown), and returns the Markdown.
func (f *Frontier) Save(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("rlhf: %w", err)
	}
	md := f.Markdown()
	if err := errors.Join(WriteJSON(filepath.Join(dir, "frontier-methods.json"), f), f.writeCSV(filepath.Join(dir, "frontier-methods.csv")),
		f.WriteCharts(dir)); err != nil {
		return md, err
	}
	// The table last: it tells a finished frontier from one being written.
	return md, writeAtomic(filepath.Join(dir, "frontier-methods.md"), []byte(md))
}

// FrontierConfig adds direct-alignment runs to a finished PPO sweep and puts every method on one
// frontier.
type FrontierConfig struct {
	// Sweep is the directory of a finished `klppo rlhf sweep`: its seeds' π_ref and reward models
	// (seed-S/sft, seed-S/rm) are the DPO runs' π_ref and pairs, its PPO runs and best-of-n join
	// the frontier.
	Sweep string `json:"sweep"`
	// Grid is the DPO/IPO arms and their training (its Seeds, Prepare and the pairs come from the
	// sweep).
	Grid DPOGridConfig `json:"grid"`
	// Methods are other methods' runs: method name → a directory searched by DiscoverRuns (the
	// hook for GRPO, RLOO, …).
	Methods map[string]string `json:"methods,omitempty"`
	// FitMaxD limits every RL fit to rows with d = √KL ≤ FitMaxD (0: all); negative: the sweep's.
	FitMaxD float64 `json:"fit_max_d"`
}

// DefaultFrontierArms: DPO at β ∈ {0.01, 0.03, 0.1, 0.3, 1}, IPO (TRL's per-token mean) at
// τ ∈ {0.1, 0.3, 1, 3} and IPO with the sum over tokens at τ ∈ {0.03, 0.1, 0.3}.
func DefaultFrontierArms() []DPOArm {
	var arms []DPOArm
	for _, b := range []float64{0.01, 0.03, 0.1, 0.3, 1} {
		arms = append(arms, DPOArm{LossDPO, b, LogpSum})
	}
	for _, b := range []float64{0.1, 0.3, 1, 3} {
		arms = append(arms, DPOArm{LossIPO, b, LogpMean})
	}
	for _, b := range []float64{0.03, 0.1, 0.3} {
		arms = append(arms, DPOArm{LossIPO, b, LogpSum})
	}
	return arms
}

// DefaultFrontierConfig: DefaultFrontierArms for 4 epochs with 4 evaluations per epoch, the exact
// language mass at the first and the last, 2 runs at once, the sweep's fit range.
func DefaultFrontierConfig(sweep string) FrontierConfig {
	g := DPOGridConfig{Arms: DefaultFrontierArms(), DPO: DefaultDPOConfig(LossDPO, 0.1, 1), Parallel: 2}
	g.DPO.Epochs, g.DPO.EvalsPerEpoch, g.DPO.MassEvery = 4, 4, 0
	return FrontierConfig{Sweep: sweep, Grid: g, FitMaxD: -1}
}

// Validate checks every field, naming it as the configuration spells it: "sweep" (given; it is
// read by RunFrontier), the grid's arms, parallelism and DPO template ("grid.arms",
// "grid.parallel", "grid.dpo.lr", …; the grid's seeds and stages are the sweep's, checked when it
// is read), "methods" (each a name and a directory; a name that does not break the table or the
// CSV, and not "bon", the best-of-n law's) and "fit_max_d" (finite).
func (c FrontierConfig) Validate() error {
	if c.Sweep == "" {
		return bad("sweep", c.Sweep, "give the directory of a finished 'klppo rlhf sweep'")
	}
	g := c.Grid
	g.Seeds = []uint64{0} // the sweep's
	if err := g.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return bad("grid."+ce.Field, ce.Value, "%s", ce.Reason)
		}
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(c.Methods)) {
		switch dir := c.Methods[name]; {
		case name == "" || dir == "":
			return bad("methods", name+"="+dir, "want NAME=DIR, both given")
		case name == "bon":
			return bad("methods", name, "is the frontier's name of best-of-n; give the runs another name")
		case strings.ContainsAny(name, ",|\"\n\r\t"):
			return bad("methods", name, "a name must not hold a comma, '|', a quote, a tab or a line break (it is a cell of the CSV and the table)")
		}
	}
	if !finite(c.FitMaxD) {
		return bad("fit_max_d", c.FitMaxD, "want a finite number (0: every row; negative: the sweep's)")
	}
	return nil
}

// frontierMethod is the frontier's name of an arm's method: its loss, with the aggregation when
// it is not the loss's default ("ipo-sum").
func frontierMethod(a DPOArm) string {
	if a.defaultLogp() {
		return string(a.Loss)
	}
	return string(a.Loss) + "-" + string(a.Logp)
}

// RunFrontier runs cfg's DPO grid on the sweep's seeds into dir/seed-S/ARM (resuming as opts
// says), then builds the frontier of the sweep's PPO runs and best-of-n, the DPO runs and the
// other methods' runs, and saves it into dir (Frontier.Save). An invalid configuration
// (Validate) is refused before the sweep is read; dir states its kind (rundir.KindRLHFFrontier)
// before any run starts; dir is locked until RunFrontier returns (rundir.Lock).
func RunFrontier(ctx context.Context, cfg FrontierConfig, dir string, opts DPOGridOptions) (_ *Frontier, _ string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	res, err := LoadSweep(cfg.Sweep)
	if err != nil {
		return nil, "", err
	}
	grid := cfg.Grid
	grid.Seeds, grid.Prepare = res.Config.Seeds, res.Config.Prepare
	if err := grid.Validate(); err != nil {
		return nil, "", err
	}
	if err := grid.checkRuns(); err != nil { // the stages are the sweep's, loaded
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Field != "rm.pairs" {
			return nil, "", bad("grid."+ce.Field, ce.Value, "%s", ce.Reason)
		}
		return nil, "", err
	}
	unlock, err := rundir.CreateLocked(dir) // held until the frontier is saved (its DPO runs lock their own)
	if err != nil {
		return nil, "", fmt.Errorf("rlhf: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := rundir.WriteKind(dir, rundir.KindRLHFFrontier); err != nil {
		return nil, "", fmt.Errorf("rlhf: %w", err)
	}
	opts.SeedEnv = func(seed uint64) (GridSeed, error) {
		sd := filepath.Join(cfg.Sweep, fmt.Sprintf("seed-%d", seed))
		pc := res.Config.Prepare
		pc.SFTDir, pc.RMDir = filepath.Join(sd, "sft"), filepath.Join(sd, "rm")
		p, err := Prepare(ctx, pc, "", nil)
		if err != nil {
			return GridSeed{}, err
		}
		prefs, err := ReadRMConfig(pc.RMDir)
		return GridSeed{Env: p.Env, Prefs: prefs}, err
	}
	runs, err := RunDPOGrid(ctx, grid, dir, opts)
	if err != nil {
		return nil, "", err
	}
	var refs []FrontierRunRef
	for _, r := range res.Runs {
		// LoadSweep made every run path relative to the sweep and checked that it finished there.
		refs = append(refs, FrontierRunRef{Method: "ppo", Setting: r.Beta, Seed: r.Seed, Dir: filepath.Join(cfg.Sweep, r.Dir)})
	}
	for _, r := range runs {
		refs = append(refs, FrontierRunRef{Method: frontierMethod(r.Arm), Setting: r.Arm.Beta, Seed: r.Seed, Dir: filepath.Join(dir, r.Dir)})
	}
	names := make([]string, 0, len(cfg.Methods))
	for m := range cfg.Methods {
		names = append(names, m)
	}
	slices.Sort(names)
	for _, m := range names {
		rs, err := DiscoverRuns(m, cfg.Methods[m])
		if err != nil {
			return nil, "", err
		}
		refs = append(refs, rs...)
	}
	fitMaxD := cfg.FitMaxD
	if fitMaxD < 0 {
		fitMaxD = res.Config.FitMaxD
	}
	f, err := NewFrontier(refs, res.BoN, res.RefGold, fitMaxD)
	if err != nil {
		return nil, "", err
	}
	md, err := f.Save(dir)
	return f, md, err
}
