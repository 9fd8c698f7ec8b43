package ppo

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"klppo/env"
	"klppo/nn"
	"klppo/policy"

	"gorgonia.org/tensor"
)

// testHookAfterUpdate, when non-nil (tests only), runs after every update.
var testHookAfterUpdate func(t *trainer)

// errNonFinite marks a NaN/Inf loss, gradient or KL; the run stops and keeps the last good checkpoint.
var errNonFinite = errors.New("non-finite value")

// envSlot is one copy of the environment with the bookkeeping the rollout needs. The time limit
// is applied here (not by a wrapper) so that a checkpoint can record and restore it.
type envSlot struct {
	e       env.Env
	ss      env.StateSetter // nil when the environment cannot save its state
	seed    uint64          // seed of the episode's Reset (restores a stateless env at an episode start)
	elapsed int
	ret     float64
	length  int
}

// trainer holds the whole mutable state of one run.
type trainer struct {
	cfg        Config
	pen        Penalty
	spec       env.Spec
	threshold  float64 // NaN when the env has none
	maxSteps   int
	envs       []envSlot
	N, T, O    int
	B, MB      int
	ac         *policy.ActorCritic
	actor      *policy.Actor
	valueActor *policy.Actor // used by the rollout's value goroutine
	pObj       *policyObjective
	vObj       *valueObjective
	// Adam is element-wise, so one optimiser per network is the same algorithm as one over
	// both; two let the networks step on both cores.
	adamP, adamV *nn.Adam
	nPolicy      int // number of policy parameter tensors (ParamNames order: policy, then value)
	names        []string

	pcgAct, pcgShuf, pcgEnv *rand.PCG
	rngAct, rngShuf, rngEnv *rand.Rand

	obsRMS *env.RunningMeanStd // nil unless norm_obs
	retRMS *env.RunningMeanStd // nil unless norm_reward
	retAcc []float64

	rawObs, curObs []float64 // N×O current observations, raw and as the policy sees them

	update, globalStep int
	beta               float64
	betaRule           BetaController
	window             *returnWindow
	firstSolved        int
	episodes           int
	wallBefore         float64

	// rollout buffers, time-major (t·N + i)
	bObs, bAct, bLogP, bVal, bDist, bRew, bFinalV, bAdv, bRet []float64
	bTerm, bTrunc                                             []bool
	lastV                                                     []float64
	// minibatch scratch
	mObs, mAct, mDist, mLogP, mAdv, mRet, mVal []float64
	perm                                       []int
	finalRows                                  []int
	finalObs                                   []float64 // normalised final observations of truncated episodes
	finalNew                                   int       // of which not yet normalised
	klScratchP, klScratchQ                     []float64
	singleThreaded                             bool // Options.SingleThreaded
	onEpisode                                  func(step int, ep env.EpisodeStat) error
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
	t := &trainer{cfg: cfg, pen: pen, spec: spec, maxSteps: spec.MaxEpisodeSteps, N: cfg.NumEnvs, T: cfg.NumSteps,
		B: cfg.BatchSize(), MB: cfg.MinibatchSize(), firstSolved: -1, window: newReturnWindow(10)}
	t.threshold = math.NaN()
	if th, ok := spec.Threshold(); ok {
		t.threshold = th
	}
	for i := 0; i < t.N; i++ {
		e := spec.New()
		ss, _ := e.(env.StateSetter)
		t.envs = append(t.envs, envSlot{e: e, ss: ss})
	}
	e0 := t.envs[0].e
	t.O = e0.ObservationSpace().Dim()
	pcfg := policy.Config{ObsDim: t.O, Hidden: append([]int(nil), cfg.Hidden...), Activation: cfg.Activation,
		DType: cfg.DType}
	switch sp := e0.ActionSpace().(type) {
	case *env.Discrete:
		pcfg.Discrete, pcfg.NumActions = true, sp.N
	case *env.Box:
		pcfg.ActDim = sp.Dim()
		pcfg.ActLow = append([]float64(nil), sp.Low...)
		pcfg.ActHigh = append([]float64(nil), sp.High...)
		pcfg.InitLogStd = cfg.InitLogStd
	default:
		return nil, fmt.Errorf("env_id %q: unsupported action space %v", cfg.EnvID, sp)
	}
	a, b := pcgSeeds(cfg.Seed, 0)
	initRNG := rand.New(rand.NewPCG(a, b))
	if t.ac, err = policy.New(initRNG, pcfg); err != nil {
		return nil, err
	}
	t.actor = policy.NewActor(t.ac)
	t.valueActor = policy.NewActor(t.ac)
	t.pcgAct = rand.NewPCG(pcgSeeds(cfg.Seed, 1))
	t.pcgShuf = rand.NewPCG(pcgSeeds(cfg.Seed, 2))
	t.pcgEnv = rand.NewPCG(pcgSeeds(cfg.Seed, 3))
	t.rngAct, t.rngShuf, t.rngEnv = rand.New(t.pcgAct), rand.New(t.pcgShuf), rand.New(t.pcgEnv)
	if t.pObj, err = newPolicyObjective(t.ac, t.MB, pen, cfg.EntCoef); err != nil {
		return nil, err
	}
	if t.vObj, err = newValueObjective(t.ac, t.MB, cfg.ClipVLoss, cfg.VFClip, cfg.VFCoef); err != nil {
		return nil, err
	}
	t.names = t.ac.ParamNames()
	t.nPolicy = len(t.pObj.trainer.Params())
	if t.adamP, err = nn.NewAdam(t.pObj.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps}); err != nil {
		return nil, err
	}
	if t.adamV, err = nn.NewAdam(t.vObj.trainer.Params(), nn.AdamConfig{Eps: cfg.AdamEps}); err != nil {
		return nil, err
	}
	t.beta = pen.InitialBeta(cfg.InitBeta)
	t.betaRule = pen.BetaController(cfg.KLPropHorizon, cfg.BetaMin, cfg.BetaMax)
	if cfg.NormObs {
		t.obsRMS = env.NewRunningMeanStd(t.O)
	}
	if cfg.NormReward {
		t.retRMS = env.NewRunningMeanStd(1)
	}
	t.retAcc = make([]float64, t.N)
	t.alloc()
	// Initial reset: copy i gets seed+i (as CleanRL); later resets draw seeds from rngEnv.
	for i := range t.envs {
		s := cfg.Seed + uint64(i)
		t.envs[i].seed = s
		obs, _, err := t.envs[i].e.Reset(&s)
		if err != nil {
			return nil, fmt.Errorf("env reset: %w", err)
		}
		copy(t.rawObs[i*t.O:], obs)
	}
	if t.obsRMS != nil {
		if err := t.obsRMS.Update(t.rawObs); err != nil {
			return nil, err
		}
	}
	t.normalizeObs(t.curObs, t.rawObs)
	return t, nil
}

func (t *trainer) alloc() {
	B, N, O, MB := t.B, t.N, t.O, t.MB
	pc := t.ac.Config()
	aw, hw := pc.ActionWidth(), pc.HeadWidth()
	t.rawObs, t.curObs = make([]float64, N*O), make([]float64, N*O)
	t.bObs, t.bAct, t.bDist = make([]float64, B*O), make([]float64, B*aw), make([]float64, B*hw)
	t.bLogP, t.bVal, t.bRew, t.bFinalV = make([]float64, B), make([]float64, B), make([]float64, B), make([]float64, B)
	t.bAdv, t.bRet = make([]float64, B), make([]float64, B)
	t.bTerm, t.bTrunc = make([]bool, B), make([]bool, B)
	t.mObs, t.mAct, t.mDist = make([]float64, MB*O), make([]float64, MB*aw), make([]float64, MB*hw)
	t.mLogP, t.mAdv, t.mRet, t.mVal = make([]float64, MB), make([]float64, MB), make([]float64, MB), make([]float64, MB)
	t.perm = make([]int, B)
	t.klScratchP, t.klScratchQ = make([]float64, hw), make([]float64, hw)
}

// normalizeObs writes the policy's view of raw observations into dst: with norm_obs,
// clip((x − mean)/√(var + 1e-8), ±clip_obs) with the current statistics; otherwise a copy.
func (t *trainer) normalizeObs(dst, raw []float64) {
	if t.obsRMS == nil {
		copy(dst, raw)
		return
	}
	c := t.cfg.ClipObs
	for k, x := range raw {
		j := k % t.O
		y := (x - t.obsRMS.Mean[j]) / math.Sqrt(t.obsRMS.Var[j]+1e-8)
		dst[k] = math.Max(-c, math.Min(c, y))
	}
}

// rollout collects T steps of N envs into the buffers.
func (t *trainer) rollout() error {
	N, O := t.N, t.O
	pc := t.ac.Config()
	aw, hw := pc.ActionWidth(), pc.HeadWidth()
	rew := make([]float64, N)
	term := make([]bool, N)
	t.finalRows, t.finalObs, t.finalNew = t.finalRows[:0], t.finalObs[:0], 0
	// V(s) of the rollout is computed on the other core while the rollout proceeds (the
	// weights do not change during it): each step's row index goes to a goroutine that
	// evaluates every row available so far in one batch.
	valuesReady, valuesDone := t.valuesDuringRollout()
	stepErr := func(err error) error {
		valuesDone()
		return err
	}
	for s := 0; s < t.T; s++ {
		base := s * N
		copy(t.bObs[base*O:(base+N)*O], t.curObs)
		valuesReady(s)
		act, err := t.actor.Act(t.curObs, N, t.rngAct, false, false)
		if err != nil {
			return stepErr(err)
		}
		for k, x := range act.Dist {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return stepErr(fmt.Errorf("%w: the policy output %v for env %d (weights or observations are not finite)", errNonFinite, x, k/hw))
			}
		}
		copy(t.bAct[base*aw:(base+N)*aw], act.Actions)
		copy(t.bDist[base*hw:(base+N)*hw], act.Dist)
		copy(t.bLogP[base:base+N], act.LogP)
		t.globalStep += N
		for i := range t.envs {
			sl := &t.envs[i]
			res, err := sl.e.Step(t.actor.EnvAction(act, i))
			if err != nil {
				return stepErr(fmt.Errorf("env %d step: %w", i, err))
			}
			if math.IsNaN(res.Reward) || math.IsInf(res.Reward, 0) {
				return stepErr(fmt.Errorf("%w: env %d returned reward %v", errNonFinite, i, res.Reward))
			}
			sl.elapsed++
			sl.ret += res.Reward
			sl.length++
			tr := res.Truncated || (t.maxSteps > 0 && sl.elapsed >= t.maxSteps)
			rew[i], term[i] = res.Reward, res.Terminated
			t.bTerm[base+i], t.bTrunc[base+i] = res.Terminated, tr
			copy(t.rawObs[i*O:(i+1)*O], res.Obs)
			if res.Terminated || tr {
				if err := t.onEpisode(t.globalStep, env.EpisodeStat{Env: i, Return: sl.ret, Length: sl.length}); err != nil {
					return stepErr(err)
				}
				if tr && !res.Terminated {
					t.finalRows = append(t.finalRows, base+i)
					t.finalObs = append(t.finalObs, res.Obs...)
					t.finalNew++
				}
				seed := t.rngEnv.Uint64()
				sl.seed = seed
				obs, _, err := sl.e.Reset(&seed)
				if err != nil {
					return stepErr(fmt.Errorf("env %d reset: %w", i, err))
				}
				copy(t.rawObs[i*O:(i+1)*O], obs)
				sl.elapsed, sl.ret, sl.length = 0, 0, 0
			}
		}
		if t.obsRMS != nil {
			if err := t.obsRMS.Update(t.rawObs); err != nil {
				return stepErr(err)
			}
		}
		t.normalizeObs(t.curObs, t.rawObs)
		if t.finalNew > 0 {
			// Final observations are normalised with this step's statistics, as the policy's
			// observations are; their values are computed in one batch after the rollout.
			k := len(t.finalObs) - t.finalNew*O
			t.normalizeObs(t.finalObs[k:], t.finalObs[k:])
			t.finalNew = 0
		}
		if t.retRMS != nil {
			for i := 0; i < N; i++ {
				keep := 1.0
				if term[i] {
					keep = 0
				}
				t.retAcc[i] = t.retAcc[i]*t.cfg.Gamma*keep + rew[i]
			}
			if err := t.retRMS.Update(t.retAcc); err != nil {
				return stepErr(err)
			}
			inv := 1 / math.Sqrt(t.retRMS.Var[0]+1e-8)
			c := t.cfg.ClipReward
			for i := 0; i < N; i++ {
				rew[i] = math.Max(-c, math.Min(c, rew[i]*inv))
			}
		}
		copy(t.bRew[base:base+N], rew)
	}
	if err := valuesDone(); err != nil {
		return err
	}
	clear(t.bFinalV)
	if len(t.finalRows) > 0 {
		v, err := t.actor.Values(t.finalObs, len(t.finalRows))
		if err != nil {
			return err
		}
		for k, idx := range t.finalRows {
			t.bFinalV[idx] = v[k]
		}
	}
	return nil
}

// both runs f and g and returns the first error (f's before g's). g runs on a helper
// goroutine unless the run is single-threaded; f always runs on the calling goroutine. f and g
// must not share mutable state.
func (t *trainer) both(f, g func() error) error {
	if t.singleThreaded {
		return errors.Join(f(), g())
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

// valuesDuringRollout returns the two calls by which the rollout computes V(s) of its
// observations. Unless single-threaded, a helper goroutine evaluates, whenever step s is
// announced by ready(s), every row stored so far in one batch (the weights do not change during
// a rollout); done waits for it and returns its error. Single-threaded, ready does nothing and
// done evaluates all rows at once. V of a row does not depend on the batch it is evaluated in,
// so both give the same values.
func (t *trainer) valuesDuringRollout() (ready func(step int), done func() error) {
	rowsPerStep := t.N
	obsWidth := t.O
	if t.singleThreaded {
		return func(int) {}, func() error {
			v, err := t.valueActor.Values(t.bObs, t.T*rowsPerStep)
			if err == nil {
				copy(t.bVal, v)
			}
			return err
		}
	}
	steps := make(chan int, t.T)
	errc := make(chan error, 1)
	go func() {
		evaluated := 0 // steps whose values are in bVal
		var err error
		for s := range steps {
			upTo := s + 1
		drain:
			for {
				select {
				case s2, ok := <-steps:
					if !ok {
						break drain
					}
					upTo = s2 + 1
				default:
					break drain
				}
			}
			if err == nil {
				var v []float64
				lo, hi := evaluated*rowsPerStep, upTo*rowsPerStep
				if v, err = t.valueActor.Values(t.bObs[lo*obsWidth:hi*obsWidth], hi-lo); err == nil {
					copy(t.bVal[lo:hi], v)
				}
			}
			evaluated = upTo
		}
		errc <- err
	}()
	closed := false
	return func(s int) { steps <- s }, func() error {
		if !closed {
			close(steps)
			closed = true
		}
		return <-errc
	}
}

// updateStats accumulates the per-minibatch diagnostics of one update.
type updateStats struct {
	n                             int
	k1, k3, clip, ent, pg, vl, kl float64
	epochs                        int
	stopped                       bool
}

// learn runs the epoch loop of one update with learning rate lr.
func (t *trainer) learn(lr float64) (updateStats, error) {
	var st updateStats
	pc := t.ac.Config()
	O, aw, hw, MB := t.O, pc.ActionWidth(), pc.HeadWidth(), t.MB
	oldLogStd := t.ac.LogStdValues()
	clipEps := 0.2
	if t.pen.Kind == PenaltyClip {
		clipEps = t.pen.Value
	}
	maxNorm := t.cfg.MaxGradNorm
	if maxNorm <= 0 {
		maxNorm = math.Inf(1)
	}
	for i := range t.perm {
		t.perm[i] = i
	}
	lrBuf := make([]float64, MB)
	for epoch := 0; epoch < t.cfg.UpdateEpochs && !st.stopped; epoch++ {
		t.rngShuf.Shuffle(len(t.perm), func(i, j int) { t.perm[i], t.perm[j] = t.perm[j], t.perm[i] })
		stepped := false
		for start := 0; start+MB <= t.B; start += MB {
			idx := t.perm[start : start+MB]
			for r, k := range idx {
				copy(t.mObs[r*O:(r+1)*O], t.bObs[k*O:(k+1)*O])
				copy(t.mAct[r*aw:(r+1)*aw], t.bAct[k*aw:(k+1)*aw])
				copy(t.mDist[r*hw:(r+1)*hw], t.bDist[k*hw:(k+1)*hw])
				t.mLogP[r], t.mAdv[r], t.mRet[r], t.mVal[r] = t.bLogP[k], t.bAdv[k], t.bRet[k], t.bVal[k]
			}
			if t.cfg.NormAdv {
				normalizeAdv(t.mAdv)
			}
			if err := t.pObj.setInputs(t.mObs, t.mAct, t.mDist, oldLogStd, t.mLogP, t.mAdv, t.beta); err != nil {
				return st, err
			}
			if err := t.vObj.setInputs(t.mObs, t.mRet, t.mVal); err != nil {
				return st, err
			}
			// The policy and value graphs are independent: run them on both cores.
			var pg, vg []*tensor.Dense
			var pss, vss float64
			err := t.both(func() (err error) {
				if pg, err = t.pObj.trainer.Run(); err == nil {
					pss = sumSquares(pg)
				}
				return err
			}, func() (err error) {
				if vg, err = t.vObj.trainer.Run(); err == nil {
					vss = sumSquares(vg)
				}
				return err
			})
			if err != nil {
				return st, err
			}
			kl, err := nn.Scalar(t.pObj.klMean)
			if err != nil {
				return st, err
			}
			if t.pen.StopKL > 0 && kl > t.pen.StopKL {
				st.stopped = true
				break
			}
			surr, _ := nn.Scalar(t.pObj.surr)
			ent, _ := nn.Scalar(t.pObj.ent)
			vl, _ := nn.Scalar(t.vObj.loss)
			for _, x := range []float64{kl, surr, ent, vl} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return st, fmt.Errorf("%w in the losses (policy loss %v, value loss %v, entropy %v, KL %v)", errNonFinite, surr, vl, ent, kl)
				}
			}
			// Global gradient-norm clipping over both networks (torch's clip_grad_norm_ rule):
			// norm = √(Σ g²), and every gradient is scaled by max_grad_norm/(norm + 1e-6) when that is < 1.
			norm := math.Sqrt(pss + vss)
			if math.IsNaN(norm) || math.IsInf(norm, 0) {
				return st, fmt.Errorf("%w in the gradients (global norm %v)", errNonFinite, norm)
			}
			coef := maxNorm / (norm + 1e-6)
			err = t.both(func() error {
				if coef < 1 {
					scaleGrads(pg, coef)
				}
				return t.adamP.Step(lr, pg)
			}, func() error {
				if coef < 1 {
					scaleGrads(vg, coef)
				}
				return t.adamV.Step(lr, vg)
			})
			if err != nil {
				return st, err
			}
			stepped = true
			lrs := policy.ValueOf(t.pObj.logRatio, lrBuf[:0])
			var k1, k3, cf float64
			for _, x := range lrs {
				r := math.Exp(x)
				k1 += -x
				k3 += (r - 1) - x
				if math.Abs(r-1) > clipEps {
					cf++
				}
			}
			n := float64(len(lrs))
			st.k1 += k1 / n
			st.k3 += k3 / n
			st.clip += cf / n
			st.ent += ent
			st.pg += surr
			st.vl += vl
			st.kl += kl
			st.n++
		}
		if stepped {
			st.epochs++
		}
	}
	return st, nil
}

// sumSquares is Σ g² over the gradient tensors, accumulated in float64.
func sumSquares(gs []*tensor.Dense) float64 {
	s := 0.0
	for _, g := range gs {
		switch d := g.Data().(type) {
		case []float32:
			for _, x := range d {
				s += float64(x) * float64(x)
			}
		case []float64:
			for _, x := range d {
				s += x * x
			}
		}
	}
	return s
}

// scaleGrads multiplies the gradients by c in place.
func scaleGrads(gs []*tensor.Dense, c float64) {
	for _, g := range gs {
		switch d := g.Data().(type) {
		case []float32:
			c32 := float32(c)
			for i := range d {
				d[i] *= c32
			}
		case []float64:
			for i := range d {
				d[i] *= c
			}
		}
	}
}

// normalizeAdv sets a ← (a − mean)/(std + 1e-8) with the unbiased std (as torch's .std()).
func normalizeAdv(a []float64) {
	n := float64(len(a))
	m := 0.0
	for _, x := range a {
		m += x
	}
	m /= n
	v := 0.0
	for _, x := range a {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / (n - 1))
	for i := range a {
		a[i] = (a[i] - m) / (sd + 1e-8)
	}
}

// batchKL is the mean exact KL(π_old(·|s)‖π_θ(·|s)) over the rollout's states with the current
// parameters (plain-Go forward pass; the two halves of the batch run on both cores).
func (t *trainer) batchKL(oldLogStd []float64) (float64, error) {
	pc := t.ac.Config()
	hw, O := pc.HeadWidth(), t.O
	newLogStd := t.ac.LogStdValues()
	half := t.B / 2
	part := func(a *policy.Actor, lo, hi int, sp, sq []float64) (float64, error) {
		newDist, err := a.Dist(t.bObs[lo*O:hi*O], hi-lo)
		if err != nil {
			return 0, err
		}
		s := 0.0
		for k := lo; k < hi; k++ {
			p := t.bDist[k*hw : (k+1)*hw]
			q := newDist[(k-lo)*hw : (k-lo+1)*hw]
			if pc.Discrete {
				s += policy.CategoricalKL(p, q, sp, sq)
			} else {
				s += policy.DiagGaussianKL(p, oldLogStd, q, newLogStd)
			}
		}
		return s, nil
	}
	var s1, s2 float64
	err := t.both(func() (err error) {
		s1, err = part(t.actor, 0, half, t.klScratchP, t.klScratchQ)
		return err
	}, func() (err error) {
		s2, err = part(t.valueActor, half, t.B, make([]float64, hw), make([]float64, hw))
		return err
	})
	if err != nil {
		return 0, err
	}
	return (s1 + s2) / float64(t.B), nil
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

// step runs one full update (rollout, GAE, epochs, β rule) and returns its metrics row.
func (t *trainer) step(sessionStart time.Time, sessionStep0 int) (UpdateMetrics, error) {
	nUp := t.cfg.NumUpdates()
	lr := t.cfg.LearningRate
	if t.cfg.AnnealLR {
		lr = (1 - float64(t.update)/float64(nUp)) * t.cfg.LearningRate
	}
	if err := t.rollout(); err != nil {
		return UpdateMetrics{}, err
	}
	lastV, err := t.actor.Values(t.curObs, t.N)
	if err != nil {
		return UpdateMetrics{}, err
	}
	t.lastV = append(t.lastV[:0], lastV...)
	if err := GAE(t.bRew, t.bVal, t.bTerm, t.bTrunc, t.bFinalV, t.lastV, t.N, t.cfg.Gamma, t.cfg.GAELambda, t.bAdv, t.bRet); err != nil {
		return UpdateMetrics{}, err
	}
	ev := explainedVariance(t.bVal, t.bRet)
	oldLogStd := t.ac.LogStdValues()
	betaUsed := t.beta
	st, err := t.learn(lr)
	if err != nil {
		return UpdateMetrics{}, err
	}
	kl, err := t.batchKL(oldLogStd)
	if err != nil {
		return UpdateMetrics{}, err
	}
	if math.IsNaN(kl) || math.IsInf(kl, 0) {
		return UpdateMetrics{}, fmt.Errorf("%w: KL after the update is %v", errNonFinite, kl)
	}
	t.beta = t.betaRule.Next(t.beta, kl, t.B)
	t.update++
	if testHookAfterUpdate != nil {
		testHookAfterUpdate(t)
	}
	wall := time.Since(sessionStart).Seconds()
	m := UpdateMetrics{
		Update: t.update, GlobalStep: t.globalStep, WallS: t.wallBefore + wall,
		SPS: float64(t.globalStep-sessionStep0) / math.Max(wall, 1e-9), EpisodicReturn: t.window.mean(),
		KL: kl, Beta: betaUsed, ExplainedVariance: ev, LR: lr, Epochs: st.epochs,
	}
	if st.n > 0 {
		n := float64(st.n)
		m.ApproxKLK1, m.ApproxKLK3, m.ClipFrac = st.k1/n, st.k3/n, st.clip/n
		m.Entropy, m.PolicyLoss, m.ValueLoss = st.ent/n, st.pg/n, st.vl/n
	} else {
		m.ApproxKLK1, m.ApproxKLK3, m.ClipFrac = math.NaN(), math.NaN(), math.NaN()
		m.Entropy, m.PolicyLoss, m.ValueLoss = math.NaN(), math.NaN(), math.NaN()
	}
	return m, nil
}
