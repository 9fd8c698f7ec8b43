package distill

// Bounds of an experiment, checked by Run and by `klppo distill` before any data is generated.
// The memory a run needs grows with the widths, examples and epochs (MemoryEstimate, compared
// with the machine by internal/memlimit, checks the rest).
const (
	MaxWidth    = 4096      // hidden-layer width of the teacher and the students
	MaxExamples = 1_000_000 // examples in the training, test or transfer set
	MaxEpochs   = 100_000   // epochs of each network: one metrics row each is kept in memory
	// MinTemperature and MaxTemperature bound T. The loss α·T²·KL(softmax(t/T) ‖ softmax(s/T))
	// is computed in float32: T² overflows past 1.8e19 (the loss becomes NaN), and outside
	// [0.01, 1000] the softened outputs are already one-hot or uniform to float32 precision
	// for logits of the usual size, so the distillation term says nothing more.
	MinTemperature = 0.01
	MaxTemperature = 1000.0
)

// MemoryEstimate returns a conservative estimate, in bytes, of the memory an experiment of c
// allocates on examples of in values and classes classes, with nTrain training, nTest test and
// nTransfer extra transfer examples (0 when the transfer set is the training set): the data and
// the teacher's logits on it; the teacher's and the two students' weights with their gradients,
// Adam moments and graph copies; the graphs' activations over a minibatch; the plain-Go passes
// over a whole set (two buffers and an output of its rows × the widest layer); and the
// per-epoch metrics.
func (c Config) MemoryEstimate(in, classes, nTrain, nTest, nTransfer int) int64 {
	th, sh := c.TeacherHidden, c.StudentHidden
	if th == nil {
		th = []int{256, 256}
	}
	if sh == nil {
		sh = []int{16}
	}
	var params, acts, widest int64
	for _, net := range [][]int{append(append([]int{in}, th...), classes), append(append([]int{in}, sh...), classes)} {
		var a int64
		for i, w := range net {
			a += int64(w)
			widest = max(widest, int64(w))
			if i > 0 {
				params += int64(net[i-1]+1) * int64(w)
			}
		}
		acts = max(acts, a)
	}
	const f64 = 8
	n := int64(nTrain + nTest + nTransfer)
	data := n * int64(in+1+4*classes) * f64 // inputs, labels, teacher logits and copies of them
	weights := 3 * params * f64 * 8         // teacher + two students: weights, gradient, Adam m and v, graph copies
	graph := int64(max(c.Batch, 1)) * acts * f64 * 16
	pass := int64(max(nTrain, nTest, nTransfer)) * 3 * widest * f64
	metrics := int64(max(c.Epochs, 0)*2+max(c.TeacherEpochs, 0)) * 256
	return data + weights + graph + pass + metrics + 64<<20 // + code, runtime and plots
}
