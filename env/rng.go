package env

import (
	"errors"
	"math/rand/v2"
)

// errNotReset and errFinished are returned by Step when the episode has not started or has ended.
var (
	errNotReset = errors.New("env: Step called before Reset")
	errFinished = errors.New("env: Step called after the episode ended (terminated or truncated) without Reset")
)

// seeder owns an environment's random stream: a PCG generator seeded from the Reset seed.
// The same seed gives the same stream bit for bit; Reset(nil) continues the current stream, and
// an environment never seeded draws its seed from the process-wide random source (as Gymnasium
// seeds from OS entropy).
type seeder struct {
	pcg    rand.PCG
	rng    *rand.Rand
	seeded bool
}

// seedPair expands one seed to PCG's two words (the second is a fixed odd mix of the first).
func seedPair(s uint64) (uint64, uint64) {
	z := s + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return s, z ^ (z >> 31)
}

// reseed applies the seed argument of Reset.
func (s *seeder) reseed(seed *uint64) {
	if s.rng == nil {
		s.rng = rand.New(&s.pcg)
	}
	switch {
	case seed != nil:
		s.pcg.Seed(seedPair(*seed))
		s.seeded = true
	case !s.seeded:
		s.pcg.Seed(seedPair(rand.Uint64()))
		s.seeded = true
	}
}

// uniform draws from U[lo, hi) like numpy's Generator.uniform: lo + (hi−lo)·u.
func (s *seeder) uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.rng.Float64() }

// Rand returns the environment's generator (nil before the first Reset); use it, for example, to
// sample actions reproducibly.
func (s *seeder) Rand() *rand.Rand { return s.rng }

// coreStepper is implemented by the built-in environments and TimeLimit: Step's result as plain
// values, which travel in registers. StepResult has five fields, so the compiler keeps it in
// memory and copies it block-wise through every layer; the wrappers and Vector use this path to
// avoid that cost (Info is not part of it: the built-in environments have none).
type coreStepper interface {
	stepCore(action []float64) (obs []float64, reward float64, terminated, truncated bool, err error)
}

// result assembles a StepResult from stepCore's values.
func result(obs []float64, reward float64, terminated, truncated bool, err error) (StepResult, error) {
	if err != nil {
		return StepResult{}, err
	}
	return StepResult{Obs: obs, Reward: reward, Terminated: terminated, Truncated: truncated}, nil
}
