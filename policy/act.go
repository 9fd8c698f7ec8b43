package policy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/kl"
	"klppo/nn"
)

// ErrNonFinite is wrapped by Act's error when the policy network outputs NaN or ±Inf.
var ErrNonFinite = errors.New("non-finite policy output")

// halfLog2Pi is ½·log(2π).
var halfLog2Pi = 0.5 * math.Log(2*math.Pi)

// Acting is the result of one acting pass over a batch of n observations. Its slices are owned
// by the Actor that produced it and overwritten by its next call.
type Acting struct {
	// Actions holds n×ActionWidth values: the sampled (or deterministic) actions as the
	// policy produced them (Gaussian actions are not clipped here: see Actor.EnvAction).
	Actions []float64
	LogP    []float64 // n: log π(a|s) of each action
	Values  []float64 // n: V(s)
	// Dist holds n×HeadWidth distribution parameters: the logits (categorical) or the means
	// (Gaussian) — the "old policy" the KL penalty of the next update refers to.
	Dist []float64
}

// Actor runs the acting pass in plain Go over the actor-critic's live parameters. It allocates
// only when the batch grows. One Actor per goroutine.
type Actor struct {
	ac       *ActorCritic
	ws       nn.Workspace
	out      Acting
	envAct   []float64
	logStd   []float64
	logProbs []float64
	probs    []float64
}

// NewActor returns an Actor for ac.
func NewActor(ac *ActorCritic) *Actor { return &Actor{ac: ac} }

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Act evaluates π and V on n observations obs (n×ObsDim, row-major). With deterministic false
// it samples each action from rng (categorical: inverse CDF with one rng.Float64() per row;
// Gaussian: μ + σ·z with rng.NormFloat64() per dimension); with deterministic true it takes
// the most probable action (the lowest index on ties) or the mean, and rng may be nil.
// withValue false skips the value network (Values is then left empty).
func (a *Actor) Act(obs []float64, n int, rng *rand.Rand, deterministic, withValue bool) (*Acting, error) {
	cfg := a.ac.cfg
	if !deterministic && rng == nil {
		return nil, fmt.Errorf("policy: Act: sampling needs an rng")
	}
	head, err := a.ac.Pi.Forward(&a.ws, obs, n)
	if err != nil {
		return nil, fmt.Errorf("policy: Act: %w", err)
	}
	w := cfg.HeadWidth()
	for k, x := range head {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("policy: Act: %w: output %v for observation %d (weights or observations are not finite)", ErrNonFinite, x, k/w)
		}
	}
	a.out.Dist = grow(a.out.Dist, n*w)
	copy(a.out.Dist, head)
	a.out.LogP = grow(a.out.LogP, n)
	a.out.Actions = grow(a.out.Actions, n*cfg.ActionWidth())
	if cfg.Discrete {
		a.logProbs, a.probs = grow(a.logProbs, w), grow(a.probs, w)
		for r := 0; r < n; r++ {
			logits := a.out.Dist[r*w : (r+1)*w]
			if err := kl.LogSoftmaxInto(a.logProbs, logits); err != nil {
				return nil, fmt.Errorf("policy: Act: %w", err)
			}
			k := 0
			if deterministic {
				for j := 1; j < w; j++ {
					if logits[j] > logits[k] {
						k = j
					}
				}
			} else {
				// inverse CDF of softmax(logits) with one uniform draw
				if err := kl.SoftmaxInto(a.probs, logits); err != nil {
					return nil, fmt.Errorf("policy: Act: %w", err)
				}
				u := rng.Float64()
				c := 0.0
				k = w - 1
				for j, p := range a.probs {
					c += p
					if u < c {
						k = j
						break
					}
				}
			}
			a.out.Actions[r] = float64(k)
			a.out.LogP[r] = a.logProbs[k]
		}
	} else {
		a.logStd = nn.Float64s(a.ac.LogStd, a.logStd)
		for r := 0; r < n; r++ {
			lp := 0.0
			for j := 0; j < w; j++ {
				mu := a.out.Dist[r*w+j]
				x := mu
				z := 0.0
				if !deterministic {
					z = rng.NormFloat64()
					x = mu + math.Exp(a.logStd[j])*z
				}
				a.out.Actions[r*w+j] = x
				lp += -0.5*z*z - a.logStd[j] - halfLog2Pi
			}
			a.out.LogP[r] = lp
		}
	}
	a.out.Values = a.out.Values[:0]
	if withValue {
		v, err := a.ac.V.Forward(&a.ws, obs, n)
		if err != nil {
			return nil, fmt.Errorf("policy: Act: value: %w", err)
		}
		a.out.Values = append(a.out.Values, v...)
	}
	return &a.out, nil
}

// Values evaluates V on n observations; the result is owned by the Actor.
func (a *Actor) Values(obs []float64, n int) ([]float64, error) {
	v, err := a.ac.V.Forward(&a.ws, obs, n)
	if err != nil {
		return nil, fmt.Errorf("policy: Values: %w", err)
	}
	a.out.Values = append(a.out.Values[:0], v...)
	return a.out.Values, nil
}

// Dist evaluates only the policy head (logits or means) on n observations; the result is owned
// by the Actor and overwritten by its next call.
func (a *Actor) Dist(obs []float64, n int) ([]float64, error) {
	head, err := a.ac.Pi.Forward(&a.ws, obs, n)
	if err != nil {
		return nil, fmt.Errorf("policy: Dist: %w", err)
	}
	return head, nil
}

// EnvAction returns row r of act.Actions in the form the environment takes: the action index
// for a categorical policy, the Gaussian sample clipped to [ActLow, ActHigh] otherwise. The
// result is owned by the Actor.
func (a *Actor) EnvAction(act *Acting, r int) []float64 {
	cfg := a.ac.cfg
	w := cfg.ActionWidth()
	a.envAct = grow(a.envAct, w)
	copy(a.envAct, act.Actions[r*w:(r+1)*w])
	if !cfg.Discrete {
		for j := range a.envAct {
			if cfg.ActLow != nil && a.envAct[j] < cfg.ActLow[j] {
				a.envAct[j] = cfg.ActLow[j]
			}
			if cfg.ActHigh != nil && a.envAct[j] > cfg.ActHigh[j] {
				a.envAct[j] = cfg.ActHigh[j]
			}
		}
	}
	return a.envAct
}
