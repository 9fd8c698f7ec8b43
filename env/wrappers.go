package env

import (
	"errors"
	"fmt"
	"math"
)

// Unwrapped follows Unwrap until it reaches an environment that is not a wrapper.
func Unwrapped(e Env) Env {
	for {
		u, ok := e.(Unwrapper)
		if !ok {
			return e
		}
		e = u.Unwrap()
	}
}

// TimeLimit truncates episodes after MaxSteps steps (Gymnasium's TimeLimit): the step that
// reaches the limit returns Truncated = true, also when it terminates at the same time. Stepping
// again before Reset is an error.
type TimeLimit struct {
	env       Env
	core      coreStepper // env's fast path, nil when it has none or may return Info
	maxSteps  int
	elapsed   int
	truncated bool
}

var (
	_ Env         = (*TimeLimit)(nil)
	_ Unwrapper   = (*TimeLimit)(nil)
	_ StateSetter = (*TimeLimit)(nil)
)

// NewTimeLimit wraps e; maxSteps must be positive.
func NewTimeLimit(e Env, maxSteps int) (*TimeLimit, error) {
	if e == nil {
		return nil, errors.New("env: NewTimeLimit: env is nil")
	}
	if maxSteps <= 0 {
		return nil, fmt.Errorf("env: NewTimeLimit: maxSteps must be positive, got %d", maxSteps)
	}
	return newTimeLimit(e, maxSteps), nil
}

func newTimeLimit(e Env, maxSteps int) *TimeLimit {
	w := &TimeLimit{env: e, maxSteps: maxSteps}
	switch e.(type) {
	case *CartPole, *Acrobot, *MountainCar, *MountainCarContinuous, *Pendulum, *Bandit, *TimeLimit:
		// Built-in environments never return Info, so the fast path loses nothing.
		w.core = e.(coreStepper)
	}
	return w
}

// MaxSteps is the episode length limit.
func (w *TimeLimit) MaxSteps() int { return w.maxSteps }

// Elapsed is the number of steps taken in the current episode.
func (w *TimeLimit) Elapsed() int { return w.elapsed }

func (w *TimeLimit) Unwrap() Env             { return w.env }
func (w *TimeLimit) ObservationSpace() Space { return w.env.ObservationSpace() }
func (w *TimeLimit) ActionSpace() Space      { return w.env.ActionSpace() }

// Reset resets the step counter and the wrapped environment.
func (w *TimeLimit) Reset(seed *uint64) ([]float64, Info, error) {
	w.elapsed, w.truncated = 0, false
	return w.env.Reset(seed)
}

// Step steps the wrapped environment and sets Truncated when the limit is reached.
func (w *TimeLimit) Step(action []float64) (StepResult, error) {
	if w.core != nil {
		return result(w.stepCore(action))
	}
	if w.truncated {
		return StepResult{}, errFinished
	}
	r, err := w.env.Step(action)
	if err != nil {
		return StepResult{}, err
	}
	if w.tick() {
		r.Truncated = true
	}
	return r, nil
}

// tick counts a step and reports whether it reached the limit.
func (w *TimeLimit) tick() bool {
	w.elapsed++
	if w.elapsed >= w.maxSteps {
		w.truncated = true
	}
	return w.truncated
}

// stepCore is Step as plain values (see coreStepper); the wrapped environment's Info is dropped.
func (w *TimeLimit) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	if w.truncated {
		return nil, 0, false, false, errFinished
	}
	var (
		obs         []float64
		reward      float64
		term, trunc bool
		err         error
	)
	if w.core != nil {
		obs, reward, term, trunc, err = w.core.stepCore(action)
	} else {
		var r StepResult
		r, err = w.env.Step(action)
		obs, reward, term, trunc = r.Obs, r.Reward, r.Terminated, r.Truncated
	}
	if err != nil {
		return nil, 0, false, false, err
	}
	if w.tick() {
		trunc = true
	}
	return obs, reward, term, trunc, nil
}

// SetState forwards to the wrapped environment (which must be a StateSetter) and restarts the
// step counter.
func (w *TimeLimit) SetState(s []float64) error {
	ss, ok := w.env.(StateSetter)
	if !ok {
		return fmt.Errorf("env: TimeLimit: wrapped %T cannot set its state", w.env)
	}
	if err := ss.SetState(s); err != nil {
		return err
	}
	w.elapsed, w.truncated = 0, false
	return nil
}

// SetElapsed sets the number of steps taken in the current episode (restoring a checkpoint
// after SetState, which restarts the counter); n must be in [0, MaxSteps).
func (w *TimeLimit) SetElapsed(n int) error {
	if n < 0 || n >= w.maxSteps {
		return fmt.Errorf("env: TimeLimit.SetElapsed: %d steps, want 0 ≤ n < %d", n, w.maxSteps)
	}
	w.elapsed, w.truncated = n, false
	return nil
}

// State forwards to the wrapped environment; nil when it is not a StateSetter.
func (w *TimeLimit) State() []float64 {
	if ss, ok := w.env.(StateSetter); ok {
		return ss.State()
	}
	return nil
}

// Info keys set by EpisodeStatistics on the last step of an episode.
const (
	InfoEpisodeReturn = "episode_return"
	InfoEpisodeLength = "episode_length"
)

// EpisodeStatistics records the return and length of every episode of the wrapped environment
// (Gymnasium's RecordEpisodeStatistics). On an episode's last step its Info holds
// InfoEpisodeReturn and InfoEpisodeLength (plus the wrapped environment's keys); that map is
// owned by the wrapper and reused.
type EpisodeStatistics struct {
	env      Env
	ret      float64
	length   int
	info     Info
	last     EpisodeStat
	episodes int
}

var (
	_ Env       = (*EpisodeStatistics)(nil)
	_ Unwrapper = (*EpisodeStatistics)(nil)
)

// NewEpisodeStatistics wraps e.
func NewEpisodeStatistics(e Env) *EpisodeStatistics {
	return &EpisodeStatistics{env: e, info: Info{}}
}

func (w *EpisodeStatistics) Unwrap() Env             { return w.env }
func (w *EpisodeStatistics) ObservationSpace() Space { return w.env.ObservationSpace() }
func (w *EpisodeStatistics) ActionSpace() Space      { return w.env.ActionSpace() }

// Reset starts counting a new episode.
func (w *EpisodeStatistics) Reset(seed *uint64) ([]float64, Info, error) {
	w.ret, w.length = 0, 0
	return w.env.Reset(seed)
}

// Step accumulates the reward and reports the finished episode in Info.
func (w *EpisodeStatistics) Step(action []float64) (StepResult, error) {
	r, err := w.env.Step(action)
	if err != nil {
		return r, err
	}
	w.ret += r.Reward
	w.length++
	if r.Terminated || r.Truncated {
		w.last = EpisodeStat{Return: w.ret, Length: w.length}
		w.episodes++
		clear(w.info)
		for k, v := range r.Info {
			w.info[k] = v
		}
		w.info[InfoEpisodeReturn] = w.ret
		w.info[InfoEpisodeLength] = float64(w.length)
		r.Info = w.info
	}
	return r, nil
}

// Last returns the most recent finished episode and whether there is one.
func (w *EpisodeStatistics) Last() (EpisodeStat, bool) { return w.last, w.episodes > 0 }

// Episodes is the number of finished episodes.
func (w *EpisodeStatistics) Episodes() int { return w.episodes }

// ClipAction clips every action to the bounds of the wrapped environment's Box action space
// before stepping (Gymnasium's ClipAction). NaN actions are still rejected.
type ClipAction struct {
	env Env
	box *Box
	buf []float64
}

var (
	_ Env       = (*ClipAction)(nil)
	_ Unwrapper = (*ClipAction)(nil)
)

// NewClipAction wraps e, whose action space must be a *Box.
func NewClipAction(e Env) (*ClipAction, error) {
	b, ok := e.ActionSpace().(*Box)
	if !ok {
		return nil, fmt.Errorf("env: ClipAction: action space %v is not a Box", e.ActionSpace())
	}
	return &ClipAction{env: e, box: b, buf: make([]float64, b.Dim())}, nil
}

func (w *ClipAction) Unwrap() Env             { return w.env }
func (w *ClipAction) ObservationSpace() Space { return w.env.ObservationSpace() }

// ActionSpace is the wrapped Box; any finite action of the right length is accepted.
func (w *ClipAction) ActionSpace() Space { return w.env.ActionSpace() }

func (w *ClipAction) Reset(seed *uint64) ([]float64, Info, error) { return w.env.Reset(seed) }

// Step clips the action into the Box and steps.
func (w *ClipAction) Step(action []float64) (StepResult, error) {
	if len(action) != len(w.buf) {
		return StepResult{}, fmt.Errorf("env: ClipAction: action has length %d, want %d", len(action), len(w.buf))
	}
	clipInto(w.buf, action, w.box)
	return w.env.Step(w.buf)
}

// clipInto writes clip(src, box) to dst (NaN stays NaN so that the environment rejects it).
func clipInto(dst, src []float64, b *Box) {
	d := len(b.Low)
	for i, v := range src {
		j := i % d
		if v < b.Low[j] {
			v = b.Low[j]
		} else if v > b.High[j] {
			v = b.High[j]
		}
		dst[i] = v
	}
}

// RunningMeanStd tracks the mean and (population) variance of a stream of vectors with the
// parallel update of Chan et al., as Gymnasium's RunningMeanStd: for a batch of n rows with mean
// m_b and variance v_b, δ = m_b − mean, N = count + n,
//
//	mean ← mean + δ·n/N,  var ← (var·count + v_b·n + δ²·count·n/N)/N,  count ← N.
//
// It starts from mean 0, var 1, count 1e-4. The exported fields make it JSON-serialisable.
type RunningMeanStd struct {
	Mean  []float64 `json:"mean"`
	Var   []float64 `json:"var"`
	Count float64   `json:"count"`
}

// NewRunningMeanStd returns the initial statistics for vectors of length dim.
func NewRunningMeanStd(dim int) *RunningMeanStd {
	r := &RunningMeanStd{Mean: make([]float64, dim), Var: make([]float64, dim), Count: 1e-4}
	for i := range r.Var {
		r.Var[i] = 1
	}
	return r
}

// Clone returns a deep copy.
func (r *RunningMeanStd) Clone() *RunningMeanStd {
	return &RunningMeanStd{Mean: append([]float64(nil), r.Mean...), Var: append([]float64(nil), r.Var...), Count: r.Count}
}

// Validate checks that the statistics describe vectors of length dim with finite values,
// non-negative variances and a positive count.
func (r *RunningMeanStd) Validate(dim int) error {
	if len(r.Mean) != dim || len(r.Var) != dim {
		return fmt.Errorf("env: RunningMeanStd: len(mean)=%d, len(var)=%d, want %d", len(r.Mean), len(r.Var), dim)
	}
	if !(r.Count > 0) || math.IsInf(r.Count, 0) {
		return fmt.Errorf("env: RunningMeanStd: count = %v, want a finite positive value", r.Count)
	}
	for i := range r.Mean {
		if math.IsNaN(r.Mean[i]) || math.IsInf(r.Mean[i], 0) || !(r.Var[i] >= 0) || math.IsInf(r.Var[i], 0) {
			return fmt.Errorf("env: RunningMeanStd: entry %d has mean %v, var %v", i, r.Mean[i], r.Var[i])
		}
	}
	return nil
}

// Update folds in a batch of rows (len(batch) must be a positive multiple of len(Mean)).
func (r *RunningMeanStd) Update(batch []float64) error {
	d := len(r.Mean)
	if d == 0 || len(batch) == 0 || len(batch)%d != 0 {
		return fmt.Errorf("env: RunningMeanStd.Update: batch of %d values is not whole rows of %d", len(batch), d)
	}
	n := len(batch) / d
	fn := float64(n)
	tot := r.Count + fn
	for j := 0; j < d; j++ {
		var m float64
		for i := 0; i < n; i++ {
			m += batch[i*d+j]
		}
		m /= fn
		var v float64
		for i := 0; i < n; i++ {
			x := batch[i*d+j] - m
			v += x * x
		}
		v /= fn
		delta := m - r.Mean[j]
		r.Mean[j] += delta * fn / tot
		m2 := r.Var[j]*r.Count + v*fn + delta*delta*r.Count*fn/tot
		r.Var[j] = m2 / tot
	}
	r.Count = tot
	return nil
}

// obsNormalizer is the shared core of NormalizeObservation and VectorNormalizeObservation.
type obsNormalizer struct {
	rms     *RunningMeanStd
	eps     float64
	clip    float64
	frozen  bool
	invStd  []float64
	invDirt bool
}

func newObsNormalizer(dim int, clip float64) obsNormalizer {
	return obsNormalizer{rms: NewRunningMeanStd(dim), eps: 1e-8, clip: clip, invStd: make([]float64, dim), invDirt: true}
}

// apply updates the statistics with the rows of src (unless frozen) and writes the normalised
// rows to dst.
func (n *obsNormalizer) apply(dst, src []float64) error {
	if !n.frozen {
		if err := n.rms.Update(src); err != nil {
			return err
		}
		n.invDirt = true
	}
	n.normalize(dst, src)
	return nil
}

// normalize writes clip((src − mean)/√(var + ε), ±clip) to dst without updating.
func (n *obsNormalizer) normalize(dst, src []float64) {
	d := len(n.rms.Mean)
	if n.invDirt {
		for j := range n.invStd {
			n.invStd[j] = 1 / math.Sqrt(n.rms.Var[j]+n.eps)
		}
		n.invDirt = false
	}
	for i, x := range src {
		j := i % d
		y := (x - n.rms.Mean[j]) * n.invStd[j]
		if n.clip > 0 {
			y = math.Max(-n.clip, math.Min(n.clip, y))
		}
		dst[i] = y
	}
}

// NormalizeObservationState is the saveable state of an observation normaliser.
type NormalizeObservationState struct {
	RMS     RunningMeanStd `json:"rms"`
	Epsilon float64        `json:"epsilon"`
	Clip    float64        `json:"clip"` // 0: no clipping
	Frozen  bool           `json:"frozen"`
}

func (n *obsNormalizer) state() NormalizeObservationState {
	return NormalizeObservationState{RMS: *n.rms.Clone(), Epsilon: n.eps, Clip: n.clip, Frozen: n.frozen}
}

func (n *obsNormalizer) setState(s NormalizeObservationState) error {
	if err := s.RMS.Validate(len(n.rms.Mean)); err != nil {
		return fmt.Errorf("observation normaliser: %w", err)
	}
	if !(s.Epsilon >= 0) || !(s.Clip >= 0) {
		return fmt.Errorf("env: observation normaliser: epsilon %v and clip %v must be ≥ 0", s.Epsilon, s.Clip)
	}
	n.rms = s.RMS.Clone()
	n.eps, n.clip, n.frozen, n.invDirt = s.Epsilon, s.Clip, s.Frozen, true
	return nil
}

// NormalizeObservation standardises observations with running statistics, as Gymnasium's
// NormalizeObservation: every observation (from Reset and Step) first updates the statistics,
// then is returned as (obs − mean)/√(var + 1e-8), clipped to ±Clip when Clip > 0 (Gymnasium
// itself does not clip; CleanRL's continuous PPO clips at 10).
type NormalizeObservation struct {
	env Env
	obsNormalizer
	obs []float64
}

var (
	_ Env       = (*NormalizeObservation)(nil)
	_ Unwrapper = (*NormalizeObservation)(nil)
)

// NewNormalizeObservation wraps e; clip ≤ 0 disables clipping.
func NewNormalizeObservation(e Env, clip float64) *NormalizeObservation {
	d := e.ObservationSpace().Dim()
	return &NormalizeObservation{env: e, obsNormalizer: newObsNormalizer(d, math.Max(clip, 0)), obs: make([]float64, d)}
}

func (w *NormalizeObservation) Unwrap() Env        { return w.env }
func (w *NormalizeObservation) ActionSpace() Space { return w.env.ActionSpace() }

// ObservationSpace is the wrapped space; normalised values may leave it.
func (w *NormalizeObservation) ObservationSpace() Space { return w.env.ObservationSpace() }

// SetFrozen stops (true) or resumes (false) updating the statistics, e.g. for evaluation.
func (w *NormalizeObservation) SetFrozen(frozen bool) { w.frozen = frozen }

// State returns a deep copy of the statistics for a checkpoint.
func (w *NormalizeObservation) State() NormalizeObservationState { return w.state() }

// SetState restores statistics saved by State.
func (w *NormalizeObservation) SetState(s NormalizeObservationState) error { return w.setState(s) }

// Normalize writes the normalised obs to dst without updating the statistics.
func (w *NormalizeObservation) Normalize(dst, obs []float64) { w.normalize(dst, obs) }

func (w *NormalizeObservation) Reset(seed *uint64) ([]float64, Info, error) {
	o, info, err := w.env.Reset(seed)
	if err != nil {
		return nil, info, err
	}
	if err := w.apply(w.obs, o); err != nil {
		return nil, info, err
	}
	return w.obs, info, nil
}

func (w *NormalizeObservation) Step(action []float64) (StepResult, error) {
	r, err := w.env.Step(action)
	if err != nil {
		return r, err
	}
	if err := w.apply(w.obs, r.Obs); err != nil {
		return StepResult{}, err
	}
	r.Obs = w.obs
	return r, nil
}

// rewardScaler is the shared core of NormalizeReward and VectorNormalizeReward.
type rewardScaler struct {
	rms     *RunningMeanStd
	returns []float64
	gamma   float64
	eps     float64
	clip    float64
	frozen  bool
}

// apply updates the discounted returns G ← γ·G·(1 − terminated) + r, folds them into the
// statistics (unless frozen) and scales rewards in place by 1/√(var + ε), then clips.
func (s *rewardScaler) apply(rewards []float64, terminated []bool) error {
	for i, r := range rewards {
		keep := 1.0
		if terminated[i] {
			keep = 0
		}
		s.returns[i] = s.returns[i]*s.gamma*keep + r
	}
	if !s.frozen {
		if err := s.rms.Update(s.returns); err != nil {
			return err
		}
	}
	inv := 1 / math.Sqrt(s.rms.Var[0]+s.eps)
	for i, r := range rewards {
		y := r * inv
		if s.clip > 0 {
			y = math.Max(-s.clip, math.Min(s.clip, y))
		}
		rewards[i] = y
	}
	return nil
}

// NormalizeRewardState is the saveable state of a reward scaler.
type NormalizeRewardState struct {
	RMS     RunningMeanStd `json:"rms"`     // statistics of the discounted return (dimension 1)
	Returns []float64      `json:"returns"` // the running discounted return of each copy
	Gamma   float64        `json:"gamma"`
	Epsilon float64        `json:"epsilon"`
	Clip    float64        `json:"clip"` // 0: no clipping
	Frozen  bool           `json:"frozen"`
}

func newRewardScaler(n int, gamma, clip float64) (rewardScaler, error) {
	if !(gamma >= 0 && gamma <= 1) {
		return rewardScaler{}, fmt.Errorf("env: NormalizeReward: gamma = %v, want a value in [0, 1]", gamma)
	}
	return rewardScaler{rms: NewRunningMeanStd(1), returns: make([]float64, n), gamma: gamma, eps: 1e-8, clip: math.Max(clip, 0)}, nil
}

func (s *rewardScaler) state() NormalizeRewardState {
	return NormalizeRewardState{RMS: *s.rms.Clone(), Returns: append([]float64(nil), s.returns...), Gamma: s.gamma, Epsilon: s.eps, Clip: s.clip, Frozen: s.frozen}
}

func (s *rewardScaler) setState(st NormalizeRewardState) error {
	if err := st.RMS.Validate(1); err != nil {
		return fmt.Errorf("reward scaler: %w", err)
	}
	if len(st.Returns) != len(s.returns) {
		return fmt.Errorf("env: reward scaler: %d returns, want %d", len(st.Returns), len(s.returns))
	}
	if !(st.Gamma >= 0 && st.Gamma <= 1) || !(st.Epsilon >= 0) || !(st.Clip >= 0) {
		return fmt.Errorf("env: reward scaler: gamma %v, epsilon %v, clip %v out of range", st.Gamma, st.Epsilon, st.Clip)
	}
	s.rms = st.RMS.Clone()
	copy(s.returns, st.Returns)
	s.gamma, s.eps, s.clip, s.frozen = st.Gamma, st.Epsilon, st.Clip, st.Frozen
	return nil
}

// NormalizeReward scales rewards by the standard deviation of the discounted return, as
// Gymnasium's NormalizeReward: G ← γ·G·(1 − terminated) + r, the running variance of G is
// updated every step, and the reward becomes r/√(var(G) + 1e-8), clipped to ±Clip when Clip > 0
// (CleanRL clips at 10). As in Gymnasium, G is reset only by termination, not by truncation.
// The rewards are not centred.
type NormalizeReward struct {
	env Env
	rewardScaler
	rew  [1]float64
	term [1]bool
}

var (
	_ Env       = (*NormalizeReward)(nil)
	_ Unwrapper = (*NormalizeReward)(nil)
)

// NewNormalizeReward wraps e with discount gamma ∈ [0, 1]; clip ≤ 0 disables clipping.
func NewNormalizeReward(e Env, gamma, clip float64) (*NormalizeReward, error) {
	s, err := newRewardScaler(1, gamma, clip)
	if err != nil {
		return nil, err
	}
	return &NormalizeReward{env: e, rewardScaler: s}, nil
}

func (w *NormalizeReward) Unwrap() Env             { return w.env }
func (w *NormalizeReward) ObservationSpace() Space { return w.env.ObservationSpace() }
func (w *NormalizeReward) ActionSpace() Space      { return w.env.ActionSpace() }

// SetFrozen stops (true) or resumes (false) updating the statistics.
func (w *NormalizeReward) SetFrozen(frozen bool) { w.frozen = frozen }

// State returns a deep copy of the statistics for a checkpoint.
func (w *NormalizeReward) State() NormalizeRewardState { return w.state() }

// SetState restores statistics saved by State.
func (w *NormalizeReward) SetState(s NormalizeRewardState) error { return w.setState(s) }

func (w *NormalizeReward) Reset(seed *uint64) ([]float64, Info, error) { return w.env.Reset(seed) }

func (w *NormalizeReward) Step(action []float64) (StepResult, error) {
	r, err := w.env.Step(action)
	if err != nil {
		return r, err
	}
	w.rew[0], w.term[0] = r.Reward, r.Terminated
	if err := w.apply(w.rew[:], w.term[:]); err != nil {
		return StepResult{}, err
	}
	r.Reward = w.rew[0]
	return r, nil
}
