package distill

import (
	"encoding/csv"
	"fmt"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gorgonia.org/tensor"

	"klppo/nn"
)

// Files written by WriteOutputs.
const (
	MetricsFile  = "metrics.csv"  // one row per network and epoch
	AccuracyFile = "accuracy.png" // test accuracy and test KL to the teacher per student epoch
	TeacherFile  = "teacher.klnn" // the teacher's parameters (load with LoadTeacher)
)

func f(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// WriteMetricsCSV writes one row per network and epoch: model, epoch, loss, train_ce, train_kl,
// train_acc, test_acc, test_kl, teacher_test_acc, seconds (NaN where a value does not apply).
func WriteMetricsCSV(path string, res *Result) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("distill: %w", err)
	}
	w := csv.NewWriter(fh)
	_ = w.Write([]string{"model", "epoch", "loss", "train_ce", "train_kl", "train_acc", "test_acc", "test_kl",
		"teacher_test_acc", "seconds"})
	for _, e := range res.Epochs {
		_ = w.Write([]string{e.Model, strconv.Itoa(e.Epoch), f(e.Loss), f(e.TrainCE), f(e.TrainKL), f(e.TrainAcc),
			f(e.TestAcc), f(e.TestKL), f(e.TeacherTestAcc), strconv.FormatFloat(e.Seconds, 'f', 3, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
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
	p.Title.Text = fmt.Sprintf("students %v, T=%g, α=%g", res.Config.StudentHidden, res.Config.Temperature, res.Config.Alpha)
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
		p.Legend.Add(fmt.Sprintf("teacher %v", res.Config.TeacherHidden), t)
	}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	if err := p.Save(4.5*vg.Inch, 3.2*vg.Inch, path); err != nil {
		return fmt.Errorf("distill: saving %s: %w", path, err)
	}
	return nil
}

// WriteOutputs writes metrics.csv, accuracy.png and teacher.klnn into dir (created if needed)
// and returns the paths written.
func WriteOutputs(dir string, res *Result) ([]string, error) {
	if res == nil || res.Teacher == nil {
		return nil, fmt.Errorf("distill: WriteOutputs: no result")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("distill: %w", err)
	}
	paths := []string{filepath.Join(dir, MetricsFile), filepath.Join(dir, AccuracyFile), filepath.Join(dir, TeacherFile)}
	if err := WriteMetricsCSV(paths[0], res); err != nil {
		return nil, err
	}
	if err := accuracyPlot(paths[1], res); err != nil {
		return nil, err
	}
	if err := SaveTeacher(paths[2], res.Teacher); err != nil {
		return nil, err
	}
	return paths, nil
}

const activationArray = "teacher.activation"

// SaveTeacher writes a classifier's parameters and activation in nn's KLNN format.
func SaveTeacher(path string, m *nn.MLP) error {
	arrays := append(m.Arrays(), nn.Array{Name: activationArray, F64: []float64{float64(m.Activation())}})
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
