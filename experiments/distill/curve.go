package distill

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"klppo/experiments/datasets"
	"klppo/nn"
)

// Files written by WriteCurve.
const (
	CurveCSV = "curve.csv" // one row per transfer-set size
	CurvePNG = "curve.png" // both students' test accuracy against the transfer-set size
)

// CurvePoint is one transfer-set size of a Curve.
type CurvePoint struct {
	Size                 int // examples in the transfer set (the students' labelled set)
	Epochs               int // student epochs at this size
	TeacherAcc           float64
	DistilledAcc         float64
	LabelsAcc            float64
	TeacherTransferAcc   float64 // the teacher's accuracy on the transfer set
	TransferEntropy      float64 // mean H(softmax(t/T)) on the transfer set, nats
	DistilledKL, LabelKL float64 // test KL(teacher_T ‖ student_T)
}

// CurveEpochs returns the epochs a transfer set of n examples gets in a Curve whose largest
// set has largest examples: enough for the ⌊largest/batch⌋·epochs steps of the largest set,
//
//	⌈epochs·⌊largest/batch⌋ / ⌊n/batch⌋⌉   (n ≥ batch).
func CurveEpochs(epochs, batch, largest, n int) int {
	steps, per := epochs*(largest/batch), n/batch
	return (steps + per - 1) / per
}

// Curve runs the experiment once per transfer-set size: the students train on the first n
// examples of pool (n from sizes, each at most pool.N), for as many epochs as give the same
// number of optimisation steps as cfg.Epochs epochs over the largest size (rounded up), so
// that every point has the same training budget. The teacher is trained once, by the first
// point, unless cfg.Teacher is given. cfg.Transfer is ignored; cfg.OmitClass must be NoOmit.
func Curve(data *datasets.Split, pool *datasets.Set, cfg Config, sizes []int) ([]CurvePoint, *nn.MLP, error) {
	if pool == nil || len(sizes) == 0 {
		return nil, nil, fmt.Errorf("distill: Curve: no transfer pool or no sizes")
	}
	if cfg.OmitClass != NoOmit {
		return nil, nil, fmt.Errorf("distill: Curve: omit-class = %d, want none", cfg.OmitClass)
	}
	largest := 0
	for i, n := range sizes {
		if n < cfg.Batch || n > pool.N {
			return nil, nil, fmt.Errorf("distill: Curve: size[%d] = %d, want %d (the batch) to %d (the pool)", i, n, cfg.Batch, pool.N)
		}
		largest = max(largest, n)
	}
	var out []CurvePoint
	for _, n := range sizes {
		set, err := pool.Head(n)
		if err != nil {
			return nil, nil, fmt.Errorf("distill: %w", err)
		}
		c := cfg
		c.Transfer = set
		c.Epochs = CurveEpochs(cfg.Epochs, cfg.Batch, largest, n)
		res, err := Run(data, c)
		if err != nil {
			return nil, nil, fmt.Errorf("distill: curve size %d: %w", n, err)
		}
		cfg.Teacher = res.Teacher
		out = append(out, CurvePoint{Size: n, Epochs: c.Epochs, TeacherAcc: res.TeacherAcc, DistilledAcc: res.DistilledAcc,
			LabelsAcc: res.LabelsAcc, TeacherTransferAcc: res.TeacherTransferAcc, TransferEntropy: res.TransferEntropy,
			DistilledKL: res.DistilledKL, LabelKL: res.LabelsKL})
	}
	return out, cfg.Teacher, nil
}

// WriteCurve writes curve.csv and curve.png into dir (created if needed) and returns their paths.
func WriteCurve(dir string, pts []CurvePoint, title string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	csvPath, pngPath := filepath.Join(dir, CurveCSV), filepath.Join(dir, CurvePNG)
	rows := make([][]string, 0, len(pts))
	for _, p := range pts {
		rows = append(rows, []string{strconv.Itoa(p.Size), strconv.Itoa(p.Epochs), f(p.TeacherAcc), f(p.DistilledAcc), f(p.LabelsAcc),
			f(p.DistilledAcc - p.LabelsAcc), f(p.TeacherTransferAcc), f(p.TransferEntropy), f(p.DistilledKL), f(p.LabelKL)})
	}
	if err := writeCSV(csvPath, []string{"transfer_size", "epochs", "teacher_acc", "distilled_acc", "labels_acc", "gain",
		"teacher_transfer_acc", "teacher_transfer_entropy", "distilled_test_kl", "labels_test_kl"}, rows); err != nil {
		return nil, err
	}

	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "transfer-set size (labelled examples), log scale"
	p.Y.Label.Text = "test accuracy"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	for _, s := range []struct {
		get   func(CurvePoint) float64
		col   color.RGBA
		label string
	}{
		{func(c CurvePoint) float64 { return c.TeacherAcc }, color.RGBA{90, 90, 90, 255}, "teacher"},
		{func(c CurvePoint) float64 { return c.DistilledAcc }, color.RGBA{214, 39, 40, 255}, "distilled student"},
		{func(c CurvePoint) float64 { return c.LabelsAcc }, color.RGBA{31, 119, 180, 255}, "label-only student"},
	} {
		var xy plotter.XYs
		for _, c := range pts {
			xy = append(xy, plotter.XY{X: float64(c.Size), Y: s.get(c)})
		}
		l, sc, err := plotter.NewLinePoints(xy)
		if err != nil {
			return nil, fmt.Errorf("distill: plot: %w", err)
		}
		l.Color, l.Width, sc.Color = s.col, vg.Points(1.5), s.col
		p.Add(l, sc)
		p.Legend.Add(s.label, l, sc)
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	if err := p.Save(4.5*vg.Inch, 3.2*vg.Inch, pngPath); err != nil {
		return nil, fmt.Errorf("distill: saving %s: %w", pngPath, err)
	}
	return []string{csvPath, pngPath}, nil
}
