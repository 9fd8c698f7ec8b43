package env

import (
	"errors"
	"fmt"
)

// Vector steps N copies of an environment together with same-step auto-reset: when copy i
// terminates or is truncated, its last observation is kept in FinalObs[i], the copy is reset
// (continuing its random stream) and row i of Obs already holds the new episode's first
// observation. It also measures every episode's raw return and length (VectorStep.Episodes).
// A Vector is not safe for concurrent use.
type Vector struct {
	envs     []Env
	cores    []coreStepper // fast path per copy (nil: use Step); Vector drops Info anyway
	obsSpace Space
	actSpace Space
	obsDim   int
	actDim   int
	started  bool

	obs        []float64
	rewards    []float64
	terminated []bool
	truncated  []bool
	finalObs   [][]float64
	finalBuf   []float64
	episodes   []EpisodeStat
	epReturn   []float64
	epLength   []int
	ended      []bool

	pool *workerPool

	resetSeed func(copy int) uint64 // nil: auto-resets continue each copy's stream
}

var _ VectorEnv = (*Vector)(nil)

// NewVector builds n copies with factory(i). All copies must have equal space dimensions.
func NewVector(n int, factory func(i int) (Env, error)) (*Vector, error) {
	if n <= 0 {
		return nil, fmt.Errorf("env: NewVector: n must be positive, got %d", n)
	}
	if factory == nil {
		return nil, errors.New("env: NewVector: factory is nil")
	}
	v := &Vector{envs: make([]Env, n)}
	for i := range v.envs {
		e, err := factory(i)
		if err != nil {
			return nil, fmt.Errorf("env: NewVector: copy %d: %w", i, err)
		}
		if e == nil {
			return nil, fmt.Errorf("env: NewVector: copy %d: factory returned nil", i)
		}
		v.envs[i] = e
	}
	v.cores = make([]coreStepper, n)
	for i, e := range v.envs {
		if c, ok := e.(coreStepper); ok {
			v.cores[i] = c
		}
	}
	v.obsSpace, v.actSpace = v.envs[0].ObservationSpace(), v.envs[0].ActionSpace()
	v.obsDim, v.actDim = v.obsSpace.Dim(), v.actSpace.Dim()
	for i, e := range v.envs {
		if e.ObservationSpace().Dim() != v.obsDim || e.ActionSpace().Dim() != v.actDim {
			return nil, fmt.Errorf("env: NewVector: copy %d has spaces %v, %v; copy 0 has %v, %v",
				i, e.ObservationSpace(), e.ActionSpace(), v.obsSpace, v.actSpace)
		}
	}
	v.obs = make([]float64, n*v.obsDim)
	v.rewards = make([]float64, n)
	v.terminated = make([]bool, n)
	v.truncated = make([]bool, n)
	v.finalObs = make([][]float64, n)
	v.finalBuf = make([]float64, n*v.obsDim)
	v.episodes = make([]EpisodeStat, 0, n)
	v.epReturn = make([]float64, n)
	v.epLength = make([]int, n)
	v.ended = make([]bool, n)
	return v, nil
}

// MakeVector returns n copies of Make(id) (with its time limit).
func MakeVector(id string, n int) (*Vector, error) {
	s, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	return NewVector(n, func(int) (Env, error) { return s.Make(), nil })
}

// Num is the number of copies.
func (v *Vector) Num() int { return len(v.envs) }

// Envs returns the copies (for inspection, e.g. reading a TimeLimit's elapsed steps).
func (v *Vector) Envs() []Env { return v.envs }

// ObservationSpace is the space of one copy's observation.
func (v *Vector) ObservationSpace() Space { return v.obsSpace }

// ActionSpace is the space of one copy's action.
func (v *Vector) ActionSpace() Space { return v.actSpace }

// Reset resets every copy: with a seed, copy i gets *seed + i; with nil each continues its stream.
// Running episode statistics are discarded.
func (v *Vector) Reset(seed *uint64) ([]float64, error) {
	for i, e := range v.envs {
		var s *uint64
		if seed != nil {
			si := *seed + uint64(i)
			s = &si
		}
		o, _, err := e.Reset(s)
		if err != nil {
			return nil, fmt.Errorf("env: Vector.Reset: copy %d: %w", i, err)
		}
		if len(o) != v.obsDim {
			return nil, fmt.Errorf("env: Vector.Reset: copy %d returned %d values, want %d", i, len(o), v.obsDim)
		}
		copy(v.obs[i*v.obsDim:], o)
		v.epReturn[i], v.epLength[i] = 0, 0
	}
	v.started = true
	return v.obs, nil
}

// Step steps every copy with its row of actions. Actions are checked against the action space
// before any copy moves, so an invalid batch leaves every copy unchanged.
func (v *Vector) Step(actions []float64) (VectorStep, error) {
	if !v.started {
		return VectorStep{}, errors.New("env: Vector.Step called before Reset")
	}
	n := len(v.envs)
	if len(actions) != n*v.actDim {
		return VectorStep{}, fmt.Errorf("env: Vector.Step: %d actions, want %d copies × %d", len(actions), n, v.actDim)
	}
	if err := v.checkActions(actions); err != nil {
		return VectorStep{}, err
	}
	var err error
	if v.pool != nil {
		err = v.pool.run(actions)
	} else {
		err = v.stepRange(actions, 0, n)
	}
	if err != nil {
		v.started = false // copies may be in different states now: require a Reset
		return VectorStep{}, err
	}
	v.episodes = v.episodes[:0]
	for i, done := range v.ended {
		if done {
			v.episodes = append(v.episodes, EpisodeStat{Env: i, Return: v.epReturn[i], Length: v.epLength[i]})
			v.epReturn[i], v.epLength[i] = 0, 0
		}
	}
	return VectorStep{
		Obs:        v.obs,
		Rewards:    v.rewards,
		Terminated: v.terminated,
		Truncated:  v.truncated,
		FinalObs:   v.finalObs,
		Episodes:   v.episodes,
	}, nil
}

// checkActions rejects a batch with any action outside the action space (Discrete and Box
// spaces are checked inline, other spaces through Contains).
func (v *Vector) checkActions(actions []float64) error {
	bad := -1
	switch sp := v.actSpace.(type) {
	case *Discrete:
		n := float64(sp.N)
		for i, a := range actions {
			if !(a >= 0 && a < n) || a != float64(int64(a)) {
				bad = i
				break
			}
		}
	case *Box:
		d := len(sp.Low)
		for i, a := range actions {
			if j := i % d; !(a >= sp.Low[j] && a <= sp.High[j]) {
				bad = i / d
				break
			}
		}
	default:
		for i := range v.envs {
			if !sp.Contains(actions[i*v.actDim : (i+1)*v.actDim]) {
				bad = i
				break
			}
		}
	}
	if bad >= 0 {
		a := actions[bad*v.actDim : (bad+1)*v.actDim]
		return fmt.Errorf("env: Vector.Step: action %v of copy %d is not in %v", a, bad, v.actSpace)
	}
	return nil
}

// stepRange steps copies lo..hi−1; it touches only their rows, so ranges may run concurrently.
func (v *Vector) stepRange(actions []float64, lo, hi int) error {
	od, ad := v.obsDim, v.actDim
	for i := lo; i < hi; i++ {
		e := v.envs[i]
		var (
			obs         []float64
			reward      float64
			term, trunc bool
			err         error
		)
		if c := v.cores[i]; c != nil {
			obs, reward, term, trunc, err = c.stepCore(actions[i*ad : (i+1)*ad])
		} else {
			var r StepResult
			r, err = e.Step(actions[i*ad : (i+1)*ad])
			obs, reward, term, trunc = r.Obs, r.Reward, r.Terminated, r.Truncated
		}
		if err != nil {
			return fmt.Errorf("env: Vector.Step: copy %d: %w", i, err)
		}
		if len(obs) != od {
			return fmt.Errorf("env: Vector.Step: copy %d returned %d observation values, want %d", i, len(obs), od)
		}
		v.rewards[i], v.terminated[i], v.truncated[i] = reward, term, trunc
		v.epReturn[i] += reward
		v.epLength[i]++
		row := v.obs[i*od : (i+1)*od]
		done := term || trunc
		v.ended[i] = done
		if !done {
			v.finalObs[i] = nil
			copy(row, obs)
			continue
		}
		fin := v.finalBuf[i*od : (i+1)*od]
		copy(fin, obs)
		v.finalObs[i] = fin
		var seed *uint64
		if v.resetSeed != nil {
			s := v.resetSeed(i)
			seed = &s
		}
		o, _, err := e.Reset(seed)
		if err != nil {
			return fmt.Errorf("env: Vector.Step: auto-reset of copy %d: %w", i, err)
		}
		if len(o) != od {
			return fmt.Errorf("env: Vector.Step: auto-reset of copy %d returned %d values, want %d", i, len(o), od)
		}
		copy(row, o)
	}
	return nil
}

// SetResetSeeds makes every auto-reset of Step reset copy i with the seed seed(i) instead of
// continuing the copy's random stream (nil restores the default). seed is called once per
// finished episode, in copy order when stepping sequentially (the default; with SetWorkers > 1
// each worker calls it for its own copies). A trainer uses it to draw episode seeds from a
// generator it checkpoints, so that a resumed run replays the same episodes.
func (v *Vector) SetResetSeeds(seed func(copy int) uint64) { v.resetSeed = seed }

// EpisodeProgress returns the raw return and the length so far of copy i's current episode.
func (v *Vector) EpisodeProgress(i int) (ret float64, length int) {
	return v.epReturn[i], v.epLength[i]
}

// SetEpisodeProgress sets the raw return and the length so far of copy i's current episode
// (restoring a checkpoint after Reset, together with the copies' own state set through
// StateSetter and TimeLimit.SetElapsed).
func (v *Vector) SetEpisodeProgress(i int, ret float64, length int) error {
	if i < 0 || i >= len(v.envs) || length < 0 {
		return fmt.Errorf("env: Vector.SetEpisodeProgress: copy %d of %d, length %d", i, len(v.envs), length)
	}
	v.epReturn[i], v.epLength[i] = ret, length
	return nil
}

// SetWorkers steps the copies in k goroutines (k ≤ 1: sequentially in the caller, the default).
// On the 2-core development machine stepping classic-control copies in goroutines was slower
// than sequential stepping (see docs/performance.md, "Environment speed"); it can pay off for expensive environments.
// Call Close to stop the goroutines.
func (v *Vector) SetWorkers(k int) {
	v.Close()
	if k > len(v.envs) {
		k = len(v.envs)
	}
	if k > 1 {
		v.pool = newWorkerPool(v, k)
	}
}

// Close stops the worker goroutines started by SetWorkers, if any.
func (v *Vector) Close() {
	if v.pool != nil {
		v.pool.stop()
		v.pool = nil
	}
}

// workerPool runs stepRange on fixed slices of the copies in persistent goroutines: worker w
// handles copies [w·n/k, (w+1)·n/k).
type workerPool struct {
	start []chan []float64
	done  chan error
}

func newWorkerPool(v *Vector, k int) *workerPool {
	n := len(v.envs)
	p := &workerPool{start: make([]chan []float64, k), done: make(chan error, k)}
	for w := 0; w < k; w++ {
		ch := make(chan []float64)
		p.start[w] = ch
		lo, hi := w*n/k, (w+1)*n/k
		go func() {
			for a := range ch {
				p.done <- v.stepRange(a, lo, hi)
			}
		}()
	}
	return p
}

// run steps every copy and waits for all workers; it returns the first error.
func (p *workerPool) run(actions []float64) error {
	for _, ch := range p.start {
		ch <- actions
	}
	var first error
	for range p.start {
		if err := <-p.done; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *workerPool) stop() {
	for _, ch := range p.start {
		close(ch)
	}
}
