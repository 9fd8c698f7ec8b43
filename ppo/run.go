package ppo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"klppo/env"
	"klppo/internal/rng"
	"klppo/policy"
)

// errNonFinite marks a NaN/Inf loss, gradient or KL; the run stops and keeps the last good checkpoint.
var errNonFinite = errors.New("non-finite value")

// trainer holds the whole mutable state of one run. Its stages, in the order of one update
// (runUpdate): collectRollout (rollout.go) → computeAdvantages → Learner.Learn (learner.go) →
// Learner.TrustRegionKL → BetaController.Next.
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
	actor      *policy.Actor // acting pass of the rollout
	valueActor *policy.Actor // value pass during the rollout
	// learner runs the epochs of minibatch steps. Adam is element-wise, so its one optimiser per
	// network is the same algorithm as one over both; two let the networks step on both cores.
	learner    *Learner
	paramNames []string // checkpoint names: the policy's parameters, then the value network's

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

	singleThreaded bool
	onEpisode      func(globalStep int, ep env.EpisodeStat) error
	afterUpdate    func(update int, nets *policy.ActorCritic)
}

// newTrainer builds a fresh run from cfg (validated by the caller); single keeps all its work
// on the calling goroutine.
func newTrainer(cfg Config, single bool) (*trainer, error) {
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
		recentReturns: newReturnWindow(10), solvedThreshold: math.NaN(), singleThreaded: single}
	if th, ok := spec.Threshold(); ok {
		t.solvedThreshold = th
	}
	if err := t.makeEnvs(spec); err != nil {
		return nil, err
	}
	if err := t.makeNets(spec); err != nil {
		return nil, err
	}
	t.actPCG = rng.PCG(cfg.Seed, 1)
	t.shufflePCG = rng.PCG(cfg.Seed, 2)
	t.envPCG = rng.PCG(cfg.Seed, 3)
	t.actRNG, t.shuffleRNG, t.envRNG = rand.New(t.actPCG), rand.New(t.shufflePCG), rand.New(t.envPCG)
	t.beta = pen.InitialBeta(cfg.InitBeta)
	if t.betaRule, err = pen.BetaController(cfg.KLPropHorizon, cfg.BetaMin, cfg.BetaMax); err != nil {
		return nil, fmt.Errorf("penalty: %w", err)
	}
	pc := t.nets.Config()
	t.rollout = newRolloutBuffer(t.batchSize, t.obsDim, pc.ActionWidth(), pc.HeadWidth())
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
	if t.nets, err = policy.New(rng.New(cfg.Seed, 0), pcfg); err != nil {
		return err
	}
	t.actor, t.valueActor = policy.NewActor(t.nets), policy.NewActor(t.nets)
	t.learner, err = NewLearner(t.nets, cfg.learnerConfig(t.penalty, t.minibatchSize, t.singleThreaded))
	if err != nil {
		return err
	}
	t.paramNames = t.nets.ParamNames()
	return nil
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
	b := t.rollout.batch(t.batchSize, t.nets.LogStdValues())
	betaUsed := t.beta
	stats, err := t.learner.Learn(context.Background(), b, lr, t.beta, 0, t.shuffleRNG)
	if err != nil {
		return UpdateMetrics{}, err
	}
	klAfter, err := t.learner.TrustRegionKL(b)
	if err != nil {
		return UpdateMetrics{}, err
	}
	t.beta = t.betaRule.Next(t.beta, klAfter, t.batchSize)
	t.update++
	if t.afterUpdate != nil {
		t.afterUpdate(t.update, t.nets)
	}
	wall := time.Since(sessionStart).Seconds()
	m := UpdateMetrics{Epochs: stats.Epochs, ApproxKLK1: stats.ApproxKLK1, ApproxKLK3: stats.ApproxKLK3,
		ClipFrac: stats.ClipFrac, Entropy: stats.Entropy, PolicyLoss: stats.PolicyLoss, ValueLoss: stats.ValueLoss}
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
