package env_test

import (
	"encoding/json"
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

// RunningMeanStd pools batches with Gymnasium's update; its state is plain JSON. The values are
// those of the data 1, 2, 3, 4 pooled directly with the prior (mean 0, variance 1, weight 1e-4):
// mean = 10/4.0001, variance = (1e-4·(1 + mean²) + Σ(x − mean)²)/4.0001.
func ExampleRunningMeanStd() {
	r := env.NewRunningMeanStd(1)
	r.Update([]float64{1, 2, 3}) // three rows of dimension 1
	r.Update([]float64{4})
	fmt.Printf("mean %.12g var %.12g count %.12g\n", r.Mean[0], r.Var[0], r.Count)
	b, _ := json.Marshal(r)
	var back env.RunningMeanStd
	json.Unmarshal(b, &back)
	fmt.Println("JSON round trip exact:", back.Mean[0] == r.Mean[0] && back.Var[0] == r.Var[0] && back.Count == r.Count)
	// Output:
	// mean 2.49993750156 var 1.25014999234 count 4.0001
	// JSON round trip exact: true
}
