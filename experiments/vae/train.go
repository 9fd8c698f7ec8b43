package vae

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorgonia.org/tensor"

	"klppo/experiments/datasets"
	"klppo/nn"
)

// Config sets a VAE training run. Zero fields take the defaults of DefaultConfig where noted.
type Config struct {
	Hidden     []int         // encoder hidden widths (decoder reversed); nil means [256]
	Latent     int           // latent dimension (default 2)
	Activation nn.Activation // hidden activation; the zero value is tanh
	Decoder    Decoder       // Bernoulli for images in [0, 1], Gaussian for real-valued data
	ObsStd     float64       // σ of the Gaussian decoder (default 0.1)
	Beta       float64       // weight β ≥ 0 of the KL term (0 is allowed: a plain auto-encoder with noise)
	Warmup     int           // epochs over which β rises linearly from 0 (0: no warm-up)
	FreeBits   float64       // λ ≥ 0: the KL term is Σ_d max(KL_d, λ), KL_d the batch mean per dimension
	Epochs     int           // passes over the training set (> 0)
	Batch      int           // minibatch size (> 0); the last incomplete batch of an epoch is dropped
	LR         float64       // Adam learning rate (> 0)
	MaxGrad    float64       // global gradient-norm clip (0: none)
	Seed       uint64        // seed of the weights, the batch order and the reparameterisation noise
	Dtype      tensor.Dtype  // training dtype (default float32)

	// OnStep, when non-nil, is called after every optimisation step.
	OnStep func()
	// OnEpoch, when non-nil, is called with every epoch's metrics.
	OnEpoch func(EpochMetrics)
}

// DefaultConfig returns the defaults of `klppo vae` for glyphs.
func DefaultConfig() Config {
	return Config{Hidden: []int{256}, Latent: 2, Activation: nn.ReLU, Decoder: Bernoulli, ObsStd: 0.1,
		Beta: 1, Epochs: 30, Batch: 64, LR: 1e-3}
}

// EpochMetrics is one epoch of training: the training-set averages over the epoch's steps and
// the test-set evaluation at its end.
type EpochMetrics struct {
	Epoch         int       // 1-based
	Beta          float64   // β used on the epoch's last step (warm-up raises it)
	TrainLoss     float64   // mean of recon + β·KLterm over the epoch's steps
	TrainRecon    float64   // mean reconstruction term
	TrainKL       float64   // mean KL term (before free bits)
	TrainKLPerDim []float64 // mean KL per latent dimension
	Test          Eval      // test split at the end of the epoch
	Seconds       float64   // wall time of the epoch including evaluation
}

// Result is a finished run.
type Result struct {
	Model  *Model
	Config Config
	Epochs []EpochMetrics
}

func (c Config) validate(data *datasets.Split) error {
	switch {
	case data == nil || data.Train == nil || data.Test == nil:
		return errors.New("vae: no data")
	case data.Train.N == 0 || data.Test.N == 0:
		return fmt.Errorf("vae: empty split (train %d, test %d examples)", data.Train.N, data.Test.N)
	case c.Latent <= 0 || c.Latent > MaxLatent:
		return fmt.Errorf("vae: latent = %d, want 1 to %d", c.Latent, MaxLatent)
	case data.Train.N > MaxExamples || data.Test.N > MaxExamples:
		return fmt.Errorf("vae: %d training and %d test examples, want at most %d each", data.Train.N, data.Test.N, MaxExamples)
	case !(c.Beta >= 0 && c.Beta <= MaxBeta):
		return fmt.Errorf("vae: beta = %v, want 0 to %g", c.Beta, float64(MaxBeta))
	case c.Warmup < 0 || c.Warmup > MaxEpochs:
		return fmt.Errorf("vae: warmup = %d, want 0 to %d", c.Warmup, MaxEpochs)
	case !(c.FreeBits >= 0 && c.FreeBits <= MaxFreeBits):
		return fmt.Errorf("vae: free-bits = %v, want 0 to %g", c.FreeBits, float64(MaxFreeBits))
	case c.Epochs <= 0 || c.Epochs > MaxEpochs:
		return fmt.Errorf("vae: epochs = %d, want 1 to %d", c.Epochs, MaxEpochs)
	case c.Decoder == Gaussian && !(c.ObsStd >= MinObsStd && c.ObsStd <= MaxObsStd):
		return fmt.Errorf("vae: obs-std = %v, want %g to %g", c.ObsStd, MinObsStd, MaxObsStd)
	case c.Batch <= 0 || c.Batch > data.Train.N:
		return fmt.Errorf("vae: batch = %d, want 1 to %d (the training-set size)", c.Batch, data.Train.N)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("vae: lr = %v, want a finite value > 0", c.LR)
	case !(c.MaxGrad >= 0):
		return fmt.Errorf("vae: max-grad = %v, want ≥ 0", c.MaxGrad)
	}
	for i, h := range c.Hidden {
		if h <= 0 || h > MaxWidth {
			return fmt.Errorf("vae: hidden[%d] = %d, want 1 to %d", i, h, MaxWidth)
		}
	}
	return nil
}

// Random streams of one seed: each consumer has its own, so changing one (e.g. the evaluation)
// never shifts another.
const (
	streamInit = iota + 1
	streamShuffle
	streamNoise
	streamEval
)

// WarmupBeta returns β at fractional epoch progress p (0 at the first step): β·min(1, p/warmup),
// or β when warmup is 0.
func WarmupBeta(beta float64, warmup int, p float64) float64 {
	if warmup <= 0 {
		return beta
	}
	return beta * math.Min(1, p/float64(warmup))
}

// Train fits a VAE to data.Train with Adam on minibatches, evaluating on data.Test after every
// epoch. The same seed and config give bit-identical results.
func Train(data *datasets.Split, cfg Config) (*Result, error) {
	if cfg.Hidden == nil {
		cfg.Hidden = []int{256}
	}
	if cfg.Decoder == Gaussian && cfg.ObsStd == 0 {
		cfg.ObsStd = 0.1
	}
	if err := cfg.validate(data); err != nil {
		return nil, err
	}
	model, err := NewModel(rand.New(rand.NewPCG(cfg.Seed, streamInit)), ModelConfig{
		In: data.Train.Dim, Latent: cfg.Latent, Hidden: cfg.Hidden, Activation: cfg.Activation,
		Decoder: cfg.Decoder, ObsStd: cfg.ObsStd, Dtype: cfg.Dtype})
	if err != nil {
		return nil, err
	}
	lg, err := buildLoss(model, cfg.Batch, cfg.FreeBits)
	if err != nil {
		return nil, err
	}
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learn)
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	shuffle := rand.New(rand.NewPCG(cfg.Seed, streamShuffle))
	noise := rand.New(rand.NewPCG(cfg.Seed, streamNoise))
	train := data.Train
	D, L, B := train.Dim, cfg.Latent, cfg.Batch
	steps := train.N / B
	perm := make([]int, train.N)
	for i := range perm {
		perm[i] = i
	}
	xb, eb := make([]float64, B*D), make([]float64, B*L)
	res := &Result{Model: model, Config: cfg}
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		shuffle.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		em := EpochMetrics{Epoch: epoch + 1, TrainKLPerDim: make([]float64, L)}
		for s := 0; s < steps; s++ {
			for r := 0; r < B; r++ {
				copy(xb[r*D:(r+1)*D], train.Row(perm[s*B+r]))
			}
			for i := range eb {
				eb[i] = noise.NormFloat64()
			}
			beta := WarmupBeta(cfg.Beta, cfg.Warmup, float64(epoch)+float64(s)/float64(steps))
			if err := lg.setInputs(xb, eb, beta); err != nil {
				return nil, err
			}
			grads, err := tr.Run()
			if err != nil {
				return nil, fmt.Errorf("vae: epoch %d step %d: %w", epoch+1, s+1, err)
			}
			loss := nn.ValueAt(lg.lossV, 0)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return nil, fmt.Errorf("vae: epoch %d step %d: loss = %v (lower --lr?)", epoch+1, s+1, loss)
			}
			if cfg.MaxGrad > 0 {
				if _, err := nn.ClipGradNorm(grads, cfg.MaxGrad); err != nil {
					return nil, fmt.Errorf("vae: epoch %d step %d: %w", epoch+1, s+1, err)
				}
			}
			if err := opt.Step(cfg.LR, grads); err != nil {
				return nil, fmt.Errorf("vae: epoch %d step %d: %w", epoch+1, s+1, err)
			}
			em.Beta = beta
			em.TrainLoss += loss
			em.TrainRecon += nn.ValueAt(lg.reconV, 0)
			for d := 0; d < L; d++ {
				k := nn.ValueAt(lg.klDimV, d)
				em.TrainKLPerDim[d] += k
				em.TrainKL += k
			}
			if cfg.OnStep != nil {
				cfg.OnStep()
			}
		}
		n := float64(steps)
		em.TrainLoss /= n
		em.TrainRecon /= n
		em.TrainKL /= n
		for d := range em.TrainKLPerDim {
			em.TrainKLPerDim[d] /= n
		}
		if em.Test, err = Evaluate(model, data.Test, rand.New(rand.NewPCG(cfg.Seed, streamEval))); err != nil {
			return nil, err
		}
		em.Seconds = time.Since(start).Seconds()
		res.Epochs = append(res.Epochs, em)
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(em)
		}
	}
	return res, nil
}
