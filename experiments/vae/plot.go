package vae

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// palette is a ten-colour qualitative palette (the "tab10" colours) for class labels.
var palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

func classColor(k int) color.RGBA { return palette[((k%len(palette))+len(palette))%len(palette)] }

// imageGrid draws rows of w×h grey images (values in [0, 1], 1 = ink = black) as one picture:
// every pixel becomes a scale×scale block, images are separated by a one-block gap, and a nil
// row leaves a blank separator row.
func imageGrid(rows [][][]float64, w, h, scale int) (*image.Gray, error) {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	if cols == 0 || w <= 0 || h <= 0 || scale <= 0 {
		return nil, fmt.Errorf("vae: imageGrid: nothing to draw (%d columns, %d×%d, scale %d)", cols, w, h, scale)
	}
	cell := func(n int) int { return n*scale + scale }
	img := image.NewGray(image.Rect(0, 0, cols*cell(w)+scale, len(rows)*cell(h)+scale))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for ri, r := range rows {
		for ci, v := range r {
			if len(v) != w*h {
				return nil, fmt.Errorf("vae: imageGrid: image (%d, %d) has %d values, want %d", ri, ci, len(v), w*h)
			}
			x0, y0 := scale+ci*cell(w), scale+ri*cell(h)
			for p, val := range v {
				val = min(1, max(0, val))
				g := uint8(255 - 255*val + 0.5)
				px, py := x0+(p%w)*scale, y0+(p/w)*scale
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetGray(px+dx, py+dy, color.Gray{Y: g})
					}
				}
			}
		}
	}
	return img, nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("vae: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("vae: %w", err)
	}
	return nil
}

// scatterByClass draws 2-D points (xy[2i], xy[2i+1]) coloured by label, one legend entry per class.
func scatterByClass(p *plot.Plot, xy []float64, labels []int, classes int, radius vg.Length, legend bool) error {
	for k := 0; k < classes; k++ {
		var pts plotter.XYs
		for i, y := range labels {
			if y == k {
				pts = append(pts, plotter.XY{X: xy[2*i], Y: xy[2*i+1]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("vae: scatter: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: classColor(k), Radius: radius, Shape: draw.CircleGlyph{}}
		p.Add(s)
		if legend {
			p.Legend.Add(fmt.Sprint(k), s)
		}
	}
	return nil
}

// latentPlot writes a PNG of 2-D latent means coloured by class.
func latentPlot(path, title string, mu []float64, labels []int, classes int) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "μ₁"
	p.Y.Label.Text = "μ₂"
	p.Legend.Top = true
	if err := scatterByClass(p, mu, labels, classes, vg.Points(1.6), true); err != nil {
		return err
	}
	// Leave room on the right for the legend.
	if lo, hi := p.X.Min, p.X.Max; hi > lo {
		p.X.Max = hi + 0.2*(hi-lo)
	}
	if err := p.Save(4.2*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("vae: saving %s: %w", path, err)
	}
	return nil
}

// pointsPlot writes a PNG with three panels-in-one for 2-D data: test points coloured by class,
// their reconstructions (decoder means) as crosses, and samples from the prior in black.
func pointsPlot(path, title string, data, recon, samples []float64, labels []int, classes int) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "x₁"
	p.Y.Label.Text = "x₂"
	if err := scatterByClass(p, data, labels, classes, vg.Points(1.2), false); err != nil {
		return err
	}
	var rec, smp plotter.XYs
	for i := 0; i+1 < len(recon); i += 2 {
		rec = append(rec, plotter.XY{X: recon[i], Y: recon[i+1]})
	}
	for i := 0; i+1 < len(samples); i += 2 {
		smp = append(smp, plotter.XY{X: samples[i], Y: samples[i+1]})
	}
	if len(rec) > 0 {
		s, err := plotter.NewScatter(rec)
		if err != nil {
			return fmt.Errorf("vae: scatter: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: color.RGBA{90, 90, 90, 255}, Radius: vg.Points(1.4), Shape: draw.CrossGlyph{}}
		p.Add(s)
		p.Legend.Add("reconstruction", s)
	}
	if len(smp) > 0 {
		s, err := plotter.NewScatter(smp)
		if err != nil {
			return fmt.Errorf("vae: scatter: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(1.2), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add("sample from p(z)", s)
	}
	p.Legend.Top = true
	if err := p.Save(4.2*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("vae: saving %s: %w", path, err)
	}
	return nil
}

// klPlot writes a PNG of the KL term per latent dimension over the epochs.
func klPlot(path, title string, perDim [][]float64) error {
	if len(perDim) == 0 {
		return fmt.Errorf("vae: klPlot: no epochs")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "KL per latent dimension (nats)"
	for d := range perDim[0] {
		pts := make(plotter.XYs, len(perDim))
		for e := range perDim {
			pts[e] = plotter.XY{X: float64(e + 1), Y: perDim[e][d]}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("vae: line: %w", err)
		}
		l.Color = classColor(d)
		l.Width = vg.Points(1.2)
		p.Add(l)
		if len(perDim[0]) <= 10 {
			p.Legend.Add(fmt.Sprintf("z%d", d+1), l)
		}
	}
	p.Legend.Top = true
	if err := p.Save(4.2*vg.Inch, 3*vg.Inch, path); err != nil {
		return fmt.Errorf("vae: saving %s: %w", path, err)
	}
	return nil
}
