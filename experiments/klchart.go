package experiments

// The two-normals chart of `klppo kl normal`: the densities of P and Q drawn as text in the
// terminal and, with --plot, as a PNG. It lives here with the sweep charts; the numbers come
// from package kl.

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"klppo/kl"
)

// NormalsText draws the densities of p ('*') and q ('o'; '#' where they coincide) as text:
// width columns × height rows above an x axis (density 0) with five labels, and a y axis.
// pLabel and qLabel describe p and q in the header line, e.g. "N(μ=0, σ=1)".
func NormalsText(w io.Writer, p, q kl.Normal, pLabel, qLabel string, width, height int) error {
	if width < 4 || height < 2 {
		return fmt.Errorf("experiments: NormalsText: a %d×%d chart is too small (want ≥ 4×2)", width, height)
	}
	lo, hi := normalsRange(p, q)
	xAt := func(j int) float64 { return lo + (float64(j)+0.5)*(hi-lo)/float64(width) }
	ymax := normalsPeak(p, q)
	grid := make([][]byte, height) // grid[0] is the top row (density ymax)
	for i := range grid {
		grid[i] = bytes.Repeat([]byte{' '}, width)
	}
	plotCurve := func(n kl.Normal, mark byte) {
		prev := 0
		for j := 0; j < width; j++ {
			// Level 0 is the axis; levels 1..height are rows. Connect to the previous column.
			r := int(math.Round(math.Exp(n.LogProb(xAt(j))) / ymax * float64(height)))
			a, b := r, r
			if prev < r {
				a = prev + 1
			} else if prev > r {
				b = prev - 1
			}
			for k := max(a, 1); k <= b; k++ {
				row := grid[height-k]
				if row[j] != ' ' && row[j] != mark {
					row[j] = '#'
				} else {
					row[j] = mark
				}
			}
			prev = r
		}
	}
	plotCurve(p, '*')
	plotCurve(q, 'o')
	var b strings.Builder
	fmt.Fprintf(&b, "density   * P = %s   o Q = %s   # both\n", pLabel, qLabel)
	for i, row := range grid {
		label := ""
		if i == 0 || i == height/2 {
			label = strconv.FormatFloat(ymax*float64(height-i)/float64(height), 'f', 3, 64)
		}
		fmt.Fprintf(&b, "%7s |%s\n", label, strings.TrimRight(string(row), " "))
	}
	fmt.Fprintf(&b, "%7s +%s\n", "0", strings.Repeat("-", width))
	const indent = 8 // the column of the axis line
	axis := bytes.Repeat([]byte{' '}, indent+width+8)
	for k := 0; k <= 4; k++ {
		j := k * width / 4
		s := strconv.FormatFloat(lo+float64(k)*(hi-lo)/4, 'g', 4, 64)
		start := min(max(indent+j-len(s)/2, 0), len(axis)-len(s))
		copy(axis[start:], s)
	}
	fmt.Fprintf(&b, "%s\n%*s\n", strings.TrimRight(string(axis), " "), indent+width/2+1, "x")
	_, err := io.WriteString(w, b.String())
	return err
}

// NormalsPNG writes the densities of p (solid) and q (dashed, orange) as a PNG chart to path,
// titled with the two divergences klPQ = KL(P‖Q) and klQP = KL(Q‖P) in nats.
func NormalsPNG(path string, p, q kl.Normal, pLabel, qLabel string, klPQ, klQP float64) error {
	pl := plot.New()
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	pl.Title.Text = fmt.Sprintf("KL(P||Q) = %s nats,  KL(Q||P) = %s nats", g(klPQ), g(klQP))
	pl.X.Label.Text = "x"
	pl.Y.Label.Text = "density"
	lo, hi := normalsRange(p, q)
	for i, n := range []kl.Normal{p, q} {
		fn := plotter.NewFunction(func(x float64) float64 { return math.Exp(n.LogProb(x)) })
		fn.XMin, fn.XMax, fn.Samples = lo, hi, 400
		fn.Width = vg.Points(2)
		if i == 0 {
			fn.Color = plotter.DefaultLineStyle.Color
			pl.Legend.Add("P = "+pLabel, fn)
		} else {
			fn.Color = normalsOrange
			fn.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			pl.Legend.Add("Q = "+qLabel, fn)
		}
		pl.Add(fn)
	}
	pl.X.Min, pl.X.Max = lo, hi
	pl.Y.Min = 0
	pl.Y.Max = 1.3 * normalsPeak(p, q)
	pl.Legend.Top = true
	pl.Legend.Left = true
	if err := pl.Save(6*vg.Inch, 3.2*vg.Inch, path); err != nil {
		return fmt.Errorf("experiments: writing the chart %s: %w", path, err)
	}
	return nil
}

var normalsOrange = color.RGBA{R: 230, G: 120, B: 20, A: 255}

// normalsPeak is the larger of the two densities' maxima, 1/(σ√(2π)).
func normalsPeak(p, q kl.Normal) float64 {
	return math.Max(1/(p.Sigma*math.Sqrt(2*math.Pi)), 1/(q.Sigma*math.Sqrt(2*math.Pi)))
}

// normalsRange returns a plotting range covering μ ± 4σ of both normals, widened to multiples
// of a round step so the axis labels are short.
func normalsRange(p, q kl.Normal) (lo, hi float64) {
	lo = math.Min(p.Mu-4*p.Sigma, q.Mu-4*q.Sigma)
	hi = math.Max(p.Mu+4*p.Sigma, q.Mu+4*q.Sigma)
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/4))) / 2
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}
