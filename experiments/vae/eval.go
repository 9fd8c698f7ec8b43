package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	"klppo/experiments/datasets"
	"klppo/kl"
	"klppo/nn"
)

// Encode returns the posterior means μ and log-variances log σ² (rows×Latent each, row-major)
// of rows examples x (rows×In), computed in plain Go over the live weights.
func (m *Model) Encode(ws *nn.Workspace, x []float64, rows int) (mu, logVar []float64, err error) {
	h, err := m.Enc.Forward(ws, x, rows)
	if err != nil {
		return nil, nil, fmt.Errorf("vae: encode: %w", err)
	}
	L := m.cfg.Latent
	mu, logVar = make([]float64, rows*L), make([]float64, rows*L)
	for r := 0; r < rows; r++ {
		copy(mu[r*L:(r+1)*L], h[r*2*L:r*2*L+L])
		copy(logVar[r*L:(r+1)*L], h[r*2*L+L:(r+1)*2*L])
	}
	return mu, logVar, nil
}

// DecodeMean returns the mean of p(x|z) for rows latent codes z (rows×Latent): sigmoid(logits)
// for the Bernoulli decoder, the Gaussian mean otherwise. The result is a fresh slice.
func (m *Model) DecodeMean(ws *nn.Workspace, z []float64, rows int) ([]float64, error) {
	out, err := m.Dec.Forward(ws, z, rows)
	if err != nil {
		return nil, fmt.Errorf("vae: decode: %w", err)
	}
	res := append([]float64(nil), out...)
	if m.cfg.Decoder == Bernoulli {
		for i, l := range res {
			res[i] = kl.Sigmoid(l)
		}
	}
	return res, nil
}

// negLogLikRow is −log p(x|z) for one example given the decoder's raw output (logits or means).
func negLogLikRow(cfg ModelConfig, out, x []float64) float64 {
	var s float64
	switch cfg.Decoder {
	case Bernoulli:
		for j, l := range out {
			// −log p(x|l) = softplus(l) − x·l for a Bernoulli with logit l
			s += kl.Softplus(l) - x[j]*l
		}
	case Gaussian:
		v := cfg.ObsStd * cfg.ObsStd
		for j, mj := range out {
			d := x[j] - mj
			s += d * d / (2 * v)
		}
		s += float64(len(out)) * (math.Log(cfg.ObsStd) + 0.5*math.Log(2*math.Pi))
	}
	return s
}

// Eval holds a VAE's scores on a dataset, averaged over its examples, in nats.
type Eval struct {
	Recon    float64   // E[−log p(x|z)], z ~ q(z|x) (one sample per example)
	KL       float64   // E[KL(q(z|x) ‖ N(0, I))]
	KLPerDim []float64 // E[KL] per latent dimension (they sum to KL)
	ELBO     float64   // −(Recon + KL): the evidence lower bound at β = 1, whatever β was trained
	Active   int       // latent dimensions whose KLPerDim exceeds ActiveThreshold
}

// ActiveThreshold is the KL per latent dimension (nats, averaged over a dataset) above which the
// dimension counts as active; below it the posterior of that coordinate has collapsed onto the
// prior and the decoder ignores it.
const ActiveThreshold = 0.01

// Evaluate scores m on set in plain Go, drawing the one reparameterisation sample per example
// from rng (pass a freshly seeded source to compare epochs on the same noise).
func Evaluate(m *Model, set *datasets.Set, rng *rand.Rand) (Eval, error) {
	if set == nil || set.N == 0 {
		return Eval{}, fmt.Errorf("vae: Evaluate: empty dataset")
	}
	if set.Dim != m.cfg.In {
		return Eval{}, fmt.Errorf("vae: Evaluate: data dimension %d, model input %d", set.Dim, m.cfg.In)
	}
	L := m.cfg.Latent
	ev := Eval{KLPerDim: make([]float64, L)}
	var ws nn.Workspace
	const chunk = 256
	z := make([]float64, chunk*L)
	for start := 0; start < set.N; start += chunk {
		rows := min(chunk, set.N-start)
		x := set.X[start*set.Dim : (start+rows)*set.Dim]
		mu, logVar, err := m.Encode(&ws, x, rows)
		if err != nil {
			return Eval{}, err
		}
		for i := 0; i < rows*L; i++ {
			d := i % L
			k, err := kl.VAEPriorKL(mu[i:i+1], logVar[i:i+1])
			if err != nil {
				return Eval{}, fmt.Errorf("vae: Evaluate: example %d: %w", start+i/L, err)
			}
			ev.KLPerDim[d] += k
			z[i] = mu[i] + math.Exp(0.5*logVar[i])*rng.NormFloat64()
		}
		out, err := m.Dec.Forward(&ws, z[:rows*L], rows)
		if err != nil {
			return Eval{}, fmt.Errorf("vae: decode: %w", err)
		}
		for r := 0; r < rows; r++ {
			ev.Recon += negLogLikRow(m.cfg, out[r*set.Dim:(r+1)*set.Dim], x[r*set.Dim:(r+1)*set.Dim])
		}
	}
	n := float64(set.N)
	ev.Recon /= n
	for d := range ev.KLPerDim {
		ev.KLPerDim[d] /= n
		ev.KL += ev.KLPerDim[d]
		if ev.KLPerDim[d] > ActiveThreshold {
			ev.Active++
		}
	}
	ev.ELBO = -(ev.Recon + ev.KL)
	return ev, nil
}
