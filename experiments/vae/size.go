package vae

// Size bounds of a run, checked by Train and by `klppo vae` before any data is generated: the
// memory a run needs grows with each of them (MemoryEstimate, compared with the machine by
// internal/memlimit, checks the rest).
const (
	MaxLatent   = 1024      // latent dimension
	MaxWidth    = 4096      // hidden-layer width
	MaxExamples = 1_000_000 // examples in the training or the test split
	MaxEpochs   = 100_000   // epochs (and warm-up epochs): one metrics row each is kept in memory
	// MinObsStd and MaxObsStd bound the σ of the Gaussian decoder: the reconstruction term
	// grows as 1/σ² and overflows float32 for σ ≲ 1e-19 (at 1e-3 it is already 10⁶× the data's
	// scale); past 1e6 it no longer depends on the data.
	MinObsStd = 1e-3
	MaxObsStd = 1e6
	// MaxBeta and MaxFreeBits bound β and the free bits λ: the loss adds β·Σ max(KL_d, λ) in
	// float32, and past 1e6 the KL term drowns the reconstruction entirely (the encoder collapses
	// to the prior whatever the data).
	MaxBeta     = 1e6
	MaxFreeBits = 1e6
)

// MemoryEstimate returns a conservative estimate, in bytes, of the memory a run of c allocates
// on data of in values per example with nTrain training and nTest test examples: the two splits;
// the encoder's and decoder's weights with their gradients, Adam moments and the training
// graph's copies; the graph's activations over a minibatch; the plain-Go passes over the test
// split (two buffers and an output of its rows × the widest layer); and the per-epoch metrics.
func (c Config) MemoryEstimate(in, nTrain, nTest int) int64 {
	hidden := c.Hidden
	if hidden == nil {
		hidden = []int{256}
	}
	enc := append(append([]int{in}, hidden...), 2*c.Latent)
	dec := []int{c.Latent}
	for i := len(hidden) - 1; i >= 0; i-- {
		dec = append(dec, hidden[i])
	}
	dec = append(dec, in)
	var params, acts, widest int64
	for _, net := range [][]int{enc, dec} {
		for i, w := range net {
			acts += int64(w)
			widest = max(widest, int64(w))
			if i > 0 {
				params += int64(net[i-1]+1) * int64(w)
			}
		}
	}
	const f64 = 8
	data := int64(nTrain+nTest) * int64(in+1) * f64
	weights := params * f64 * 8 // weights, gradient, Adam m and v, graph values and temporaries
	graph := int64(max(c.Batch, 1)) * acts * f64 * 16
	pass := int64(nTest) * 3 * widest * f64
	metrics := int64(max(c.Epochs, 0)) * (256 + 2*int64(c.Latent)*f64)
	return data + weights + graph + pass + metrics + 64<<20 // + code, runtime and plots
}
