package rlhf

import (
	"context"
	"fmt"
	"math"

	"klppo/kl"
	"klppo/policy"
)

// LanguageMass is what a model π puts on the sentences of the language, computed exactly (no
// sampling) by walking the grammar's automaton with π's conditionals:
//
//	Mass = π(L) = Σ_{x∈L} π(x),
//	Gold = E_π[score] = Σ_{x∈L} π(x)·score(x) + (1 − π(L))·OutOfLanguage
//
// (with score = Gold.Score, the exact expected gold reward of π).
//
// Every sentence x ∈ L is a path of the automaton, and π(x) = Π_t π(x_t | x_<t) shares its
// factors with every sentence of the same prefix, so the walk evaluates π once per distinct
// unfinished prefix of the language (Prefixes of them) rather than once per token of every
// sentence. Sentences longer than π's MaxLen have π(x) = 0.
type LanguageMass struct {
	Mass     float64 `json:"mass"`
	Gold     float64 `json:"gold"`
	Prefixes int     `json:"prefixes"`
}

// ExactLanguageMass walks g breadth first, evaluating the prefixes of one length together in
// plain-Go forward passes of at most 4096 rows. score (may be nil: Gold is then NaN) scores the
// sentences of the language. It stops with ctx's error once ctx is done (it looks before each
// forward pass).
func ExactLanguageMass(ctx context.Context, g *Grammar, m *Model, score func(x []int) float64) (LanguageMass, error) {
	type prefix struct {
		x     []int
		state int
		logp  float64
	}
	const chunk = 4096
	var res LanguageMass
	if m.Cfg.V != g.V() {
		return res, fmt.Errorf("rlhf: language mass: model vocabulary %d ≠ grammar's %d", m.Cfg.V, g.V())
	}
	D, V := m.Cfg.ObsDim(), m.Cfg.V
	actor := policy.NewActor(m.AC)
	row := make([]float64, V)
	obs := make([]float64, 0, chunk*D)
	var goldSum float64
	level := []prefix{{}}
	for len(level) > 0 {
		var next []prefix
		for lo := 0; lo < len(level); lo += chunk {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("rlhf: language mass (prefix %d of %d of length %d): %w", lo+1, len(level), len(level[0].x), err)
			}
			batch := level[lo:min(lo+chunk, len(level))]
			obs = obs[:len(batch)*D]
			for k, p := range batch {
				m.Cfg.Obs(obs[k*D:(k+1)*D], p.x)
			}
			logits, err := actor.Dist(obs, len(batch))
			if err != nil {
				return res, fmt.Errorf("rlhf: language mass: %w", err)
			}
			res.Prefixes += len(batch)
			for k, p := range batch {
				if err := kl.LogSoftmaxInto(row, logits[k*V:(k+1)*V]); err != nil {
					return res, fmt.Errorf("rlhf: language mass: %w", err)
				}
				for _, e := range g.States[p.state] {
					lp := p.logp + row[e.Word]
					x := append(append(make([]int, 0, len(p.x)+1), p.x...), e.Word)
					switch {
					case e.Next < 0:
						pr := math.Exp(lp)
						res.Mass += pr
						if score != nil {
							goldSum += pr * score(x)
						}
					case len(x) < m.Cfg.MaxLen: // π can still emit a token after x
						next = append(next, prefix{x: x, state: e.Next, logp: lp})
					}
				}
			}
		}
		level = next
	}
	res.Gold = goldSum + (1-res.Mass)*OutOfLanguage
	if score == nil {
		res.Gold = math.NaN()
	}
	return res, nil
}
