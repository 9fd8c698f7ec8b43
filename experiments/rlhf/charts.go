package rlhf

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// series is one line (or set of points) of a chart.
type series struct {
	name   string
	x, y   []float64
	col    color.Color
	dashed bool
	points bool // markers only
	thin   bool // a thin line without a legend entry
}

// withAlpha returns c with opacity a.
func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), a}
}

// palette is a colour-blind-friendly sequence (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 0, 0, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 158, 115, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 114, 178, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{120, 120, 120, 255},
}

// chart writes a PNG of the series. gonum/plot panics on some degenerate inputs; such a panic is
// returned as an error.
func chart(file, title, xlabel, ylabel string, ss []series) (err error) {
	return chartWith(file, title, xlabel, ylabel, ss, chartOptions{})
}

// chartOptions change a chart's defaults.
type chartOptions struct {
	xticks       []plot.Tick // the x axis's ticks (nil: gonum's)
	legendBottom bool        // the legend in the bottom right corner instead of the top right
	legendLeft   bool        // the legend on the left
}

// chartWith is chart with options.
func chartWith(file, title, xlabel, ylabel string, ss []series, o chartOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rlhf: chart %s: %v", file, r)
		}
	}()
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	if o.xticks != nil {
		p.X.Tick.Marker = plot.ConstantTicks(o.xticks)
	}
	p.Legend.Top = !o.legendBottom
	p.Legend.Left = o.legendLeft
	p.Add(plotter.NewGrid())
	for _, s := range ss {
		xy := make(plotter.XYs, 0, len(s.x))
		for i := range s.x {
			if !math.IsNaN(s.y[i]) && !math.IsInf(s.y[i], 0) && !math.IsNaN(s.x[i]) && !math.IsInf(s.x[i], 0) {
				xy = append(xy, plotter.XY{X: s.x[i], Y: s.y[i]})
			}
		}
		if len(xy) == 0 {
			continue
		}
		if s.points {
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return fmt.Errorf("rlhf: chart %s: %w", file, err)
			}
			sc.GlyphStyle.Color = s.col
			sc.GlyphStyle.Radius = vg.Points(2.5)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			if s.name != "" {
				p.Legend.Add(s.name, sc)
			}
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("rlhf: chart %s: %w", file, err)
		}
		l.Color = s.col
		l.Width = vg.Points(1.5)
		if s.thin {
			l.Width = vg.Points(0.8)
		}
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		if s.name != "" {
			p.Legend.Add(s.name, l)
		}
	}
	if err := p.Save(7.3*vg.Inch, 4*vg.Inch, file); err != nil {
		return fmt.Errorf("rlhf: chart %s: %w", file, err)
	}
	return nil
}

// RunCurves is one PPO run's per-update metrics with a label, for the story charts.
type RunCurves struct {
	Label   string
	Metrics []UpdateMetrics
	Ref     Summary // ref_gold / ref_proxy
}

// StoryCharts writes prefix-gold.png, prefix-proxy.png, prefix-kl.png, prefix-inlang.png and
// prefix-beta.png: gold reward, proxy reward, KL(π‖π_ref) per sequence, the in-language fraction
// and β per update for each run (smoothed over 5 updates), with π_ref's rewards and the KL target
// (if klTarget > 0) dashed.
func StoryCharts(dir, prefix string, runs []RunCurves, klTarget float64) error {
	type panel struct {
		file, title, ylabel string
		get                 func(UpdateMetrics) float64
		ref                 func(Summary) float64
	}
	panels := []panel{
		{"gold", "gold reward (what the labeler wants)", "mean gold reward", func(m UpdateMetrics) float64 { return m.Gold }, func(s Summary) float64 { return s.RefGold }},
		{"proxy", "proxy reward (the reward model PPO maximises)", "mean reward-model score", func(m UpdateMetrics) float64 { return m.Proxy }, func(s Summary) float64 { return s.RefProxy }},
		{"kl", "KL(π‖π_ref) per sequence (exact per position)", "nats per sequence", func(m UpdateMetrics) float64 { return m.KL }, nil},
		{"inlang", "fraction of samples inside the language", "fraction", func(m UpdateMetrics) float64 { return m.InLanguage }, nil},
		{"beta", "KL coefficient β", "β", func(m UpdateMetrics) float64 { return m.Beta }, nil},
	}
	for _, pn := range panels {
		var ss []series
		for i, r := range runs {
			x, y := make([]float64, len(r.Metrics)), make([]float64, len(r.Metrics))
			for j, m := range r.Metrics {
				x[j], y[j] = float64(m.Update), pn.get(m)
			}
			col := palette[i%len(palette)]
			ss = append(ss, series{name: r.Label, x: x, y: smooth(y, 5), col: col})
			if pn.ref != nil && len(x) > 0 && i == 0 {
				v := pn.ref(r.Ref)
				ss = append(ss, series{name: "π_ref", x: []float64{x[0], x[len(x)-1]}, y: []float64{v, v}, col: palette[7], dashed: true})
			}
		}
		if pn.file == "kl" && klTarget > 0 && len(runs) > 0 && len(runs[0].Metrics) > 0 {
			ms := runs[0].Metrics
			ss = append(ss, series{name: "KL target", x: []float64{1, float64(ms[len(ms)-1].Update)}, y: []float64{klTarget, klTarget}, col: palette[7], dashed: true})
		}
		if err := chart(filepath.Join(dir, prefix+"-"+pn.file+".png"), pn.title, "update", pn.ylabel, ss); err != nil {
			return err
		}
	}
	return nil
}

// WriteCharts writes frontier-gold.png (gold gain over π_ref against d = √KL: every run's final
// point coloured by β, best-of-n, and Gao's fitted laws) and frontier-proxy.png (proxy gain).
func (res *SweepResult) WriteCharts(dir string) error {
	betas := map[float64]int{}
	for _, r := range res.Runs {
		betas[r.Beta] = 0
	}
	var bs []float64
	for b := range betas {
		bs = append(bs, b)
	}
	sort.Float64s(bs)
	for i, b := range bs {
		betas[b] = i
	}
	for _, what := range []string{"gold", "proxy"} {
		var ss []series
		maxD := 0.0
		for _, b := range bs {
			var x, y []float64
			for _, r := range res.Runs {
				if r.Beta != b {
					continue
				}
				d := math.Sqrt(math.Max(0, r.Summary.FinalKL))
				v := r.Summary.FinalGold - r.Summary.RefGold
				if what == "proxy" {
					v = r.Summary.FinalProxy - r.Summary.RefProxy
				}
				x, y = append(x, d), append(y, v)
				maxD = math.Max(maxD, d)
			}
			ss = append(ss, series{name: "PPO β = " + strconv.FormatFloat(b, 'g', -1, 64), x: x, y: y,
				col: palette[(betas[b]+1)%len(palette)], points: true})
		}
		// The path of every run of the first seed: rise, peak and (without enough leash) fall.
		for _, r := range res.Runs {
			if r.Seed != res.Config.Seeds[0] {
				continue
			}
			ms, err := ReadMetrics(filepath.Join(res.runPath(r), MetricsFile))
			if err != nil {
				return err
			}
			x, y := make([]float64, len(ms)), make([]float64, len(ms))
			for i, m := range ms {
				x[i], y[i] = m.KL, m.Gold-r.Summary.RefGold
				if what == "proxy" {
					y[i] = m.Proxy - r.Summary.RefProxy
				}
			}
			x, y = smooth(x, 5), smooth(y, 5)
			for i := range x {
				x[i] = math.Sqrt(math.Max(0, x[i]))
			}
			ss = append(ss, series{x: x, y: y, col: withAlpha(palette[(betas[r.Beta]+1)%len(palette)], 0x70), thin: true})
		}
		if len(res.BoN) > 0 {
			first := res.BoN[strconv.FormatUint(res.Config.Seeds[0], 10)]
			x, y := make([]float64, len(first)), make([]float64, len(first))
			for i, p := range first {
				x[i] = math.Sqrt(p.KLBound)
				var sum float64
				for _, seed := range res.Config.Seeds { // seed order: the same sum whatever the map order
					key := strconv.FormatUint(seed, 10)
					pts, ok := res.BoN[key]
					if !ok {
						continue
					}
					v := pts[i].Gold - res.RefGold[key]
					if what == "proxy" {
						v = pts[i].Proxy - pts[0].Proxy // n = 1 is π_ref
					}
					sum += v
				}
				y[i] = sum / float64(len(res.BoN))
				maxD = math.Max(maxD, x[i])
			}
			ss = append(ss, series{name: "best-of-n (mean over seeds)", x: x, y: y, col: palette[0], dashed: true})
		}
		if what == "gold" {
			for _, f := range []*GaoFit{res.FitRL, res.FitBoN} {
				if f == nil {
					continue
				}
				// Each law over the range of the data it was fitted to.
				hi := res.Config.FitMaxD
				if f.Kind == "bon" || hi <= 0 {
					hi = 0
					for _, pts := range res.BoN {
						for _, p := range pts {
							hi = math.Max(hi, math.Sqrt(p.KLBound))
						}
					}
				}
				if f.Kind == "rl" && res.Config.FitMaxD <= 0 {
					hi = maxD
				}
				var x, y []float64
				for i := 1; i <= 200; i++ {
					d := hi * float64(i) / 200
					x, y = append(x, d), append(y, f.Eval(d))
				}
				name := fmt.Sprintf("fit RL: d(%.2f − %.2f ln d)", f.Alpha, f.Beta)
				col := palette[4]
				if f.Kind == "bon" {
					name = fmt.Sprintf("fit BoN: d(%.2f − %.2f d)", f.Alpha, f.Beta)
					col = palette[5]
				}
				ss = append(ss, series{name: name, x: x, y: y, col: col, dashed: true})
			}
		}
		title := "gold reward gained over π_ref vs d = √KL(π‖π_ref)"
		if what == "proxy" {
			title = "proxy (reward-model) gain over π_ref vs d = √KL(π‖π_ref)"
		}
		if err := chart(filepath.Join(dir, map[string]string{"gold": FrontierGoldChart, "proxy": FrontierProxChart}[what]), title, "d = √KL (nats^½)", what+" reward − π_ref's", ss); err != nil {
			return err
		}
	}
	return nil
}
