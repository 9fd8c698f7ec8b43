package rlhf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"klppo/internal/fileio"
	"klppo/internal/rng"
	"klppo/internal/rundir"
	"klppo/nn"
	"klppo/policy"
)

// Files of an online run directory (PPO, GRPO, RLOO: the output contract of klppo rlhf).
const (
	ConfigFile  = "config.json"
	MetricsFile = "metrics.csv"
	SamplesFile = "samples.jsonl"
	SummaryFile = "summary.json"
	// MetricsHeader is the first line of metrics.csv.
	MetricsHeader = "update,proxy_reward,gold_reward,kl,kl_k1,kl_k3,beta,entropy,length,in_language,ppo_kl,clipfrac,policy_loss,value_loss,tokens,tokens_per_s,wall_s"
	// Files of the SFT and reward-model directories.
	SFTModelFile = "model.klppo"
	RMModelFile  = "rm.klnn"
)

func (m UpdateMetrics) csv() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	return strings.Join([]string{strconv.Itoa(m.Update), f(m.Proxy), f(m.Gold), f(m.KL), f(m.KLk1), f(m.KLk3), f(m.Beta),
		f(m.Entropy), f(m.Length), f(m.InLanguage), f(m.PPOKL), f(m.ClipFrac), f(m.PolicyLoss), f(m.ValueLoss),
		strconv.Itoa(m.Tokens), f(m.TokensPerS), f(m.WallS)}, ",")
}

// readCSV reads a metrics.csv: its header's column names and its rows of numbers (every row
// as wide as the header).
func readCSV(path string) (header []string, rows [][]float64, err error) {
	data, err := fileio.ReadFile(path, fileio.LargeFile)
	if err != nil {
		return nil, nil, fmt.Errorf("rlhf: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	header = strings.Split(lines[0], ",")
	for i, l := range lines[1:] {
		c := strings.Split(l, ",")
		if len(c) != len(header) {
			return nil, nil, fmt.Errorf("rlhf: %s line %d: %d columns, want %d", path, i+2, len(c), len(header))
		}
		v := make([]float64, len(c))
		for j, s := range c {
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, nil, fmt.Errorf("rlhf: %s line %d column %d: %w", path, i+2, j+1, err)
			}
		}
		rows = append(rows, v)
	}
	return header, rows, nil
}

// readCSVRows reads a metrics.csv whose header must be want.
func readCSVRows(path, want string) ([][]float64, error) {
	header, rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if strings.Join(header, ",") != want {
		return nil, fmt.Errorf("rlhf: %s: unexpected header", path)
	}
	return rows, nil
}

// ReadColumns reads the named columns of any run's metrics.csv (PPO, GRPO, RLOO, DPO, or another
// method's that names its columns the same way: kl, gold_reward, proxy_reward, …), one slice per
// name.
func ReadColumns(path string, names ...string) ([][]float64, error) {
	header, rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(names))
	for k, name := range names {
		j := slices.Index(header, name)
		if j < 0 {
			return nil, fmt.Errorf("rlhf: %s: no column %q", path, name)
		}
		out[k] = make([]float64, len(rows))
		for i, v := range rows {
			out[k][i] = v[j]
		}
	}
	return out, nil
}

// ReadMetrics reads a metrics.csv written by RunPPO, RunGRPO or RunRLOO.
func ReadMetrics(path string) ([]UpdateMetrics, error) {
	rows, err := readCSVRows(path, MetricsHeader)
	if err != nil {
		return nil, err
	}
	var out []UpdateMetrics
	for _, v := range rows {
		out = append(out, UpdateMetrics{Update: int(v[0]), Proxy: v[1], Gold: v[2], KL: v[3], KLk1: v[4], KLk3: v[5],
			Beta: v[6], Entropy: v[7], Length: v[8], InLanguage: v[9], PPOKL: v[10], ClipFrac: v[11], PolicyLoss: v[12],
			ValueLoss: v[13], Tokens: int(v[14]), TokensPerS: v[15], WallS: v[16]})
	}
	return out, nil
}

// Summary is summary.json of an online run (all zeros but the reference and the settings when
// no update completed). "final" is the mean over the last 10% of updates (at least one);
// peak_gold is the maximum of the gold reward smoothed over 5 updates (centred moving average),
// so that one lucky batch of 64 does not make the peak. heldout_gold and final_distinct are the
// final policy's evaluation (Evaluate: completions of held-out prompts; distinct completions of
// fixed training prompts), made once the last update is done (zero in an incomplete run), next
// to π_ref's (ref_heldout_gold, ref_distinct).
type Summary struct {
	Method          string   `json:"method"` // ppo, grpo or rloo
	Reward          string   `json:"reward"` // rm or gold: the score maximised
	Prompted        bool     `json:"prompted"`
	RefProxy        float64  `json:"ref_proxy"`
	RefGold         float64  `json:"ref_gold"`
	RefInLanguage   float64  `json:"ref_in_language"`
	RefHeldOutGold  float64  `json:"ref_heldout_gold"`
	RefDistinct     int      `json:"ref_distinct"`
	FinalProxy      float64  `json:"final_proxy"`
	FinalGold       float64  `json:"final_gold"`
	FinalKL         float64  `json:"final_kl"`
	FinalKLk1       float64  `json:"final_kl_k1"`
	FinalKLk3       float64  `json:"final_kl_k3"`
	FinalInLanguage float64  `json:"final_in_language"`
	FinalBeta       float64  `json:"final_beta"`
	FinalEntropy    float64  `json:"final_entropy"`
	FinalLength     float64  `json:"final_length"`
	PeakGold        float64  `json:"peak_gold"`
	PeakUpdate      int      `json:"peak_update"`
	PeakKL          float64  `json:"peak_kl"` // smoothed KL at the gold peak
	MaxProxy        float64  `json:"max_proxy"`
	HeldOutGold     float64  `json:"heldout_gold"`
	HeldOutInLang   float64  `json:"heldout_in_language"`
	FinalDistinct   int      `json:"final_distinct"`
	DistinctOf      int      `json:"distinct_of"` // the samples ref_distinct and final_distinct are among
	Updates         int      `json:"updates"`
	Complete        bool     `json:"complete"` // false when the run stopped early (error or interrupt)
	TokensPerS      float64  `json:"tokens_per_s"`
	WallS           float64  `json:"wall_s"`
	SamplesStart    []string `json:"samples_start"`
	SamplesPeak     []string `json:"samples_peak"`
	SamplesEnd      []string `json:"samples_end"`
	Beta            float64  `json:"kl_coef"`
	KLCtl           string   `json:"kl_ctl"`
	KLTarget        float64  `json:"kl_target,omitempty"`
	KLIn            string   `json:"kl_in"`
	KLEstimator     string   `json:"kl_estimator"`
	Seed            uint64   `json:"seed"`
}

// smooth returns the centred moving average of xs over w points (fewer at the ends).
func smooth(xs []float64, w int) []float64 {
	out := make([]float64, len(xs))
	for i := range xs {
		lo, hi := max(0, i-w/2), min(len(xs), i+w/2+1)
		var s float64
		for _, v := range xs[lo:hi] {
			s += v
		}
		out[i] = s / float64(hi-lo)
	}
	return out
}

// finalMean is the mean of f over the last 10% of rows (at least one): a run's "final" value.
func finalMean[M any](rows []M, f func(M) float64) float64 {
	n := max(1, len(rows)/10)
	var s float64
	for _, r := range rows[len(rows)-n:] {
		s += f(r)
	}
	return s / float64(n)
}

// peakGold returns where the gold reward, smoothed by a centred moving average over w points
// (so that one lucky batch does not make the peak), is highest (the first such row), its
// smoothed value there and the KL smoothed the same way.
func peakGold(gold, kls []float64, w int) (row int, peak, klAtPeak float64) {
	sg, sk := smooth(gold, w), smooth(kls, w)
	for i, v := range sg {
		if v > sg[row] {
			row = i
		}
	}
	return row, sg[row], sk[row]
}

// Summarize computes the measured fields of the summary from ms and the samples (texts at the
// first update, the gold peak and the last update); the settings are the caller's.
func Summarize(ms []UpdateMetrics, samples []Sample, ref RefStats, complete bool) Summary {
	s := Summary{RefProxy: ref.Proxy, RefGold: ref.Gold, RefInLanguage: ref.InLanguage, RefHeldOutGold: ref.Eval.HeldOutGold,
		RefDistinct: ref.Eval.Distinct, DistinctOf: ref.Eval.DistinctOf, Updates: len(ms), Complete: complete}
	if len(ms) == 0 {
		return s
	}
	final := func(f func(UpdateMetrics) float64) float64 { return finalMean(ms, f) }
	s.FinalProxy = final(func(m UpdateMetrics) float64 { return m.Proxy })
	s.FinalGold = final(func(m UpdateMetrics) float64 { return m.Gold })
	s.FinalKL = final(func(m UpdateMetrics) float64 { return m.KL })
	s.FinalKLk1 = final(func(m UpdateMetrics) float64 { return m.KLk1 })
	s.FinalKLk3 = final(func(m UpdateMetrics) float64 { return m.KLk3 })
	s.FinalInLanguage = final(func(m UpdateMetrics) float64 { return m.InLanguage })
	s.FinalBeta = final(func(m UpdateMetrics) float64 { return m.Beta })
	s.FinalEntropy = final(func(m UpdateMetrics) float64 { return m.Entropy })
	s.FinalLength = final(func(m UpdateMetrics) float64 { return m.Length })
	var tok, wall float64
	gold, kls := make([]float64, len(ms)), make([]float64, len(ms))
	s.MaxProxy = math.Inf(-1)
	for i, m := range ms {
		gold[i], kls[i] = m.Gold, m.KL
		tok += float64(m.Tokens)
		wall += m.WallS
		s.MaxProxy = math.Max(s.MaxProxy, m.Proxy)
	}
	var best int
	best, s.PeakGold, s.PeakKL = peakGold(gold, kls, 5)
	s.PeakUpdate = ms[best].Update
	s.WallS = wall
	if wall > 0 {
		s.TokensPerS = tok / wall
	}
	for _, x := range samples {
		switch x.Update {
		case ms[0].Update:
			s.SamplesStart = append(s.SamplesStart, x.Text)
		case s.PeakUpdate:
			s.SamplesPeak = append(s.SamplesPeak, x.Text)
		case ms[len(ms)-1].Update:
			s.SamplesEnd = append(s.SamplesEnd, x.Text)
		}
	}
	return s
}

// WriteJSON writes v as indented JSON to path atomically (temporary file, then rename).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("rlhf: %s: %w", path, err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic is fileio.WriteAtomic with the package's error prefix.
func writeAtomic(path string, data []byte) error {
	if err := fileio.WriteAtomic(path, data); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	return nil
}

// ReadSummary reads an online run's summary.json.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	err := readJSON(path, &s)
	return s, err
}

// ReadDPOSummary reads a DPO run's summary.json.
func ReadDPOSummary(path string) (DPOSummary, error) {
	var s DPOSummary
	err := readJSON(path, &s)
	return s, err
}

// readJSON decodes the JSON file at path into v.
func readJSON(path string, v any) error {
	data, err := fileio.ReadFile(path, fileio.SmallFile)
	if err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("rlhf: %s: %w", path, err)
	}
	return nil
}

// RunConfig is config.json of an online run: the method and its settings.
type RunConfig struct {
	Method      string      `json:"method"` // ppo, grpo or rloo: which of the next three is set
	PPO         *PPOConfig  `json:"ppo,omitempty"`
	GRPO        *GRPOConfig `json:"grpo,omitempty"`
	RLOO        *RLOOConfig `json:"rloo,omitempty"`
	Model       ModelConfig `json:"model"`
	SFT         string      `json:"sft_dir,omitempty"`
	RM          string      `json:"rm_dir,omitempty"`
	LabelNoise  float64     `json:"label_noise"`
	Description string      `json:"description"`
}

// Env is everything a PPO run or best-of-n needs: the language, the gold reward, π_ref and the
// reward model.
type Env struct {
	G    *Grammar
	Gold *Gold
	Ref  *Model
	RM   *RewardModel
	// Where they were written (for config.json); may be empty.
	SFTDir, RMDir string
	LabelNoise    float64
}

// RunPPO trains a policy from env.Ref with token-level PPO (cfg) and writes the run's files
// (runOnline).
func RunPPO(ctx context.Context, env Env, cfg PPOConfig, dir string, onUpdate func(UpdateMetrics)) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if err := cfg.CheckMemory(env.Ref.Cfg); err != nil {
		return Summary{}, err
	}
	desc := "klppo rlhf: token-level PPO from π_ref against a Bradley–Terry reward model, KL(π‖π_ref) leash"
	if cfg.Reward == RewardGold {
		desc = "klppo rlhf: token-level PPO from π_ref against the gold reward, KL(π‖π_ref) leash"
	}
	run := onlineRun{kind: rundir.KindRLHFPPO, rc: RunConfig{Method: "ppo", PPO: &cfg, Description: desc}, updates: cfg.Updates, refSamples: cfg.RefSamples,
		seed: cfg.Seed, prompted: cfg.Prompted, task: cfg.Task,
		settings: Summary{Beta: cfg.KL.Beta, KLCtl: cfg.Ctl, KLIn: string(cfg.KL.In), KLEstimator: cfg.KL.Estimator.String()},
		trainer:  func() (stepper, error) { return NewTrainer(env.G, env.Gold, env.RM, env.Ref, cfg) }}
	if cfg.Ctl != "fixed" {
		run.settings.KLTarget = cfg.Target
	}
	return runOnline(ctx, env, run, dir, onUpdate)
}

// stepper is an online method's trainer: Step runs one update and reports it.
type stepper interface {
	Step(ctx context.Context, update int) (UpdateMetrics, []Sample, error)
	Policy() *Model
}

// onlineRun is what runOnline needs of a method: its config.json (without the environment's
// part, which runOnline fills in), its sizes and task, the settings its summary reports
// (Beta, KLCtl, KLTarget, KLIn, KLEstimator) and how to build its trainer.
type onlineRun struct {
	kind                rundir.Kind // run.json's
	rc                  RunConfig
	updates, refSamples int
	seed                uint64
	prompted            bool
	task                Task
	settings            Summary
	trainer             func() (stepper, error)
}

// runOnline trains a policy from env.Ref with the method of run and writes dir/run.json (the
// method's kind: rundir.KindRLHFPPO, KindRLHFGRPO, KindRLHFRLOO), dir/config.json,
// dir/metrics.csv (one flushed row per update), dir/samples.jsonl (4 texts per update) and
// dir/summary.json — also when ctx is cancelled or an update fails (then "complete": false and
// the error is returned). After the last update the policy is evaluated (Evaluate). onUpdate
// (may be nil) sees every update's metrics. dir is locked while the run writes it (rundir.Lock:
// another run of dir, in this process or another, fails at once with rundir.ErrLocked).
func runOnline(ctx context.Context, env Env, run onlineRun, dir string, onUpdate func(UpdateMetrics)) (sum Summary, err error) {
	prompts, err := NewPrompts(env.G, run.task.HeldOut)
	if err != nil {
		return sum, err
	}
	unlock, err := rundir.CreateLocked(dir) // held until the run returns: another run of dir fails at once
	if err != nil {
		return sum, fmt.Errorf("rlhf: %w", err)
	}
	defer func() { err = errors.Join(err, unlock()) }()
	if err := rundir.WriteKind(dir, run.kind); err != nil {
		return sum, fmt.Errorf("rlhf: %w", err)
	}
	rc := run.rc
	rc.Model, rc.SFT, rc.RM, rc.LabelNoise = env.Ref.Cfg, env.SFTDir, env.RMDir, env.LabelNoise
	if err := WriteJSON(filepath.Join(dir, ConfigFile), rc); err != nil {
		return sum, err
	}
	ref, err := refStats(ctx, env, prompts, run, run.refSamples)
	if err != nil {
		return sum, err
	}
	tr, err := run.trainer()
	if err != nil {
		return sum, err
	}
	files, err := createRunFiles(dir, MetricsHeader)
	if err != nil {
		return sum, err
	}
	var ms []UpdateMetrics
	var samples []Sample
	var final Eval
	complete := false
	defer func() {
		// Flush and close whatever happened, then write the summary of what was done.
		ferr := files.close()
		sum = Summarize(ms, samples, ref, complete && ferr == nil)
		set := run.settings
		sum.Method, sum.Reward, sum.Prompted, sum.Seed = rc.Method, string(run.task.Reward), run.prompted, run.seed
		sum.Beta, sum.KLCtl, sum.KLTarget, sum.KLIn, sum.KLEstimator = set.Beta, set.KLCtl, set.KLTarget, set.KLIn, set.KLEstimator
		sum.HeldOutGold, sum.HeldOutInLang, sum.FinalDistinct = final.HeldOutGold, final.HeldOutInLanguage, final.Distinct
		werr := WriteJSON(filepath.Join(dir, SummaryFile), sum)
		err = errors.Join(err, ferr, werr)
	}()
	for u := 1; u <= run.updates; u++ {
		m, ss, err := tr.Step(ctx, u)
		if err != nil {
			return sum, fmt.Errorf("rlhf: update %d: %w", u, err)
		}
		ms = append(ms, m)
		samples = append(samples, ss...)
		if err := files.write(m.csv(), ss); err != nil {
			return sum, err
		}
		if onUpdate != nil {
			onUpdate(m)
		}
	}
	if final, err = Evaluate(ctx, tr.Policy(), env.G, env.Gold, prompts, run.task.Eval, run.seed); err != nil {
		return sum, err
	}
	complete = true
	return sum, nil
}

// runFiles are the files a run appends to as it goes: metrics.csv (a header, then one row per
// update or evaluation) and samples.jsonl (one JSON object per sample text). Every row is
// flushed when written, so an interrupted run keeps what it did.
type runFiles struct {
	mf, sf *os.File
	mw, sw *bufio.Writer
}

// createRunFiles creates dir/metrics.csv with its header line and an empty dir/samples.jsonl.
func createRunFiles(dir, header string) (*runFiles, error) {
	mf, err := os.Create(filepath.Join(dir, MetricsFile))
	if err != nil {
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	sf, err := os.Create(filepath.Join(dir, SamplesFile))
	if err != nil {
		mf.Close()
		return nil, fmt.Errorf("rlhf: %w", err)
	}
	f := &runFiles{mf: mf, sf: sf, mw: bufio.NewWriter(mf), sw: bufio.NewWriter(sf)}
	if _, err := fmt.Fprintln(f.mw, header); err != nil {
		return nil, errors.Join(fmt.Errorf("rlhf: %w", err), f.close())
	}
	return f, nil
}

// write appends one metrics row and its samples, and flushes both files.
func (f *runFiles) write(row string, samples []Sample) error {
	if _, err := fmt.Fprintln(f.mw, row); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	for _, s := range samples {
		b, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("rlhf: %w", err)
		}
		if _, err := f.sw.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("rlhf: %w", err)
		}
	}
	if err := errors.Join(f.mw.Flush(), f.sw.Flush()); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	return nil
}

// close flushes and closes both files.
func (f *runFiles) close() error {
	if err := errors.Join(f.mw.Flush(), f.sw.Flush(), f.mf.Close(), f.sf.Close()); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	return nil
}

// SFTMeta is the metadata stored in the SFT checkpoint.
type SFTMeta struct {
	Model ModelConfig `json:"model"`
}

// SaveSFT writes the SFT model, its metrics and its report into dir.
func SaveSFT(dir string, m *Model, rep SFTReport, cfg SFTConfig) error {
	if err := rundir.WriteKind(dir, rundir.KindRLHFSFT); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	ck, err := m.AC.Snapshot(nil, SFTMeta{Model: m.Cfg})
	if err != nil {
		return fmt.Errorf("rlhf: sft checkpoint: %w", err)
	}
	if err := policy.WriteCheckpoint(filepath.Join(dir, SFTModelFile), ck); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	var b strings.Builder
	b.WriteString("epoch,train_ce_token,test_ce_token\n")
	for _, e := range rep.Epochs {
		fmt.Fprintf(&b, "%d,%.6g,%.6g\n", e.Epoch, e.TrainCE, e.TestCE)
	}
	if err := writeAtomic(filepath.Join(dir, MetricsFile), []byte(b.String())); err != nil {
		return err
	}
	if err := WriteJSON(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return err
	}
	return WriteJSON(filepath.Join(dir, SummaryFile), rep)
}

// LoadSFT reads the SFT model written by SaveSFT into dir. Every failure is a *ConfigError
// naming "sft_dir": the directory came from the user.
func LoadSFT(dir string) (*Model, error) {
	path, err := modelFile(dir, SFTModelFile, "sft", "sft_dir", "'klppo rlhf sft'")
	if err != nil {
		return nil, err
	}
	ck, err := policy.ReadCheckpoint(path)
	if err != nil {
		return nil, bad("sft_dir", dir, "%v", err)
	}
	var meta SFTMeta
	if err := json.Unmarshal(ck.Meta, &meta); err != nil {
		return nil, bad("sft_dir", dir, "%s: metadata: %v", path, err)
	}
	if err := meta.Model.validate(); err != nil {
		return nil, bad("sft_dir", dir, "%s: %v", path, err)
	}
	ac, err := policy.Load(ck)
	if err != nil {
		return nil, bad("sft_dir", dir, "%s: %v", path, err)
	}
	if ac.Config().ObsDim != meta.Model.ObsDim() {
		return nil, bad("sft_dir", dir, "%s: model width %d does not match its config (%d)", path, ac.Config().ObsDim, meta.Model.ObsDim())
	}
	return &Model{Cfg: meta.Model, AC: ac}, nil
}

// modelFile returns dir/file, or a *ConfigError for field that says what dir holds instead:
// the output directory of a whole pipeline (`klppo rlhf`, `rlhf rm`) holds the model one level
// down, in dir/sub.
func modelFile(dir, file, sub, field, writer string) (string, error) {
	path := filepath.Join(dir, file)
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.Mode().IsRegular():
		return path, nil
	case err == nil:
		return "", bad(field, dir, "%s is not a regular file", path)
	case !errors.Is(err, os.ErrNotExist):
		return "", bad(field, dir, "%v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, sub, file)); err == nil && fi.Mode().IsRegular() {
		return "", bad(field, dir, "no %s here, but %s holds one: give that directory", file, filepath.Join(dir, sub))
	}
	return "", bad(field, dir, "no %s here: give the directory written by %s (the %s subdirectory of an 'rlhf' run)", file, writer, sub)
}

// SaveRM writes the reward model and its report into dir.
func SaveRM(dir string, rm *RewardModel, rep RMReport, cfg RMConfig) error {
	if err := rundir.WriteKind(dir, rundir.KindRLHFRM); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	arrays, err := rm.Net.Arrays()
	if err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	if err := nn.WriteFile(filepath.Join(dir, RMModelFile), arrays); err != nil {
		return fmt.Errorf("rlhf: %w", err)
	}
	if err := WriteJSON(filepath.Join(dir, ConfigFile), cfg); err != nil {
		return err
	}
	return WriteJSON(filepath.Join(dir, SummaryFile), rep)
}

// LoadRM reads a reward model written by SaveRM for vocabulary size v. The file must hold exactly
// the reward model's arrays, with finite weights within ±nn.MaxParam; every failure is a
// *ConfigError naming "rm_dir".
func LoadRM(dir string, v int) (*RewardModel, error) {
	path, err := modelFile(dir, RMModelFile, "rm", "rm_dir", "'klppo rlhf rm'")
	if err != nil {
		return nil, err
	}
	arrays, err := nn.ReadFile(path)
	if err != nil {
		return nil, bad("rm_dir", dir, "%v", err)
	}
	rm, err := NewRewardModel(rng.New(0, 0), v) // weights overwritten below
	if err != nil {
		return nil, err
	}
	if err := rm.Net.LoadArrays(arrays); err != nil {
		return nil, bad("rm_dir", dir, "%s: %v", path, err)
	}
	if extra := nn.ExtraArrays(arrays, rm.Net); len(extra) > 0 {
		return nil, bad("rm_dir", dir, "%s: arrays %q are not part of a reward model", path, extra)
	}
	return rm, nil
}
