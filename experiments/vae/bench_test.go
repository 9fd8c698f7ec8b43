package vae

import (
	"math/rand/v2"
	"testing"

	"klppo/experiments/datasets"
	"klppo/nn"
)

// BenchmarkTrainStep times one optimisation step (forward, backward, Adam) of the default glyph
// VAE (144 → 256 → 2·2, 2 → 256 → 144, float32) on a batch of 64.
func BenchmarkTrainStep(b *testing.B) {
	data, err := datasets.Glyphs(datasets.DefaultGlyphConfig())
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	m, err := NewModel(rand.New(rand.NewPCG(1, 1)), ModelConfig{In: 144, Latent: cfg.Latent, Hidden: cfg.Hidden,
		Activation: cfg.Activation, Decoder: Bernoulli})
	if err != nil {
		b.Fatal(err)
	}
	lg, err := buildLoss(m, 64, 0)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	eps := make([]float64, 64*cfg.Latent)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range eps {
			eps[j] = rng.NormFloat64()
		}
		start := (i * 64) % (data.Train.N - 64)
		if err := lg.setInputs(data.Train.X[start*144:(start+64)*144], eps, 1); err != nil {
			b.Fatal(err)
		}
		grads, err := tr.Run()
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(1e-3, grads); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate times the plain-Go evaluation of the default glyph VAE on 1000 test images.
func BenchmarkEvaluate(b *testing.B) {
	data, err := datasets.Glyphs(datasets.DefaultGlyphConfig())
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	m, err := NewModel(rand.New(rand.NewPCG(1, 1)), ModelConfig{In: 144, Latent: cfg.Latent, Hidden: cfg.Hidden,
		Activation: cfg.Activation, Decoder: Bernoulli})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Evaluate(m, data.Test, rand.New(rand.NewPCG(1, 4))); err != nil {
			b.Fatal(err)
		}
	}
}
