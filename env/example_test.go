package env_test

import (
	"fmt"

	"klppo/env"
)

// Make applies the registered time limit; the same seed replays the same episode.
func ExampleMake() {
	e, err := env.Make("CartPole-v1")
	if err != nil {
		fmt.Println(err)
		return
	}
	seed := uint64(42)
	e.Reset(&seed)
	steps, ret := 0, 0.0
	for {
		r, err := e.Step([]float64{1}) // always push right: the pole falls quickly
		if err != nil {
			fmt.Println(err)
			return
		}
		steps++
		ret += r.Reward
		if r.Terminated || r.Truncated {
			fmt.Println("terminated:", r.Terminated, "truncated:", r.Truncated, "return:", ret == float64(steps))
			break
		}
	}
	fmt.Println(e.ObservationSpace().Dim(), e.ActionSpace())
	// Output:
	// terminated: true truncated: false return: true
	// 4 Discrete(2)
}

// A vector env resets finished copies in the same step and keeps their final observation.
func ExampleVector() {
	v, err := env.MakeVector("Pendulum-v1", 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	seed := uint64(0)
	v.Reset(&seed)
	for t := 1; t <= 200; t++ {
		s, err := v.Step([]float64{0, 0})
		if err != nil {
			fmt.Println(err)
			return
		}
		if len(s.Episodes) > 0 {
			fmt.Println("step", t, "truncated:", s.Truncated[0], s.Truncated[1],
				"final obs kept:", s.FinalObs[0] != nil, "episodes:", len(s.Episodes), "length:", s.Episodes[0].Length)
		}
	}
	// Output:
	// step 200 truncated: true true final obs kept: true episodes: 2 length: 200
}
