package rlhf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"klppo/internal/fileio"
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
	Peaked    bool    `json:"peaked"` // the law's maximum lies within the fitted points (0 < PeakD ≤ MaxD); else PeakD, PeakKL, PeakGain are 0
	MaxD      float64 `json:"max_d"`  // the largest d among the fitted points
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
		f.MaxD = max(f.MaxD, d[i])
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
	// A maximum beyond the data (e^(α/β − 1) is astronomic when β is small) is an extrapolation,
	// not a measured over-optimisation.
	f.Peaked = f.Beta > 0 && f.PeakD <= f.MaxD
	if !f.Peaked { // no over-optimisation within the data
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
	return c
}

// SweepRow is one PPO run of the sweep (frontier.csv).
type SweepRow struct {
	Seed    uint64  `json:"seed"`
	Beta    float64 `json:"beta"`
	Summary Summary `json:"summary"`
	Dir     string  `json:"dir"` // relative to the sweep's directory: SweepRunDir(Seed, Beta)
}

// Files of a sweep directory besides the run directories seed-S/{sft,rm,bon.csv,beta-B/}.
const (
	SweepFile         = "sweep.json"   // SweepResult: the settings, the finished runs, the fits
	FrontierCSV       = "frontier.csv" // one line per run
	FrontierTable     = "frontier.md"  // the table the command prints
	FrontierGoldChart = "frontier-gold.png"
	FrontierProxChart = "frontier-proxy.png"
)

// frontierFiles are written only by a complete sweep (Save); an incomplete one has none.
var frontierFiles = []string{FrontierCSV, FrontierTable, FrontierGoldChart, FrontierProxChart}

// SweepRunDir is the directory of the run (seed, β) relative to the sweep's directory, e.g.
// "seed-1/beta-0.5".
func SweepRunDir(seed uint64, beta float64) string {
	return filepath.Join(fmt.Sprintf("seed-%d", seed), "beta-"+strconv.FormatFloat(beta+0, 'g', -1, 64)) // +0: −0 is 0
}

// SweepResult is sweep.json. A sweep directory is a run directory like a training run's (its
// run.json says rundir.KindRLHFSweep): sweep.json is written when the sweep starts, with Complete
// false, rewritten as seeds finish, and marked Complete only after every run finished and the
// frontier files were written. An interrupted sweep keeps Complete false and no frontier files;
// Sweep with SweepOptions.Resume continues it.
type SweepResult struct {
	Complete bool                  `json:"complete"` // every run finished and the frontier files are written
	Config   SweepConfig           `json:"config"`
	Runs     []SweepRow            `json:"runs"` // finished runs, seed-major, in the order of Config.Betas
	BoN      map[string][]BoNPoint `json:"bon"`  // per seed
	RefGold  map[string]float64    `json:"ref_gold"`
	FitRL    *GaoFit               `json:"fit_rl,omitempty"`
	FitBoN   *GaoFit               `json:"fit_bon,omitempty"`
	WallS    float64               `json:"wall_s"` // over every session of the sweep

	dir    string // the sweep's directory, which Runs[i].Dir are relative to
	stated bool   // its run.json says rundir.KindRLHFSweep (sweeps of older versions have none)
}

// runPath is the directory of run r.
func (res *SweepResult) runPath(r SweepRow) string { return filepath.Join(res.dir, r.Dir) }

// SweepStep is what Sweep reports after each stage: a seed's preparation (π_ref, reward model,
// reference rewards and best-of-n) or one PPO run.
type SweepStep struct {
	Done, Total int     // stages finished so far, of Seeds × (Betas + 1)
	Seed        uint64  //
	Run         bool    // a PPO run (else a seed's preparation)
	Beta        float64 // the run's β
	Skipped     bool    // finished in an earlier session (Resume): nothing was trained now
	Summary     Summary // the run's summary
}

// SweepOptions say how Sweep treats its directory and whom it tells of its progress.
type SweepOptions struct {
	// Resume continues the sweep whose sweep.json is in the directory: the configuration must be
	// the saved one (Parallel aside); seeds whose π_ref and reward model were written are loaded,
	// and runs whose summary.json says complete are kept; unfinished runs start over. Resumed,
	// a sweep writes the same files as one that was never interrupted (timings aside).
	Resume bool
	// Force starts over in a directory that already holds a run (see internal/rundir).
	Force bool
	// Progress (may be nil) is called after every stage, under a lock; OnUpdate (may be nil)
	// after every PPO update, concurrently when Parallel > 1.
	Progress func(SweepStep)
	OnUpdate func(UpdateMetrics)
}

// ErrIncompleteSweep is wrapped by LoadSweep's error for a sweep that did not finish.
var ErrIncompleteSweep = errors.New("the sweep did not finish")

// Sweep runs the grid into dir: dir/seed-S/{sft,rm,bon.csv,beta-B/…}, then the fits and the
// frontier files (Save). A directory that holds a run is refused unless opts.Force, or
// opts.Resume for a sweep; dir is locked until Sweep returns (rundir.Lock: another Sweep of it
// fails at once with rundir.ErrLocked). When ctx is cancelled or a run fails, Sweep returns the error with
// the runs finished so far recorded in sweep.json, which stays incomplete.
func Sweep(ctx context.Context, cfg SweepConfig, dir string, opts SweepOptions) (_ *SweepResult, err error) {
	start := time.Now()
	if dir == "" {
		return nil, bad("out", `""`, "give a directory")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckMemory(); err != nil {
		return nil, err
	}
	res := &SweepResult{Config: cfg, BoN: map[string][]BoNPoint{}, RefGold: map[string]float64{}, dir: dir}
	unlock, err := lockExperiment(dir, "sweep", opts.Resume, opts.Force)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if opts.Resume {
		prev, err := readSweepFile(dir)
		if err != nil {
			return nil, err
		}
		if field, a, b := sweepConfigDiff(prev.Config, cfg); field != "" {
			return nil, bad(field, b, "the sweep in %s has %s: resume it with its own settings", dir, a)
		}
		if prev.Complete {
			return LoadSweep(dir)
		}
		res.WallS = prev.WallS
	}
	if err := readyExperiment(dir, "sweep", rundir.KindRLHFSweep, !opts.Resume, opts.Force, frontierFiles); err != nil {
		return nil, err
	}
	save := func() error {
		res.Complete = false
		return WriteJSON(filepath.Join(dir, SweepFile), res)
	}
	if err := save(); err != nil {
		return nil, err
	}
	total := len(cfg.Seeds) * (len(cfg.Betas) + 1)
	done := 0
	var mu sync.Mutex // guards done and Progress
	report := func(st SweepStep) {
		mu.Lock()
		defer mu.Unlock()
		done++
		st.Done, st.Total = done, total
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	fail := func(err error) (*SweepResult, error) {
		res.WallS += time.Since(start).Seconds()
		return res, errors.Join(err, save())
	}
	for _, seed := range cfg.Seeds {
		rows, err := res.seed(ctx, seed, opts, report)
		res.Runs = append(res.Runs, rows...)
		if err != nil {
			return fail(err)
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	if err := res.Fit(); err != nil {
		return fail(err)
	}
	res.WallS += time.Since(start).Seconds()
	if _, err := res.Save(dir); err != nil {
		return res, err
	}
	return res, nil
}

// seed runs the stages of one seed: π_ref and the reward model (loaded when a resumed sweep
// wrote them), the reference rewards, best-of-n, and a PPO run per β. It returns the finished
// runs in the order of Betas (all of them, or those before the first failure).
func (res *SweepResult) seed(ctx context.Context, seed uint64, opts SweepOptions, report func(SweepStep)) ([]SweepRow, error) {
	cfg := res.Config
	sd := filepath.Join(res.dir, fmt.Sprintf("seed-%d", seed))
	pc := seedPrepare(cfg.Prepare, seed, sd, opts.Resume)
	prep, err := Prepare(ctx, pc, sd, nil)
	if err != nil {
		return nil, err
	}
	ref, err := RefStatsOf(ctx, prep.Env.G, prep.Env.Gold, prep.Env.RM, prep.Env.Ref, cfg.PPO.RefSamples, seed)
	if err != nil {
		return nil, err
	}
	key := strconv.FormatUint(seed, 10)
	res.RefGold[key] = ref.Gold
	if len(cfg.BoNNs) > 0 {
		pts, err := BestOfN(ctx, prep.Env.G, prep.Env.Gold, prep.Env.Ref, prep.Env.RM, cfg.BoNPool, cfg.BoNNs, seed)
		if err != nil {
			return nil, err
		}
		res.BoN[key] = pts
		if err := WriteBoNCSV(filepath.Join(sd, "bon.csv"), pts); err != nil {
			return nil, err
		}
	}
	report(SweepStep{Seed: seed})
	rows := make([]SweepRow, len(cfg.Betas))
	errs := make([]error, len(cfg.Betas))
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
				rel := SweepRunDir(seed, beta)
				rd := filepath.Join(res.dir, rel)
				if opts.Resume {
					if sum, ok := finishedOnlineRun(rd, RunConfig{Method: "ppo", PPO: &pcfg}); ok {
						rows[k] = SweepRow{Seed: seed, Beta: beta, Summary: sum, Dir: rel}
						report(SweepStep{Seed: seed, Run: true, Beta: beta, Skipped: true, Summary: sum})
						continue
					}
				}
				if ctx.Err() != nil {
					errs[k] = fmt.Errorf("rlhf: sweep: %w", ctx.Err())
					continue
				}
				sum, err := RunPPO(ctx, prep.Env, pcfg, rd, opts.OnUpdate)
				rows[k], errs[k] = SweepRow{Seed: seed, Beta: beta, Summary: sum, Dir: rel}, err
				if err == nil {
					report(SweepStep{Seed: seed, Run: true, Beta: beta, Summary: sum})
				}
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
			return rows[:k], errs[k]
		}
	}
	return rows, nil
}

// seedPrepare is the pipeline of one seed of an experiment whose seed directory is sd: pc with
// the seed's SFT and reward-model seeds, and, when resuming, the stages an earlier run of the
// experiment wrote completely there loaded instead of trained again.
func seedPrepare(pc PrepareConfig, seed uint64, sd string, resume bool) PrepareConfig {
	pc.SFT.Seed, pc.RM.Seed = seed, seed
	if resume && stageWritten(filepath.Join(sd, "sft"), SFTModelFile) {
		pc.SFTDir = filepath.Join(sd, "sft")
		if stageWritten(filepath.Join(sd, "rm"), RMModelFile) {
			pc.RMDir = filepath.Join(sd, "rm")
		}
	}
	return pc
}

// stageWritten reports whether dir holds a stage Prepare wrote completely (its model file and,
// written last, its summary.json).
func stageWritten(dir, model string) bool {
	for _, f := range []string{model, SummaryFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// sweepConfigDiff names the first setting in which a and b differ (Parallel, which does not
// change the results, aside) with both values as JSON, or "" when they are the same sweep.
func sweepConfigDiff(a, b SweepConfig) (field, av, bv string) {
	a.Parallel, b.Parallel = 0, 0
	fields := []struct {
		name string
		a, b any
	}{
		{"betas", a.Betas, b.Betas}, {"seeds", a.Seeds, b.Seeds}, {"ppo", a.PPO, b.PPO}, {"bon_n", a.BoNNs, b.BoNNs},
		{"bon_pool", a.BoNPool, b.BoNPool}, {"fit_max_d", a.FitMaxD, b.FitMaxD}, {"prepare", a.Prepare, b.Prepare},
	}
	for _, f := range fields {
		x, _ := json.Marshal(f.a)
		y, _ := json.Marshal(f.b)
		if !bytes.Equal(x, y) {
			return f.name, string(x), string(y)
		}
	}
	return "", "", ""
}

// readSweepFile reads dir/sweep.json strictly: a file with other fields (a `klppo compare`
// sweep) or another kind is refused, and so is one whose configuration is invalid.
func readSweepFile(dir string) (*SweepResult, error) {
	path := filepath.Join(dir, SweepFile)
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	var res SweepResult
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&res); err != nil {
		return nil, fmt.Errorf("rlhf: %s is not the sweep.json of an RLHF sweep: %w", path, err)
	}
	kind, err := rundir.ReadKind(dir)
	switch {
	case err == nil && kind != rundir.KindRLHFSweep:
		return nil, fmt.Errorf("rlhf: %s holds a run of kind %q, not an RLHF sweep", dir, kind)
	case err == nil:
		res.stated = true
	case !errors.Is(err, rundir.ErrNoKind): // no run.json: written before runs stated their kind
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	if err := res.Config.Validate(); err != nil {
		return nil, fmt.Errorf("rlhf: %s is not the sweep.json of an RLHF sweep: config: %w", path, err)
	}
	res.dir = dir
	return &res, nil
}

// ReadSweepConfig returns the configuration saved in dir/sweep.json (to resume the sweep).
func ReadSweepConfig(dir string) (SweepConfig, error) {
	res, err := readSweepFile(dir)
	if err != nil {
		return SweepConfig{}, err
	}
	return res.Config, nil
}

// LoadSweep reads the complete sweep in dir (sweep.json written by Save) for a refit: every run
// of the grid must be listed once and its summary.json in the sweep's directory must say it
// completed. Run directories are taken relative to dir, so a moved sweep reads its own runs. An
// interrupted sweep gives an error wrapping ErrIncompleteSweep.
func LoadSweep(dir string) (*SweepResult, error) {
	res, err := readSweepFile(dir)
	if err != nil {
		return nil, err
	}
	cfg := res.Config
	want := len(cfg.Betas) * len(cfg.Seeds)
	if res.stated && !res.Complete { // an older sweep.json has no mark: its runs are checked below
		return nil, fmt.Errorf("rlhf: %s: %w (%d of %d runs finished): continue it with resume", dir, ErrIncompleteSweep, len(res.Runs), want)
	}
	seen := map[string]bool{}
	for i, r := range res.Runs {
		rel := SweepRunDir(r.Seed, r.Beta)
		if !slices.Contains(cfg.Seeds, r.Seed) || !slices.Contains(cfg.Betas, r.Beta) || seen[rel] {
			return nil, fmt.Errorf("rlhf: %s/%s: run %d (seed %d, β %g) is not one run of the grid", dir, SweepFile, i, r.Seed, r.Beta)
		}
		seen[rel] = true
		res.Runs[i].Dir = rel // files of older versions stored the path from the working directory
		sum, err := ReadSummary(filepath.Join(dir, rel, SummaryFile))
		if err != nil {
			return nil, fmt.Errorf("rlhf: %s: %w", dir, err)
		}
		if !sum.Complete {
			return nil, fmt.Errorf("rlhf: %s: %w: run %s stopped after %d updates", dir, ErrIncompleteSweep, rel, sum.Updates)
		}
	}
	if len(res.Runs) != want {
		return nil, fmt.Errorf("rlhf: %s: %w (%d of %d runs finished): continue it with resume", dir, ErrIncompleteSweep, len(res.Runs), want)
	}
	if len(cfg.BoNNs) > 0 {
		for _, s := range cfg.Seeds {
			if pts := res.BoN[strconv.FormatUint(s, 10)]; len(pts) != len(cfg.BoNNs) {
				return nil, fmt.Errorf("rlhf: %s/%s: best-of-n of seed %d has %d points, want %d", dir, SweepFile, s, len(pts), len(cfg.BoNNs))
			}
		}
	}
	res.Complete = true
	return res, nil
}

// Fit fits Gao's laws: RL on every update of every run (d = √KL, R = gold − ref_gold of the
// seed, both smoothed over 5 updates) with 0 < d ≤ FitMaxD, best-of-n on every (n > 1, seed)
// point with d = √(the KL bound).
func (res *SweepResult) Fit() error {
	res.FitRL, res.FitBoN = nil, nil
	var d, r []float64
	for _, run := range res.Runs {
		ms, err := ReadMetrics(filepath.Join(res.runPath(run), MetricsFile))
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
	for _, seed := range res.Config.Seeds { // in seed order: the sums do not depend on map order
		key := strconv.FormatUint(seed, 10)
		for _, p := range res.BoN[key] {
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

// Markdown returns the frontier table (frontier.md, and what `klppo rlhf sweep` prints).
func (res *SweepResult) Markdown() string {
	var b strings.Builder
	var refs []float64
	for _, seed := range res.Config.Seeds { // seed order: the same sums whatever the map order
		if v, ok := res.RefGold[strconv.FormatUint(seed, 10)]; ok {
			refs = append(refs, v)
		}
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
			for _, pts := range res.bonBySeed() {
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
		peak := fmt.Sprintf("peak gain %.3f at d = %.2f (KL %.2f nats)", f.PeakGain, f.PeakD, f.PeakKL)
		if !f.Peaked {
			peak = fmt.Sprintf("no peak within the fitted points (d ≤ %.2f)", f.MaxD)
		}
		fmt.Fprintf(&b, "\nGao fit (%s): R(d) = %s, α = %.3f, β = %.3f (%d points, RMSE %.3f); %s\n",
			f.Kind, law, f.Alpha, f.Beta, f.N, f.RMSE, peak)
	}
	return b.String()
}

// bonBySeed returns the best-of-n points of every seed that has them, in seed order.
func (res *SweepResult) bonBySeed() [][]BoNPoint {
	var out [][]BoNPoint
	for _, seed := range res.Config.Seeds {
		if pts, ok := res.BoN[strconv.FormatUint(seed, 10)]; ok {
			out = append(out, pts)
		}
	}
	return out
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

// Save writes the frontier files (frontier.csv, frontier.md, the charts) of a complete sweep
// into dir, then sweep.json marked complete, and returns the table. The runs' files are read
// from the sweep's own directory (where Sweep or LoadSweep found them).
func (res *SweepResult) Save(dir string) (table string, err error) {
	if want := len(res.Config.Betas) * len(res.Config.Seeds); len(res.Runs) != want {
		return "", fmt.Errorf("rlhf: save %s: %w (%d of %d runs)", dir, ErrIncompleteSweep, len(res.Runs), want)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("rlhf: %w", err)
	}
	if err := res.WriteFrontierCSV(filepath.Join(dir, FrontierCSV)); err != nil {
		return "", err
	}
	table = res.Markdown()
	if err := writeAtomic(filepath.Join(dir, FrontierTable), []byte(table)); err != nil {
		return table, err
	}
	if err := res.WriteCharts(dir); err != nil {
		return table, err
	}
	res.Complete = true
	return table, WriteJSON(filepath.Join(dir, SweepFile), res)
}

// lockExperiment opens dir for a resumable experiment of runs (Sweep, Leash; what names it in
// errors) and returns its lock, held until the experiment returns — its runs lock their own
// directories — so that a second writer of dir (a second resume, or a fresh experiment started
// at the same moment) fails at once. A fresh experiment creates dir; a resumed one needs it to
// exist. resume and force exclude each other.
func lockExperiment(dir, what string, resume, force bool) (unlock func() error, err error) {
	if resume && force {
		return nil, fmt.Errorf("rlhf: %s: resume and force exclude each other", what)
	}
	if !resume {
		if err := rundir.Create(dir); err != nil {
			return nil, fmt.Errorf("rlhf: %s: %s: %w", what, dir, err)
		}
	}
	if unlock, err = rundir.Lock(dir); err != nil {
		return nil, fmt.Errorf("rlhf: %s: %w", what, err)
	}
	return unlock, nil
}

// readyExperiment readies the locked dir of an experiment of kind k that is not complete: a
// fresh one (fresh) must not hold another run unless force; dir states its kind; and the
// outputs the experiment writes only when it completes are removed (an incomplete experiment
// has none).
func readyExperiment(dir, what string, k rundir.Kind, fresh, force bool, outputs []string) error {
	if fresh {
		if err := rundir.Check(dir); err != nil && !(force && rundir.HoldsRun(err)) {
			return fmt.Errorf("rlhf: %s: %w", what, err)
		}
	}
	if err := rundir.WriteKind(dir, k); err != nil {
		return fmt.Errorf("rlhf: %s: %w", what, err)
	}
	for _, f := range outputs {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rlhf: %s: %w", what, err)
		}
	}
	return nil
}
