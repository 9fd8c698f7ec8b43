package rlhf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"klppo/internal/rundir"
)

// DPOArm is one setting of a grid of DPO runs: the loss, its β (IPO's τ) and how a completion's
// log-ratio aggregates over its tokens.
type DPOArm struct {
	Loss DPOLoss  `json:"loss"`
	Beta float64  `json:"beta"`
	Logp LogpNorm `json:"logp"`
}

// defaultLogp is the token aggregation DefaultDPOConfig gives the loss.
func (a DPOArm) defaultLogp() bool { return a.Logp == DefaultDPOConfig(a.Loss, 1, 0).Logp }

// Name is the arm as a label: "dpo β 0.1", "ipo β 0.3", "ipo (sum) β 0.1" when the aggregation
// is not the loss's default.
func (a DPOArm) Name() string {
	n := string(a.Loss)
	if !a.defaultLogp() {
		n += " (" + string(a.Logp) + ")"
	}
	return n + " β " + strconv.FormatFloat(a.Beta, 'g', -1, 64)
}

// Dir is the arm's run directory under its seed's: "dpo-beta-0.1", "ipo-sum-beta-0.1".
func (a DPOArm) Dir() string {
	n := string(a.Loss)
	if !a.defaultLogp() {
		n += "-" + string(a.Logp)
	}
	return n + "-beta-" + strconv.FormatFloat(a.Beta+0, 'g', -1, 64)
}

// String is the arm as ParseDPOArm reads it: "dpo:0.1", "ipo-sum:0.1".
func (a DPOArm) String() string {
	n := string(a.Loss)
	if !a.defaultLogp() {
		n += "-" + string(a.Logp)
	}
	return n + ":" + strconv.FormatFloat(a.Beta, 'g', -1, 64)
}

// ParseDPOArm parses "LOSS[-LOGP]:BETA", e.g. "dpo:0.1", "ipo:0.3", "ipo-sum:0.1" (LOGP defaults
// to the loss's: sum for dpo, mean for ipo).
func ParseDPOArm(s string) (DPOArm, error) {
	name, beta, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return DPOArm{}, fmt.Errorf("rlhf: arm %q: want LOSS[-LOGP]:BETA such as dpo:0.1 or ipo-sum:0.3", s)
	}
	loss, logp, _ := strings.Cut(name, "-")
	a := DPOArm{Loss: DPOLoss(loss)}
	a.Logp = DefaultDPOConfig(a.Loss, 1, 0).Logp
	if logp != "" {
		a.Logp = LogpNorm(logp)
	}
	var err error
	if a.Beta, err = strconv.ParseFloat(beta, 64); err != nil {
		return DPOArm{}, fmt.Errorf("rlhf: arm %q: β %q is not a number", s, beta)
	}
	c := DefaultDPOConfig(a.Loss, a.Beta, 0)
	c.Logp = a.Logp
	if err := c.Validate(); err != nil {
		return DPOArm{}, fmt.Errorf("rlhf: arm %q: %w", s, err)
	}
	return a, nil
}

// DPOGridConfig is a grid of DPO runs: every arm on every seed's π_ref and preference pairs.
type DPOGridConfig struct {
	Seeds []uint64  `json:"seeds"`
	Arms  []DPOArm  `json:"arms"`
	DPO   DPOConfig `json:"dpo"` // template: Loss, Beta, Logp and Seed are set per run
	// Prepare trains each seed's π_ref and reward model (its RM settings are the preference
	// pairs'); seeds are set per run.
	Prepare PrepareConfig `json:"prepare"`
	// Parallel is how many runs of a seed train at once (each with its own graphs); results do not
	// depend on it.
	Parallel int `json:"parallel"`
}

// Validate checks the grid and the template; an error is a *ConfigError naming the field
// ("seeds", "arms", "parallel", "dpo.lr", …).
func (c DPOGridConfig) Validate() error {
	switch {
	case len(c.Seeds) == 0:
		return bad("seeds", "[]", "give at least one seed")
	case len(c.Arms) == 0:
		return bad("arms", "[]", "give at least one arm")
	case c.Parallel < 1 || c.Parallel > MaxParallel:
		return bad("parallel", c.Parallel, "want 1 to %d", MaxParallel)
	case len(c.Seeds)*len(c.Arms) > MaxSweepRuns:
		return bad("seeds", len(c.Seeds), "%d seeds × %d arms = %d runs, at most %d", len(c.Seeds), len(c.Arms), len(c.Seeds)*len(c.Arms), MaxSweepRuns)
	}
	for i, s := range c.Seeds {
		if slices.Contains(c.Seeds[:i], s) {
			return bad("seeds", s, "appears twice (each seed is one run per arm, in its own directory)")
		}
	}
	for i, a := range c.Arms {
		for _, b := range c.Arms[:i] {
			if a.Dir() == b.Dir() {
				return bad("arms", a.String(), "appears twice (each arm is one run per seed, in its own directory)")
			}
		}
		if _, err := c.runConfig(a, 0); err != nil {
			return err
		}
	}
	return nil
}

// runConfig is the configuration of arm a on seed; an arm's own invalid setting (its loss, β or
// aggregation) is reported as the field "arms".
func (c DPOGridConfig) runConfig(a DPOArm, seed uint64) (DPOConfig, error) {
	r := c.DPO
	r.Loss, r.Beta, r.Logp, r.Seed = a.Loss, a.Beta, a.Logp, seed
	err := r.Validate()
	var ce *ConfigError
	if errors.As(err, &ce) && (ce.Field == "dpo.loss" || ce.Field == "dpo.beta" || ce.Field == "dpo.logp") {
		return r, bad("arms", a.String(), "%s = %v: %s", strings.TrimPrefix(ce.Field, "dpo."), ce.Value, ce.Reason)
	}
	return r, err
}

// DPOGridRun is one finished run of a grid.
type DPOGridRun struct {
	Seed    uint64     `json:"seed"`
	Arm     DPOArm     `json:"arm"`
	Dir     string     `json:"dir"` // relative to the grid's directory: seed-S/ARM
	Summary DPOSummary `json:"summary"`
}

// GridSeed is what a seed of a grid trains on: its π_ref and reward model (the latter only scores
// samples) and the configuration of its preference pairs.
type GridSeed struct {
	Env   Env
	Prefs RMConfig
}

// DPOGridOptions say where a grid's seeds come from, whether it resumes, and whom it tells.
type DPOGridOptions struct {
	// SeedEnv (nil: Prepare with cfg.Prepare into dir/seed-S) provides a seed's π_ref, reward
	// model and pairs.
	SeedEnv func(seed uint64) (GridSeed, error)
	// Resume keeps every run whose summary.json says it completed with the same configuration
	// (config.json) instead of training it again.
	Resume bool
	// OnRun (may be nil) is told of every finished (or kept) run, under a lock.
	OnRun func(DPOGridRun)
}

// RunDPOGrid runs every arm of cfg on every seed into dir/seed-S/ARM. The runs come back
// seed-major in the order of cfg.Arms (those finished before the first failure, with its
// error). A grid that is invalid (Validate) or one of whose stages or runs would not fit in
// memory (CheckMemory; with opts.SeedEnv, only the runs) is refused before anything is written.
// Each run locks its own directory (RunDPO); dir itself is left to the caller that owns it (Drift
// and RunFrontier lock it).
func RunDPOGrid(ctx context.Context, cfg DPOGridConfig, dir string, opts DPOGridOptions) ([]DPOGridRun, error) {
	seedEnv, onRun := opts.SeedEnv, opts.OnRun
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	check := cfg.CheckMemory
	if seedEnv != nil {
		check = cfg.checkRuns // the seeds' stages are the caller's
	}
	if err := check(); err != nil {
		return nil, err
	}
	if seedEnv == nil {
		seedEnv = func(seed uint64) (GridSeed, error) {
			sd := filepath.Join(dir, fmt.Sprintf("seed-%d", seed))
			pc := seedPrepare(cfg.Prepare, seed, sd, opts.Resume) // a resumed grid reuses the seed's π_ref and reward model
			p, err := Prepare(ctx, pc, sd, nil)
			return GridSeed{Env: p.Env, Prefs: pc.RM}, err
		}
	}
	var out []DPOGridRun
	var mu sync.Mutex
	for _, seed := range cfg.Seeds {
		gs, err := seedEnv(seed)
		if err != nil {
			return out, err
		}
		runs := make([]DPOGridRun, len(cfg.Arms))
		errs := make([]error, len(cfg.Arms))
		jobs := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < cfg.Parallel; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range jobs {
					a := cfg.Arms[k]
					rc, err := cfg.runConfig(a, seed)
					if err != nil {
						errs[k] = err
						continue
					}
					rel := filepath.Join(fmt.Sprintf("seed-%d", seed), a.Dir())
					if opts.Resume {
						if sum, ok := finishedDPORun(filepath.Join(dir, rel), rc, gs.Prefs); ok {
							runs[k] = DPOGridRun{Seed: seed, Arm: a, Dir: rel, Summary: sum}
							if onRun != nil {
								mu.Lock()
								onRun(runs[k])
								mu.Unlock()
							}
							continue
						}
					}
					sum, err := RunDPO(ctx, gs.Env, gs.Prefs, rc, filepath.Join(dir, rel), nil)
					runs[k], errs[k] = DPOGridRun{Seed: seed, Arm: a, Dir: rel, Summary: sum}, err
					if err == nil && onRun != nil {
						mu.Lock()
						onRun(runs[k])
						mu.Unlock()
					}
				}
			}()
		}
		for k := range cfg.Arms {
			jobs <- k
		}
		close(jobs)
		wg.Wait()
		for k := range runs {
			if errs[k] != nil {
				return out, errs[k]
			}
			out = append(out, runs[k])
		}
	}
	return out, nil
}

// finishedDPORun returns the summary of the DPO run in dir when it completed with the settings
// cfg on the pairs of prefs.
func finishedDPORun(dir string, cfg DPOConfig, prefs RMConfig) (DPOSummary, bool) {
	sum, err := ReadDPOSummary(filepath.Join(dir, SummaryFile))
	if err != nil || !sum.Complete {
		return sum, false
	}
	var rc DPORunConfig
	if err := readJSON(filepath.Join(dir, ConfigFile), &rc); err != nil {
		return sum, false
	}
	return sum, sameJSON([]any{rc.DPO, rc.Prefs}, []any{cfg, prefs})
}

// DefaultDriftConfig is the drift experiment: deterministic preferences (label noise 0), DPO with
// β = 0.1 and IPO with τ = 0.1 (TRL's defaults; IPO with TRL's per-token mean and with the
// paper's sum over tokens) on seeds 1, 2, 3 for 20 epochs, two evaluations per epoch with the
// exact mass at every epoch.
func DefaultDriftConfig() DPOGridConfig {
	c := DPOGridConfig{Seeds: []uint64{1, 2, 3}, Arms: []DPOArm{{LossDPO, 0.1, LogpSum}, {LossIPO, 0.1, LogpMean}, {LossIPO, 0.1, LogpSum}},
		DPO: DefaultDPOConfig(LossDPO, 0.1, 1), Prepare: DefaultPrepareConfig(1), Parallel: 2}
	c.DPO.Epochs, c.DPO.EvalsPerEpoch, c.DPO.MassEvery = 20, 2, 2
	c.Prepare.RM.Temperature = 0
	return c
}

// DriftRow is one arm at one epoch of the drift table: means and standard deviations over seeds.
type DriftRow struct {
	Arm   DPOArm
	Epoch float64
	Seeds int
	// mean and standard deviation over seeds of: the sequence KL, the gold reward (samples), the
	// log-probability changes of chosen and rejected completions, the margin, and where π's
	// probability is (exact; the four add up to 1): on the training pairs' sequences that were
	// only ever rejected, on those chosen at least once, on sentences of the language in no pair,
	// and on strings outside the language in no pair (NaN where the language mass was not
	// computed).
	KL, KLSD, Gold, GoldSD, Chosen, ChosenSD, Rejected, RejectedSD, Margin, MarginSD             float64
	OnRejected, OnRejectedSD, OnChosen, OnChosenSD, UnseenIn, UnseenInSD, UnseenOut, UnseenOutSD float64
}

// DriftTable aggregates the runs (read from their metrics.csv under dir) per arm at the given
// epochs (each seed's evaluation nearest to it).
func DriftTable(dir string, runs []DPOGridRun, epochs []float64) ([]DriftRow, error) {
	type key struct {
		arm   string
		epoch float64
	}
	byKey := map[key][]DPOMetrics{}
	var arms []DPOArm
	seen := map[string]bool{}
	for _, r := range runs {
		ms, err := ReadDPOMetrics(filepath.Join(dir, r.Dir, MetricsFile))
		if err != nil {
			return nil, err
		}
		if !seen[r.Arm.Dir()] {
			seen[r.Arm.Dir()] = true
			arms = append(arms, r.Arm)
		}
		for _, e := range epochs {
			best := -1
			for i, m := range ms {
				if best < 0 || math.Abs(m.Epoch-e) < math.Abs(ms[best].Epoch-e) {
					best = i
				}
			}
			if best >= 0 && math.Abs(ms[best].Epoch-e) < 0.5 {
				k := key{r.Arm.Dir(), e}
				byKey[k] = append(byKey[k], ms[best])
			}
		}
	}
	var out []DriftRow
	for _, a := range arms {
		for _, e := range epochs {
			ms := byKey[key{a.Dir(), e}]
			if len(ms) == 0 {
				continue
			}
			col := func(f func(DPOMetrics) float64) (float64, float64) {
				xs := make([]float64, len(ms))
				for i, m := range ms {
					xs[i] = f(m)
				}
				return meanStd(xs)
			}
			r := DriftRow{Arm: a, Epoch: e, Seeds: len(ms)}
			r.KL, r.KLSD = col(func(m DPOMetrics) float64 { return m.KL })
			r.Gold, r.GoldSD = col(func(m DPOMetrics) float64 { return m.Gold })
			r.Chosen, r.ChosenSD = col(func(m DPOMetrics) float64 { return m.ChosenChange })
			r.Rejected, r.RejectedSD = col(func(m DPOMetrics) float64 { return m.RejectedChange })
			r.Margin, r.MarginSD = col(func(m DPOMetrics) float64 { return m.Margin })
			r.OnRejected, r.OnRejectedSD = col(func(m DPOMetrics) float64 { return m.MassRejected })
			r.OnChosen, r.OnChosenSD = col(func(m DPOMetrics) float64 { return m.MassChosen + m.MassBoth })
			r.UnseenIn, r.UnseenInSD = col(func(m DPOMetrics) float64 { return m.MassOffDataInLang })
			r.UnseenOut, r.UnseenOutSD = col(func(m DPOMetrics) float64 { return m.MassOffData - m.MassOffDataInLang })
			out = append(out, r)
		}
	}
	return out, nil
}

// DriftEpochs are the epochs the drift table shows for a run of n epochs: 1, 2, 5, 10, 20, 50,
// 100 below n, and n.
func DriftEpochs(n int) []float64 {
	var at []float64
	for _, e := range []float64{1, 2, 5, 10, 20, 50, 100} {
		if e < float64(n) {
			at = append(at, e)
		}
	}
	return append(at, float64(n))
}

// Drift runs the drift experiment cfg into dir (its kind, rundir.KindRLHFDrift, first; then
// the grid, RunDPOGrid; then the report at the given epochs, WriteDriftReport) and returns the
// runs and the table. dir is locked until Drift returns (rundir.Lock: another Drift of it fails
// at once with rundir.ErrLocked).
func Drift(ctx context.Context, cfg DPOGridConfig, dir string, epochs []float64, opts DPOGridOptions) (_ []DPOGridRun, _ string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	if err := cfg.CheckMemory(); err != nil {
		return nil, "", err
	}
	unlock, err := rundir.CreateLocked(dir) // held until the experiment returns (its runs lock their own)
	if err != nil {
		return nil, "", fmt.Errorf("rlhf: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := rundir.WriteKind(dir, rundir.KindRLHFDrift); err != nil {
		return nil, "", fmt.Errorf("rlhf: %w", err)
	}
	runs, err := RunDPOGrid(ctx, cfg, dir, opts)
	if err != nil {
		return runs, "", err
	}
	table, err := WriteDriftReport(dir, cfg, runs, epochs)
	return runs, table, err
}

// WriteDriftReport writes dir/drift.md (the table of DriftTable at epochs), dir/drift.json (the
// runs) and the charts dir/drift-*.png (DPOCharts of every run, one colour per arm) and returns
// the table.
func WriteDriftReport(dir string, cfg DPOGridConfig, runs []DPOGridRun, epochs []float64) (string, error) {
	rows, err := DriftTable(dir, runs, epochs)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Drift: %d epochs of %s on label noise %g, seeds %v (mean ± sd over seeds). KL and gold on %d samples per evaluation; "+
		"Δ ln π = ln π − ln π_ref summed over a completion, averaged over the training pairs; h the margin in the loss's units; "+
		"the last four columns are exact and add up to 1: π on the pairs' sequences only ever rejected, on those chosen at least once, "+
		"on sentences of the language in no pair, on strings outside the language in no pair.\n\n",
		cfg.DPO.Epochs, armNames(cfg.Arms), cfg.Prepare.RM.Temperature, cfg.Seeds, cfg.DPO.EvalSamples)
	b.WriteString("| arm | epoch | KL(π‖π_ref) | gold | Δ ln π chosen | Δ ln π rejected | margin h | π rejected | π chosen | π unseen, in L | π unseen, outside L |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	pm := func(m, sd float64, prec int) string {
		if math.IsNaN(m) {
			return "—"
		}
		return fmt.Sprintf("%.*f ± %.*f", prec, m, prec, sd)
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Arm.Name(), r.Epoch, pm(r.KL, r.KLSD, 2),
			pm(r.Gold, r.GoldSD, 3), pm(r.Chosen, r.ChosenSD, 1), pm(r.Rejected, r.RejectedSD, 1), pm(r.Margin, r.MarginSD, 2),
			pm(r.OnRejected, r.OnRejectedSD, 4), pm(r.OnChosen, r.OnChosenSD, 3), pm(r.UnseenIn, r.UnseenInSD, 3), pm(r.UnseenOut, r.UnseenOutSD, 3))
	}
	table := b.String()
	if err := WriteJSON(filepath.Join(dir, "drift.json"), struct {
		Config DPOGridConfig `json:"config"`
		Runs   []DPOGridRun  `json:"runs"`
	}{cfg, runs}); err != nil {
		return table, err
	}
	var curves []DPOCurves
	armIndex := map[string]int{}
	for _, a := range cfg.Arms {
		armIndex[a.Dir()] = len(armIndex)
	}
	labelled := map[string]bool{}
	for _, r := range runs {
		ms, err := ReadDPOMetrics(filepath.Join(dir, r.Dir, MetricsFile))
		if err != nil {
			return table, err
		}
		label := ""
		if !labelled[r.Arm.Dir()] {
			label, labelled[r.Arm.Dir()] = r.Arm.Name(), true
		}
		curves = append(curves, DPOCurves{Label: label, Metrics: ms, Ref: r.Summary, Colour: armIndex[r.Arm.Dir()] + 1})
	}
	if err := DPOCharts(dir, "drift", curves); err != nil {
		return table, err
	}
	// drift.md last: it tells a finished drift from one being written.
	return table, writeAtomic(filepath.Join(dir, "drift.md"), []byte(table))
}

func armNames(arms []DPOArm) string {
	var s []string
	for _, a := range arms {
		s = append(s, a.Name())
	}
	return strings.Join(s, ", ")
}
