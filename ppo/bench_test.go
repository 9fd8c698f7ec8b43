package ppo

import (
	"context"
	"math/rand/v2"
	"testing"

	"klppo/env"
)

func benchTrainer(b *testing.B) *trainer {
	cfg, err := DefaultConfig("CartPole-v1")
	if err != nil {
		b.Fatal(err)
	}
	t, err := newTrainer(cfg, false)
	if err != nil {
		b.Fatal(err)
	}
	t.onEpisode = func(int, env.EpisodeStat) error { return nil }
	return t
}

// fillMinibatch puts a random but valid minibatch into the trainer's scratch buffers.
func fillMinibatch(t *trainer) {
	rng := rand.New(rand.NewPCG(1, 1))
	mb := &t.learner.mb
	for i := range mb.obs {
		mb.obs[i] = rng.NormFloat64()
	}
	for i := range mb.actions {
		mb.actions[i] = float64(rng.IntN(2))
	}
	for i := range mb.dist {
		mb.dist[i] = 0.1 * rng.NormFloat64()
	}
	for i := range mb.advantages {
		mb.advantages[i], mb.logProbs[i], mb.returns[i], mb.values[i] = rng.NormFloat64(), -0.7, rng.NormFloat64(), 0
	}
}

// BenchmarkPolicyRun is one forward+backward pass of the CartPole policy objective (minibatch 128).
func BenchmarkPolicyRun(b *testing.B) {
	t := benchTrainer(b)
	fillMinibatch(t)
	for b.Loop() {
		mb := &t.learner.mb
		if err := t.learner.policyLoss.setInputs(policyInputs{obs: mb.obs, actions: mb.actions, oldDist: mb.dist,
			oldLogP: mb.logProbs, adv: mb.advantages, beta: 1}); err != nil {
			b.Fatal(err)
		}
		if _, err := t.learner.policyLoss.trainer.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValueRun is one forward+backward pass of the CartPole value objective (minibatch 128).
func BenchmarkValueRun(b *testing.B) {
	t := benchTrainer(b)
	fillMinibatch(t)
	for b.Loop() {
		mb := &t.learner.mb
		if err := t.learner.valueLoss.setInputs(mb.obs, mb.returns, mb.values); err != nil {
			b.Fatal(err)
		}
		if _, err := t.learner.valueLoss.trainer.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRollout is one 4×128-step CartPole rollout with the acting pass.
func BenchmarkRollout(b *testing.B) {
	t := benchTrainer(b)
	for b.Loop() {
		if err := t.collectRollout(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainCartPole100k is `klppo bench train`'s workload: 100k CartPole steps with the
// default (CleanRL-shaped, kl-adaptive:0.01) configuration; it reports env steps per second.
func BenchmarkTrainCartPole100k(b *testing.B) {
	cfg, err := DefaultConfig("CartPole-v1")
	if err != nil {
		b.Fatal(err)
	}
	cfg.TotalTimesteps = 100_000
	for b.Loop() {
		s, err := Train(context.Background(), cfg, b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(s.SPS, "steps/s")
	}
}
