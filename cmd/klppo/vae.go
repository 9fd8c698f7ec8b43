package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"klppo/experiments/datasets"
	"klppo/experiments/vae"
	"klppo/internal/memlimit"
	"klppo/internal/rundir"
	"klppo/nn"
)

func init() {
	register("vae", "train a small MLP VAE (recon + β·KL to N(0,I)) on built-in glyphs or a 2-D ring", runVAE)
}

// newStepBar returns the progress of total training steps on w, or nil when quiet.
func newStepBar(w io.Writer, total int, desc string, quiet bool) *progress {
	return newProgress(w, quiet, int64(total), desc, progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond))
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
	latent := fs.Int("latent", def.Latent, fmt.Sprintf("latent dimension (1 to %d)", vae.MaxLatent))
	beta := fs.Float64("beta", def.Beta, fmt.Sprintf("weight β of the KL term KL(q(z|x)‖N(0,I)), 0 to %g; 0 gives a noisy auto-encoder", float64(vae.MaxBeta)))
	warmup := fs.Int("warmup", 0, "epochs over which β rises linearly from 0 (KL warm-up; 0 = off)")
	freeBits := fs.Float64("free-bits", 0, "free bits λ in nats per latent dimension: the KL term is Σ_d max(KL_d, λ) (0 = off)")
	hidden := widthList(def.Hidden)
	fs.Var(&hidden, "hidden", fmt.Sprintf("hidden widths of the encoder, comma-separated, each 1 to %d (the decoder mirrors them)", vae.MaxWidth))
	act := fs.String("activation", "relu", "hidden activation: relu or tanh")
	lr := fs.Float64("lr", def.LR, "Adam learning rate")
	batch := fs.Int("batch", def.Batch, "minibatch size")
	epochs := fs.Int("epochs", def.Epochs, fmt.Sprintf("passes over the training set (1 to %d)", vae.MaxEpochs))
	seed := fs.Uint64("seed", 1, "random seed (data, weights, batch order, reparameterisation noise)")
	glyphDef, ringDef := datasets.DefaultGlyphConfig(), datasets.DefaultRingConfig()
	nTrain := fs.Int("train-size", glyphDef.Train, fmt.Sprintf("training examples, 1 to %d (%d glyphs, or %d points with --dataset ring)", vae.MaxExamples, glyphDef.Train, ringDef.Train))
	nTest := fs.Int("test-size", glyphDef.Test, fmt.Sprintf("test examples, 1 to %d (%d glyphs, or %d points with --dataset ring)", vae.MaxExamples, glyphDef.Test, ringDef.Test))
	maxShift := fs.Int("max-shift", 0, "glyphs: largest random shift in pixels along each axis (the distill data uses 2; with shifts a small latent encodes position first)")
	obsStd := fs.Float64("obs-std", def.ObsStd, fmt.Sprintf("σ of the Gaussian decoder, %g to %g (ring only)", vae.MinObsStd, vae.MaxObsStd))
	out := fs.String("out", "runs/vae", "output directory for metrics.csv and the PNGs")
	quiet := fs.Bool("quiet", false, "no progress bar and no per-epoch lines")
	force := fs.Bool("force", false, "write into an --out directory that already holds a run (overwrites its files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := refuseEmptyFlags(fs); err != nil {
		return err
	}
	if err := guardOut("--out", *out, *force); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if *dataset == "ring" { // the sizes' defaults are the dataset's
		if !set["train-size"] {
			*nTrain = ringDef.Train
		}
		if !set["test-size"] {
			*nTest = ringDef.Test
		}
	}
	switch {
	case *dataset != "glyphs" && *dataset != "ring":
		return usagef("--dataset %q: want glyphs or ring", *dataset)
	case *latent <= 0 || *latent > vae.MaxLatent:
		return usagef("--latent %d: want 1 to %d", *latent, vae.MaxLatent)
	case !(*beta >= 0 && *beta <= vae.MaxBeta):
		return usagef("--beta %v: want 0 to %g", *beta, float64(vae.MaxBeta))
	case *warmup < 0 || *warmup > vae.MaxEpochs:
		return usagef("--warmup %d: want 0 to %d epochs", *warmup, vae.MaxEpochs)
	case !(*freeBits >= 0 && *freeBits <= vae.MaxFreeBits):
		return usagef("--free-bits %v: want 0 to %g", *freeBits, float64(vae.MaxFreeBits))
	case !(*lr > 0) || *lr > 10:
		return usagef("--lr %v: want a number in (0, 10]", *lr)
	case *batch <= 0:
		return usagef("--batch %d: want a positive integer", *batch)
	case *epochs <= 0 || *epochs > vae.MaxEpochs:
		return usagef("--epochs %d: want 1 to %d", *epochs, vae.MaxEpochs)
	case *nTrain <= 0 || *nTrain > vae.MaxExamples:
		return usagef("--train-size %d: want 1 to %d examples", *nTrain, vae.MaxExamples)
	case *nTest <= 0 || *nTest > vae.MaxExamples:
		return usagef("--test-size %d: want 1 to %d examples", *nTest, vae.MaxExamples)
	case !(*obsStd >= vae.MinObsStd && *obsStd <= vae.MaxObsStd):
		return usagef("--obs-std %v: want %g to %g", *obsStd, vae.MinObsStd, vae.MaxObsStd)
	case *maxShift < 0 || *maxShift > 4:
		return usagef("--max-shift %d: want 0 to 4 pixels", *maxShift)
	case *out == "":
		return usagef("--out %q: want a directory", *out)
	}
	for _, h := range hidden {
		if h > vae.MaxWidth {
			return usagef("--hidden %s: widths must be 1 to %d", hidden.String(), vae.MaxWidth)
		}
	}
	activation, err := nn.ParseActivation(*act)
	if err != nil {
		return usagef("--activation %q: want relu or tanh", *act)
	}
	cfg := def
	cfg.Latent, cfg.Hidden, cfg.Batch, cfg.Epochs = *latent, hidden, *batch, *epochs
	in := 2
	if *dataset == "glyphs" {
		in = glyphDef.Size * glyphDef.Size
	}
	if err := memlimit.Check(cfg.MemoryEstimate(in, *nTrain, *nTest)); err != nil {
		return usagef("--hidden %s, --latent %d, --train-size %d, --test-size %d, --batch %d: the run %v; lower them",
			hidden.String(), *latent, *nTrain, *nTest, *batch, err)
	}
	if *batch > *nTrain { // before the run directory is made
		return usagef("--batch %d: larger than the training set (%d examples)", *batch, *nTrain)
	}
	if err := rundir.Create(*out); err != nil {
		return usagef("--out %q: %v", *out, err)
	}
	var data *datasets.Split
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
	cfg.Latent, cfg.Beta, cfg.Warmup, cfg.FreeBits = *latent, *beta, *warmup, *freeBits
	cfg.Hidden, cfg.Activation, cfg.LR, cfg.Batch, cfg.Epochs = hidden, activation, *lr, *batch, *epochs
	cfg.Seed, cfg.ObsStd = *seed, *obsStd
	bar := newStepBar(stderr, *epochs*(data.Train.N / *batch), "vae", *quiet)
	if bar != nil {
		cfg.OnStep = func() { bar.Add(1) }
	}
	if !*quiet {
		fmt.Fprintf(stdout, "vae on %s (%d train, %d test, dim %d): latent %d, β=%g, warm-up %d epochs, free bits %g, hidden %v %v, lr %g, batch %d, seed %d\n",
			data.Name, data.Train.N, data.Test.N, data.Train.Dim, cfg.Latent, cfg.Beta, cfg.Warmup, cfg.FreeBits,
			hidden.String(), activation, cfg.LR, cfg.Batch, cfg.Seed)
		fmt.Fprintf(stdout, "%5s %6s %9s %9s %8s %10s %s\n", "epoch", "β", "train", "recon", "KL", "test ELBO", "test KL per dim (active)")
		cfg.OnEpoch = func(e vae.EpochMetrics) {
			bar.Clear()
			fmt.Fprintf(stdout, "%5d %6.3g %9.3f %9.3f %8.3f %10.3f %s (%d)\n", e.Epoch, e.Beta, e.TrainLoss, e.TrainRecon,
				e.TrainKL, e.Test.ELBO, fmtDims(e.Test.KLPerDim), e.Test.Active)
		}
	}
	res, err := vae.Train(data, cfg)
	bar.Finish()
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
