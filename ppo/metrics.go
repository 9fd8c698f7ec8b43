package ppo

import (
	"encoding/json"
	"math"
	"strconv"
)

// MetricsHeader is the header row of metrics.csv.
const MetricsHeader = "update,global_step,wall_s,sps,episodic_return,kl,approx_kl_k1,approx_kl_k3,beta,clipfrac,entropy,policy_loss,value_loss,explained_variance,lr,epochs"

// UpdateMetrics is one row of metrics.csv: the diagnostics of one PPO update.
//
//   - KL: mean over the whole batch of the exact KL(π_old(·|s)‖π_θ(·|s)) between the policy
//     that collected the batch and the policy after the update (closed form, plain-Go pass);
//     this is the d of the adaptive β rules.
//   - ApproxKLK1, ApproxKLK3: CleanRL's old_approx_kl = mean(−log r) and approx_kl =
//     mean((r−1) − log r), r = π_θ(a|s)/π_old(a|s), measured on each minibatch before its
//     gradient step and averaged over the update's minibatch steps.
//   - Beta: the β used during the update (0 without a KL term).
//   - ClipFrac: fraction of samples with |r−1| > ε (ε = the clip value; 0.2 for the other
//     objectives), averaged like ApproxKLK1.
//   - Entropy, PolicyLoss (−surrogate, without the β·KL and entropy terms), ValueLoss (½·mean
//     squared error, clipped if clip_vloss): averaged over the update's minibatch steps.
//   - ExplainedVariance: 1 − Var[returns − values]/Var[returns] of the rollout.
//   - LR: the learning rate of the update; Epochs: epochs in which at least one gradient step
//     was taken (fewer than update_epochs after a +stop early stop).
//   - SPS: environment steps per second of this process so far; WallS: seconds since the run
//     started (including earlier sessions of a resumed run); EpisodicReturn: mean return of the
//     last 10 finished episodes (NaN before the first).
type UpdateMetrics struct {
	Update, GlobalStep                     int
	WallS, SPS, EpisodicReturn, KL         float64
	ApproxKLK1, ApproxKLK3, Beta, ClipFrac float64
	Entropy, PolicyLoss, ValueLoss         float64
	ExplainedVariance, LR                  float64
	Epochs                                 int
}

// Record returns the metrics.csv fields of m in header order.
func (m UpdateMetrics) Record() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{
		strconv.Itoa(m.Update), strconv.Itoa(m.GlobalStep), strconv.FormatFloat(m.WallS, 'f', 3, 64),
		strconv.FormatFloat(m.SPS, 'f', 1, 64), f(m.EpisodicReturn), f(m.KL), f(m.ApproxKLK1),
		f(m.ApproxKLK3), f(m.Beta), f(m.ClipFrac), f(m.Entropy), f(m.PolicyLoss), f(m.ValueLoss),
		f(m.ExplainedVariance), f(m.LR), strconv.Itoa(m.Epochs),
	}
}

// Summary is summary.json.
type Summary struct {
	EnvID           string  `json:"env_id"`
	Penalty         string  `json:"penalty"`
	Seed            uint64  `json:"seed"`
	Steps           int     `json:"steps"`
	WallS           float64 `json:"wall_s"`
	SPS             float64 `json:"sps"`
	FinalReturn     float64 `json:"final_return"`     // mean of the last 10 episodes (NaN if none finished)
	SolvedThreshold float64 `json:"solved_threshold"` // env's reward threshold
	// FirstStepReturnGE is the first global step at which the mean of the last 10 episodes was ≥
	// SolvedThreshold; -1 if never.
	FirstStepReturnGE int    `json:"first_step_return_ge"`
	Episodes          int    `json:"episodes"`
	Updates           int    `json:"updates"`
	Stopped           string `json:"stopped"` // "" when complete, else why (interrupted, nan)
	// Constraint is how much the KL target constrained the run (see KLConstraint), over every
	// update of the run (also those of earlier sessions of a resumed run). summary.json holds
	// it as kl_target, kl_in_band_frac, kl_below_band_frac, kl_above_band_frac,
	// kl_max_over_target, beta_active_frac, beta_floor_frac and beta_ceiling_frac; all null for
	// a penalty without a target.
	Constraint KLConstraint `json:"-"`
}

// returnWindow tracks the mean of the last n episode returns.
type returnWindow struct {
	buf  []float64
	next int
	full bool
}

func newReturnWindow(n int) *returnWindow { return &returnWindow{buf: make([]float64, n)} }

func (w *returnWindow) add(r float64) {
	w.buf[w.next] = r
	w.next++
	if w.next == len(w.buf) {
		w.next, w.full = 0, true
	}
}

func (w *returnWindow) count() int {
	if w.full {
		return len(w.buf)
	}
	return w.next
}

// mean returns the mean of the stored returns, NaN when there are none.
func (w *returnWindow) mean() float64 {
	n := w.count()
	if n == 0 {
		return math.NaN()
	}
	// Sum in insertion order so the value does not depend on the ring position.
	s := 0.0
	start := 0
	if w.full {
		start = w.next
	}
	for i := 0; i < n; i++ {
		s += w.buf[(start+i)%len(w.buf)]
	}
	return s / float64(n)
}

// summaryJSON mirrors Summary with nullable floats (JSON has no NaN).
type summaryJSON struct {
	EnvID             string   `json:"env_id"`
	Penalty           string   `json:"penalty"`
	Seed              uint64   `json:"seed"`
	Steps             int      `json:"steps"`
	WallS             float64  `json:"wall_s"`
	SPS               float64  `json:"sps"`
	FinalReturn       *float64 `json:"final_return"`
	SolvedThreshold   *float64 `json:"solved_threshold"`
	FirstStepReturnGE int      `json:"first_step_return_ge"`
	Episodes          int      `json:"episodes"`
	Updates           int      `json:"updates"`
	Stopped           string   `json:"stopped"`
	KLTarget          *float64 `json:"kl_target"`
	KLInBandFrac      *float64 `json:"kl_in_band_frac"`
	KLBelowBandFrac   *float64 `json:"kl_below_band_frac"`
	KLAboveBandFrac   *float64 `json:"kl_above_band_frac"`
	KLMaxOverTarget   *float64 `json:"kl_max_over_target"`
	BetaActiveFrac    *float64 `json:"beta_active_frac"`
	BetaFloorFrac     *float64 `json:"beta_floor_frac"`
	BetaCeilingFrac   *float64 `json:"beta_ceiling_frac"`
}

func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func fromNullable(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes NaN values (no episode yet, no threshold, no KL target) as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	c := s.Constraint
	return json.Marshal(summaryJSON{s.EnvID, s.Penalty, s.Seed, s.Steps, s.WallS, s.SPS, nullable(s.FinalReturn),
		nullable(s.SolvedThreshold), s.FirstStepReturnGE, s.Episodes, s.Updates, s.Stopped,
		nullable(c.Target), nullable(c.KLInBandFrac), nullable(c.KLBelowBandFrac), nullable(c.KLAboveBandFrac),
		nullable(c.KLMaxOverTarget), nullable(c.BetaActiveFrac), nullable(c.BetaFloorFrac), nullable(c.BetaCeilingFrac)})
}

// UnmarshalJSON reads null (or absent, as in summaries written before the fields existed) floats
// back as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Summary{j.EnvID, j.Penalty, j.Seed, j.Steps, j.WallS, j.SPS, fromNullable(j.FinalReturn),
		fromNullable(j.SolvedThreshold), j.FirstStepReturnGE, j.Episodes, j.Updates, j.Stopped,
		KLConstraint{Target: fromNullable(j.KLTarget), Updates: j.Updates, KLInBandFrac: fromNullable(j.KLInBandFrac),
			KLBelowBandFrac: fromNullable(j.KLBelowBandFrac), KLAboveBandFrac: fromNullable(j.KLAboveBandFrac),
			KLMaxOverTarget: fromNullable(j.KLMaxOverTarget), BetaActiveFrac: fromNullable(j.BetaActiveFrac),
			BetaFloorFrac: fromNullable(j.BetaFloorFrac), BetaCeilingFrac: fromNullable(j.BetaCeilingFrac)}}
	return nil
}
