package distill

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gorgonia.org/tensor"

	"klppo/internal/rundir"
	"klppo/nn"
)

// Files written by WriteOutputs.
const (
	MetricsFile  = "metrics.csv"   // one row per network and epoch
	AccuracyFile = "accuracy.png"  // test accuracy and test KL to the teacher per student epoch
	TeacherFile  = "teacher.klnn"  // the teacher's parameters (load with LoadTeacher)
	SummaryFile  = "summary.json"  // final numbers (see Summary)
	ClassFile    = "per-class.png" // test accuracy of each class for the three networks
)

// Summary is the content of summary.json. Accuracies are on the test split; a value that
// does not exist (the accuracy of a class with no test example) is null.
type Summary struct {
	TeacherAcc   *float64 `json:"teacher_acc"`
	DistilledAcc *float64 `json:"distilled_acc"` // after the bias correction when omit_class is set
	LabelsAcc    *float64 `json:"labels_acc"`
	DistilledKL  *float64 `json:"distilled_test_kl"` // test KL(teacher_T ‖ student_T) after the last epoch
	LabelsKL     *float64 `json:"labels_test_kl"`

	TeacherTrainAcc        *float64 `json:"teacher_train_acc"`        // on the teacher's own training set
	TeacherTransferAcc     *float64 `json:"teacher_transfer_acc"`     // on the students' transfer set
	TeacherTrainEntropy    *float64 `json:"teacher_train_entropy"`    // mean H(softmax(t/T)), nats
	TeacherTransferEntropy *float64 `json:"teacher_transfer_entropy"` // mean H(softmax(t/T)), nats
	TransferSize           int      `json:"transfer_size"`

	TeacherHidden []int   `json:"teacher_hidden"`
	StudentHidden []int   `json:"student_hidden"`
	Temperature   float64 `json:"temperature"`
	Alpha         float64 `json:"alpha"`
	Epochs        int     `json:"epochs"`
	Seed          uint64  `json:"seed"`

	ClassAccTeacher      []*float64 `json:"class_acc_teacher"`
	ClassAccDistilled    []*float64 `json:"class_acc_distilled"`
	ClassAccDistilledRaw []*float64 `json:"class_acc_distilled_raw"`
	ClassAccLabels       []*float64 `json:"class_acc_labels"`

	// Set only with omit_class.
	OmitClass                   *int     `json:"omit_class,omitempty"`
	BiasShift                   *float64 `json:"bias_shift,omitempty"`
	DistilledAccRaw             *float64 `json:"distilled_acc_raw,omitempty"`
	OmittedClassAccTeacher      *float64 `json:"omitted_class_acc_teacher,omitempty"`
	OmittedClassAccDistilledRaw *float64 `json:"omitted_class_acc_distilled_raw,omitempty"`
	OmittedClassAccDistilled    *float64 `json:"omitted_class_acc_distilled,omitempty"`
	OmittedClassAccLabels       *float64 `json:"omitted_class_acc_labels,omitempty"`
	OmittedClassTeacherMeanProb *float64 `json:"omitted_class_teacher_mean_prob,omitempty"`
	OmittedClassStudentMeanProb *float64 `json:"omitted_class_student_raw_mean_prob,omitempty"`
}

// num is v for JSON, nil (null) when v is NaN or infinite.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nums(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

// NewSummary collects the summary of a finished experiment.
func NewSummary(res *Result) Summary {
	c := res.Config
	s := Summary{TeacherAcc: num(res.TeacherAcc), DistilledAcc: num(res.DistilledAcc), LabelsAcc: num(res.LabelsAcc),
		DistilledKL: num(res.DistilledKL), LabelsKL: num(res.LabelsKL),
		TeacherTrainAcc: num(res.TeacherTrainAcc), TeacherTransferAcc: num(res.TeacherTransferAcc),
		TeacherTrainEntropy: num(res.TrainEntropy), TeacherTransferEntropy: num(res.TransferEntropy),
		TransferSize: res.TransferN, TeacherHidden: c.TeacherHidden, StudentHidden: c.StudentHidden,
		Temperature: c.Temperature, Alpha: c.Alpha, Epochs: c.Epochs, Seed: c.Seed,
		ClassAccTeacher: nums(res.ClassAcc.Teacher), ClassAccDistilled: nums(res.ClassAcc.Distilled),
		ClassAccDistilledRaw: nums(res.ClassAcc.DistilledRaw), ClassAccLabels: nums(res.ClassAcc.Labels)}
	if o := res.Omitted; o != nil {
		k := o.Class
		s.OmitClass, s.BiasShift, s.DistilledAccRaw = &k, num(o.Shift), num(o.DistilledAccRaw)
		s.OmittedClassAccTeacher, s.OmittedClassAccDistilledRaw = num(o.Teacher), num(o.DistilledRaw)
		s.OmittedClassAccDistilled, s.OmittedClassAccLabels = num(o.Distilled), num(o.Labels)
		s.OmittedClassTeacherMeanProb, s.OmittedClassStudentMeanProb = num(o.TeacherRate), num(o.StudentRawRate)
	}
	return s
}

// WriteSummary writes NewSummary(res) as indented JSON.
func WriteSummary(path string, res *Result) error {
	b, err := json.MarshalIndent(NewSummary(res), "", "  ")
	if err != nil {
		return fmt.Errorf("distill: summary: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	return nil
}

// classPlot draws a grouped bar chart of each class's test accuracy: teacher, distilled
// student (before and, with an omitted class, after the bias correction) and label-only student.
func classPlot(path string, res *Result) error {
	p := plot.New()
	p.Title.Text = "test accuracy per class"
	if o := res.Omitted; o != nil {
		p.Title.Text = fmt.Sprintf("test accuracy per class (class %d not in the transfer set)", o.Class)
	}
	p.X.Label.Text = "class"
	p.Y.Label.Text = "test accuracy"
	type series struct {
		v     []float64
		col   color.RGBA
		label string
	}
	all := []series{{res.ClassAcc.Teacher, color.RGBA{90, 90, 90, 255}, "teacher"}}
	if res.Omitted != nil {
		all = append(all, series{res.ClassAcc.DistilledRaw, color.RGBA{255, 152, 150, 255}, "distilled, before bias correction"},
			series{res.ClassAcc.Distilled, color.RGBA{214, 39, 40, 255}, "distilled, bias corrected"})
	} else {
		all = append(all, series{res.ClassAcc.Distilled, color.RGBA{214, 39, 40, 255}, "distilled student"})
	}
	all = append(all, series{res.ClassAcc.Labels, color.RGBA{31, 119, 180, 255}, "label-only student"})
	w := vg.Points(7)
	for i, s := range all {
		vals := make(plotter.Values, len(s.v))
		for c, v := range s.v {
			if !math.IsNaN(v) {
				vals[c] = v
			}
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return fmt.Errorf("distill: plot: %w", err)
		}
		b.Color, b.LineStyle.Width = s.col, 0
		b.Offset = w * vg.Length(float64(i)-float64(len(all)-1)/2)
		p.Add(b)
		p.Legend.Add(s.label, b)
	}
	names := make([]string, len(res.ClassAcc.Teacher))
	for c := range names {
		names[c] = strconv.Itoa(c)
	}
	p.NominalX(names...)
	// Room above the bars for the legend; ticks only where accuracies can be.
	p.Y.Min, p.Y.Max = 0, 1.35
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"}, {Value: 0.4, Label: "0.4"},
		{Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"}}
	p.Legend.Top = true
	if err := p.Save(6.5*vg.Inch, 3.4*vg.Inch, path); err != nil {
		return fmt.Errorf("distill: saving %s: %w", path, err)
	}
	return nil
}

func f(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// widths formats layer widths as "256,256".
func widths(w []int) string {
	parts := make([]string, len(w))
	for i, v := range w {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

// WriteMetricsCSV writes one row per network and epoch: model, epoch, loss, train_ce, train_kl,
// train_acc, test_acc, test_kl, teacher_test_acc, seconds (NaN where a value does not apply).
func WriteMetricsCSV(path string, res *Result) error {
	rows := make([][]string, 0, len(res.Epochs))
	for _, e := range res.Epochs {
		rows = append(rows, []string{e.Model, strconv.Itoa(e.Epoch), f(e.Loss), f(e.TrainCE), f(e.TrainKL), f(e.TrainAcc),
			f(e.TestAcc), f(e.TestKL), f(e.TeacherTestAcc), strconv.FormatFloat(e.Seconds, 'f', 3, 64)})
	}
	return writeCSV(path, []string{"model", "epoch", "loss", "train_ce", "train_kl", "train_acc", "test_acc", "test_kl",
		"teacher_test_acc", "seconds"}, rows)
}

// writeCSV writes a header and rows to path; a failed write or close is returned.
func writeCSV(path string, header []string, rows [][]string) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	w := csv.NewWriter(fh)
	err = w.Write(header)
	for i := 0; err == nil && i < len(rows); i++ {
		err = w.Write(rows[i])
	}
	if err == nil {
		w.Flush()
		err = w.Error()
	}
	if err != nil {
		fh.Close()
		return fmt.Errorf("distill: writing %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	return nil
}

// accuracyPlot draws the students' test accuracy per epoch against the teacher's.
func accuracyPlot(path string, res *Result) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("students %s, T=%g, α=%g, %d transfer examples", widths(res.Config.StudentHidden),
		res.Config.Temperature, res.Config.Alpha, res.TransferN)
	p.X.Label.Text = "student epoch"
	p.Y.Label.Text = "test accuracy"
	series := []struct {
		model string
		col   color.RGBA
		label string
	}{{Distilled, color.RGBA{214, 39, 40, 255}, "distilled student"}, {Labels, color.RGBA{31, 119, 180, 255}, "label-only student"}}
	var last int
	for _, s := range series {
		var pts plotter.XYs
		for _, e := range res.Epochs {
			if e.Model == s.model {
				pts = append(pts, plotter.XY{X: float64(e.Epoch), Y: e.TestAcc})
				last = max(last, e.Epoch)
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("distill: plot: %w", err)
		}
		l.Color, l.Width = s.col, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.label, l)
	}
	if last > 0 {
		t, err := plotter.NewLine(plotter.XYs{{X: 1, Y: res.TeacherAcc}, {X: float64(last), Y: res.TeacherAcc}})
		if err != nil {
			return fmt.Errorf("distill: plot: %w", err)
		}
		t.Color, t.Width, t.Dashes = color.Black, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(t)
		p.Legend.Add("teacher "+widths(res.Config.TeacherHidden), t)
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	if err := p.Save(4.5*vg.Inch, 3.2*vg.Inch, path); err != nil {
		return fmt.Errorf("distill: saving %s: %w", path, err)
	}
	return nil
}

// WriteOutputs writes metrics.csv, accuracy.png, per-class.png, summary.json and teacher.klnn
// into dir (created if needed, with its run kind: see rundir.WriteKind) and returns the paths
// written.
func WriteOutputs(dir string, res *Result) ([]string, error) {
	if res == nil || res.Teacher == nil {
		return nil, fmt.Errorf("distill: WriteOutputs: no result")
	}
	if err := rundir.WriteKind(dir, rundir.KindDistill); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	paths := []string{filepath.Join(dir, MetricsFile), filepath.Join(dir, AccuracyFile), filepath.Join(dir, TeacherFile),
		filepath.Join(dir, ClassFile), filepath.Join(dir, SummaryFile)}
	if err := WriteMetricsCSV(paths[0], res); err != nil {
		return nil, err
	}
	if err := accuracyPlot(paths[1], res); err != nil {
		return nil, err
	}
	if err := SaveTeacher(paths[2], res.Teacher); err != nil {
		return nil, err
	}
	if err := classPlot(paths[3], res); err != nil {
		return nil, err
	}
	if err := WriteSummary(paths[4], res); err != nil {
		return nil, err
	}
	return paths, nil
}

const activationArray = "teacher.activation"

// SaveTeacher writes a classifier's parameters and activation in nn's KLNN format.
func SaveTeacher(path string, m *nn.MLP) error {
	arrays, err := m.Arrays()
	if err != nil {
		return fmt.Errorf("distill: saving teacher: %w", err)
	}
	arrays = append(arrays, nn.Array{Name: activationArray, F64: []float64{float64(m.Activation())}})
	if err := nn.WriteFile(path, arrays); err != nil {
		return fmt.Errorf("distill: saving teacher: %w", err)
	}
	return nil
}

// LoadTeacher reads a classifier written by SaveTeacher (or any KLNN file of an MLP named
// "teacher"); the layer widths, dtype and activation come from the file.
func LoadTeacher(path string) (*nn.MLP, error) {
	arrays, err := nn.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("distill: loading teacher: %w", err)
	}
	byName := map[string]nn.Array{}
	for _, a := range arrays {
		byName[a.Name] = a
	}
	var sizes []int
	dt := tensor.Float64
	for l := 0; ; l++ {
		a, ok := byName[fmt.Sprintf("teacher.l%d.W", l)]
		if !ok {
			break
		}
		if len(a.Shape) != 2 {
			return nil, fmt.Errorf("distill: teacher file %s: layer %d weight has shape %v", path, l, a.Shape)
		}
		if l == 0 {
			sizes = append(sizes, a.Shape[0])
			if a.F32 != nil {
				dt = tensor.Float32
			}
		}
		sizes = append(sizes, a.Shape[1])
	}
	if len(sizes) < 2 {
		return nil, fmt.Errorf("distill: teacher file %s: no array teacher.l0.W", path)
	}
	act := nn.ReLU
	if a, ok := byName[activationArray]; ok && len(a.F64) == 1 {
		act = nn.Activation(int(a.F64[0]))
	}
	// The initial weights are overwritten by the file; the rng only satisfies NewMLP.
	m, err := nn.NewMLP(rand.New(rand.NewPCG(0, 0)), nn.MLPConfig{Name: "teacher", In: sizes[0],
		Hidden: sizes[1 : len(sizes)-1], Out: sizes[len(sizes)-1], Activation: act, Dtype: dt})
	if err != nil {
		return nil, fmt.Errorf("distill: teacher file %s: %w", path, err)
	}
	if err := m.LoadArrays(arrays); err != nil {
		return nil, fmt.Errorf("distill: teacher file %s: %w", path, err)
	}
	return m, nil
}
