package vae

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"klppo/kl/klgraph"
	"klppo/nn"
)

var _ fmt.Stringer = Decoder(0)

// Decoder names the observation model p(x|z).
type Decoder int

const (
	// Bernoulli treats every value as the mean of a Bernoulli variable: the decoder outputs
	// logits l and −log p(x|z) = Σ_j softplus(l_j) − x_j·l_j (binary cross-entropy; exact for
	// x ∈ {0, 1}, used as is for grey values in [0, 1]).
	Bernoulli Decoder = iota
	// Gaussian is N(x; m(z), σ²·I) with a fixed σ (Config.ObsStd): the decoder outputs m and
	// −log p(x|z) = Σ_j (x_j − m_j)²/(2σ²) + log σ + ½·log 2π.
	Gaussian
)

// String returns "bernoulli" or "gaussian".
func (d Decoder) String() string {
	switch d {
	case Bernoulli:
		return "bernoulli"
	case Gaussian:
		return "gaussian"
	}
	return fmt.Sprintf("Decoder(%d)", int(d))
}

// ModelConfig sets the shape of a VAE.
type ModelConfig struct {
	In         int           // data dimension
	Latent     int           // latent dimension
	Hidden     []int         // encoder hidden widths; the decoder uses them reversed
	Activation nn.Activation // hidden-layer activation
	Decoder    Decoder       // observation model
	ObsStd     float64       // σ of the Gaussian decoder (ignored for Bernoulli); > 0
	Dtype      tensor.Dtype  // tensor.Float32 (default) or tensor.Float64
}

// Model is an MLP VAE: the encoder maps x to (μ, log σ²) of q(z|x) = N(μ, diag σ²), the decoder
// maps z to the parameters of p(x|z).
type Model struct {
	cfg ModelConfig
	Enc *nn.MLP // In → Hidden → 2·Latent (μ then log σ²)
	Dec *nn.MLP // Latent → reversed Hidden → In (logits or means)
}

// NewModel draws a VAE's weights from rng (seeded orthogonal initialisation).
func NewModel(rng *rand.Rand, cfg ModelConfig) (*Model, error) {
	switch {
	case cfg.In <= 0:
		return nil, fmt.Errorf("vae: In = %d, want > 0", cfg.In)
	case cfg.Latent <= 0:
		return nil, fmt.Errorf("vae: latent = %d, want > 0", cfg.Latent)
	case cfg.Decoder != Bernoulli && cfg.Decoder != Gaussian:
		return nil, fmt.Errorf("vae: unknown decoder %d", int(cfg.Decoder))
	case cfg.Decoder == Gaussian && (!(cfg.ObsStd > 0) || math.IsInf(cfg.ObsStd, 0)):
		return nil, fmt.Errorf("vae: obs-std = %v, want a finite value > 0", cfg.ObsStd)
	}
	if cfg.Dtype == (tensor.Dtype{}) {
		cfg.Dtype = tensor.Float32
	}
	rev := make([]int, len(cfg.Hidden))
	for i, h := range cfg.Hidden {
		rev[len(rev)-1-i] = h
	}
	enc, err := nn.NewMLP(rng, nn.MLPConfig{Name: "enc", In: cfg.In, Hidden: cfg.Hidden, Out: 2 * cfg.Latent,
		Activation: cfg.Activation, Dtype: cfg.Dtype})
	if err != nil {
		return nil, fmt.Errorf("vae: encoder: %w", err)
	}
	dec, err := nn.NewMLP(rng, nn.MLPConfig{Name: "dec", In: cfg.Latent, Hidden: rev, Out: cfg.In,
		Activation: cfg.Activation, Dtype: cfg.Dtype})
	if err != nil {
		return nil, fmt.Errorf("vae: decoder: %w", err)
	}
	return &Model{cfg: cfg, Enc: enc, Dec: dec}, nil
}

// Config returns the model's configuration.
func (m *Model) Config() ModelConfig { return m.cfg }

// scalar returns a constant of the graph's dtype.
func scalar(g *G.ExprGraph, dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// lossGraph is the training graph for one batch size, built once and run with fresh inputs.
type lossGraph struct {
	m       *Model
	batch   int
	g       *G.ExprGraph
	x, eps  *G.Node // inputs (batch×In, batch×Latent)
	beta    *G.Node // scalar input: the KL weight of this step
	xT, eT  *tensor.Dense
	loss    *G.Node
	lossV   G.Value // read-back of the loss
	reconV  G.Value // batch mean of −log p(x|z)
	klDimV  G.Value // batch mean of KL per latent dimension (Latent)
	klTermV G.Value // the KL term actually weighted by β (after free bits)
	learn   G.Nodes
}

// buildLoss builds, for a batch of B rows,
//
//	μ, log σ² = enc(x),  z = μ + exp(½ log σ²) ⊙ ε  (ε ~ N(0, I) fed as an input),
//	recon     = mean_b −log p(x_b | z_b),
//	KL_d      = mean_b KL(N(μ_bd, σ²_bd) ‖ N(0, 1))   from klgraph.VAEPriorKLPerDimNode,
//	KLterm    = Σ_d KL_d                          (freeBits = 0)
//	          = Σ_d max(KL_d, λ)                   (free bits λ > 0, Kingma et al. 2016),
//	loss      = recon + β·KLterm.
func buildLoss(m *Model, batch int, freeBits float64) (*lossGraph, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("vae: batch = %d, want > 0", batch)
	}
	if !(freeBits >= 0) || math.IsInf(freeBits, 0) {
		return nil, fmt.Errorf("vae: free-bits = %v, want a finite value ≥ 0", freeBits)
	}
	dt, L, D := m.cfg.Dtype, m.cfg.Latent, m.cfg.In
	lg := &lossGraph{m: m, batch: batch, g: G.NewGraph()}
	g := lg.g
	lg.x = G.NewMatrix(g, dt, G.WithShape(batch, D), G.WithName("x"))
	lg.eps = G.NewMatrix(g, dt, G.WithShape(batch, L), G.WithName("eps"))
	lg.beta = G.NewScalar(g, dt, G.WithName("beta"))
	lg.xT = tensor.New(tensor.Of(dt), tensor.WithShape(batch, D))
	lg.eT = tensor.New(tensor.Of(dt), tensor.WithShape(batch, L))
	wrap := func(what string, err error) error { return fmt.Errorf("vae: building %s: %w", what, err) }

	h, err := m.Enc.Graph(g, lg.x)
	if err != nil {
		return nil, wrap("encoder", err)
	}
	mu, err := G.Slice(h, nil, G.S(0, L))
	if err != nil {
		return nil, wrap("μ", err)
	}
	logVar, err := G.Slice(h, nil, G.S(L, 2*L))
	if err != nil {
		return nil, wrap("log σ²", err)
	}
	half, err := G.HadamardProd(logVar, scalar(g, dt, 0.5))
	if err != nil {
		return nil, wrap("½ log σ²", err)
	}
	std, err := G.Exp(half)
	if err != nil {
		return nil, wrap("σ", err)
	}
	noise, err := G.HadamardProd(std, lg.eps)
	if err != nil {
		return nil, wrap("σ⊙ε", err)
	}
	z, err := G.Add(mu, noise)
	if err != nil {
		return nil, wrap("z", err)
	}
	out, err := m.Dec.Graph(g, z)
	if err != nil {
		return nil, wrap("decoder", err)
	}
	nll, err := negLogLik(m.cfg, g, out, lg.x)
	if err != nil {
		return nil, wrap("reconstruction", err)
	}
	recon, err := G.Mean(nll)
	if err != nil {
		return nil, wrap("mean reconstruction", err)
	}
	klBD, err := klgraph.VAEPriorKLPerDimNode(mu, logVar)
	if err != nil {
		return nil, wrap("KL per dimension", err)
	}
	klD, err := G.Mean(klBD, 0)
	if err != nil {
		return nil, wrap("batch-mean KL", err)
	}
	klHinge := klD
	if freeBits > 0 {
		lam := tensor.New(tensor.Of(dt), tensor.WithShape(L))
		fill(lam, func(int) float64 { return freeBits })
		lamN := G.NewConstant(lam, G.WithName("free_bits"))
		if klHinge, err = G.MaxBetween(klD, lamN); err != nil {
			return nil, wrap("free bits", err)
		}
	}
	klTerm, err := G.Sum(klHinge)
	if err != nil {
		return nil, wrap("KL term", err)
	}
	weighted, err := G.Mul(lg.beta, klTerm)
	if err != nil {
		return nil, wrap("β·KL", err)
	}
	if lg.loss, err = G.Add(recon, weighted); err != nil {
		return nil, wrap("loss", err)
	}
	G.Read(lg.loss, &lg.lossV)
	G.Read(recon, &lg.reconV)
	G.Read(klD, &lg.klDimV)
	G.Read(klTerm, &lg.klTermV)
	enc, err := m.Enc.Learnables(g)
	if err != nil {
		return nil, err
	}
	dec, err := m.Dec.Learnables(g)
	if err != nil {
		return nil, err
	}
	lg.learn = append(enc, dec...)
	return lg, nil
}

// negLogLik returns the (B,) node −log p(x_b|z_b) summed over the data dimension.
func negLogLik(cfg ModelConfig, g *G.ExprGraph, out, x *G.Node) (*G.Node, error) {
	dt := cfg.Dtype
	switch cfg.Decoder {
	case Bernoulli:
		// softplus(l) − x·l, stable for large |l| (gorgonia's Softplus is cut off safely).
		sp, err := G.Softplus(out)
		if err != nil {
			return nil, err
		}
		xl, err := G.HadamardProd(x, out)
		if err != nil {
			return nil, err
		}
		d, err := G.Sub(sp, xl)
		if err != nil {
			return nil, err
		}
		return G.Sum(d, 1)
	case Gaussian:
		diff, err := G.Sub(x, out)
		if err != nil {
			return nil, err
		}
		sq, err := G.Square(diff)
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(sq, 1)
		if err != nil {
			return nil, err
		}
		s, err = G.HadamardProd(s, scalar(g, dt, 1/(2*cfg.ObsStd*cfg.ObsStd)))
		if err != nil {
			return nil, err
		}
		c := float64(cfg.In) * (math.Log(cfg.ObsStd) + 0.5*math.Log(2*math.Pi))
		return G.Add(s, scalar(g, dt, c))
	}
	return nil, fmt.Errorf("unknown decoder %d", int(cfg.Decoder))
}

// fill sets every element of a float32 or float64 tensor to f(i).
func fill(t *tensor.Dense, f func(i int) float64) {
	switch s := t.Data().(type) {
	case []float32:
		for i := range s {
			s[i] = float32(f(i))
		}
	case []float64:
		for i := range s {
			s[i] = f(i)
		}
	}
}

// setInputs lets x (batch×In values), ε (batch×Latent) and β into the graph.
func (lg *lossGraph) setInputs(x, eps []float64, beta float64) error {
	fill(lg.xT, func(i int) float64 { return x[i] })
	fill(lg.eT, func(i int) float64 { return eps[i] })
	if err := G.Let(lg.x, lg.xT); err != nil {
		return fmt.Errorf("vae: let x: %w", err)
	}
	if err := G.Let(lg.eps, lg.eT); err != nil {
		return fmt.Errorf("vae: let ε: %w", err)
	}
	var b G.Value = G.NewF64(beta)
	if lg.m.cfg.Dtype == tensor.Float32 {
		b = G.NewF32(float32(beta))
	}
	if err := G.Let(lg.beta, b); err != nil {
		return fmt.Errorf("vae: let β: %w", err)
	}
	return nil
}
