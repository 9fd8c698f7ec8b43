package env

import (
	"fmt"
	"klppo/internal/cputime"
	"math/rand/v2"
	"sort"
	"time"
)

// benchActions pre-draws count actions of dimension sp.Dim() (so timing excludes sampling).
func benchActions(sp Space, count int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]float64, 0, count*sp.Dim())
	for i := 0; i < count; i++ {
		out = append(out, sp.Sample(rng)...)
	}
	return out
}

// runSingle steps e (resetting on episode end) steps times with actions cycled from acts.
func runSingle(e Env, acts []float64, steps int) error {
	d := e.ActionSpace().Dim()
	na := len(acts) / d
	j := 0
	for i := 0; i < steps; i++ {
		r, err := e.Step(acts[j*d : (j+1)*d])
		if err != nil {
			return err
		}
		if j++; j == na {
			j = 0
		}
		if r.Terminated || r.Truncated {
			if _, _, err := e.Reset(nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// runVector steps v steps times with action batches cycled from acts.
func runVector(v VectorEnv, acts []float64, steps int) error {
	b := v.Num() * v.ActionSpace().Dim()
	nb := len(acts) / b
	j := 0
	for i := 0; i < steps; i++ {
		if _, err := v.Step(acts[j*b : (j+1)*b]); err != nil {
			return err
		}
		if j++; j == nb {
			j = 0
		}
	}
	return nil
}

// BenchResult is the measured throughput of one configuration: env-steps per second (a vector
// step of N copies counts N env-steps) over Rounds timed rounds.
type BenchResult struct {
	Env             string
	Copies          int // 1: a single environment; N: a Vector of N copies
	Workers         int // goroutines stepping the vector (1: sequential)
	Rounds          int
	MedianPerSec    float64
	MinPerSec       float64
	MaxPerSec       float64
	NanosPerEnvStep float64 // at the median
	// MedianPerCPUSec divides the env-steps by the process CPU time instead of wall time: on a
	// loaded machine it shows the cost of the code rather than the share of CPU it was given
	// (0 when the platform cannot measure CPU time).
	MedianPerCPUSec float64
}

// Bench measures Make(id) stepped with random actions (pre-drawn, uniform over the action space)
// for about total time split into rounds: copies = 1 times a single environment, copies > 1 a
// Vector with the given number of workers.
func Bench(id string, copies, workers, rounds int, total time.Duration) (BenchResult, error) {
	if copies < 1 || rounds < 1 || total <= 0 {
		return BenchResult{}, fmt.Errorf("env: Bench: copies %d, rounds %d, total %v must be positive", copies, rounds, total)
	}
	spec, err := Lookup(id)
	if err != nil {
		return BenchResult{}, err
	}
	res := BenchResult{Env: id, Copies: copies, Workers: max(workers, 1), Rounds: rounds}
	per := total / time.Duration(rounds)
	var step func(n int) error
	if copies == 1 {
		e := spec.Make()
		if _, _, err := e.Reset(nil); err != nil {
			return res, err
		}
		acts := benchActions(e.ActionSpace(), 1024, 1)
		step = func(n int) error { return runSingle(e, acts, n) }
	} else {
		v, err := NewVector(copies, func(int) (Env, error) { return spec.Make(), nil })
		if err != nil {
			return res, err
		}
		v.SetWorkers(workers)
		defer v.Close()
		if _, err := v.Reset(nil); err != nil {
			return res, err
		}
		acts := benchActions(v.ActionSpace(), 1024*copies, 1)
		step = func(n int) error { return runVector(v, acts, n) }
	}
	// Calibrate the number of steps per round to roughly per.
	n := 1000
	for {
		t0 := time.Now()
		if err := step(n); err != nil {
			return res, err
		}
		el := time.Since(t0)
		if el >= per/4 || n >= 1<<30 {
			n = int(float64(n) * float64(per) / float64(max(el, time.Microsecond)))
			break
		}
		n *= 4
	}
	n = max(n, 1)
	rates := make([]float64, rounds)
	cpuRates := make([]float64, 0, rounds)
	for r := range rates {
		c0, cok := cputime.Process()
		t0 := time.Now()
		if err := step(n); err != nil {
			return res, err
		}
		rates[r] = float64(n*copies) / time.Since(t0).Seconds()
		if c1, ok := cputime.Process(); ok && cok && c1 > c0 {
			cpuRates = append(cpuRates, float64(n*copies)/(c1-c0).Seconds())
		}
	}
	if len(cpuRates) > 0 {
		res.MedianPerCPUSec = median(cpuRates)
	}
	sort.Float64s(rates)
	res.MinPerSec, res.MaxPerSec = rates[0], rates[len(rates)-1]
	res.MedianPerSec = median(rates)
	res.NanosPerEnvStep = 1e9 / res.MedianPerSec
	return res, nil
}

// median sorts x and returns its median.
func median(x []float64) float64 {
	sort.Float64s(x)
	k := len(x)
	if k%2 == 1 {
		return x[k/2]
	}
	return (x[k/2-1] + x[k/2]) / 2
}
