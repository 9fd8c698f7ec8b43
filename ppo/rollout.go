package ppo

import (
	"errors"
	"fmt"

	"klppo/policy"
)

// rolloutBuffer holds one rollout of numSteps steps of numEnvs copies, time-major: row
// t·numEnvs + i is step t of copy i.
type rolloutBuffer struct {
	obs        []float64 // rows × obsDim, as the policy saw them
	actions    []float64 // rows × action width
	dist       []float64 // rows × head width: π_old's logits or means
	logProbs   []float64 // log π_old(a|s)
	values     []float64 // V(s)
	rewards    []float64 // as the learner sees them (normalised with norm_reward)
	terminated []bool
	truncated  []bool
	// finalValues[row] is V of the last observation of an episode truncated at row (0 elsewhere):
	// GAE bootstraps from it.
	finalValues []float64
	advantages  []float64
	returns     []float64 // advantages + values: the value targets

	truncatedRows []int     // rows whose episode was truncated (not terminated)
	finalObs      []float64 // their last observations, len(truncatedRows) × obsDim
}

// batch is the rollout as the learner's Batch (sharing its slices); oldLogStd is π_old's
// log-std vector (Gaussian policies).
func (r *rolloutBuffer) batch(n int, oldLogStd []float64) *Batch {
	return &Batch{N: n, Obs: r.obs, Actions: r.actions, Dist: r.dist, OldLogStd: oldLogStd, LogProbs: r.logProbs,
		Advantages: r.advantages, Returns: r.returns, Values: r.values}
}

func newRolloutBuffer(rows, obsDim, actionWidth, headWidth int) rolloutBuffer {
	return rolloutBuffer{
		obs: make([]float64, rows*obsDim), actions: make([]float64, rows*actionWidth),
		dist: make([]float64, rows*headWidth), logProbs: make([]float64, rows), values: make([]float64, rows),
		rewards: make([]float64, rows), terminated: make([]bool, rows), truncated: make([]bool, rows),
		finalValues: make([]float64, rows), advantages: make([]float64, rows), returns: make([]float64, rows),
	}
}

// collectRollout steps the environments numSteps times with actions sampled from the current
// policy and fills the rollout buffer (V(s) is computed alongside, see valuesDuringRollout).
func (t *trainer) collectRollout() error {
	r := &t.rollout
	n, obsDim := t.numEnvs, t.obsDim
	pc := t.nets.Config()
	actionWidth, headWidth := pc.ActionWidth(), pc.HeadWidth()
	r.truncatedRows, r.finalObs = r.truncatedRows[:0], r.finalObs[:0]
	stepActions := make([]float64, n*actionWidth)
	valuesReady, valuesDone := t.valuesDuringRollout()
	fail := func(err error) error { return errors.Join(err, valuesDone()) }
	for step := 0; step < t.numSteps; step++ {
		row := step * n
		copy(r.obs[row*obsDim:(row+n)*obsDim], t.obs)
		valuesReady(step)
		act, err := t.actor.Act(t.obs, n, t.actRNG, false, false)
		if errors.Is(err, policy.ErrNonFinite) {
			return fail(fmt.Errorf("%w: %v", errNonFinite, err))
		}
		if err != nil {
			return fail(err)
		}
		copy(r.actions[row*actionWidth:], act.Actions)
		copy(r.dist[row*headWidth:], act.Dist)
		copy(r.logProbs[row:], act.LogP)
		for i := 0; i < n; i++ {
			copy(stepActions[i*actionWidth:], t.actor.EnvAction(act, i))
		}
		t.globalStep += n
		res, err := t.venv.Step(stepActions)
		if err != nil {
			return fail(fmt.Errorf("env step: %w", err))
		}
		for i, rew := range res.Rewards {
			if !finite(rew) {
				return fail(fmt.Errorf("%w: env %d returned reward %v", errNonFinite, i, rew))
			}
		}
		copy(r.rewards[row:], res.Rewards)
		copy(r.terminated[row:], res.Terminated)
		copy(r.truncated[row:], res.Truncated)
		for i, fin := range res.FinalObs {
			if fin != nil && res.Truncated[i] && !res.Terminated[i] {
				r.truncatedRows = append(r.truncatedRows, row+i)
				r.finalObs = append(r.finalObs, fin...)
			}
		}
		for _, ep := range res.Episodes {
			if err := t.onEpisode(t.globalStep, ep); err != nil {
				return fail(err)
			}
		}
		copy(t.obs, res.Obs)
	}
	if err := valuesDone(); err != nil {
		return err
	}
	clear(r.finalValues)
	if len(r.truncatedRows) > 0 {
		v, err := t.actor.Values(r.finalObs, len(r.truncatedRows))
		if err != nil {
			return err
		}
		for k, row := range r.truncatedRows {
			r.finalValues[row] = v[k]
		}
	}
	return nil
}

// valueBatchRows is how many new rollout rows the value goroutine waits for before it evaluates
// them in one batch: waking it for every step (numEnvs rows) costs more in hand-offs and small
// matrix products than the batch saves, and the tail after the last full batch is short.
const valueBatchRows = 64

// valuesDuringRollout returns the two calls by which the rollout computes V(s) of its
// observations. Unless single-threaded, a helper goroutine evaluates, whenever step s is
// announced by ready(s), every row stored so far in one batch (the weights do not change during
// a rollout); ready announces a step once valueBatchRows new rows are stored, and done announces
// the last stored step, waits for the goroutine and returns its error. Single-threaded, ready does
// nothing and done evaluates all rows at once. V of a row does not depend on the batch it is
// evaluated in, so both give the same values.
func (t *trainer) valuesDuringRollout() (ready func(step int), done func() error) {
	r := &t.rollout
	n, obsDim := t.numEnvs, t.obsDim
	if t.singleThreaded {
		return func(int) {}, func() error {
			v, err := t.valueActor.Values(r.obs, t.batchSize)
			if err == nil {
				copy(r.values, v)
			}
			return err
		}
	}
	steps := make(chan int, t.numSteps)
	errc := make(chan error, 1)
	go func() {
		evaluated := 0 // steps whose values are in r.values
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
				lo, hi := evaluated*n, upTo*n
				if v, err = t.valueActor.Values(r.obs[lo*obsDim:hi*obsDim], hi-lo); err == nil {
					copy(r.values[lo:hi], v)
				}
			}
			evaluated = upTo
		}
		errc <- err
	}()
	stored, announced := 0, 0 // steps stored in r.obs, and announced to the goroutine
	return func(s int) {
			stored = s + 1
			if (stored-announced)*n >= valueBatchRows {
				steps <- s
				announced = stored
			}
		}, func() error {
			if announced < stored {
				steps <- stored - 1
			}
			close(steps)
			return <-errc
		}
}
