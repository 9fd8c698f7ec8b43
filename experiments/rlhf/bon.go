package rlhf

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"klppo/internal/rng"
	"klppo/kl"
)

// BoNBound is the upper bound on KL(π_bon‖π) for best-of-n sampling,
//
//	KL(π_bon‖π) ≤ ln n − (n−1)/n,
//
// attained when the reward has no ties (Beirami et al. 2024, arXiv 2401.01879). Gao et al. use
// it as the "KL" of best-of-n.
func BoNBound(n int) float64 {
	return math.Log(float64(n)) - float64(n-1)/float64(n)
}

// BoNBoundOnPool is the bound on KL(π_bon‖π̂) when best-of-n is computed on π̂, the empirical
// distribution of pool samples: every probability of π̂ is at least 1/pool, so no distribution
// on its support is further than ln pool from it, and
//
//	KL(π_bon‖π̂) ≤ min(ln n − (n−1)/n, ln pool).
//
// Past n ≈ pool the first bound overstates what the pool can show.
func BoNBoundOnPool(n, pool int) float64 {
	return math.Min(BoNBound(n), math.Log(float64(pool)))
}

// BoNDistribution returns the distribution of the best of n independent draws from the discrete
// distribution p (outcome i has probability p[i] and reward r[i]). With F(y) = P(r ≤ r(y)) and
// F(y⁻) = P(r < r(y)), the n draws' maximum falls in the reward level of y with probability
// F(y)ⁿ − F(y⁻)ⁿ; ties are broken uniformly at random among the drawn copies, which shares a
// level's mass among its outcomes in proportion to p:
//
//	π_bon(i) = (F(r_i)ⁿ − F(r_i⁻)ⁿ) · p_i / P(r = r_i).
func BoNDistribution(p, r []float64, n int) ([]float64, error) {
	if len(p) != len(r) || len(p) == 0 {
		return nil, fmt.Errorf("rlhf: best-of-n: %d probabilities and %d rewards", len(p), len(r))
	}
	if n < 1 {
		return nil, fmt.Errorf("rlhf: best-of-n: n = %d, want ≥ 1", n)
	}
	if err := kl.ValidateProbs("p", p); err != nil {
		return nil, fmt.Errorf("rlhf: best-of-n: %w", err)
	}
	idx := make([]int, len(p))
	for i := range idx {
		if math.IsNaN(r[i]) {
			return nil, fmt.Errorf("rlhf: best-of-n: reward %d is NaN", i)
		}
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return r[idx[a]] < r[idx[b]] })
	q := make([]float64, len(p))
	below := 0.0 // F(y⁻)
	for lo := 0; lo < len(idx); {
		hi := lo
		mass := 0.0
		for hi < len(idx) && r[idx[hi]] == r[idx[lo]] {
			mass += p[idx[hi]]
			hi++
		}
		upTo := math.Min(1, below+mass)
		level := math.Pow(upTo, float64(n)) - math.Pow(below, float64(n))
		for _, i := range idx[lo:hi] {
			if mass > 0 {
				q[i] = level * p[i] / mass
			}
		}
		below = upTo
		lo = hi
	}
	return q, nil
}

// BoNPoint is best-of-n at one n, computed exactly on the empirical distribution of a large
// sample from π_ref (identical sequences merged).
type BoNPoint struct {
	N         int     `json:"n"`
	Proxy     float64 `json:"proxy_reward"`
	Gold      float64 `json:"gold_reward"`
	KLBound   float64 `json:"kl_bound"`    // min(ln n − (n−1)/n, ln pool): BoNBoundOnPool
	KL        float64 `json:"kl_estimate"` // KL(π_bon‖π̂) on the empirical distribution π̂ (≤ the bound)
	InLang    float64 `json:"in_language"`
	Favourite string  `json:"top_sample"` // the most likely best-of-n output
	// Distinct is the expected number of different outputs among m draws from π_bon,
	// Σ_y (1 − (1 − π_bon(y))^m), when asked for (PromptedBestOfN: summed over prompts).
	Distinct float64 `json:"distinct,omitempty"`
}

// BestOfN samples pool sequences from ref, merges identical ones into an empirical distribution
// π̂ and returns, for each n, the exact best-of-n distribution over π̂ (ranked by the reward
// model) with its expected proxy and gold reward, the KL bound (BoNBoundOnPool) and the KL on π̂.
func BestOfN(ctx context.Context, g *Grammar, gold *Gold, ref *Model, rm *RewardModel, pool int, ns []int, seed uint64) ([]BoNPoint, error) {
	return BestOfNRanked(ctx, g, gold, ref, rm, pool, ns, seed, RewardRM)
}

// BestOfNRanked is BestOfN with the n draws ranked by rank: the reward model's score (rm) or
// the gold reward (gold: best-of-n against a verifiable reward; its many ties are shared as
// BoNDistribution says, so its KL stays below the bound).
func BestOfNRanked(ctx context.Context, g *Grammar, gold *Gold, ref *Model, rm *RewardModel, pool int, ns []int, seed uint64, rank Reward) ([]BoNPoint, error) {
	if err := ValidateBoN(pool, ns); err != nil {
		return nil, err
	}
	if err := CheckBoNMemory(pool, ref.Cfg); err != nil {
		return nil, err
	}
	if err := rank.Validate(); err != nil {
		return nil, err
	}
	rng := rng.New(seed, streamBoN)
	seqs := make([][]int, 0, pool)
	for len(seqs) < pool {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rlhf: best-of-n: sampling the pool (sample %d of %d): %w", len(seqs)+1, pool, err)
		}
		s, err := ref.Sample(ctx, rng, min(1000, pool-len(seqs)))
		if err != nil {
			return nil, fmt.Errorf("rlhf: best-of-n: sampling the pool: %w", err)
		}
		seqs = append(seqs, s...)
	}
	pts, err := bonOnPool(ctx, g, gold, rm, seqs, ns, []Reward{rank}, 0)
	if err != nil {
		return nil, err
	}
	return pts[0], nil
}

// bonOnPool merges identical sequences of seqs into their empirical distribution π̂ and returns,
// for each ranking reward and each n, the exact best-of-n point on π̂; with m > 0 each point has
// the expected number of distinct outputs among m draws. It stops with ctx's error once ctx is
// done.
func bonOnPool(ctx context.Context, g *Grammar, gold *Gold, rm *RewardModel, seqs [][]int, ns []int, ranks []Reward, m int) ([][]BoNPoint, error) {
	count := map[string]int{}
	var uniq [][]int
	for i, x := range seqs {
		if err := interrupted(ctx, i, len(seqs), "best-of-n: merging the pool", "sample"); err != nil {
			return nil, err
		}
		k := g.Text(x)
		if count[k] == 0 {
			uniq = append(uniq, x)
		}
		count[k]++
	}
	p := make([]float64, len(uniq))
	gs := make([]float64, len(uniq))
	inl := make([]float64, len(uniq))
	for i, x := range uniq {
		if err := interrupted(ctx, i, len(uniq), "best-of-n: scoring the pool", "distinct sample"); err != nil {
			return nil, err
		}
		p[i] = float64(count[g.Text(x)]) / float64(len(seqs))
		gs[i] = gold.Score(x)
		if g.Accepts(x) {
			inl[i] = 1
		}
	}
	proxy, err := rm.Scores(uniq)
	if err != nil {
		return nil, err
	}
	out := make([][]BoNPoint, len(ranks))
	for k, rank := range ranks {
		by := proxy
		if rank == RewardGold {
			by = gs
		}
		for j, n := range ns {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("rlhf: best-of-n: n = %d (%d of %d): %w", n, j+1, len(ns), err)
			}
			q, err := BoNDistribution(p, by, n)
			if err != nil {
				return nil, err
			}
			pt := BoNPoint{N: n, KLBound: BoNBoundOnPool(n, len(seqs))}
			best := 0
			for i := range q {
				pt.Proxy += q[i] * proxy[i]
				pt.Gold += q[i] * gs[i]
				pt.InLang += q[i] * inl[i]
				if q[i] > q[best] {
					best = i
				}
				if m > 0 {
					pt.Distinct += 1 - math.Pow(1-q[i], float64(m))
				}
			}
			pt.Favourite = g.Text(uniq[best])
			if pt.KL, err = kl.KL(q, p); err != nil {
				return nil, fmt.Errorf("rlhf: best-of-n: %w", err)
			}
			out[k] = append(out[k], pt)
		}
	}
	return out, nil
}

// PromptedBestOfN is best-of-n prompt by prompt: for each prompt, pool completions from ref form
// the empirical distribution π̂(·|prompt), on which best-of-n is exact (bonOnPool) for each
// ranking reward and each n. Rewards, KL and in-language fraction are averaged over the prompts;
// Distinct is summed over the first distinctPrompts prompts (expected distinct completions among
// distinctSamples draws each), the measure Evaluate takes of a trained policy. The completions
// are drawn with r.
func PromptedBestOfN(ctx context.Context, env Env, prompts [][]int, pool int, ns []int, ranks []Reward, distinctPrompts, distinctSamples int, r *rand.Rand) ([][]BoNPoint, error) {
	if pool < 1 || len(prompts) == 0 {
		return nil, fmt.Errorf("rlhf: best-of-n: pool %d and %d prompts, want ≥ 1 of each", pool, len(prompts))
	}
	for _, r := range ranks {
		if err := r.Validate(); err != nil {
			return nil, err
		}
	}
	out := make([][]BoNPoint, len(ranks))
	for k := range out {
		out[k] = make([]BoNPoint, len(ns))
		for j, n := range ns {
			out[k][j] = BoNPoint{N: n, KLBound: BoNBoundOnPool(n, pool)}
		}
	}
	f := 1 / float64(len(prompts))
	rep := make([][]int, pool)
	for i, q := range prompts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rlhf: best-of-n: prompt %d of %d: %w", i+1, len(prompts), err)
		}
		for j := range rep {
			rep[j] = q
		}
		seqs, err := env.Ref.Complete(ctx, r, rep)
		if err != nil {
			return nil, fmt.Errorf("rlhf: best-of-n: prompt %d of %d: %w", i+1, len(prompts), err)
		}
		m := 0
		if i < distinctPrompts {
			m = distinctSamples
		}
		pts, err := bonOnPool(ctx, env.G, env.Gold, env.RM, seqs, ns, ranks, m)
		if err != nil {
			return nil, err
		}
		for k := range ranks {
			for j, pt := range pts[k] {
				o := &out[k][j]
				o.Proxy, o.Gold, o.KL, o.InLang = o.Proxy+f*pt.Proxy, o.Gold+f*pt.Gold, o.KL+f*pt.KL, o.InLang+f*pt.InLang
				o.Distinct += pt.Distinct
				if i == 0 {
					o.Favourite = pt.Favourite
				}
			}
		}
	}
	return out, nil
}
