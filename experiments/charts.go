package experiments

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart size: small PNGs (≈ 700×380 px at 96 dpi).
const (
	chartW      = 7.3 * vg.Inch
	chartH      = 4 * vg.Inch
	legendW     = 1.7 * vg.Inch
	chartDPI    = 96
	klFloor     = 1e-6 // KL values below this are drawn at the floor on the log axis
	bandOpacity = 0x38
)

// WriteCharts writes returns.png (R(x) per setting, mean ± SE band over seeds), kl.png (mean KL per
// update, log scale) and beta.png (β per update for the KL settings, log scale) into dir. beta.png is
// not written when no setting has a β.
func (res *Results) WriteCharts(dir string) error {
	if err := res.returnsChart(filepath.Join(dir, ReturnsPlot)); err != nil {
		return fmt.Errorf("%s: %w", ReturnsPlot, err)
	}
	if err := res.updateChart(filepath.Join(dir, KLPlot), "KL(π_old‖π_new) per update", "mean KL, nats (dashed: d_targ)",
		func(c Curves) []float64 { return c.KL }, func(string) bool { return true }, true); err != nil {
		return fmt.Errorf("%s: %w", KLPlot, err)
	}
	anyBeta := false
	for _, p := range res.Sweep.Penalties {
		anyBeta = anyBeta || usesBeta(p)
	}
	if anyBeta {
		if err := res.updateChart(filepath.Join(dir, BetaPlot), "KL coefficient β per update", "β (log scale)",
			func(c Curves) []float64 { return c.Beta }, usesBeta, false); err != nil {
			return fmt.Errorf("%s: %w", BetaPlot, err)
		}
	}
	return nil
}

func (res *Results) title(what string) string {
	name := res.Sweep.Name
	if name == "" {
		name = res.Sweep.Env
	}
	return fmt.Sprintf("%s — %s (%d seeds)", name, what, len(res.Sweep.Seeds))
}

func (res *Results) returnsChart(file string) error {
	p := plot.New()
	p.Title.Text = res.title("return")
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = "return (mean of last 10 episodes)"
	p.X.Tick.Marker = stepTicks{}
	var entries []legendItem
	for i, setting := range res.Sweep.Penalties {
		curves := res.Curves[setting]
		if len(curves) == 0 {
			continue
		}
		col := res.settingColor(i)
		var mean, lo, hi plotter.XYs
		for k := 0; k < CurvePoints; k++ {
			vals := make([]float64, 0, len(curves))
			for _, c := range curves {
				if k < len(c.Return) {
					vals = append(vals, c.Return[k])
				}
			}
			m := NewMeanSE(vals)
			if math.IsNaN(m.Mean) {
				continue
			}
			x := float64(k+1) * float64(res.Sweep.Steps) / CurvePoints
			mean = append(mean, plotter.XY{X: x, Y: m.Mean})
			se := m.SE
			if math.IsNaN(se) {
				se = 0
			}
			lo = append(lo, plotter.XY{X: x, Y: m.Mean - se})
			hi = append(hi, plotter.XY{X: x, Y: m.Mean + se})
		}
		if len(mean) == 0 {
			continue
		}
		if len(mean) > 1 {
			ring := append(plotter.XYs{}, lo...)
			for j := len(hi) - 1; j >= 0; j-- {
				ring = append(ring, hi[j])
			}
			band, err := plotter.NewPolygon(ring)
			if err != nil {
				return err
			}
			band.Color = withAlpha(col, bandOpacity)
			band.LineStyle.Width = 0
			p.Add(band)
		}
		line, err := plotter.NewLine(mean)
		if err != nil {
			return err
		}
		line.Color = col
		line.Width = vg.Points(1.5)
		p.Add(line)
		entries = append(entries, legendItem{setting, line})
	}
	if !math.IsNaN(res.Baseline.RandomReturn) {
		ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: res.Baseline.RandomReturn}, {X: float64(res.Sweep.Steps), Y: res.Baseline.RandomReturn}})
		if err != nil {
			return err
		}
		ref.Color = color.Gray{Y: 120}
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(ref)
		entries = append(entries, legendItem{"random policy", ref})
	}
	return savePlot(p, entries, file)
}

// updateChart draws one per-update series, averaged over seeds update by update, on a log axis.
// With targets, the d_targ of each kl-adaptive / kl-prop setting is drawn as a dashed line in its colour.
func (res *Results) updateChart(file, what, ylabel string, get func(Curves) []float64, keep func(string) bool, targets bool) error {
	p := plot.New()
	p.Title.Text = res.title(what)
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = stepTicks{}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	var entries []legendItem
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, setting := range res.Sweep.Penalties {
		curves := res.Curves[setting]
		if !keep(setting) || len(curves) == 0 {
			continue
		}
		n := len(curves[0].UpdateSteps)
		for _, c := range curves {
			n = min(n, len(c.UpdateSteps), len(get(c)))
		}
		var pts plotter.XYs
		for u := 0; u < n; u++ {
			vals := make([]float64, 0, len(curves))
			for _, c := range curves {
				vals = append(vals, get(c)[u])
			}
			m := meanFinite(vals)
			if math.IsNaN(m) {
				continue
			}
			y := math.Max(m, klFloor)
			lo, hi = math.Min(lo, y), math.Max(hi, y)
			pts = append(pts, plotter.XY{X: curves[0].UpdateSteps[u], Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		line.Color = res.settingColor(i)
		line.Width = vg.Points(1.2)
		p.Add(line)
		entries = append(entries, legendItem{setting, line})
		if d, ok := klTarget(setting); ok && targets {
			tl, err := plotter.NewLine(plotter.XYs{{X: pts[0].X, Y: d}, {X: pts[len(pts)-1].X, Y: d}})
			if err != nil {
				return err
			}
			tl.Color = line.Color
			tl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(tl)
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
	}
	if len(entries) > 0 {
		// explicit log-axis limits: gonum pads a zero-width range into negative values
		p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	}
	if len(entries) == 0 {
		// an empty log axis cannot be drawn: show an explanatory title on a linear axis instead
		p.Y.Scale = plot.LinearScale{}
		p.Y.Tick.Marker = plot.DefaultTicks{}
		p.Title.Text += " — no data"
	}
	return savePlot(p, entries, file)
}

type legendItem struct {
	name  string
	thumb plot.Thumbnailer
}

// savePlot draws p on the left and its legend in a column on the right, and writes a PNG.
// gonum/plot panics on some degenerate inputs; such a panic is returned as an error.
func savePlot(p *plot.Plot, entries []legendItem, file string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing the chart: %v", r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(chartW, chartH), vgimg.UseDPI(chartDPI))
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(9)
	leg.ThumbnailWidth = vg.Points(16)
	leg.YOffs = -vg.Points(20)
	for _, e := range entries {
		leg.Add(e.name, e.thumb)
	}
	leg.Draw(draw.Crop(dc, chartW-legendW+vg.Points(6), 0, 0, 0))
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// settingColor colours settings by family (clip: blues, kl-adaptive: greens, kl-fixed: oranges/reds,
// kl-prop: purples, none: black), shading the members of a family from light to dark.
func (res *Results) settingColor(i int) color.Color {
	spec := res.Sweep.Penalties[i]
	fam := family(spec)
	k, n := 0, 0
	for j, p := range res.Sweep.Penalties {
		if family(p) == fam {
			if j < i {
				k++
			}
			n++
		}
	}
	base := map[string][2]color.RGBA{
		"clip":        {{0x9e, 0xc9, 0xe2, 0xff}, {0x08, 0x30, 0x8c, 0xff}},
		"kl-adaptive": {{0x9b, 0xd8, 0x8f, 0xff}, {0x00, 0x5a, 0x24, 0xff}},
		"kl-fixed":    {{0xfd, 0xb8, 0x63, 0xff}, {0xa5, 0x0f, 0x15, 0xff}},
		"kl-prop":     {{0xc5, 0xb0, 0xd5, 0xff}, {0x54, 0x27, 0x88, 0xff}},
		"none":        {{0x30, 0x30, 0x30, 0xff}, {0x00, 0x00, 0x00, 0xff}},
		"other":       {{0xbb, 0xbb, 0xbb, 0xff}, {0x55, 0x55, 0x55, 0xff}},
	}[fam]
	t := 1.0
	if n > 1 {
		t = 0.25 + 0.75*float64(k)/float64(n-1)
	}
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + t*(float64(b)-float64(a)))) }
	return color.RGBA{mix(base[0].R, base[1].R), mix(base[0].G, base[1].G), mix(base[0].B, base[1].B), 0xff}
}

// klTarget returns d_targ of a kl-adaptive or kl-prop spec.
func klTarget(spec string) (float64, bool) {
	f := family(spec)
	if f != "kl-adaptive" && f != "kl-prop" {
		return 0, false
	}
	_, v, _ := strings.Cut(spec, ":")
	v, _, _ = strings.Cut(v, "+")
	d, err := strconv.ParseFloat(v, 64)
	if err != nil || !(d > 0) {
		return 0, false
	}
	return d, true
}

func family(spec string) string {
	name, _, _ := strings.Cut(spec, ":")
	name, _, _ = strings.Cut(name, "+")
	switch name {
	case "clip", "kl-adaptive", "kl-fixed", "kl-prop", "none":
		return name
	}
	return "other"
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	// premultiplied: scale the channels by the new alpha
	return color.RGBA{uint8(uint32(r>>8) * uint32(a) / 255), uint8(uint32(g>>8) * uint32(a) / 255), uint8(uint32(b>>8) * uint32(a) / 255), a}
}

// stepTicks labels a step axis compactly (50k, 1M).
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmtSteps(ticks[i].Value)
		}
	}
	return ticks
}

// logTicks labels a log axis at powers of ten and, when the range spans less than two decades, also
// at 2× and 5× of them.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	dense := math.Log10(hi/lo) < 2
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < lo || v > hi {
				continue
			}
			label := ""
			if m == 1 || (dense && (m == 2 || m == 5)) {
				label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}
