package ppo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"klppo/env"
	"klppo/kl"
	"klppo/nn"
	"klppo/policy"
)

// errNonFinite marks a NaN/Inf loss, gradient or KL; the run stops and keeps the last good checkpoint.
var errNonFinite = errors.New("non-finite value")

// trainer holds the whole mutable state of one run. Its stages, in the order of one update:
// collectRollout (rollout.go) → computeAdvantages → learn (learn.go) → adaptBeta.
type trainer struct {
	cfg             Config
	penalty         Penalty
	betaRule        BetaController
	solvedThreshold float64 // NaN when the env has none

	numEnvs, numSteps, obsDim int
	batchSize, minibatchSize  int

	envs       *env.Vector   // the copies, each with its time limit
	venv       env.VectorEnv // envs behind the normalisers (norm_obs, norm_reward): what the rollout steps
	resetSeeds []uint64      // seed of each copy's current episode (restores copies without a saveable state)

	nets       *policy.ActorCritic
	actor      *policy.Actor // acting pass of the rollout, first half of the KL pass
	valueActor *policy.Actor // value pass during the rollout, second half of the KL pass
	policyLoss *policyObjective
	valueLoss  *valueObjective
	// Adam is element-wise, so one optimiser per network is the same algorithm as one over
	// both; two let the networks step on both cores.
	policyAdam, valueAdam *nn.Adam
	paramNames            []string // checkpoint names: the policy's parameters, then the value network's
	numPolicyParams       int

	actPCG, shufflePCG, envPCG *rand.PCG // checkpointed generator states
	actRNG, shuffleRNG, envRNG *rand.Rand

	obs []float64 // numEnvs×obsDim current observations as the policy sees them

	update, globalStep int
	beta               float64
	recentReturns      *returnWindow
	firstSolved        int // first global step with a solved mean return, −1 before
	episodes           int
	wallBefore         float64 // seconds of earlier sessions of a resumed run

	rollout rolloutBuffer
	batch   minibatch

	singleThreaded bool
	onEpisode      func(globalStep int, ep env.EpisodeStat) error
	afterUpdate    func(update int, nets *policy.ActorCritic)
}

// pcgSeeds derives the PCG seeds of a named stream from the run seed.
func pcgSeeds(seed uint64, stream uint64) (uint64, uint64) {
	z := seed*0x9E3779B97F4A7C15 + stream*0xD1B54A32D192ED03 + 0x632BE59BD9B4E019
	mix := func(x uint64) uint64 {
		x ^= x >> 30
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 27
		x *= 0x94D049BB133111EB
		return x ^ x>>31
	}
	return mix(z), mix(z + 0x9E3779B97F4A7C15)
}

// newTrainer builds a fresh run from cfg (validated by the caller).
func newTrainer(cfg Config) (*trainer, error) {
	pen, err := ParsePenalty(cfg.Penalty)
	if err != nil {
		return nil, fmt.Errorf("penalty: %w", err)
	}
	spec, err := env.Lookup(cfg.EnvID)
	if err != nil {
		return nil, fmt.Errorf("env_id: %w", err)
	}
	t := &trainer{cfg: cfg, penalty: pen, numEnvs: cfg.NumEnvs, numSteps: cfg.NumSteps,
		batchSize: cfg.BatchSize(), minibatchSize: cfg.MinibatchSize(), firstSolved: -1,
		recentReturns: newReturnWindow(10), solvedThreshold: math.NaN()}
	if th, ok := spec.Threshold(); ok {
		t.solvedThreshold = th
	}
	if err := t.makeEnvs(spec); err != nil {
		return nil, err
	}
	if err := t.makeNets(spec); err != nil {
		return nil, err
	}
	t.actPCG = rand.NewPCG(pcgSeeds(cfg.Seed, 1))
	t.shufflePCG = rand.NewPCG(pcgSeeds(cfg.Seed, 2))
	t.envPCG = rand.NewPCG(pcgSeeds(cfg.Seed, 3))
	t.actRNG, t.shuffleRNG, t.envRNG = rand.New(t.actPCG), rand.New(t.shufflePCG), rand.New(t.envPCG)
	t.beta = pen.InitialBeta(cfg.InitBeta)
	t.betaRule = pen.BetaController(cfg.KLPropHorizon, cfg.BetaMin, cfg.BetaMax)
	pc := t.nets.Config()
	t.rollout = newRolloutBuffer(t.batchSize, t.obsDim, pc.ActionWidth(), pc.HeadWidth())
	t.batch = newMinibatch(t.minibatchSize, t.obsDim, pc.ActionWidth(), pc.HeadWidth())
	// Initial reset: copy i gets seed+i (as CleanRL); later episodes get seeds from envRNG.
	for i := range t.resetSeeds {
		t.resetSeeds[i] = cfg.Seed + uint64(i)
	}
	seed := cfg.Seed
	obs, err := t.venv.Reset(&seed)
	if err != nil {
		return nil, fmt.Errorf("env reset: %w", err)
	}
	t.obs = append([]float64(nil), obs...)
	return t, nil
}

// makeEnvs builds the vector of numEnvs copies (each with its time limit) and the normalisers.
// Every auto-reset draws the episode's seed from envRNG, so a checkpoint restores the stream.
func (t *trainer) makeEnvs(spec env.Spec) error {
	var err error
	if t.envs, err = env.NewVector(t.numEnvs, func(int) (env.Env, error) { return spec.Make(), nil }); err != nil {
		return err
	}
	t.resetSeeds = make([]uint64, t.numEnvs)
	t.envs.SetResetSeeds(func(i int) uint64 {
		t.resetSeeds[i] = t.envRNG.Uint64()
		return t.resetSeeds[i]
	})
	t.obsDim = t.envs.ObservationSpace().Dim()
	t.venv = t.envs
	if t.cfg.NormObs {
		t.venv = env.NewVectorNormalizeObservation(t.venv, t.cfg.ClipObs)
	}
	if t.cfg.NormReward {
		if t.venv, err = env.NewVectorNormalizeReward(t.venv, t.cfg.Gamma, t.cfg.ClipReward); err != nil {
			return err
		}
	}
	return nil
}

// makeNets builds the actor-critic, its training graphs and optimisers.
func (t *trainer) makeNets(spec env.Spec) error {
	cfg := t.cfg
	pcfg := policy.Config{ObsDim: t.obsDim, Hidden: append([]int(nil), cfg.Hidden...), Activation: cfg.Activation,
		DType: cfg.DType}
	switch sp := t.envs.ActionSpace().(type) {
	case *env.Discrete:
		pcfg.Discrete, pcfg.NumActions = true, sp.N
	case *env.Box:
		pcfg.ActDim = sp.Dim()
		pcfg.ActLow = append([]float64(nil), sp.Low...)
		pcfg.ActHigh = append([]float64(nil), sp.High...)
		pcfg.InitLogStd = cfg.InitLogStd
	default:
		return fmt.Errorf("env_id %q: unsupported action space %v", spec.ID, sp)
	}
	var err error
	if t.nets, err = policy.New(rand.New(rand.NewPCG(pcgSeeds(cfg.Seed, 0))), pcfg); err != nil {
		return err
	}
	t.actor, t.valueActor = policy.NewActor(t.nets), policy.NewActor(t.nets)
	if t.policyLoss, err = newPolicyObjective(t.nets, t.minibatchSize, t.penalty, cfg.EntCoef); err != nil {
		return err
	}
	if t.valueLoss, err = newValueObjective(t.nets, t.minibatchSize, cfg.ClipVLoss, cfg.VFClip, cfg.VFCoef); err != nil {
		return err
	}
	t.paramNames = t.nets.ParamNames()
	t.numPolicyParams = len(t.policyLoss.trainer.Params())
	if t.policyAdam, err = nn.NewAdam(t.policyLoss.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps}); err != nil {
		return err
	}
	t.valueAdam, err = nn.NewAdam(t.valueLoss.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps})
	return err
}

// runUpdate is one PPO update: collect a rollout, compute advantages, run the epochs of
// minibatch steps, measure how far the policy moved and adapt β. It returns the metrics row.
func (t *trainer) runUpdate(sessionStart time.Time, sessionStep0 int) (UpdateMetrics, error) {
	lr := t.cfg.LearningRate
	if t.cfg.AnnealLR {
		lr *= 1 - float64(t.update)/float64(t.cfg.NumUpdates())
	}
	if err := t.collectRollout(); err != nil {
		return UpdateMetrics{}, err
	}
	if err := t.computeAdvantages(); err != nil {
		return UpdateMetrics{}, err
	}
	oldLogStd := t.nets.LogStdValues()
	betaUsed := t.beta
	stats, err := t.learn(lr, oldLogStd)
	if err != nil {
		return UpdateMetrics{}, err
	}
	klAfter, err := t.policyKL(oldLogStd)
	if err != nil {
		return UpdateMetrics{}, err
	}
	t.beta = t.betaRule.Next(t.beta, klAfter, t.batchSize)
	t.update++
	if t.afterUpdate != nil {
		t.afterUpdate(t.update, t.nets)
	}
	wall := time.Since(sessionStart).Seconds()
	m := stats.metrics()
	m.Update, m.GlobalStep, m.WallS = t.update, t.globalStep, t.wallBefore+wall
	m.SPS = float64(t.globalStep-sessionStep0) / math.Max(wall, 1e-9)
	m.EpisodicReturn, m.KL, m.Beta, m.LR = t.recentReturns.mean(), klAfter, betaUsed, lr
	m.ExplainedVariance = explainedVariance(t.rollout.values, t.rollout.returns)
	return m, nil
}

// computeAdvantages bootstraps from V of the observations after the rollout and runs GAE.
func (t *trainer) computeAdvantages() error {
	r := &t.rollout
	lastValues, err := t.actor.Values(t.obs, t.numEnvs)
	if err != nil {
		return err
	}
	return GAE(r.rewards, r.values, r.terminated, r.truncated, r.finalValues, lastValues, t.numEnvs,
		t.cfg.Gamma, t.cfg.GAELambda, r.advantages, r.returns)
}

// policyKL is the mean exact KL(π_old(·|s)‖π_θ(·|s)) over the rollout's states with the
// parameters after the update (closed forms of package kl; the plain-Go forward pass of the two
// halves of the batch runs on both cores unless single-threaded).
func (t *trainer) policyKL(oldLogStd []float64) (float64, error) {
	pc := t.nets.Config()
	width := pc.HeadWidth()
	newLogStd := t.nets.LogStdValues()
	sumKL := func(a *policy.Actor, lo, hi int) (float64, error) {
		newDist, err := a.Dist(t.rollout.obs[lo*t.obsDim:hi*t.obsDim], hi-lo)
		if err != nil {
			return 0, err
		}
		s := 0.0
		logSoftmaxes := make([]float64, 2*width) // KLLogitsBuf's scratch, reused for every state
		for k := lo; k < hi; k++ {
			old, cur := t.rollout.dist[k*width:(k+1)*width], newDist[(k-lo)*width:(k-lo+1)*width]
			var d float64
			if pc.Discrete {
				d, err = kl.KLLogitsBuf(logSoftmaxes, old, cur)
			} else {
				d, err = kl.DiagNormal{Mu: old, LogSigma: oldLogStd}.KL(kl.DiagNormal{Mu: cur, LogSigma: newLogStd})
			}
			if err != nil {
				return 0, fmt.Errorf("%w: KL(π_old‖π_θ) of state %d: %v", errNonFinite, k, err)
			}
			s += d
		}
		return s, nil
	}
	half := t.batchSize / 2
	var s1, s2 float64
	err := t.both(func() (err error) {
		s1, err = sumKL(t.actor, 0, half)
		return err
	}, func() (err error) {
		s2, err = sumKL(t.valueActor, half, t.batchSize)
		return err
	})
	if err != nil {
		return 0, err
	}
	d := (s1 + s2) / float64(t.batchSize)
	if !finite(d) {
		return 0, fmt.Errorf("%w: KL after the update is %v", errNonFinite, d)
	}
	return d, nil
}

// explainedVariance is 1 − Var[y − ŷ]/Var[y] (NaN when Var[y] = 0), as CleanRL.
func explainedVariance(pred, y []float64) float64 {
	n := float64(len(y))
	my, md := 0.0, 0.0
	for i := range y {
		my += y[i]
		md += y[i] - pred[i]
	}
	my /= n
	md /= n
	vy, vd := 0.0, 0.0
	for i := range y {
		vy += (y[i] - my) * (y[i] - my)
		d := y[i] - pred[i] - md
		vd += d * d
	}
	if vy == 0 {
		return math.NaN()
	}
	return 1 - vd/vy
}

// both runs f and g and returns the first error (f's before g's). g runs on a helper
// goroutine unless the run is single-threaded; f always runs on the calling goroutine. f and g
// must not share mutable state.
func (t *trainer) both(f, g func() error) error {
	if t.singleThreaded {
		if err := f(); err != nil {
			return err
		}
		return g()
	}
	var gErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		gErr = g()
	}()
	fErr := f()
	<-done
	if fErr != nil {
		return fErr
	}
	return gErr
}
