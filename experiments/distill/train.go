package distill

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gorgonia.org/tensor"

	"klppo/experiments/datasets"
	"klppo/kl"
	"klppo/nn"
)

// Config sets a distillation experiment: a teacher (trained here or given), then two students
// with the same seed, architecture, batches and number of epochs — one distilled, one trained on
// the labels alone.
type Config struct {
	TeacherHidden []int         // teacher hidden widths (default 256,256)
	StudentHidden []int         // student hidden widths (default 16)
	Activation    nn.Activation // hidden activation of both networks
	Temperature   float64       // softmax temperature T > 0 of the distillation term
	Alpha         float64       // weight α ∈ [0, 1] of the distillation term
	Epochs        int           // student epochs (> 0)
	TeacherEpochs int           // teacher epochs (> 0 unless Teacher is given)
	Batch         int           // minibatch size; an epoch's last incomplete batch is dropped
	LR            float64       // Adam learning rate for all three networks
	Seed          uint64        // seed of the initial weights and the batch orders
	Dtype         tensor.Dtype  // training dtype (default float32)
	// Teacher, when non-nil, is used as the teacher and not trained.
	Teacher *nn.MLP
	// Transfer, when non-nil, is the students' training set (the transfer set): the inputs on
	// which the distilled student matches the teacher's softened outputs and whose labels both
	// students learn from. nil means the teacher's own training set, data.Train.
	Transfer *datasets.Set
	// OmitClass is a class whose examples are removed from the transfer set, or NoOmit (−1).
	// The distilled student's output bias for that class is then corrected with BiasShift.
	OmitClass int

	// OnStep, when non-nil, is called after every optimisation step of any network.
	OnStep func()
	// OnEpoch, when non-nil, is called with every epoch's metrics.
	OnEpoch func(EpochMetrics)
}

// DefaultConfig returns the defaults of `klppo distill`.
func DefaultConfig() Config {
	return Config{TeacherHidden: []int{256, 256}, StudentHidden: []int{16}, Activation: nn.ReLU,
		Temperature: 4, Alpha: 0.9, Epochs: 30, TeacherEpochs: 15, Batch: 64, LR: 5e-3, OmitClass: NoOmit}
}

// NoOmit is Config.OmitClass when every class is in the transfer set.
const NoOmit = -1

// Model names in EpochMetrics and metrics.csv.
const (
	Teacher   = "teacher"
	Distilled = "distilled" // student trained with α·T²·KL + (1−α)·CE
	Labels    = "labels"    // student trained with CE on the labels only
)

// EpochMetrics is one training epoch of one network.
type EpochMetrics struct {
	Model    string  // Teacher, Distilled or Labels
	Epoch    int     // 1-based
	Loss     float64 // mean training loss over the epoch's steps
	TrainCE  float64 // mean cross-entropy with the labels over the steps
	TrainKL  float64 // mean KL(softmax(t/T) ‖ softmax(s/T)) over the steps (NaN unless Distilled)
	TrainAcc float64 // accuracy on the epoch's training batches (as they were seen)
	TestAcc  float64 // test accuracy at the end of the epoch
	// TestKL is the test-set mean of KL(softmax(t/T) ‖ softmax(s/T)) at the end of the epoch,
	// for both students (NaN for the teacher): how close each student's softened outputs are
	// to the teacher's, whether or not it was trained to match them.
	TestKL         float64
	TeacherTestAcc float64 // the teacher's test accuracy (constant while students train)
	Seconds        float64
}

// Result is a finished experiment.
type Result struct {
	Config                              Config
	Teacher, Distilled, Labels          *nn.MLP
	TeacherAcc, DistilledAcc, LabelsAcc float64 // final test accuracies (the distilled one after any bias correction)
	DistilledKL, LabelsKL               float64 // test KL(teacher_T ‖ student_T) after the last epoch (before any bias correction)
	Epochs                              []EpochMetrics

	// The transfer set and what the teacher's soft targets carry on it.
	TransferN          int     // examples in the students' training set (after OmitClass)
	TeacherTrainAcc    float64 // the teacher's accuracy on its own training set
	TeacherTransferAcc float64 // the teacher's accuracy on the transfer set
	// TrainEntropy and TransferEntropy are the mean entropies, in nats, of the teacher's
	// softened outputs softmax(t/T) on its own training set and on the transfer set: the
	// "dark knowledge" the soft targets hold beyond the label (0 for one-hot targets, ln K for
	// uniform ones). When the transfer set is the teacher's training set they are equal.
	TrainEntropy, TransferEntropy float64

	// Test accuracy of each class (Classes entries each).
	ClassAcc ClassAccuracies
	// Omitted is set when Config.OmitClass ≠ NoOmit.
	Omitted *Omitted
}

// ClassAccuracies holds per-class test accuracies.
type ClassAccuracies struct {
	Teacher, Distilled, Labels []float64
	// DistilledRaw is the distilled student before the bias correction (equal to Distilled
	// without OmitClass).
	DistilledRaw []float64
}

// Omitted reports the missing-class experiment: class Class had no example in the transfer set.
type Omitted struct {
	Class int
	// Shift is the amount added to the distilled student's output bias of Class by BiasShift.
	Shift float64
	// TeacherRate is the target of the correction: the teacher's mean probability of Class on
	// the transfer set; StudentRawRate is the student's before the correction.
	TeacherRate, StudentRawRate float64
	// Test accuracy on the examples of Class: the teacher's, the distilled student's before
	// (DistilledRaw) and after the correction, and the label-only student's.
	Teacher, DistilledRaw, Distilled, Labels float64
	// DistilledAccRaw is the distilled student's overall test accuracy before the correction.
	DistilledAccRaw float64
}

// Random streams of one seed.
const (
	streamTeacherInit = iota + 1
	streamTeacherShuffle
	streamStudentInit
	streamStudentShuffle
)

func (c Config) validate(data *datasets.Split) error {
	switch {
	case data == nil || data.Train == nil || data.Test == nil:
		return errors.New("distill: no data")
	case data.Train.N == 0 || data.Test.N == 0:
		return fmt.Errorf("distill: empty split (train %d, test %d examples)", data.Train.N, data.Test.N)
	case data.Train.Classes < 2:
		return fmt.Errorf("distill: %d classes, want ≥ 2", data.Train.Classes)
	case !(c.Temperature > 0) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("distill: temperature = %v, want a finite value > 0", c.Temperature)
	case !(c.Alpha >= 0 && c.Alpha <= 1):
		return fmt.Errorf("distill: alpha = %v, want a value in [0, 1]", c.Alpha)
	case c.Epochs <= 0:
		return fmt.Errorf("distill: epochs = %d, want > 0", c.Epochs)
	case c.Teacher == nil && c.TeacherEpochs <= 0:
		return fmt.Errorf("distill: teacher-epochs = %d, want > 0", c.TeacherEpochs)
	case c.Batch <= 0 || c.Batch > data.Train.N:
		return fmt.Errorf("distill: batch = %d, want 1 to %d (the training-set size)", c.Batch, data.Train.N)
	case c.OmitClass < NoOmit || c.OmitClass >= data.Train.Classes:
		return fmt.Errorf("distill: omit-class = %d, want %d (none) or a class 0 to %d", c.OmitClass, NoOmit, data.Train.Classes-1)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("distill: lr = %v, want a finite value > 0", c.LR)
	}
	for _, h := range []struct {
		name string
		v    []int
	}{{"teacher-hidden", c.TeacherHidden}, {"student-hidden", c.StudentHidden}} {
		for i, w := range h.v {
			if w <= 0 {
				return fmt.Errorf("distill: %s[%d] = %d, want > 0", h.name, i, w)
			}
		}
	}
	if tr := c.Transfer; tr != nil && (tr.Dim != data.Train.Dim || tr.Classes != data.Train.Classes || tr.N == 0) {
		return fmt.Errorf("distill: transfer set has %d examples of %d values and %d classes, want > 0 of %d and %d",
			tr.N, tr.Dim, tr.Classes, data.Train.Dim, data.Train.Classes)
	}
	if t := c.Teacher; t != nil && (t.In() != data.Train.Dim || t.Out() != data.Train.Classes) {
		return fmt.Errorf("distill: teacher maps %d → %d, the data needs %d → %d", t.In(), t.Out(), data.Train.Dim, data.Train.Classes)
	}
	return nil
}

// NewClassifier draws an MLP In → hidden → classes from rng.
func NewClassifier(rng *rand.Rand, name string, in int, hidden []int, classes int, act nn.Activation, dt tensor.Dtype) (*nn.MLP, error) {
	return nn.NewMLP(rng, nn.MLPConfig{Name: name, In: in, Hidden: hidden, Out: classes, Activation: act, Dtype: dt})
}

// Logits returns net's logits for every example of set (N×classes, row-major), computed in
// plain Go.
func Logits(net *nn.MLP, set *datasets.Set) ([]float64, error) {
	var ws nn.Workspace
	out, err := net.Forward(&ws, set.X, set.N)
	if err != nil {
		return nil, err
	}
	return append([]float64(nil), out...), nil
}

// argmax returns the index of the largest of v (the first on ties).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Accuracy returns the fraction of rows of logits (N×k) whose arg-max is the label.
func Accuracy(logits []float64, labels []int, k int) float64 {
	if len(labels) == 0 {
		return math.NaN()
	}
	correct := 0
	for i, y := range labels {
		if argmax(logits[i*k:(i+1)*k]) == y {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

// SoftKL returns the mean over rows of KL(softmax(t/T) ‖ softmax(s/T)) for logits t and s
// (N×k each), computed with kl.KLLogits.
func SoftKL(t, s []float64, k int, temp float64) (float64, error) {
	if len(t) != len(s) || len(t)%k != 0 || len(t) == 0 {
		return 0, fmt.Errorf("distill: SoftKL: %d and %d logits for %d classes", len(t), len(s), k)
	}
	tp, sp := make([]float64, k), make([]float64, k)
	var sum float64
	n := len(t) / k
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			tp[j], sp[j] = t[i*k+j]/temp, s[i*k+j]/temp
		}
		v, err := kl.KLLogits(tp, sp)
		if err != nil {
			return 0, fmt.Errorf("distill: SoftKL row %d: %w", i, err)
		}
		sum += v
	}
	return sum / float64(n), nil
}

// fit trains net for epochs on train with the loss graph lg, feeding teacher logits
// (N×k rows, one per example of train) when lg distils. It reports every epoch through report.
func fit(net *nn.MLP, lg *lossGraph, train *datasets.Set, teacherTrain []float64, epochs int, cfg Config,
	shuffle *rand.Rand, report func(EpochMetrics) error, model string) error {
	tr, err := nn.NewTrainer(lg.g, lg.loss, lg.learnables)
	if err != nil {
		return fmt.Errorf("distill: %s: %w", model, err)
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return fmt.Errorf("distill: %s: %w", model, err)
	}
	D, K, B := train.Dim, train.Classes, lg.batch
	steps := train.N / B
	perm := make([]int, train.N)
	for i := range perm {
		perm[i] = i
	}
	xb, yb, tb := make([]float64, B*D), make([]float64, B*K), make([]float64, B*K)
	logits := make([]float64, B*K)
	for e := 0; e < epochs; e++ {
		start := time.Now()
		shuffle.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		em := EpochMetrics{Model: model, Epoch: e + 1, TrainKL: math.NaN()}
		var klSum float64
		correct := 0
		for s := 0; s < steps; s++ {
			clear(yb)
			for r := 0; r < B; r++ {
				i := perm[s*B+r]
				copy(xb[r*D:(r+1)*D], train.Row(i))
				yb[r*K+train.Y[i]] = 1
				if teacherTrain != nil {
					copy(tb[r*K:(r+1)*K], teacherTrain[i*K:(i+1)*K])
				}
			}
			if err := lg.setInputs(xb, yb, tb); err != nil {
				return err
			}
			grads, err := tr.Run()
			if err != nil {
				return fmt.Errorf("distill: %s epoch %d step %d: %w", model, e+1, s+1, err)
			}
			loss := nn.ValueAt(lg.lossV, 0)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("distill: %s epoch %d step %d: loss = %v (lower --lr?)", model, e+1, s+1, loss)
			}
			if err := opt.Step(cfg.LR, grads); err != nil {
				return fmt.Errorf("distill: %s epoch %d step %d: %w", model, e+1, s+1, err)
			}
			em.Loss += loss
			em.TrainCE += nn.ValueAt(lg.ceV, 0)
			if lg.hasTeacher {
				klSum += nn.ValueAt(lg.klV, 0)
			}
			for i := range logits {
				logits[i] = nn.ValueAt(lg.logitsV, i)
			}
			for r := 0; r < B; r++ {
				if argmax(logits[r*K:(r+1)*K]) == train.Y[perm[s*B+r]] {
					correct++
				}
			}
			if cfg.OnStep != nil {
				cfg.OnStep()
			}
		}
		n := float64(steps)
		em.Loss /= n
		em.TrainCE /= n
		if lg.hasTeacher {
			em.TrainKL = klSum / n
		}
		em.TrainAcc = float64(correct) / float64(steps*B)
		em.Seconds = time.Since(start).Seconds()
		if err := report(em); err != nil {
			return err
		}
	}
	return nil
}

// MeanEntropy returns the mean over rows of the entropy H(softmax(z/T)) in nats of logits z
// (N×k), computed with kl.EntropyLogits.
func MeanEntropy(logits []float64, k int, temp float64) (float64, error) {
	if len(logits)%k != 0 || len(logits) == 0 {
		return 0, fmt.Errorf("distill: MeanEntropy: %d logits for %d classes", len(logits), k)
	}
	row := make([]float64, k)
	var sum float64
	n := len(logits) / k
	for i := 0; i < n; i++ {
		for j := range row {
			row[j] = logits[i*k+j] / temp
		}
		h, err := kl.EntropyLogits(row)
		if err != nil {
			return 0, fmt.Errorf("distill: MeanEntropy row %d: %w", i, err)
		}
		sum += h
	}
	return sum / float64(n), nil
}

// ClassAccuracy returns, for each of the k classes, the fraction of the rows of logits (N×k)
// labelled with that class whose arg-max is the label (NaN for a class with no row).
func ClassAccuracy(logits []float64, labels []int, k int) []float64 {
	correct, total := make([]float64, k), make([]float64, k)
	for i, y := range labels {
		total[y]++
		if argmax(logits[i*k:(i+1)*k]) == y {
			correct[y]++
		}
	}
	for c := range correct {
		correct[c] /= total[c]
	}
	return correct
}

// TransferSet returns the students' training set: Config.Transfer, else data.Train, without
// the examples of Config.OmitClass when it is set.
func (c Config) TransferSet(data *datasets.Split) (*datasets.Set, error) {
	transfer := data.Train
	if c.Transfer != nil {
		transfer = c.Transfer
	}
	if c.OmitClass == NoOmit {
		return transfer, nil
	}
	out, err := transfer.WithoutClass(c.OmitClass)
	if err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	return out, nil
}

// Run trains (or takes) the teacher on data.Train, then the distilled student and the
// label-only student on the transfer set (Config.Transfer, else data.Train, minus any
// Config.OmitClass) with identical initial weights, batch orders and epochs: only their
// targets differ. The same seed and config give bit-identical results.
func Run(data *datasets.Split, cfg Config) (*Result, error) {
	if cfg.TeacherHidden == nil {
		cfg.TeacherHidden = []int{256, 256}
	}
	if cfg.StudentHidden == nil {
		cfg.StudentHidden = []int{16}
	}
	if err := cfg.validate(data); err != nil {
		return nil, err
	}
	dt := cfg.Dtype
	if dt == (tensor.Dtype{}) {
		dt = tensor.Float32
	}
	train, test := data.Train, data.Test
	transfer, err := cfg.TransferSet(data)
	if err != nil {
		return nil, err
	}
	if cfg.Batch > transfer.N {
		return nil, fmt.Errorf("distill: batch = %d, want 1 to %d (the transfer-set size)", cfg.Batch, transfer.N)
	}
	K := train.Classes
	res := &Result{Config: cfg, Teacher: cfg.Teacher, TransferN: transfer.N}
	emit := func(em EpochMetrics) {
		res.Epochs = append(res.Epochs, em)
		if cfg.OnEpoch != nil {
			cfg.OnEpoch(em)
		}
	}
	if res.Teacher == nil {
		t, err := NewClassifier(rand.New(rand.NewPCG(cfg.Seed, streamTeacherInit)), "teacher", train.Dim,
			cfg.TeacherHidden, K, cfg.Activation, dt)
		if err != nil {
			return nil, fmt.Errorf("distill: teacher: %w", err)
		}
		lg, err := buildLoss(t, cfg.Batch, 1, 0, false)
		if err != nil {
			return nil, err
		}
		shuffle := rand.New(rand.NewPCG(cfg.Seed, streamTeacherShuffle))
		err = fit(t, lg, train, nil, cfg.TeacherEpochs, cfg, shuffle, func(em EpochMetrics) error {
			tl, err := Logits(t, test)
			if err != nil {
				return err
			}
			em.TestAcc = Accuracy(tl, test.Y, K)
			em.TeacherTestAcc, em.TestKL = em.TestAcc, math.NaN()
			emit(em)
			return nil
		}, Teacher)
		if err != nil {
			return nil, err
		}
		res.Teacher = t
	}
	teacherOwn, err := Logits(res.Teacher, train)
	if err != nil {
		return nil, fmt.Errorf("distill: teacher logits: %w", err)
	}
	teacherTransfer, err := Logits(res.Teacher, transfer)
	if err != nil {
		return nil, fmt.Errorf("distill: teacher logits: %w", err)
	}
	teacherTest, err := Logits(res.Teacher, test)
	if err != nil {
		return nil, fmt.Errorf("distill: teacher logits: %w", err)
	}
	res.TeacherAcc = Accuracy(teacherTest, test.Y, K)
	res.TeacherTrainAcc = Accuracy(teacherOwn, train.Y, K)
	res.TeacherTransferAcc = Accuracy(teacherTransfer, transfer.Y, K)
	if res.TrainEntropy, err = MeanEntropy(teacherOwn, K, cfg.Temperature); err != nil {
		return nil, err
	}
	if res.TransferEntropy, err = MeanEntropy(teacherTransfer, K, cfg.Temperature); err != nil {
		return nil, err
	}
	res.ClassAcc.Teacher = ClassAccuracy(teacherTest, test.Y, K)

	for _, which := range []string{Distilled, Labels} {
		student, err := NewClassifier(rand.New(rand.NewPCG(cfg.Seed, streamStudentInit)), "student", train.Dim,
			cfg.StudentHidden, K, cfg.Activation, dt)
		if err != nil {
			return nil, fmt.Errorf("distill: student: %w", err)
		}
		var lg *lossGraph
		var tt []float64
		if which == Distilled {
			lg, err = buildLoss(student, cfg.Batch, cfg.Temperature, cfg.Alpha, true)
			tt = teacherTransfer
		} else {
			lg, err = buildLoss(student, cfg.Batch, cfg.Temperature, 0, false)
		}
		if err != nil {
			return nil, err
		}
		var acc, testKL float64
		shuffle := rand.New(rand.NewPCG(cfg.Seed, streamStudentShuffle))
		err = fit(student, lg, transfer, tt, cfg.Epochs, cfg, shuffle, func(em EpochMetrics) error {
			sl, err := Logits(student, test)
			if err != nil {
				return err
			}
			em.TestAcc = Accuracy(sl, test.Y, K)
			if em.TestKL, err = SoftKL(teacherTest, sl, K, cfg.Temperature); err != nil {
				return err
			}
			em.TeacherTestAcc = res.TeacherAcc
			acc, testKL = em.TestAcc, em.TestKL
			emit(em)
			return nil
		}, which)
		if err != nil {
			return nil, err
		}
		sl, err := Logits(student, test)
		if err != nil {
			return nil, err
		}
		if which == Distilled {
			res.Distilled, res.DistilledAcc, res.DistilledKL = student, acc, testKL
			res.ClassAcc.DistilledRaw = ClassAccuracy(sl, test.Y, K)
			res.ClassAcc.Distilled = res.ClassAcc.DistilledRaw
		} else {
			res.Labels, res.LabelsAcc, res.LabelsKL = student, acc, testKL
			res.ClassAcc.Labels = ClassAccuracy(sl, test.Y, K)
		}
	}
	if cfg.OmitClass != NoOmit {
		if err := res.correctOmitted(transfer, teacherTransfer, test); err != nil {
			return nil, err
		}
	}
	return res, nil
}
