package rlhf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"klppo/internal/fileio"
	"klppo/internal/rng"
	"klppo/internal/rundir"

	"gonum.org/v1/plot"
)

// The leash experiment asks whether RLHF still needs its KL leash: the online methods (PPO,
// GRPO, RLOO) × the reward they maximise (gold: verifiable, nothing to hack; rm: the learned
// reward model, hackable) × β, each on several seeds, with best-of-n (ranked by either reward)
// as the reference that trains nothing. Every run is prompted (the same training prompts, the
// same held-out prompts for evaluation) and reports the same summary, so the methods are
// compared on the same footing.

// Methods of the leash experiment.
const (
	MethodPPO  = "ppo"
	MethodGRPO = "grpo"
	MethodRLOO = "rloo"
)

// LeashConfig is the grid of `klppo rlhf leash`.
type LeashConfig struct {
	Methods []string  `json:"methods"` // ppo, grpo, rloo
	Rewards []Reward  `json:"rewards"` // gold, rm
	Betas   []float64 `json:"betas"`
	Seeds   []uint64  `json:"seeds"`
	// The methods' templates: Updates, the reward, β, the seed, the held-out prompts and the
	// evaluation are set per run (the same for all); PPO runs are prompted.
	Updates int        `json:"updates"`
	HeldOut float64    `json:"held_out"`
	Eval    EvalConfig `json:"eval"`
	PPO     PPOConfig  `json:"ppo"`
	GRPO    GRPOConfig `json:"grpo"`
	RLOO    RLOOConfig `json:"rloo"`
	// Best-of-n, ranked by each reward: BoNPool π_ref completions of each of BoNPrompts training
	// prompts (the evaluation's distinct prompts first) and as many held-out prompts.
	BoNNs      []int `json:"bon_n"`
	BoNPool    int   `json:"bon_pool"`
	BoNPrompts int   `json:"bon_prompts"`
	// Parallel is how many runs of a seed train at once (results do not depend on it).
	Parallel int           `json:"parallel"`
	Prepare  PrepareConfig `json:"prepare"`
}

// DefaultLeashConfig: PPO, GRPO and RLOO × gold and rm × β ∈ {0, 0.1, 0.3, 1} × seeds 1–3, 100
// updates of 64 completions each with each method's defaults; best-of-n for n = 1, 4, 16, 64 on
// 256 completions of 64 training and 64 held-out prompts; two runs at a time.
func DefaultLeashConfig() LeashConfig {
	c := LeashConfig{Methods: []string{MethodPPO, MethodGRPO, MethodRLOO}, Rewards: []Reward{RewardGold, RewardRM},
		Betas: []float64{0, 0.1, 0.3, 1}, Seeds: []uint64{1, 2, 3}, Updates: 100, HeldOut: DefaultHeldOut, Eval: DefaultEvalConfig(),
		PPO: DefaultPPOConfig(0, 1), GRPO: DefaultGRPOConfig(0, 1), RLOO: DefaultRLOOConfig(0, 1),
		BoNNs: []int{1, 4, 16, 64}, BoNPool: 256, BoNPrompts: 64, Parallel: 2, Prepare: DefaultPrepareConfig(1)}
	c.PPO.Prompted = true
	return c
}

// MaxLeashRuns bounds the grid.
const MaxLeashRuns = 10_000

// Validate checks the grid (methods, rewards, β and seeds distinct: each is one run in its own
// directory), best-of-n, the parallelism, the stages and every run's configuration, naming the
// field.
func (c LeashConfig) Validate() error {
	switch {
	case len(c.Methods) == 0:
		return bad("methods", "[]", "give at least one of ppo, grpo, rloo")
	case len(c.Rewards) == 0:
		return bad("rewards", "[]", "give at least one of gold, rm")
	case len(c.Betas) == 0:
		return bad("betas", "[]", "give at least one β")
	case len(c.Seeds) == 0:
		return bad("seeds", "[]", "give at least one seed")
	case len(c.Methods)*len(c.Rewards)*len(c.Betas)*len(c.Seeds) > MaxLeashRuns:
		return bad("seeds", len(c.Seeds), "%d methods × %d rewards × %d β × %d seeds is more than %d runs", len(c.Methods),
			len(c.Rewards), len(c.Betas), len(c.Seeds), MaxLeashRuns)
	case c.Updates < 1 || c.Updates > MaxGroupUpdates:
		return bad("updates", c.Updates, "want 1 to %d", MaxGroupUpdates)
	case c.Parallel < 1 || c.Parallel > 256:
		return bad("parallel", c.Parallel, "want 1 to 256")
	case c.BoNPool < 1 || c.BoNPool > 1<<16:
		return bad("bon_pool", c.BoNPool, "want 1 to %d completions per prompt", 1<<16)
	case c.BoNPrompts < 1 || c.BoNPrompts > MaxEvalPrompts:
		return bad("bon_prompts", c.BoNPrompts, "want 1 to %d", MaxEvalPrompts)
	}
	for i, m := range c.Methods {
		if m != MethodPPO && m != MethodGRPO && m != MethodRLOO {
			return bad("methods", m, "want ppo, grpo or rloo")
		}
		if slices.Contains(c.Methods[:i], m) {
			return bad("methods", m, "appears twice")
		}
	}
	for i, r := range c.Rewards {
		if err := r.validate("rewards"); err != nil {
			return err
		}
		if slices.Contains(c.Rewards[:i], r) {
			return bad("rewards", r, "appears twice")
		}
	}
	for i, b := range c.Betas {
		if !(b >= 0) || b > MaxGroupBeta {
			return bad("betas", b, "want numbers in [0, %g]", float64(MaxGroupBeta))
		}
		if slices.Contains(c.Betas[:i], b) {
			return bad("betas", b, "appears twice")
		}
	}
	for i, s := range c.Seeds {
		if slices.Contains(c.Seeds[:i], s) {
			return bad("seeds", s, "appears twice")
		}
	}
	for i, n := range c.BoNNs {
		if n < 1 || n > c.BoNPool {
			return bad("bon_n", n, "want integers from 1 to the pool, %d", c.BoNPool)
		}
		if slices.Contains(c.BoNNs[:i], n) {
			return bad("bon_n", n, "appears twice")
		}
	}
	if err := validateHeldOut("held_out", c.HeldOut); err != nil {
		return err
	}
	if err := c.Eval.validate("eval"); err != nil {
		return err
	}
	if c.Prepare.SFTDir != "" || c.Prepare.RMDir != "" {
		return bad("sft_dir", c.Prepare.SFTDir+" "+c.Prepare.RMDir, "the experiment trains π_ref and a reward model per seed; it loads none")
	}
	for _, m := range c.Methods { // every run of the grid differs from these only in reward, β and seed
		for _, r := range c.Rewards {
			for _, b := range c.Betas {
				if _, err := c.run(m, r, b, c.Seeds[0]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// CheckMemory refuses a valid experiment (Validate) one of whose stages would not fit in the
// memory the process may use (internal/memlimit), with a *ConfigError naming the size: a seed's
// π_ref and reward model (PrepareConfig.CheckMemory), its best-of-n pools (BoNMemoryEstimate with
// a prompt's BoNPool completions sampled at once, "bon_pool"), one run of a method (its
// CheckMemory: "grpo.group", "ppo.minibatch", …) or the Parallel runs of a seed trained at once
// (no more than the seed has; "parallel").
func (c LeashConfig) CheckMemory() error {
	if err := c.Prepare.CheckMemory(); err != nil {
		return err
	}
	m := c.Prepare.SFT.Model
	if len(c.BoNNs) > 0 {
		if err := memCheck(bonBytes(c.BoNPool, c.BoNPool, m), "bon_pool", c.BoNPool); err != nil {
			return err
		}
	}
	var widest int64 // the live data of the largest run
	for _, method := range c.Methods {
		run, err := c.run(method, c.Rewards[0], c.Betas[0], c.Seeds[0]) // reward, β and seed do not change the sizes
		if err != nil {
			return err
		}
		if err := run.sizes.check(m); err != nil {
			return err
		}
		widest = max(widest, run.sizes.estimate(m)-base)
	}
	if n := min(c.Parallel, len(c.Methods)*len(c.Rewards)*len(c.Betas)); n > 1 {
		return memCheck(int64(n)*widest+base, "parallel", c.Parallel)
	}
	return nil
}

// LeashRunDir is the directory of one run relative to the experiment's, e.g.
// "seed-1/grpo-rm-beta-0.3".
func LeashRunDir(method string, reward Reward, beta float64, seed uint64) string {
	return filepath.Join(fmt.Sprintf("seed-%d", seed), fmt.Sprintf("%s-%s-beta-%s", method, reward, strconv.FormatFloat(beta+0, 'g', -1, 64)))
}

// leashRun is one run of the grid, ready to go.
type leashRun struct {
	run   func(ctx context.Context, env Env, dir string, onUpdate func(UpdateMetrics)) (Summary, error)
	rc    RunConfig   // the method's part of config.json, to recognise a finished run
	sizes onlineSizes // what its memory grows with
}

// run returns the run (method, reward, β, seed) of the grid, validated.
func (c LeashConfig) run(method string, reward Reward, beta float64, seed uint64) (leashRun, error) {
	switch method {
	case MethodPPO:
		cfg := c.PPO
		cfg.Updates, cfg.Reward, cfg.KL.Beta, cfg.Seed, cfg.Prompted = c.Updates, reward, beta, seed, true
		cfg.HeldOut, cfg.Eval = c.HeldOut, c.Eval
		if err := cfg.Validate(); err != nil {
			return leashRun{}, err
		}
		return leashRun{rc: RunConfig{Method: method, PPO: &cfg}, sizes: cfg.sizes(), run: func(ctx context.Context, env Env, dir string, on func(UpdateMetrics)) (Summary, error) {
			return RunPPO(ctx, env, cfg, dir, on)
		}}, nil
	case MethodGRPO:
		cfg := c.GRPO
		cfg.Updates, cfg.Reward, cfg.KL.Beta, cfg.Seed = c.Updates, reward, beta, seed
		cfg.HeldOut, cfg.Eval = c.HeldOut, c.Eval
		if err := cfg.Validate(); err != nil {
			return leashRun{}, err
		}
		return leashRun{rc: RunConfig{Method: method, GRPO: &cfg}, sizes: cfg.sizes(), run: func(ctx context.Context, env Env, dir string, on func(UpdateMetrics)) (Summary, error) {
			return RunGRPO(ctx, env, cfg, dir, on)
		}}, nil
	case MethodRLOO:
		cfg := c.RLOO
		cfg.Updates, cfg.Reward, cfg.Beta, cfg.Seed = c.Updates, reward, beta, seed
		cfg.HeldOut, cfg.Eval = c.HeldOut, c.Eval
		if err := cfg.Validate(); err != nil {
			return leashRun{}, err
		}
		return leashRun{rc: RunConfig{Method: method, RLOO: &cfg}, sizes: cfg.sizes(), run: func(ctx context.Context, env Env, dir string, on func(UpdateMetrics)) (Summary, error) {
			return RunRLOO(ctx, env, cfg, dir, on)
		}}, nil
	}
	return leashRun{}, bad("methods", method, "want ppo, grpo or rloo")
}

// LeashRow is one finished run of the grid.
type LeashRow struct {
	Method  string  `json:"method"`
	Reward  Reward  `json:"reward"`
	Beta    float64 `json:"beta"`
	Seed    uint64  `json:"seed"`
	Summary Summary `json:"summary"`
	Dir     string  `json:"dir"` // relative to the experiment's directory: LeashRunDir
}

// LeashBoN is best-of-n of one seed ranked by one reward: on training prompts (Point) and on
// held-out prompts (HeldOut).
type LeashBoN struct {
	Rank    Reward   `json:"rank"`
	Point   BoNPoint `json:"train"`
	HeldOut BoNPoint `json:"heldout"`
}

// Files of a leash directory besides seed-S/{sft,rm,bon.csv,METHOD-REWARD-beta-B/}.
const (
	LeashFile  = "leash.json" // LeashResult, the completeness marker
	LeashCSV   = "leash.csv"  // one line per run
	LeashTable = "leash.md"   // the table the command prints
	// LeashKind is leash.json's "kind".
	LeashKind = "rlhf-leash"
)

// leashOutputs are written only by a complete experiment.
var leashOutputs = []string{LeashCSV, LeashTable, "leash-gold-gold.png", "leash-gold-rm.png", "leash-diversity.png", "leash-heldout.png"}

// LeashResult is leash.json. Like a sweep, the directory is a run directory: the file is written
// when the experiment starts with Complete false, rewritten as seeds finish, and marked Complete
// only after every run finished and the table and charts were written.
type LeashResult struct {
	Kind     string                `json:"kind"`
	Complete bool                  `json:"complete"`
	Config   LeashConfig           `json:"config"`
	Runs     []LeashRow            `json:"runs"`
	BoN      map[string][]LeashBoN `json:"bon"` // per seed, per rank, per n
	WallS    float64               `json:"wall_s"`

	dir string
}

// LeashStep is what Leash reports after each stage: a seed's preparation (π_ref, reward model,
// best-of-n) or one run.
type LeashStep struct {
	Done, Total int
	Seed        uint64
	Run         *LeashRow // nil for a seed's preparation
	Skipped     bool      // finished in an earlier session
}

// LeashOptions say how Leash treats its directory and whom it tells of its progress.
type LeashOptions struct {
	// Resume continues the experiment whose leash.json is in the directory (same configuration,
	// Parallel aside): seeds whose π_ref and reward model were written are loaded, runs whose
	// summary.json says complete (with the same settings) are kept, unfinished ones start over.
	Resume bool
	// Force starts over in a directory that already holds a run.
	Force bool
	// Progress (may be nil) is called after every stage, under a lock; OnUpdate (may be nil)
	// after every update, concurrently when Parallel > 1.
	Progress func(LeashStep)
	OnUpdate func(UpdateMetrics)
}

// Leash runs the grid into dir and writes the table and charts (Save). A configuration that is
// invalid or would not fit in memory (Validate, CheckMemory) is refused before anything is
// written; a directory that holds a run is refused unless opts.Force, or opts.Resume for a leash
// experiment; dir is locked until Leash returns (rundir.Lock: another Leash of it fails at once
// with rundir.ErrLocked). When ctx is cancelled or a run fails, Leash returns the error with the finished runs recorded in leash.json, which
// stays incomplete.
func Leash(ctx context.Context, cfg LeashConfig, dir string, opts LeashOptions) (_ *LeashResult, err error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckMemory(); err != nil {
		return nil, err
	}
	res := &LeashResult{Kind: LeashKind, Config: cfg, BoN: map[string][]LeashBoN{}, dir: dir}
	unlock, err := lockExperiment(dir, "leash", opts.Resume, opts.Force)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if opts.Resume {
		prev, err := readLeashFile(dir)
		if err != nil {
			return nil, err
		}
		a, b := prev.Config, cfg
		a.Parallel, b.Parallel = 0, 0
		if !sameJSON(a, b) {
			return nil, fmt.Errorf("rlhf: leash: %s was started with other settings: resume it with its own (%s)", dir, LeashFile)
		}
		if prev.Complete {
			prev.dir = dir
			return prev, nil
		}
		res.WallS = prev.WallS
	}
	if err := readyExperiment(dir, "leash", rundir.KindRLHFLeash, !opts.Resume, opts.Force, leashOutputs); err != nil {
		return nil, err
	}
	save := func() error {
		res.Complete = false
		return WriteJSON(filepath.Join(dir, LeashFile), res)
	}
	if err := save(); err != nil {
		return nil, err
	}
	total := len(cfg.Seeds) * (1 + len(cfg.Methods)*len(cfg.Rewards)*len(cfg.Betas))
	done := 0
	var mu sync.Mutex
	report := func(st LeashStep) {
		mu.Lock()
		defer mu.Unlock()
		done++
		st.Done, st.Total = done, total
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
	for _, seed := range cfg.Seeds {
		rows, err := res.seed(ctx, seed, opts, report)
		res.Runs = append(res.Runs, rows...)
		if err != nil {
			res.WallS += time.Since(start).Seconds()
			return res, errors.Join(err, save())
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	res.WallS += time.Since(start).Seconds()
	if _, err := res.Save(); err != nil {
		return res, err
	}
	return res, nil
}

// sameJSON reports whether a and b marshal to the same JSON (false when either does not marshal).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// seed runs the stages of one seed: π_ref and the reward model (loaded when a resumed
// experiment wrote them), best-of-n, and every run of the grid, Parallel at a time. It returns
// the finished runs in grid order (all of them, or those before the first failure).
func (res *LeashResult) seed(ctx context.Context, seed uint64, opts LeashOptions, report func(LeashStep)) ([]LeashRow, error) {
	cfg := res.Config
	sd := filepath.Join(res.dir, fmt.Sprintf("seed-%d", seed))
	pc := seedPrepare(cfg.Prepare, seed, sd, opts.Resume)
	prep, err := Prepare(ctx, pc, sd, nil)
	if err != nil {
		return nil, err
	}
	bon, err := leashBoN(ctx, prep.Env, cfg, seed)
	if err != nil {
		return nil, err
	}
	res.BoN[strconv.FormatUint(seed, 10)] = bon
	if err := writeLeashBoNCSV(filepath.Join(sd, "bon.csv"), bon); err != nil {
		return nil, err
	}
	report(LeashStep{Seed: seed})
	type job struct {
		method string
		reward Reward
		beta   float64
	}
	var jobs []job
	for _, m := range cfg.Methods {
		for _, r := range cfg.Rewards {
			for _, b := range cfg.Betas {
				jobs = append(jobs, job{m, r, b})
			}
		}
	}
	rows := make([]LeashRow, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < cfg.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				j := jobs[k]
				rel := LeashRunDir(j.method, j.reward, j.beta, seed)
				rd := filepath.Join(res.dir, rel)
				row := LeashRow{Method: j.method, Reward: j.reward, Beta: j.beta, Seed: seed, Dir: rel}
				run, err := cfg.run(j.method, j.reward, j.beta, seed)
				if err != nil {
					errs[k] = err
					continue
				}
				if opts.Resume {
					if sum, ok := finishedOnlineRun(rd, run.rc); ok {
						row.Summary = sum
						rows[k] = row
						report(LeashStep{Seed: seed, Run: &row, Skipped: true})
						continue
					}
				}
				if ctx.Err() != nil {
					errs[k] = fmt.Errorf("rlhf: leash: %w", ctx.Err())
					continue
				}
				row.Summary, errs[k] = run.run(ctx, prep.Env, rd, opts.OnUpdate)
				rows[k] = row
				if errs[k] == nil {
					report(LeashStep{Seed: seed, Run: &row})
				}
			}
		}()
	}
	for k := range jobs {
		next <- k
	}
	close(next)
	wg.Wait()
	for k := range rows {
		if errs[k] != nil {
			return rows[:k], errs[k]
		}
	}
	return rows, nil
}

// leashBoN is best-of-n of one seed, ranked by each reward of the grid, on the training prompts
// (the evaluation's distinct prompts first, then more from the best-of-n stream) and on the
// first of the evaluation's held-out prompts.
func leashBoN(ctx context.Context, env Env, cfg LeashConfig, seed uint64) ([]LeashBoN, error) {
	if len(cfg.BoNNs) == 0 {
		return nil, nil
	}
	ev := cfg.Eval
	p, err := NewPrompts(env.G, cfg.HeldOut)
	if err != nil {
		return nil, err
	}
	held, train, err := p.evalPrompts(ctx, ev)
	if err != nil {
		return nil, err
	}
	r := rng.New(seed, streamBoN)
	if len(train) < cfg.BoNPrompts {
		more, err := p.Batch(ctx, r, cfg.BoNPrompts-len(train), false)
		if err != nil {
			return nil, err
		}
		train = append(train, more...)
	}
	train, held = train[:cfg.BoNPrompts], held[:min(len(held), cfg.BoNPrompts)]
	tr, err := PromptedBestOfN(ctx, env, train, cfg.BoNPool, cfg.BoNNs, cfg.Rewards, ev.DistinctPrompts, ev.DistinctSamples, r)
	if err != nil {
		return nil, err
	}
	ho, err := PromptedBestOfN(ctx, env, held, cfg.BoNPool, cfg.BoNNs, cfg.Rewards, 0, 0, r)
	if err != nil {
		return nil, err
	}
	var out []LeashBoN
	for k, r := range cfg.Rewards {
		for j := range cfg.BoNNs {
			out = append(out, LeashBoN{Rank: r, Point: tr[k][j], HeldOut: ho[k][j]})
		}
	}
	return out, nil
}

// writeLeashBoNCSV writes a seed's best-of-n points.
func writeLeashBoNCSV(path string, pts []LeashBoN) error {
	var b strings.Builder
	b.WriteString("rank,n,proxy_reward,gold_reward,kl_bound,kl_estimate,in_language,distinct,heldout_gold,top_sample\n")
	for _, p := range pts {
		q := p.Point
		fmt.Fprintf(&b, "%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%q\n", p.Rank, q.N, q.Proxy, q.Gold, q.KLBound, q.KL, q.InLang, q.Distinct,
			p.HeldOut.Gold, q.Favourite)
	}
	return writeAtomic(path, []byte(b.String()))
}

// finishedOnlineRun returns the summary of the run in dir when it completed with the method and
// settings of want (config.json's method part).
func finishedOnlineRun(dir string, want RunConfig) (Summary, bool) {
	sum, err := ReadSummary(filepath.Join(dir, SummaryFile))
	if err != nil || !sum.Complete {
		return sum, false
	}
	var rc RunConfig
	if err := readJSON(filepath.Join(dir, ConfigFile), &rc); err != nil {
		return sum, false
	}
	return sum, sameJSON([]any{rc.Method, rc.PPO, rc.GRPO, rc.RLOO}, []any{want.Method, want.PPO, want.GRPO, want.RLOO})
}

// readLeashFile reads dir/leash.json strictly (unknown fields or another kind are refused).
func readLeashFile(dir string) (*LeashResult, error) {
	path := filepath.Join(dir, LeashFile)
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	var res LeashResult
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&res); err != nil || res.Kind != LeashKind {
		return nil, fmt.Errorf("rlhf: %s is not the leash.json of `klppo rlhf leash` (%v)", path, err)
	}
	res.dir = dir
	return &res, nil
}

// ReadLeashConfig returns the settings saved in dir/leash.json (to resume the experiment).
func ReadLeashConfig(dir string) (LeashConfig, error) {
	res, err := readLeashFile(dir)
	if err != nil {
		return LeashConfig{}, err
	}
	return res.Config, nil
}

// LoadLeash reads the complete experiment in dir (for --replot).
func LoadLeash(dir string) (*LeashResult, error) {
	res, err := readLeashFile(dir)
	if err != nil {
		return nil, err
	}
	if !res.Complete {
		return nil, fmt.Errorf("rlhf: %s: the experiment did not finish (%d runs): continue it with resume", dir, len(res.Runs))
	}
	return res, nil
}

// Save writes leash.csv, leash.md and the charts into the experiment's directory, then
// leash.json marked complete, and returns the table.
func (res *LeashResult) Save() (string, error) {
	cfg := res.Config
	if want := len(cfg.Methods) * len(cfg.Rewards) * len(cfg.Betas) * len(cfg.Seeds); len(res.Runs) != want {
		return "", fmt.Errorf("rlhf: leash: %d of %d runs finished", len(res.Runs), want)
	}
	if err := res.writeCSV(filepath.Join(res.dir, LeashCSV)); err != nil {
		return "", err
	}
	table := res.Markdown()
	if err := writeAtomic(filepath.Join(res.dir, LeashTable), []byte(table)); err != nil {
		return table, err
	}
	if err := res.WriteCharts(res.dir); err != nil {
		return table, err
	}
	res.Complete = true
	return table, WriteJSON(filepath.Join(res.dir, LeashFile), res)
}

func (res *LeashResult) writeCSV(path string) error {
	var b strings.Builder
	b.WriteString("method,reward,beta,seed,ref_gold,final_gold,peak_gold,final_proxy,final_kl,sqrt_kl,final_entropy,final_in_language,final_distinct,distinct_of,heldout_gold,ref_heldout_gold,dir\n")
	for _, r := range res.Runs {
		s := r.Summary
		fmt.Fprintf(&b, "%s,%s,%g,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%d,%.6g,%.6g,%s\n", r.Method, r.Reward, r.Beta, r.Seed,
			s.RefGold, s.FinalGold, s.PeakGold, s.FinalProxy, s.FinalKL, math.Sqrt(math.Max(0, s.FinalKL)), s.FinalEntropy,
			s.FinalInLanguage, s.FinalDistinct, s.DistinctOf, s.HeldOutGold, s.RefHeldOutGold, r.Dir)
	}
	return writeAtomic(path, []byte(b.String()))
}

// LeashCell aggregates the seeds of one (method, reward, β): means, and standard deviations
// over seeds (SD).
type LeashCell struct {
	Method                           string
	Reward                           Reward
	Beta                             float64
	Seeds                            int
	Gold, GoldSD, Peak, Proxy        float64
	KL, KLSD, Entropy, InLang        float64
	Distinct, HeldOut, HeldOutSD     float64
	RefGold, RefHeldOut, RefDistinct float64
}

// Cells aggregates the runs in grid order (methods, rewards, β as configured).
func (res *LeashResult) Cells() []LeashCell {
	var out []LeashCell
	cfg := res.Config
	for _, m := range cfg.Methods {
		for _, rw := range cfg.Rewards {
			for _, b := range cfg.Betas {
				var ss []Summary
				for _, r := range res.Runs {
					if r.Method == m && r.Reward == rw && r.Beta == b {
						ss = append(ss, r.Summary)
					}
				}
				if len(ss) == 0 {
					continue
				}
				col := func(f func(Summary) float64) (float64, float64) {
					xs := make([]float64, len(ss))
					for i, s := range ss {
						xs[i] = f(s)
					}
					return meanStd(xs)
				}
				c := LeashCell{Method: m, Reward: rw, Beta: b, Seeds: len(ss)}
				c.Gold, c.GoldSD = col(func(s Summary) float64 { return s.FinalGold })
				c.Peak, _ = col(func(s Summary) float64 { return s.PeakGold })
				c.Proxy, _ = col(func(s Summary) float64 { return s.FinalProxy })
				c.KL, c.KLSD = col(func(s Summary) float64 { return s.FinalKL })
				c.Entropy, _ = col(func(s Summary) float64 { return s.FinalEntropy })
				c.InLang, _ = col(func(s Summary) float64 { return s.FinalInLanguage })
				c.Distinct, _ = col(func(s Summary) float64 { return float64(s.FinalDistinct) })
				c.HeldOut, c.HeldOutSD = col(func(s Summary) float64 { return s.HeldOutGold })
				c.RefGold, _ = col(func(s Summary) float64 { return s.RefGold })
				c.RefHeldOut, _ = col(func(s Summary) float64 { return s.RefHeldOutGold })
				c.RefDistinct, _ = col(func(s Summary) float64 { return float64(s.RefDistinct) })
				out = append(out, c)
			}
		}
	}
	return out
}

// BoNMeans averages best-of-n over the seeds, per rank and n (in the configured order).
func (res *LeashResult) BoNMeans() []LeashBoN {
	var out []LeashBoN
	n := 0
	for _, seed := range res.Config.Seeds {
		pts := res.BoN[strconv.FormatUint(seed, 10)]
		if len(pts) == 0 {
			continue
		}
		if out == nil {
			out = make([]LeashBoN, len(pts))
			for i, p := range pts {
				out[i] = LeashBoN{Rank: p.Rank, Point: BoNPoint{N: p.Point.N, KLBound: p.Point.KLBound, Favourite: p.Point.Favourite}}
			}
		}
		n++
		for i, p := range pts {
			o := &out[i]
			o.Point.Gold += p.Point.Gold
			o.Point.Proxy += p.Point.Proxy
			o.Point.KL += p.Point.KL
			o.Point.InLang += p.Point.InLang
			o.Point.Distinct += p.Point.Distinct
			o.HeldOut.Gold += p.HeldOut.Gold
		}
	}
	for i := range out {
		o := &out[i]
		f := 1 / float64(n)
		o.Point.Gold, o.Point.Proxy, o.Point.KL, o.Point.InLang, o.Point.Distinct, o.HeldOut.Gold =
			f*o.Point.Gold, f*o.Point.Proxy, f*o.Point.KL, f*o.Point.InLang, f*o.Point.Distinct, f*o.HeldOut.Gold
	}
	return out
}

// Markdown is the table of the experiment (leash.md and what the command prints).
func (res *LeashResult) Markdown() string {
	var b strings.Builder
	cells := res.Cells()
	if len(cells) > 0 {
		c := cells[0]
		fmt.Fprintf(&b, "π_ref (mean over seeds): gold %.3f on training prompts, %.3f on held-out prompts; %.0f distinct completions of %d\n\n",
			c.RefGold, c.RefHeldOut, c.RefDistinct, res.Runs[0].Summary.DistinctOf)
	}
	b.WriteString("| method | reward | β | final gold | peak gold | final proxy | KL (nats/seq) | √KL | entropy/token | in-language | distinct | held-out gold |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range cells {
		fmt.Fprintf(&b, "| %s | %s | %g | %.3f ± %.3f | %.3f | %.2f | %.2f ± %.2f | %.2f | %.3f | %.0f%% | %.0f | %.3f ± %.3f |\n",
			c.Method, c.Reward, c.Beta, c.Gold, c.GoldSD, c.Peak, c.Proxy, c.KL, c.KLSD, math.Sqrt(math.Max(0, c.KL)), c.Entropy,
			100*c.InLang, c.Distinct, c.HeldOut, c.HeldOutSD)
	}
	if bon := res.BoNMeans(); len(bon) > 0 {
		b.WriteString("\n| best-of-n | ranked by | gold | proxy | KL on π̂ (bound) | in-language | distinct (expected) | held-out gold |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		for _, p := range bon {
			fmt.Fprintf(&b, "| n = %d | %s | %.3f | %.2f | %.2f (%.2f) | %.0f%% | %.0f | %.3f |\n", p.Point.N, p.Rank, p.Point.Gold, p.Point.Proxy,
				p.Point.KL, p.Point.KLBound, 100*p.Point.InLang, p.Point.Distinct, p.HeldOut.Gold)
		}
	}
	fmt.Fprintf(&b, "\n%d runs (%s × %s × β %s × seeds %s), %d updates each; wall %.0f s\n", len(res.Runs),
		strings.Join(res.Config.Methods, ", "), joinRewards(res.Config.Rewards), joinFloats(res.Config.Betas), joinSeeds(res.Config.Seeds),
		res.Config.Updates, res.WallS)
	return b.String()
}

func joinRewards(rs []Reward) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func joinFloats(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func joinSeeds(xs []uint64) string {
	var s []string
	for _, x := range xs {
		s = append(s, strconv.FormatUint(x, 10))
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// methodIndex is the position of a method in the configured list (for colours).
func (res *LeashResult) methodIndex(m string) int { return slices.Index(res.Config.Methods, m) }

// WriteCharts writes the experiment's charts into dir:
//
//	leash-gold-gold.png, leash-gold-rm.png   final gold against d = √KL(π‖π_ref), one chart per
//	                                         reward trained on: every run (dots), each method's
//	                                         mean over seeds per β (line), best-of-n ranked by
//	                                         the same reward (dashed)
//	leash-diversity.png                      distinct completions against β per method and reward
//	leash-heldout.png                        gold on held-out prompts against β
func (res *LeashResult) WriteCharts(dir string) error {
	cfg := res.Config
	cells := res.Cells()
	bon := res.BoNMeans()
	col := func(m string) color.Color { return palette[(res.methodIndex(m)+1)%len(palette)] }
	for _, rw := range []Reward{RewardGold, RewardRM} {
		if !slices.Contains(cfg.Rewards, rw) {
			continue
		}
		var ss []series
		for _, m := range cfg.Methods {
			var px, py, lx, ly []float64
			for _, r := range res.Runs {
				if r.Method == m && r.Reward == rw {
					px, py = append(px, math.Sqrt(math.Max(0, r.Summary.FinalKL))), append(py, r.Summary.FinalGold)
				}
			}
			for _, c := range cells {
				if c.Method == m && c.Reward == rw {
					lx, ly = append(lx, math.Sqrt(math.Max(0, c.KL))), append(ly, c.Gold)
				}
			}
			ss = append(ss, series{name: m, x: px, y: py, col: col(m), points: true},
				series{x: lx, y: ly, col: withAlpha(col(m), 0xa0), thin: true})
		}
		var bx, by []float64
		for _, p := range bon {
			if p.Rank == rw {
				bx, by = append(bx, math.Sqrt(math.Max(0, p.Point.KL))), append(by, p.Point.Gold)
			}
		}
		if len(bx) > 0 {
			ss = append(ss, series{name: "best-of-n (mean over seeds)", x: bx, y: by, col: palette[0], dashed: true})
		}
		title := fmt.Sprintf("trained on the %s reward: final gold vs d = √KL(π‖π_ref), lines through the β means", rewardName(rw))
		if err := chartWith(filepath.Join(dir, "leash-gold-"+string(rw)+".png"), title, "d = √KL (nats^½ per completion)", "final gold reward", ss,
			chartOptions{legendBottom: rw == RewardGold}); err != nil { // where each chart is empty
			return err
		}
	}
	var ticks []plot.Tick
	for i, b := range cfg.Betas {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: strconv.FormatFloat(b, 'g', -1, 64)})
	}
	for _, pn := range []struct {
		file, title, ylabel string
		get                 func(LeashCell) float64
		ref                 func(LeashCell) float64
	}{
		{"leash-diversity.png", fmt.Sprintf("distinct completions among %d (%d samples × %d training prompts)", res.distinctOf(),
			res.Config.Eval.DistinctSamples, res.Config.Eval.DistinctPrompts),
			"distinct completions", func(c LeashCell) float64 { return c.Distinct }, func(c LeashCell) float64 { return c.RefDistinct }},
		{"leash-heldout.png", "gold reward on held-out prompts", "held-out gold", func(c LeashCell) float64 { return c.HeldOut },
			func(c LeashCell) float64 { return c.RefHeldOut }},
	} {
		var ss []series
		for _, m := range cfg.Methods {
			for _, rw := range cfg.Rewards {
				var x, y []float64
				for i, b := range cfg.Betas {
					for _, c := range cells {
						if c.Method == m && c.Reward == rw && c.Beta == b {
							x, y = append(x, float64(i)), append(y, pn.get(c))
						}
					}
				}
				ss = append(ss, series{name: m + ", " + string(rw), x: x, y: y, col: col(m), dashed: rw == RewardRM})
			}
		}
		if len(cells) > 0 {
			v := pn.ref(cells[0])
			ss = append(ss, series{name: "π_ref", x: []float64{0, float64(len(cfg.Betas) - 1)}, y: []float64{v, v}, col: palette[7], dashed: true})
		}
		if err := chartWith(filepath.Join(dir, pn.file), pn.title+" (dashed: trained on rm)", "β", pn.ylabel, ss, chartOptions{xticks: ticks, legendBottom: true}); err != nil {
			return err
		}
	}
	return nil
}

// distinctOf is the number of samples the distinct counts are among.
func (res *LeashResult) distinctOf() int {
	if len(res.Runs) == 0 {
		return 0
	}
	return res.Runs[0].Summary.DistinctOf
}
