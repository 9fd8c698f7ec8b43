package rlhf

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"klppo/internal/rundir"
)

// GaoFit is a least-squares fit of one of Gao, Schulman & Hilton's (2022) over-optimisation laws
// to points (d, R) with d = √KL(π‖π_ref) and R the gold reward gained over π_ref:
//
//	RL:          R(d) = d·(α − β·ln d)   (peak at d* = e^(α/β − 1), R* = β·d*)
//	best-of-n:   R(d) = d·(α − β·d)      (peak at d* = α/(2β),     R* = α²/(4β))
//
// Both are linear in (α, β), so the fit is ordinary least squares on the features (d, −d·ln d)
// or (d, −d²) without an intercept (R(0) = 0).
type GaoFit struct {
	Kind      string  `json:"kind"`   // "rl" or "bon"
	Peaked    bool    `json:"peaked"` // β > 0: the law has a maximum (else PeakD, PeakKL, PeakGain are 0)
	Alpha     float64 `json:"alpha"`
	Beta      float64 `json:"beta"`
	PeakD     float64 `json:"peak_d"`
	PeakKL    float64 `json:"peak_kl"`
	PeakGain  float64 `json:"peak_gain"`
	N         int     `json:"points"`
	RMSE      float64 `json:"rmse"`
	Reference float64 `json:"ref_gold"` // the gold reward R is measured from
}

// Eval returns R(d).
func (f GaoFit) Eval(d float64) float64 {
	if d <= 0 {
		return 0
	}
	if f.Kind == "rl" {
		return d * (f.Alpha - f.Beta*math.Log(d))
	}
	return d * (f.Alpha - f.Beta*d)
}

// FitGao fits kind ("rl" or "bon") to the points; it needs ≥ 2 points with d > 0.
func FitGao(kind string, d, r []float64) (GaoFit, error) {
	f := GaoFit{Kind: kind}
	if kind != "rl" && kind != "bon" {
		return f, fmt.Errorf("rlhf: gao fit: kind %q, want rl or bon", kind)
	}
	if len(d) != len(r) {
		return f, fmt.Errorf("rlhf: gao fit: %d distances, %d rewards", len(d), len(r))
	}
	var s11, s12, s22, t1, t2 float64
	for i := range d {
		if !(d[i] > 0) || math.IsNaN(r[i]) || math.IsInf(d[i], 0) {
			continue
		}
		x1 := d[i]
		x2 := -d[i] * d[i]
		if kind == "rl" {
			x2 = -d[i] * math.Log(d[i])
		}
		s11 += x1 * x1
		s12 += x1 * x2
		s22 += x2 * x2
		t1 += x1 * r[i]
		t2 += x2 * r[i]
		f.N++
	}
	det := s11*s22 - s12*s12
	if f.N < 2 || !(math.Abs(det) > 1e-12*s11*s22) {
		return f, fmt.Errorf("rlhf: gao fit (%s): %d usable points, degenerate", kind, f.N)
	}
	f.Alpha = (t1*s22 - t2*s12) / det
	f.Beta = (s11*t2 - s12*t1) / det
	var sse float64
	for i := range d {
		if d[i] > 0 && !math.IsNaN(r[i]) && !math.IsInf(d[i], 0) {
			e := f.Eval(d[i]) - r[i]
			sse += e * e
		}
	}
	f.RMSE = math.Sqrt(sse / float64(f.N))
	switch {
	case f.Beta > 0 && kind == "rl":
		f.PeakD = math.Exp(f.Alpha/f.Beta - 1)
		f.PeakGain = f.Beta * f.PeakD
	case f.Beta > 0:
		f.PeakD = f.Alpha / (2 * f.Beta)
		f.PeakGain = f.Alpha * f.Alpha / (4 * f.Beta)
	}
	f.Peaked = f.Beta > 0 && !math.IsInf(f.PeakD, 0)
	if !f.Peaked { // no over-optimisation within the data (or e^(α/β) overflows)
		f.PeakD, f.PeakGain = 0, 0
	}
	f.PeakKL = f.PeakD * f.PeakD
	return f, nil
}

// SweepConfig is a β grid × seeds (PPO from each seed's π_ref and reward model) plus best-of-n.
type SweepConfig struct {
	Betas   []float64 `json:"betas"`
	Seeds   []uint64  `json:"seeds"`
	PPO     PPOConfig `json:"ppo"` // template: KL.Beta and Seed are set per run
	BoNNs   []int     `json:"bon_n"`
	BoNPool int       `json:"bon_pool"`
	// Parallel is how many PPO runs of a seed train at once (each in its own goroutine with its
	// own graphs; π_ref and the reward model are shared read-only). Results do not depend on it.
	Parallel int `json:"parallel"`
	// FitMaxD limits the RL fit to points with d = √KL ≤ FitMaxD: Gao's law has no floor, while
	// here the gold reward of text outside the language is −1, so the collapsed runs (d ≈ 7–11)
	// would only measure the floor.
	FitMaxD float64 `json:"fit_max_d"`
	Prepare PrepareConfig
}

// DefaultSweepConfig: β ∈ {0, 0.03, 0.1, 0.2, 0.3, 0.5, 1} × seeds {1, 2, 3}, 150 updates each,
// best-of-n for n = 1 … 512 on a pool of 20000 π_ref samples.
func DefaultSweepConfig() SweepConfig {
	c := SweepConfig{Betas: []float64{0, 0.03, 0.1, 0.2, 0.3, 0.5, 1}, Seeds: []uint64{1, 2, 3},
		PPO: DefaultPPOConfig(0, 1), BoNNs: []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}, BoNPool: 20000, Parallel: 2, FitMaxD: 3,
		Prepare: DefaultPrepareConfig(1)}
	c.PPO.Updates = 150
	return c
}

// SweepRow is one PPO run of the sweep (frontier.csv).
type SweepRow struct {
	Seed    uint64  `json:"seed"`
	Beta    float64 `json:"beta"`
	Summary Summary `json:"summary"`
	Dir     string  `json:"dir"`
}

// SweepResult is sweep.json.
type SweepResult struct {
	Config  SweepConfig           `json:"config"`
	Runs    []SweepRow            `json:"runs"`
	BoN     map[string][]BoNPoint `json:"bon"` // per seed
	RefGold map[string]float64    `json:"ref_gold"`
	FitRL   *GaoFit               `json:"fit_rl,omitempty"`
	FitBoN  *GaoFit               `json:"fit_bon,omitempty"`
	WallS   float64               `json:"wall_s"`
}

// Sweep runs the grid into dir: dir/seed-S/{sft,rm,bon.csv,beta-B/…}; res.Save writes
// dir/frontier.csv, dir/sweep.json, the table and the charts. progress and onUpdate (may be nil)
// are told after every run and every update; with Parallel > 1 they are called from several
// goroutines (progress under a lock, onUpdate concurrently).
func Sweep(ctx context.Context, cfg SweepConfig, dir string, progress func(done, total int, what string), onUpdate func(UpdateMetrics)) (*SweepResult, error) {
	if len(cfg.Betas) == 0 || len(cfg.Seeds) == 0 {
		return nil, fmt.Errorf("rlhf: sweep: need ≥ 1 β and ≥ 1 seed")
	}
	if err := rundir.WriteKind(dir, rundir.KindRLHFSweep); err != nil {
		return nil, fmt.Errorf("rlhf: sweep: %w", err)
	}
	res := &SweepResult{Config: cfg, BoN: map[string][]BoNPoint{}, RefGold: map[string]float64{}}
	total := len(cfg.Seeds) * (len(cfg.Betas) + 1)
	done := 0
	for _, seed := range cfg.Seeds {
		sd := filepath.Join(dir, fmt.Sprintf("seed-%d", seed))
		pc := cfg.Prepare
		pc.SFT.Seed, pc.RM.Seed = seed, seed
		prep, err := Prepare(ctx, pc, sd, nil)
		if err != nil {
			return res, err
		}
		ref, err := RefStatsOf(prep.Env.G, prep.Env.Gold, prep.Env.RM, prep.Env.Ref, cfg.PPO.RefSamples, seed)
		if err != nil {
			return res, err
		}
		key := strconv.FormatUint(seed, 10)
		res.RefGold[key] = ref.Gold
		if len(cfg.BoNNs) > 0 {
			pts, err := BestOfN(ctx, prep.Env.G, prep.Env.Gold, prep.Env.Ref, prep.Env.RM, cfg.BoNPool, cfg.BoNNs, seed)
			if err != nil {
				return res, err
			}
			res.BoN[key] = pts
			if err := WriteBoNCSV(filepath.Join(sd, "bon.csv"), pts); err != nil {
				return res, err
			}
		}
		done++
		if progress != nil {
			progress(done, total, fmt.Sprintf("seed %d: sft, rm, best-of-n", seed))
		}
		rows := make([]SweepRow, len(cfg.Betas))
		errs := make([]error, len(cfg.Betas))
		var mu sync.Mutex
		jobs := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < max(1, cfg.Parallel); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range jobs {
					beta := cfg.Betas[k]
					pcfg := cfg.PPO
					pcfg.KL.Beta, pcfg.Seed = beta, seed
					rd := filepath.Join(sd, "beta-"+strconv.FormatFloat(beta, 'g', -1, 64))
					sum, err := RunPPO(ctx, prep.Env, pcfg, rd, onUpdate)
					rows[k], errs[k] = SweepRow{Seed: seed, Beta: beta, Summary: sum, Dir: rd}, err
					mu.Lock()
					done++
					if progress != nil {
						progress(done, total, fmt.Sprintf("seed %d β %g: gold %.2f", seed, beta, sum.FinalGold))
					}
					mu.Unlock()
				}
			}()
		}
		for k := range cfg.Betas {
			jobs <- k
		}
		close(jobs)
		wg.Wait()
		for k := range rows {
			if errs[k] != nil {
				return res, errs[k]
			}
			res.Runs = append(res.Runs, rows[k])
		}
	}
	if err := res.Fit(); err != nil {
		return res, err
	}
	return res, nil
}

// LoadSweep reads dir/sweep.json written by Save (the run directories it names must still exist
// for Fit).
func LoadSweep(dir string) (*SweepResult, error) {
	data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	var res SweepResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("rlhf: %s/sweep.json: %w", dir, err)
	}
	return &res, nil
}

// Fit fits Gao's laws: RL on every update of every run (d = √KL, R = gold − ref_gold of the
// seed, both smoothed over 5 updates) with 0 < d ≤ FitMaxD, best-of-n on every (n > 1, seed)
// point with d = √(ln n − (n−1)/n).
func (res *SweepResult) Fit() error {
	res.FitRL, res.FitBoN = nil, nil
	var d, r []float64
	for _, run := range res.Runs {
		ms, err := ReadMetrics(filepath.Join(run.Dir, MetricsFile))
		if err != nil {
			return err
		}
		gold, kls := make([]float64, len(ms)), make([]float64, len(ms))
		for i, m := range ms {
			gold[i], kls[i] = m.Gold, m.KL
		}
		gold, kls = smooth(gold, 5), smooth(kls, 5)
		ref := res.RefGold[strconv.FormatUint(run.Seed, 10)]
		for i := range gold {
			if kls[i] > 0 && (res.Config.FitMaxD <= 0 || math.Sqrt(kls[i]) <= res.Config.FitMaxD) {
				d = append(d, math.Sqrt(kls[i]))
				r = append(r, gold[i]-ref)
			}
		}
	}
	if f, err := FitGao("rl", d, r); err == nil {
		res.FitRL = &f
	}
	d, r = nil, nil
	for key, pts := range res.BoN {
		for _, p := range pts {
			if p.N > 1 {
				d = append(d, math.Sqrt(p.KLBound))
				r = append(r, p.Gold-res.RefGold[key])
			}
		}
	}
	if f, err := FitGao("bon", d, r); err == nil {
		res.FitBoN = &f
	}
	return nil
}

// WriteBoNCSV writes best-of-n points.
func WriteBoNCSV(path string, pts []BoNPoint) error {
	var b strings.Builder
	b.WriteString("n,proxy_reward,gold_reward,kl_bound,kl_estimate,in_language,top_sample\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%q\n", p.N, p.Proxy, p.Gold, p.KLBound, p.KL, p.InLang, p.Favourite)
	}
	return writeAtomic(path, []byte(b.String()))
}

// BetaRow aggregates one β over seeds (the frontier table).
type BetaRow struct {
	Beta                                          float64
	Seeds                                         int
	Proxy, ProxySD, Gold, GoldSD, KL, KLSD, InLng float64
	PeakGold, PeakKL                              float64
}

// Table aggregates the runs per β, in increasing β.
func (res *SweepResult) Table() []BetaRow {
	by := map[float64][]Summary{}
	for _, r := range res.Runs {
		by[r.Beta] = append(by[r.Beta], r.Summary)
	}
	var betas []float64
	for b := range by {
		betas = append(betas, b)
	}
	sort.Float64s(betas)
	var out []BetaRow
	for _, b := range betas {
		ss := by[b]
		row := BetaRow{Beta: b, Seeds: len(ss)}
		col := func(f func(Summary) float64) (float64, float64) {
			xs := make([]float64, len(ss))
			for i, s := range ss {
				xs[i] = f(s)
			}
			return meanStd(xs)
		}
		row.Proxy, row.ProxySD = col(func(s Summary) float64 { return s.FinalProxy })
		row.Gold, row.GoldSD = col(func(s Summary) float64 { return s.FinalGold })
		row.KL, row.KLSD = col(func(s Summary) float64 { return s.FinalKL })
		row.InLng, _ = col(func(s Summary) float64 { return s.FinalInLanguage })
		row.PeakGold, _ = col(func(s Summary) float64 { return s.PeakGold })
		row.PeakKL, _ = col(func(s Summary) float64 { return s.PeakKL })
		out = append(out, row)
	}
	return out
}

// WriteTable writes the frontier table (Markdown) to path and returns it.
func (res *SweepResult) WriteTable(path string) (string, error) {
	var b strings.Builder
	var refs []float64
	for _, v := range res.RefGold {
		refs = append(refs, v)
	}
	rg, _ := meanStd(refs)
	fmt.Fprintf(&b, "π_ref: gold %.3f (mean over seeds)\n\n", rg)
	b.WriteString("| β | seeds | final proxy | final gold | final KL (nats/seq) | √KL | in-language | peak gold | KL at peak |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range res.Table() {
		fmt.Fprintf(&b, "| %g | %d | %.2f ± %.2f | %.3f ± %.3f | %.2f ± %.2f | %.2f | %.0f%% | %.3f | %.2f |\n",
			r.Beta, r.Seeds, r.Proxy, r.ProxySD, r.Gold, r.GoldSD, r.KL, r.KLSD, math.Sqrt(r.KL), 100*r.InLng, r.PeakGold, r.PeakKL)
	}
	if len(res.BoN) > 0 {
		b.WriteString("\n| best-of-n | proxy | gold | KL bound | KL estimate | in-language |\n|---|---|---|---|---|---|\n")
		for i, p := range res.BoN[strconv.FormatUint(res.Config.Seeds[0], 10)] {
			var px, gd, kl, in []float64
			for _, pts := range res.BoN {
				px = append(px, pts[i].Proxy)
				gd = append(gd, pts[i].Gold)
				kl = append(kl, pts[i].KL)
				in = append(in, pts[i].InLang)
			}
			mp, _ := meanStd(px)
			mg, _ := meanStd(gd)
			mk, _ := meanStd(kl)
			mi, _ := meanStd(in)
			fmt.Fprintf(&b, "| n = %d | %.2f | %.3f | %.2f | %.2f | %.0f%% |\n", p.N, mp, mg, p.KLBound, mk, 100*mi)
		}
	}
	for _, f := range []*GaoFit{res.FitRL, res.FitBoN} {
		if f == nil {
			continue
		}
		law := fmt.Sprintf("d(α − β ln d) on the updates with d ≤ %g", res.Config.FitMaxD)
		if f.Kind == "bon" {
			law = "d(α − β d)"
		}
		fmt.Fprintf(&b, "\nGao fit (%s): R(d) = %s, α = %.3f, β = %.3f (%d points, RMSE %.3f); peak gain %.3f at d = %.2f (KL %.2f nats)\n",
			f.Kind, law, f.Alpha, f.Beta, f.N, f.RMSE, f.PeakGain, f.PeakD, f.PeakKL)
	}
	s := b.String()
	return s, writeAtomic(path, []byte(s))
}

// WriteFrontierCSV writes one line per run.
func (res *SweepResult) WriteFrontierCSV(path string) error {
	var b strings.Builder
	b.WriteString("seed,beta,final_proxy,final_gold,final_kl,sqrt_kl,final_in_language,peak_gold,peak_kl,ref_proxy,ref_gold,dir\n")
	for _, r := range res.Runs {
		s := r.Summary
		fmt.Fprintf(&b, "%d,%g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%s\n", r.Seed, r.Beta, s.FinalProxy, s.FinalGold,
			s.FinalKL, math.Sqrt(s.FinalKL), s.FinalInLanguage, s.PeakGold, s.PeakKL, s.RefProxy, s.RefGold, r.Dir)
	}
	return writeAtomic(path, []byte(b.String()))
}

// Save writes sweep.json, frontier.csv, frontier.md and the charts into dir.
func (res *SweepResult) Save(dir string) (table string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("rlhf: %w", err)
	}
	if err := WriteJSON(filepath.Join(dir, "sweep.json"), res); err != nil {
		return "", err
	}
	if err := res.WriteFrontierCSV(filepath.Join(dir, "frontier.csv")); err != nil {
		return "", err
	}
	if table, err = res.WriteTable(filepath.Join(dir, "frontier.md")); err != nil {
		return table, err
	}
	return table, res.WriteCharts(dir)
}
