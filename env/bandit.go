package env

import (
	"fmt"
	"math"
)

// BanditConfig configures a k-armed bandit.
type BanditConfig struct {
	// Means[a] is the expected reward of arm a; k = len(Means) ≥ 1. For Bernoulli arms each mean
	// is a success probability in [0, 1].
	Means []float64
	// Gaussian selects rewards N(Means[a], Std²); otherwise rewards are Bernoulli(Means[a]) ∈ {0, 1}.
	Gaussian bool
	// Std is the reward standard deviation of Gaussian arms (must be > 0 when Gaussian).
	Std float64
}

// DefaultBanditConfig is Bandit-v0: five Bernoulli arms with means 0.2, 0.4, 0.8, 0.5, 0.3; the
// optimal arm is 2 (mean 0.8), deliberately not at either end of the action range.
func DefaultBanditConfig() BanditConfig {
	return BanditConfig{Means: []float64{0.2, 0.4, 0.8, 0.5, 0.3}}
}

// Bandit is a k-armed bandit as a one-step episodic environment (Bandit-v0 with the default
// configuration): the observation is the constant [1], the action is an arm in Discrete(k),
// the reward is drawn from that arm's distribution and every pull terminates the episode, so a
// policy's return is its expected arm mean. A useful teaching case: a policy-gradient method
// collapses onto one arm, and a KL penalty to a reference policy slows that collapse.
type Bandit struct {
	seeder
	cfg        BanditConfig
	obs        [1]float64
	started    bool
	terminated bool
	obsSpace   Space
	actSpace   *Discrete
	best       int
}

var _ Env = (*Bandit)(nil)

// NewBandit checks cfg and returns a bandit.
func NewBandit(cfg BanditConfig) (*Bandit, error) {
	if len(cfg.Means) == 0 {
		return nil, fmt.Errorf("env: Bandit: Means is empty, want at least one arm")
	}
	for i, m := range cfg.Means {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return nil, fmt.Errorf("env: Bandit: Means[%d] = %v is not finite", i, m)
		}
		if !cfg.Gaussian && (m < 0 || m > 1) {
			return nil, fmt.Errorf("env: Bandit: Means[%d] = %v is not a Bernoulli probability in [0, 1]", i, m)
		}
	}
	if cfg.Gaussian && !(cfg.Std > 0 && !math.IsInf(cfg.Std, 0)) {
		return nil, fmt.Errorf("env: Bandit: Std = %v, want a finite positive value for Gaussian arms", cfg.Std)
	}
	return newBandit(cfg), nil
}

// newBandit builds a bandit from a configuration already known to be valid.
func newBandit(cfg BanditConfig) *Bandit {
	cfg.Means = append([]float64(nil), cfg.Means...)
	best := 0
	for i, m := range cfg.Means {
		if m > cfg.Means[best] {
			best = i
		}
	}
	return &Bandit{
		cfg:      cfg,
		obsSpace: fixedBox([]float64{1}, []float64{1}),
		actSpace: &Discrete{N: len(cfg.Means)},
		best:     best,
	}
}

// Config returns a copy of the bandit's configuration.
func (e *Bandit) Config() BanditConfig {
	c := e.cfg
	c.Means = append([]float64(nil), c.Means...)
	return c
}

// OptimalArm is the arm with the highest mean (the first one on ties).
func (e *Bandit) OptimalArm() int { return e.best }

// OptimalMean is the highest arm mean: the best achievable expected return.
func (e *Bandit) OptimalMean() float64 { return e.cfg.Means[e.best] }

// ObservationSpace is Box(1, 1, (1,)).
func (e *Bandit) ObservationSpace() Space { return e.obsSpace }

// ActionSpace is Discrete(k).
func (e *Bandit) ActionSpace() Space { return e.actSpace }

// Reset starts a one-pull episode; the observation is always [1].
func (e *Bandit) Reset(seed *uint64) ([]float64, Info, error) {
	e.reseed(seed)
	e.started, e.terminated = true, false
	e.obs[0] = 1
	return e.obs[:], nil, nil
}

// Step pulls one arm and terminates the episode.
func (e *Bandit) stepCore(action []float64) ([]float64, float64, bool, bool, error) {
	if !e.started {
		return nil, 0, false, false, errNotReset
	}
	a, err := checkDiscrete(action, e.actSpace.N)
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("Bandit: %w", err)
	}
	if e.terminated {
		return nil, 0, false, false, errFinished
	}
	m := e.cfg.Means[a]
	var r float64
	if e.cfg.Gaussian {
		r = m + e.cfg.Std*e.rng.NormFloat64()
	} else if e.rng.Float64() < m {
		r = 1
	}
	e.terminated = true
	e.obs[0] = 1
	return e.obs[:], r, true, false, nil
}

func (e *Bandit) Step(action []float64) (StepResult, error) { return result(e.stepCore(action)) }
