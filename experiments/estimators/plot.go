package estimators

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ChartFile is the name of the chart WriteChart writes in klppo rlhf estimators --out DIR.
const ChartFile = "rlhf-estimators.png"

// configColors gives each configuration (in Configs order) one colour.
var configColors = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255},
}

// WriteChart draws KL(π‖π_ref) (left) and E_π[r] (right) against the iteration (log scale) for
// every run, exact runs solid and sampled runs dashed, with the values at π* (black dashes) and at
// the forward-KL optimum (grey dots), and saves a PNG at path.
func WriteChart(path string, p Problem, runs []Run) error {
	if len(runs) == 0 {
		return fmt.Errorf("estimators: chart %s: no runs to draw", path)
	}
	piRev, err := ReverseOptimum(p)
	if err != nil {
		return err
	}
	piFwd, err := ForwardOptimum(p)
	if err != nil {
		return err
	}
	sRev, err := newStateFromProbs(piRev, p)
	if err != nil {
		return err
	}
	sFwd, err := newStateFromProbs(piFwd, p)
	if err != nil {
		return err
	}
	left, right := plot.New(), plot.New()
	left.Title.Text, right.Title.Text = "KL(π‖π_ref) during gradient ascent", "E_π[r] during gradient ascent"
	left.Y.Label.Text, right.Y.Label.Text = "KL(π‖π_ref), nats", "expected reward"
	last := 2 // the log axis needs a range
	for _, r := range runs {
		last = max(last, r.Iterations+1)
	}
	for _, pl := range []*plot.Plot{left, right} {
		pl.X.Label.Text = "iteration + 1 (log scale)"
		pl.X.Scale, pl.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		pl.X.Min, pl.X.Max = 1, float64(last)
		pl.Legend.Top, pl.Legend.Left = true, true
	}
	index := map[string]int{}
	for i, n := range Configs {
		index[n] = i
	}
	for _, r := range runs {
		var kls, ers plotter.XYs
		for _, pt := range r.Curve {
			kls = append(kls, plotter.XY{X: float64(pt.Iter + 1), Y: pt.KL})
			ers = append(ers, plotter.XY{X: float64(pt.Iter + 1), Y: pt.ExpectedR})
		}
		for _, side := range []struct {
			pl  *plot.Plot
			xys plotter.XYs
		}{{left, kls}, {right, ers}} {
			l, err := plotter.NewLine(side.xys)
			if err != nil {
				return fmt.Errorf("estimators: chart %s: %w", r.Config, err)
			}
			l.Color, l.Width = configColors[index[r.Config]%len(configColors)], vg.Points(1.5)
			if r.Sampled {
				l.Width, l.Dashes = vg.Points(1), []vg.Length{vg.Points(3), vg.Points(2)}
			}
			side.pl.Add(l)
			if side.pl == left && !r.Sampled {
				left.Legend.Add(r.Config, l)
			}
		}
	}
	for _, ref := range []struct {
		label   string
		kl, er  float64
		col     color.Color
		dashes  []vg.Length
		legends bool
	}{
		{"π* = π_ref·exp(r/β)/Z", sRev.klRev, sRev.er, color.Black, []vg.Length{vg.Points(6), vg.Points(3)}, true},
		{"forward-KL optimum", sFwd.klRev, sFwd.er, color.Gray{Y: 128}, []vg.Length{vg.Points(1), vg.Points(3)}, true},
	} {
		for _, side := range []struct {
			pl *plot.Plot
			y  float64
		}{{left, ref.kl}, {right, ref.er}} {
			l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: side.y}, {X: float64(last), Y: side.y}})
			if err != nil {
				return fmt.Errorf("estimators: chart: %w", err)
			}
			l.Color, l.Width, l.Dashes = ref.col, vg.Points(1.2), ref.dashes
			side.pl.Add(l)
			if side.pl == right {
				right.Legend.Add(ref.label, l)
			}
		}
	}
	const w, h = 12 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("estimators: chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(fh); err != nil {
		fh.Close()
		return fmt.Errorf("estimators: writing %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("estimators: writing %s: %w", path, err)
	}
	return nil
}
