package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"klppo/experiments/datasets"
	"klppo/experiments/vae"
	"klppo/nn"
)

func init() {
	register("vae", "train a small MLP VAE (recon + β·KL to N(0,I)) on built-in glyphs or a 2-D ring", runVAE)
}

// newStepBar returns a progress bar on w for total steps, or nil when quiet.
func newStepBar(w io.Writer, total int, desc string, quiet bool) *progressbar.ProgressBar {
	if quiet {
		return nil
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
}

func fmtDims(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func runVAE(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("vae", "[--dataset glyphs|ring] [--latent 2] [--beta 1] [--epochs N] [--seed S] [--out DIR]", stderr)
	def := vae.DefaultConfig()
	dataset := fs.String("dataset", "glyphs", "built-in dataset: glyphs (12×12 digit images, Bernoulli decoder) or ring (2-D mixture of 8 Gaussians, Gaussian decoder)")
	latent := fs.Int("latent", def.Latent, "latent dimension")
	beta := fs.Float64("beta", def.Beta, "weight β of the KL term KL(q(z|x)‖N(0,I)); 0 gives a noisy auto-encoder")
	warmup := fs.Int("warmup", 0, "epochs over which β rises linearly from 0 (KL warm-up; 0 = off)")
	freeBits := fs.Float64("free-bits", 0, "free bits λ in nats per latent dimension: the KL term is Σ_d max(KL_d, λ) (0 = off)")
	hidden := widthList(def.Hidden)
	fs.Var(&hidden, "hidden", "hidden widths of the encoder, comma-separated (the decoder mirrors them)")
	act := fs.String("activation", "relu", "hidden activation: relu or tanh")
	lr := fs.Float64("lr", def.LR, "Adam learning rate")
	batch := fs.Int("batch", def.Batch, "minibatch size")
	epochs := fs.Int("epochs", def.Epochs, "passes over the training set")
	seed := fs.Uint64("seed", 1, "random seed (data, weights, batch order, reparameterisation noise)")
	nTrain := fs.Int("train-size", 0, "training examples (0 = the dataset's default: 5000 glyphs, 4000 ring points)")
	nTest := fs.Int("test-size", 0, "test examples (0 = default 1000)")
	maxShift := fs.Int("max-shift", 0, "glyphs: largest random shift in pixels along each axis (the distill data uses 2; with shifts a small latent encodes position first)")
	obsStd := fs.Float64("obs-std", def.ObsStd, "σ of the Gaussian decoder (ring only)")
	out := fs.String("out", "runs/vae", "output directory for metrics.csv and the PNGs")
	quiet := fs.Bool("quiet", false, "no progress bar and no per-epoch lines")
	force := fs.Bool("force", false, "write into an --out directory that already holds a run (overwrites its files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := guardOut("--out", *out, *force); err != nil {
		return err
	}
	switch {
	case *dataset != "glyphs" && *dataset != "ring":
		return usagef("--dataset %q: want glyphs or ring", *dataset)
	case *latent <= 0:
		return usagef("--latent %d: want a positive integer", *latent)
	case !(*beta >= 0) || *beta > 1e6:
		return usagef("--beta %v: want a number ≥ 0", *beta)
	case *warmup < 0:
		return usagef("--warmup %d: want ≥ 0 epochs", *warmup)
	case !(*freeBits >= 0) || *freeBits > 1e6:
		return usagef("--free-bits %v: want a number ≥ 0", *freeBits)
	case !(*lr > 0) || *lr > 10:
		return usagef("--lr %v: want a number in (0, 10]", *lr)
	case *batch <= 0:
		return usagef("--batch %d: want a positive integer", *batch)
	case *epochs <= 0:
		return usagef("--epochs %d: want a positive integer", *epochs)
	case *nTrain < 0:
		return usagef("--train-size %d: want ≥ 0", *nTrain)
	case *nTest < 0:
		return usagef("--test-size %d: want ≥ 0", *nTest)
	case !(*obsStd > 0) || *obsStd > 1e6:
		return usagef("--obs-std %v: want a number > 0", *obsStd)
	case *maxShift < 0 || *maxShift > 4:
		return usagef("--max-shift %d: want 0 to 4 pixels", *maxShift)
	case *out == "":
		return usagef("--out %q: want a directory", *out)
	}
	activation, err := nn.ParseActivation(*act)
	if err != nil {
		return usagef("--activation %q: want relu or tanh", *act)
	}
	var data *datasets.Split
	cfg := def
	if *dataset == "glyphs" {
		gc := datasets.DefaultGlyphConfig()
		gc.Train, gc.Test, gc.Seed, gc.MaxShift = *nTrain, *nTest, *seed, *maxShift
		data, err = datasets.Glyphs(gc)
		cfg.Decoder = vae.Bernoulli
	} else {
		data, err = datasets.Ring(datasets.RingConfig{Train: *nTrain, Test: *nTest, Seed: *seed})
		cfg.Decoder = vae.Gaussian
	}
	if err != nil {
		return err
	}
	if *batch > data.Train.N {
		return usagef("--batch %d: larger than the training set (%d examples)", *batch, data.Train.N)
	}
	cfg.Latent, cfg.Beta, cfg.Warmup, cfg.FreeBits = *latent, *beta, *warmup, *freeBits
	cfg.Hidden, cfg.Activation, cfg.LR, cfg.Batch, cfg.Epochs = hidden, activation, *lr, *batch, *epochs
	cfg.Seed, cfg.ObsStd = *seed, *obsStd
	bar := newStepBar(stderr, *epochs*(data.Train.N / *batch), "vae", *quiet)
	if bar != nil {
		cfg.OnStep = func() { _ = bar.Add(1) }
	}
	if !*quiet {
		fmt.Fprintf(stdout, "vae on %s (%d train, %d test, dim %d): latent %d, β=%g, warm-up %d epochs, free bits %g, hidden %v %v, lr %g, batch %d, seed %d\n",
			data.Name, data.Train.N, data.Test.N, data.Train.Dim, cfg.Latent, cfg.Beta, cfg.Warmup, cfg.FreeBits,
			hidden.String(), activation, cfg.LR, cfg.Batch, cfg.Seed)
		fmt.Fprintf(stdout, "%5s %6s %9s %9s %8s %10s %s\n", "epoch", "β", "train", "recon", "KL", "test ELBO", "test KL per dim (active)")
		cfg.OnEpoch = func(e vae.EpochMetrics) {
			if bar != nil {
				_ = bar.Clear()
			}
			fmt.Fprintf(stdout, "%5d %6.3g %9.3f %9.3f %8.3f %10.3f %s (%d)\n", e.Epoch, e.Beta, e.TrainLoss, e.TrainRecon,
				e.TrainKL, e.Test.ELBO, fmtDims(e.Test.KLPerDim), e.Test.Active)
		}
	}
	res, err := vae.Train(data, cfg)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	files, err := vae.WriteOutputs(*out, res, data, *seed)
	if err != nil {
		return err
	}
	last := res.Epochs[len(res.Epochs)-1].Test
	fmt.Fprintf(stdout, "final test: ELBO %.3f nats (recon %.3f, KL %.3f), KL per dim %s, active dims %d/%d (KL > %g nats)\n",
		last.ELBO, last.Recon, last.KL, fmtDims(last.KLPerDim), last.Active, cfg.Latent, vae.ActiveThreshold)
	fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, ", "))
	return nil
}
