package vae

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"klppo/experiments/datasets"
	"klppo/internal/rundir"
	"klppo/nn"
)

// Files written by WriteOutputs into the output directory.
const (
	MetricsFile = "metrics.csv" // one row per epoch
	ImagesFile  = "samples.png" // glyphs: test images, reconstructions, samples from the prior
	PointsFile  = "samples.png" // 2-D data: test points, reconstructions, samples from the prior
	LatentFile  = "latent.png"  // posterior means of the test set coloured by class
	KLFile      = "kl.png"      // KL per latent dimension over the epochs
)

func f(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// WriteMetricsCSV writes one row per epoch: epoch, beta, train_loss, train_recon, train_kl,
// test_recon, test_kl, test_elbo, active_dims, seconds, then test_kl_dim<d> and train_kl_dim<d>
// for every latent dimension d (1-based).
func WriteMetricsCSV(path string, res *Result) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	w := csv.NewWriter(fh)
	head := []string{"epoch", "beta", "train_loss", "train_recon", "train_kl", "test_recon", "test_kl",
		"test_elbo", "active_dims", "seconds"}
	L := res.Config.Latent
	for d := 1; d <= L; d++ {
		head = append(head, fmt.Sprintf("test_kl_dim%d", d))
	}
	for d := 1; d <= L; d++ {
		head = append(head, fmt.Sprintf("train_kl_dim%d", d))
	}
	_ = w.Write(head)
	for _, e := range res.Epochs {
		row := []string{strconv.Itoa(e.Epoch), f(e.Beta), f(e.TrainLoss), f(e.TrainRecon), f(e.TrainKL),
			f(e.Test.Recon), f(e.Test.KL), f(e.Test.ELBO), strconv.Itoa(e.Test.Active), strconv.FormatFloat(e.Seconds, 'f', 3, 64)}
		for _, k := range e.Test.KLPerDim {
			row = append(row, f(k))
		}
		for _, k := range e.TrainKLPerDim {
			row = append(row, f(k))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		fh.Close()
		return fmt.Errorf("vae: writing %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	return nil
}

// WriteOutputs writes metrics.csv, samples.png, kl.png and latent.png into dir (created if
// needed, with its run kind: see rundir.WriteKind) and returns the paths written. The pictures' random draws come from seed.
func WriteOutputs(dir string, res *Result, data *datasets.Split, seed uint64) ([]string, error) {
	if res == nil || len(res.Epochs) == 0 {
		return nil, fmt.Errorf("vae: WriteOutputs: no trained epochs")
	}
	if err := rundir.WriteKind(dir, rundir.KindVAE); err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	var written []string
	p := filepath.Join(dir, MetricsFile)
	if err := WriteMetricsCSV(p, res); err != nil {
		return nil, err
	}
	written = append(written, p)
	m, test := res.Model, data.Test
	cfg := res.Config
	title := fmt.Sprintf("%s, β=%g, latent %d", data.Name, cfg.Beta, cfg.Latent)
	if cfg.Warmup > 0 {
		title += fmt.Sprintf(", warm-up %d", cfg.Warmup)
	}
	if cfg.FreeBits > 0 {
		title += fmt.Sprintf(", free bits %g", cfg.FreeBits)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	var ws nn.Workspace
	L := cfg.Latent

	mu, _, err := m.Encode(&ws, test.X, test.N)
	if err != nil {
		return nil, err
	}
	prior := func(n int) []float64 {
		z := make([]float64, n*L)
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		return z
	}
	if test.Width > 0 {
		// One test example per class (the first of each), its reconstruction at z = μ, then
		// three rows of samples decoded from z ~ N(0, I).
		var idx []int
		for k := 0; k < test.Classes; k++ {
			for i, y := range test.Y {
				if y == k {
					idx = append(idx, i)
					break
				}
			}
		}
		cols := len(idx)
		var orig, rec [][]float64
		for _, i := range idx {
			orig = append(orig, test.Row(i))
			r, err := m.DecodeMean(&ws, mu[i*L:(i+1)*L], 1)
			if err != nil {
				return nil, err
			}
			rec = append(rec, r)
		}
		rows := [][][]float64{orig, rec, nil}
		for r := 0; r < 3; r++ {
			s, err := m.DecodeMean(&ws, prior(cols), cols)
			if err != nil {
				return nil, err
			}
			var row [][]float64
			for c := 0; c < cols; c++ {
				row = append(row, s[c*test.Dim:(c+1)*test.Dim])
			}
			rows = append(rows, row)
		}
		img, err := imageGrid(rows, test.Width, test.Height, 3)
		if err != nil {
			return nil, err
		}
		p = filepath.Join(dir, ImagesFile)
		if err := writePNG(p, img); err != nil {
			return nil, err
		}
	} else {
		n := min(test.N, 500)
		rec, err := m.DecodeMean(&ws, mu[:n*L], n)
		if err != nil {
			return nil, err
		}
		smp, err := m.DecodeMean(&ws, prior(n), n)
		if err != nil {
			return nil, err
		}
		p = filepath.Join(dir, PointsFile)
		if err := pointsPlot(p, title, test.X[:n*test.Dim], rec, smp, test.Y[:n], test.Classes); err != nil {
			return nil, err
		}
	}
	written = append(written, p)

	perDim := make([][]float64, len(res.Epochs))
	for i, e := range res.Epochs {
		perDim[i] = e.Test.KLPerDim
	}
	p = filepath.Join(dir, KLFile)
	if err := klPlot(p, "test KL per latent dimension, "+title, perDim); err != nil {
		return nil, err
	}
	written = append(written, p)

	// Latent means: the two dimensions with the largest KL (all of them when L = 2).
	if L >= 2 {
		last := res.Epochs[len(res.Epochs)-1].Test.KLPerDim
		order := make([]int, L)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return last[order[a]] > last[order[b]] })
		a, b := order[0], order[1]
		if L == 2 {
			a, b = 0, 1
		}
		xy := make([]float64, 2*test.N)
		for i := 0; i < test.N; i++ {
			xy[2*i], xy[2*i+1] = mu[i*L+a], mu[i*L+b]
		}
		lt := "test latent means, " + title
		if L > 2 {
			lt = fmt.Sprintf("test latent means (dims %d, %d), %s", a+1, b+1, title)
		}
		p = filepath.Join(dir, LatentFile)
		if err := latentPlot(p, lt, xy, test.Y, test.Classes); err != nil {
			return nil, err
		}
		written = append(written, p)
	}
	return written, nil
}
