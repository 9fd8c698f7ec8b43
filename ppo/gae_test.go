package ppo

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lambdaReturnOracle computes advantages from the definition of the λ-return, independently of
// GAE's δ recursion. Each env's rollout is cut into episode segments; a segment ends at a
// terminated step (the value after it is 0), a truncated one (the value after it is that of the
// episode's final observation) or the rollout's end (the value of the observation after the
// rollout). For a step t whose segment ends L steps later, with V_{t+L} that bootstrap value,
//
//	G_t^(n) = Σ_{k<n} γ^k r_{t+k} + γ^n V_{t+n}                        (n-step return)
//	G_t^λ   = (1−λ) Σ_{n=1}^{L−1} λ^{n−1} G_t^(n) + λ^{L−1} G_t^(L)     (λ-return)
//	A_t     = G_t^λ − V_t
func lambdaReturnOracle(rew, val []float64, term, trunc []bool, finalV, lastV []float64, n int, gamma, lambda float64) []float64 {
	steps := len(rew) / n
	adv := make([]float64, len(rew))
	for i := 0; i < n; i++ {
		at := func(t int) int { return t*n + i }
		for start := 0; start < steps; {
			end := start // last step of the segment
			for end < steps-1 && !term[at(end)] && !trunc[at(end)] {
				end++
			}
			var bootstrap float64
			switch {
			case term[at(end)]:
				bootstrap = 0
			case trunc[at(end)]:
				bootstrap = finalV[at(end)]
			default:
				bootstrap = lastV[i]
			}
			valueAt := func(t int) float64 { // V of the observation at step t of this segment
				if t > end {
					return bootstrap
				}
				return val[at(t)]
			}
			for t := start; t <= end; t++ {
				L := end - t + 1
				nStep := func(m int) float64 {
					g := 0.0
					for k := 0; k < m; k++ {
						g += math.Pow(gamma, float64(k)) * rew[at(t+k)]
					}
					return g + math.Pow(gamma, float64(m))*valueAt(t+m)
				}
				g := math.Pow(lambda, float64(L-1)) * nStep(L)
				for m := 1; m < L; m++ {
					g += (1 - lambda) * math.Pow(lambda, float64(m-1)) * nStep(m)
				}
				adv[at(t)] = g - val[at(t)]
			}
			start = end + 1
		}
	}
	return adv
}

func TestGAEMatchesLambdaReturn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name          string
		T, N          int
		gamma, lambda float64
		pTerm, pTrunc float64
	}{
		{"no episode ends", 16, 3, 0.99, 0.95, 0, 0},
		{"terminations", 32, 4, 0.99, 0.95, 0.1, 0},
		{"truncations", 32, 4, 0.99, 0.95, 0, 0.1},
		{"both", 64, 2, 0.9, 0.8, 0.08, 0.08},
		{"lambda 1", 20, 2, 0.97, 1, 0.1, 0.1},
		{"lambda 0", 20, 2, 0.97, 0, 0.1, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.T * tc.N
			rew, val, fv := make([]float64, n), make([]float64, n), make([]float64, n)
			term, trunc := make([]bool, n), make([]bool, n)
			for k := range rew {
				rew[k], val[k] = rng.NormFloat64(), rng.NormFloat64()
				term[k] = rng.Float64() < tc.pTerm
				trunc[k] = rng.Float64() < tc.pTrunc
				if trunc[k] {
					fv[k] = rng.NormFloat64()
				}
			}
			last := make([]float64, tc.N)
			for i := range last {
				last[i] = rng.NormFloat64()
			}
			adv, ret := make([]float64, n), make([]float64, n)
			if err := GAE(rew, val, term, trunc, fv, last, tc.N, tc.gamma, tc.lambda, adv, ret); err != nil {
				t.Fatal(err)
			}
			want := lambdaReturnOracle(rew, val, term, trunc, fv, last, tc.N, tc.gamma, tc.lambda)
			for k := range adv {
				if math.Abs(adv[k]-want[k]) > 1e-9*(1+math.Abs(want[k])) {
					t.Fatalf("adv[%d] = %v, λ-return oracle %v", k, adv[k], want[k])
				}
				if math.Abs(ret[k]-(want[k]+val[k])) > 1e-9 {
					t.Fatalf("returns[%d] = %v, want %v", k, ret[k], want[k]+val[k])
				}
			}
		})
	}
}

// TestGAETruncationBootstrap checks a hand-computed one-env case: a truncated step bootstraps
// from the value of the final observation and does not leak into the next episode.
func TestGAETruncationBootstrap(t *testing.T) {
	// t=0: reward 1, V=0.5, truncated with V(final)=2; t=1: reward 0, V=1, last value 3.
	rew := []float64{1, 0}
	val := []float64{0.5, 1}
	adv, ret := make([]float64, 2), make([]float64, 2)
	g, l := 0.9, 0.8
	if err := GAE(rew, val, []bool{false, false}, []bool{true, false}, []float64{2, 0}, []float64{3}, 1, g, l, adv, ret); err != nil {
		t.Fatal(err)
	}
	want1 := 0 + g*3 - 1.0
	want0 := 1 + g*2 - 0.5 // no γλ·A_1 term: the episode ended
	if math.Abs(adv[1]-want1) > 1e-12 || math.Abs(adv[0]-want0) > 1e-12 {
		t.Fatalf("adv = %v, want [%v %v]", adv, want0, want1)
	}
	// A terminated step (even if also truncated) bootstraps with 0.
	if err := GAE(rew, val, []bool{true, false}, []bool{true, false}, []float64{2, 0}, []float64{3}, 1, g, l, adv, ret); err != nil {
		t.Fatal(err)
	}
	if want := 1 - 0.5; math.Abs(adv[0]-want) > 1e-12 {
		t.Fatalf("terminated adv[0] = %v, want %v", adv[0], want)
	}
}

func TestGAEBadLengths(t *testing.T) {
	adv, ret := make([]float64, 4), make([]float64, 4)
	err := GAE(make([]float64, 4), make([]float64, 3), make([]bool, 4), make([]bool, 4), make([]float64, 4), make([]float64, 2), 2, 0.99, 0.95, adv, ret)
	if err == nil {
		t.Fatal("want an error for len(values) = 3")
	}
	if err := GAE(make([]float64, 5), nil, nil, nil, nil, nil, 2, 0.99, 0.95, adv, ret); err == nil {
		t.Fatal("want an error for 5 rewards with 2 envs")
	}
}
