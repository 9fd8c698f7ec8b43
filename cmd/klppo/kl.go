package main

// The `klppo kl <kind>` commands: thin flag layers over package kl. Every command prints both
// directions of the divergence with a one-line reading, or with --json one JSON object in nats.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
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

func init() {
	register("kl categorical", "KL(P‖Q), KL(Q‖P), JS, H(P), H(P,Q) of two categorical distributions (probabilities or logits)", klCmdCategorical)
	register("kl normal", "KL between two univariate normals, both ways, with a terminal (and optional PNG) chart", klCmdNormal)
	register("kl diag-normal", "KL between two diagonal Gaussians (σ or log σ per dimension)", klCmdDiagNormal)
	register("kl vae", "the VAE prior term KL(N(μ, σ²)‖N(0, I)) from --mu and --logvar", klCmdVAE)
	register("kl bernoulli", "KL between two Bernoulli distributions (coins)", klCmdBernoulli)
	register("kl beta", "KL between two Beta distributions", klCmdBeta)
	register("kl dirichlet", "KL between two Dirichlet distributions", klCmdDirichlet)
	register("kl poisson", "KL between two Poisson distributions", klCmdPoisson)
	register("kl exponential", "KL between two exponential distributions", klCmdExponential)
	register("kl gamma", "KL between two gamma distributions (shape, rate)", klCmdGamma)
}

// klCmdNum is a float flag that remembers whether it was given.
type klCmdNum struct {
	v   float64
	set bool
}

func (n *klCmdNum) String() string {
	if n == nil || !n.set {
		return ""
	}
	return strconv.FormatFloat(n.v, 'g', -1, 64)
}

func (n *klCmdNum) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	n.v, n.set = v, true
	return nil
}

// klCmdFlags bundles a command's FlagSet with the flags every kl command shares.
type klCmdFlags struct {
	fs       *flag.FlagSet
	json     bool
	bits     bool
	required []string
}

func klCmdNewFlags(path, synopsis string, stderr io.Writer) *klCmdFlags {
	f := &klCmdFlags{fs: newFlagSet(path, synopsis, stderr)}
	f.fs.BoolVar(&f.json, "json", false, "print one JSON object (values in nats; +Inf as the string \"+Inf\")")
	f.fs.BoolVar(&f.bits, "bits", false, "text output leads with bits instead of nats (JSON stays in nats)")
	return f
}

func (f *klCmdFlags) num(name, usage string) *klCmdNum {
	n := &klCmdNum{}
	f.fs.Var(n, name, usage+" (required)")
	f.required = append(f.required, name)
	return n
}

func (f *klCmdFlags) list(name, usage string, required bool) *floatList {
	l := &floatList{}
	if required {
		usage += " (required)"
		f.required = append(f.required, name)
	}
	f.fs.Var(l, name, usage)
	return l
}

// parse parses args and checks the required flags.
func (f *klCmdFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	seen := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { seen[fl.Name] = true })
	for _, name := range f.required {
		if !seen[name] {
			return usagef("missing --%s (run 'klppo %s -h')", name, strings.TrimPrefix(f.fs.Name(), "klppo "))
		}
	}
	return nil
}

// argError turns a kl error into a usage error naming the flag (kl's argument names map to
// flags by "_" → "-": sigma_p → --sigma-p) and its value.
func (f *klCmdFlags) argError(err error) error {
	var ae *kl.ArgError
	if errors.As(err, &ae) {
		name := strings.ReplaceAll(ae.Arg, "_", "-")
		if fl := f.fs.Lookup(name); fl != nil {
			return usagef("--%s %s: %v", name, fl.Value.String(), err)
		}
		return usagef("%v", err)
	}
	return err
}

// klCmdFmt formats a value in nats as "0.0822829 nats (0.118709 bits)", or bits first.
func klCmdFmt(nats float64, bits bool) string {
	n, b := strconv.FormatFloat(nats, 'g', 6, 64), strconv.FormatFloat(kl.ToBits(nats), 'g', 6, 64)
	if math.IsInf(nats, 1) {
		n, b = "+Inf", "+Inf"
	}
	if bits {
		return b + " bits (" + n + " nats)"
	}
	return n + " nats (" + b + " bits)"
}

// klCmdLine prints one labelled value and its reading.
func klCmdLine(w io.Writer, label string, nats float64, bits bool, reading string) {
	fmt.Fprintf(w, "%-9s = %-32s %s\n", label, klCmdFmt(nats, bits), reading)
}

// klCmdObj is a JSON object that keeps its keys in insertion order.
type klCmdObj struct {
	keys []string
	vals []any
}

func (o *klCmdObj) add(k string, v any) *klCmdObj {
	o.keys, o.vals = append(o.keys, k), append(o.vals, v)
	return o
}

func (o *klCmdObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func klCmdWriteJSON(w io.Writer, o *klCmdObj) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func klCmdJSONList(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

// klCmdReadingPQ explains KL(P‖Q) for a finite or infinite value.
func klCmdReadingPQ(v float64, p, q string) string {
	if math.IsInf(v, 1) {
		return q + " gives zero probability where " + p + " doesn't → infinite"
	}
	if v == 0 {
		return "0: the two distributions are identical"
	}
	return "extra information per sample of " + p + " when coding it with a code built for " + q
}

// ---- categorical ----

func klCmdCategorical(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl categorical", "(--p a,b,.. | --p-logits a,b,..) (--q a,b,.. | --q-logits a,b,..) [--smooth EPS] [--normalize] [--bits] [--json]", stderr)
	p := f.list("p", "probabilities of P, comma-separated (must sum to 1 within 1e-6 unless --normalize)", false)
	q := f.list("q", "probabilities of Q, comma-separated", false)
	pl := f.list("p-logits", "logits of P instead of --p (P = softmax of them; -Inf allowed: probability 0)", false)
	ql := f.list("q-logits", "logits of Q instead of --q", false)
	smooth := f.fs.Float64("smooth", 0, "additive smoothing ε > 0 applied to P and Q, then renormalised (makes KL finite where Q has zeros); 0 = none")
	normalize := f.fs.Bool("normalize", false, "divide --p and --q by their sums (they may then be any non-negative weights)")
	if err := f.parse(args); err != nil {
		return err
	}
	// Exactly one of each pair.
	for _, pair := range [][2]string{{"p", "p-logits"}, {"q", "q-logits"}} {
		a, b := f.fs.Lookup(pair[0]).Value.String(), f.fs.Lookup(pair[1]).Value.String()
		switch {
		case a != "" && b != "":
			return usagef("--%s %s and --%s %s: give only one of them", pair[0], a, pair[1], b)
		case a == "" && b == "":
			return usagef("missing --%s or --%s (run 'klppo kl categorical -h')", pair[0], pair[1])
		}
	}
	if *smooth < 0 || math.IsNaN(*smooth) || math.IsInf(*smooth, 0) {
		return usagef("--smooth %g: must be finite and ≥ 0 (0 = no smoothing)", *smooth)
	}
	// side turns one distribution's flags into log-probabilities (the common currency: exact for
	// extreme logits, −Inf for zero probabilities) and the probabilities to display.
	side := func(probs, logits *floatList, name string) (logp, prob []float64, err error) {
		flagErr := func(flagName string, err error) error {
			return usagef("--%s %s: %v", flagName, f.fs.Lookup(flagName).Value.String(), err)
		}
		if len(*logits) > 0 {
			lp, err := kl.LogSoftmax([]float64(*logits))
			if err != nil {
				return nil, nil, flagErr(name+"-logits", err)
			}
			pr := klCmdExps(lp)
			if *smooth == 0 {
				return lp, pr, nil
			}
			if pr, err = kl.Smooth(pr, *smooth); err != nil {
				return nil, nil, flagErr(name+"-logits", err)
			}
			return klCmdLogs(pr), pr, nil
		}
		pr := []float64(*probs)
		switch {
		case *smooth > 0:
			pr, err = kl.Smooth(pr, *smooth) // renormalises too
		case *normalize:
			pr, err = kl.Normalize(pr)
		default:
			err = kl.ValidateProbs(name, pr)
		}
		if err != nil {
			return nil, nil, flagErr(name, err)
		}
		return klCmdLogs(pr), pr, nil
	}
	lp, pp, err := side(p, pl, "p")
	if err != nil {
		return err
	}
	lq, qq, err := side(q, ql, "q")
	if err != nil {
		return err
	}
	if len(lp) != len(lq) {
		return usagef("P has %d outcomes (--p/--p-logits) but Q has %d (--q/--q-logits): lengths differ", len(lp), len(lq))
	}
	// All measures from log-probabilities (the logits forms accept −Inf as probability 0).
	klpq, err1 := kl.KLLogits(lp, lq)
	klqp, err2 := kl.ReverseKLLogits(lp, lq)
	js, err3 := kl.JSLogits(lp, lq)
	hp, err4 := kl.EntropyLogits(lp)
	hq, err5 := kl.EntropyLogits(lq)
	hpq, err6 := kl.CrossEntropyLogits(lp, lq)
	hqp, err7 := kl.CrossEntropyLogits(lq, lp)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return err // cannot happen after the checks above
	}
	if f.json {
		o := &klCmdObj{}
		o.add("kind", "categorical").add("p", klCmdJSONList(pp)).add("q", klCmdJSONList(qq))
		o.add("kl_pq", jsonFloat(klpq)).add("kl_qp", jsonFloat(klqp)).add("js", jsonFloat(js))
		o.add("entropy_p", jsonFloat(hp)).add("entropy_q", jsonFloat(hq))
		o.add("cross_entropy_pq", jsonFloat(hpq)).add("cross_entropy_qp", jsonFloat(hqp))
		o.add("smooth", *smooth).add("unit", "nats")
		return klCmdWriteJSON(stdout, o)
	}
	w := stdout
	fmt.Fprintf(w, "P = %s\nQ = %s\n", klCmdVec(pp), klCmdVec(qq))
	if *smooth > 0 {
		fmt.Fprintf(w, "(both smoothed: (x + %g) / Σ(x + %g))\n", *smooth, *smooth)
	}
	unit := "nats"
	if f.bits {
		unit = "bits"
	}
	klCmdLine(w, "KL(P‖Q)", klpq, f.bits, klCmdCatReading(klpq, lp, lq, "P", "Q", unit))
	klCmdLine(w, "KL(Q‖P)", klqp, f.bits, klCmdCatReading(klqp, lq, lp, "Q", "P", unit))
	klCmdLine(w, "JS(P,Q)", js, f.bits, "symmetric, always finite: mean KL of P and Q to their average M; at most ln 2 = 1 bit")
	klCmdLine(w, "H(P)", hp, f.bits, "average "+unit+" per symbol of P with the best code for P")
	klCmdLine(w, "H(P,Q)", hpq, f.bits, "average "+unit+" per symbol of P with a code built for Q = H(P) + KL(P‖Q)")
	return nil
}

// klCmdCatReading explains a categorical KL(A‖B), naming the first outcome that makes it infinite.
func klCmdCatReading(v float64, la, lb []float64, a, b, unit string) string {
	if math.IsInf(v, 1) {
		for i := range la {
			if !math.IsInf(la[i], -1) && math.IsInf(lb[i], -1) {
				return fmt.Sprintf("%s gives zero probability to outcome %d where %s doesn't → infinite", b, i, a)
			}
		}
		return b + " gives zero probability where " + a + " doesn't → infinite"
	}
	if v == 0 {
		return "0: " + a + " and " + b + " are the same distribution"
	}
	return "extra " + unit + " per symbol when coding " + a + " with a code built for " + b
}

func klCmdLogs(p []float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.Log(v) // −Inf for 0
	}
	return out
}

func klCmdExps(l []float64) []float64 {
	out := make([]float64, len(l))
	for i, v := range l {
		out[i] = math.Exp(v)
	}
	return out
}

func klCmdVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 6, 64)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// klCmdBoth prints or encodes the two directions of a closed-form divergence.
func klCmdBoth(w io.Writer, f *klCmdFlags, kind, pDesc, qDesc string, params *klCmdObj, pq, qp float64, extra func(io.Writer)) error {
	if f.json {
		o := &klCmdObj{}
		o.add("kind", kind)
		o.keys, o.vals = append(o.keys, params.keys...), append(o.vals, params.vals...)
		o.add("kl_pq", jsonFloat(pq)).add("kl_qp", jsonFloat(qp)).add("unit", "nats")
		return klCmdWriteJSON(w, o)
	}
	fmt.Fprintf(w, "P = %s\nQ = %s\n", pDesc, qDesc)
	unit := "nats"
	if f.bits {
		unit = "bits"
	}
	reading := func(v float64, a, b string) string {
		if math.IsInf(v, 1) {
			return b + " gives zero probability where " + a + " doesn't → infinite"
		}
		if v == 0 {
			return "0: the two are the same distribution"
		}
		return "average ln(" + strings.ToLower(a) + "(x)/" + strings.ToLower(b) + "(x)) over x ~ " + a + ": " + unit + " of evidence per sample that it came from " + a + ", not " + b
	}
	klCmdLine(w, "KL(P‖Q)", pq, f.bits, reading(pq, "P", "Q"))
	klCmdLine(w, "KL(Q‖P)", qp, f.bits, reading(qp, "Q", "P"))
	if extra != nil {
		extra(w)
	}
	return nil
}

// klCmdPair computes both directions, mapping errors to flags.
func klCmdPair(f *klCmdFlags, pq func() (float64, error), qp func() (float64, error)) (float64, float64, error) {
	a, err := pq()
	if err != nil {
		return 0, 0, f.argError(err)
	}
	b, err := qp()
	if err != nil {
		return 0, 0, f.argError(err)
	}
	return a, b, nil
}

func klCmdG(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// ---- normal ----

func klCmdNormal(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl normal", "--mu-p M --sigma-p S --mu-q M --sigma-q S [--plot FILE.png] [--no-chart] [--bits] [--json]", stderr)
	muP, sP := f.num("mu-p", "mean of P"), f.num("sigma-p", "standard deviation of P (> 0)")
	muQ, sQ := f.num("mu-q", "mean of Q"), f.num("sigma-q", "standard deviation of Q (> 0)")
	plotFile := f.fs.String("plot", "", "also write a PNG chart of the two densities to this file")
	noChart := f.fs.Bool("no-chart", false, "omit the terminal chart")
	if err := f.parse(args); err != nil {
		return err
	}
	p, q := kl.Normal{Mu: muP.v, Sigma: sP.v}, kl.Normal{Mu: muQ.v, Sigma: sQ.v}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) { return q.KL(p) })
	if err != nil {
		return err
	}
	if *plotFile != "" {
		if err := klCmdNormalPNG(*plotFile, p, q, pq, qp); err != nil {
			return err
		}
	}
	params := (&klCmdObj{}).add("mu_p", p.Mu).add("sigma_p", p.Sigma).add("mu_q", q.Mu).add("sigma_q", q.Sigma)
	var extra func(io.Writer)
	if !*noChart {
		extra = func(w io.Writer) {
			fmt.Fprintln(w)
			klCmdChart(w, p, q, 60, 15)
		}
	}
	if err := klCmdBoth(stdout, f, "normal", klCmdNormalDesc(p), klCmdNormalDesc(q), params, pq, qp, extra); err != nil {
		return err
	}
	if *plotFile != "" && !f.json {
		fmt.Fprintf(stdout, "wrote %s\n", *plotFile)
	}
	return nil
}

func klCmdNormalDesc(n kl.Normal) string {
	return "N(μ=" + klCmdG(n.Mu) + ", σ=" + klCmdG(n.Sigma) + ")"
}

// klCmdChart draws the densities of p ('*') and q ('o'; '#' where they coincide) as text:
// width columns × height rows above an x axis (density 0) with five labels, and a y axis.
func klCmdChart(w io.Writer, p, q kl.Normal, width, height int) {
	lo, hi := klCmdRange(p, q)
	xAt := func(j int) float64 { return lo + (float64(j)+0.5)*(hi-lo)/float64(width) }
	ymax := math.Max(1/(p.Sigma*math.Sqrt(2*math.Pi)), 1/(q.Sigma*math.Sqrt(2*math.Pi)))
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
	fmt.Fprintf(w, "density   * P = %s   o Q = %s   # both\n", klCmdNormalDesc(p), klCmdNormalDesc(q))
	for i, row := range grid {
		label := ""
		if i == 0 || i == height/2 {
			label = strconv.FormatFloat(ymax*float64(height-i)/float64(height), 'f', 3, 64)
		}
		fmt.Fprintf(w, "%7s |%s\n", label, strings.TrimRight(string(row), " "))
	}
	fmt.Fprintf(w, "%7s +%s\n", "0", strings.Repeat("-", width))
	const indent = 8 // the column of the axis line
	axis := bytes.Repeat([]byte{' '}, indent+width+8)
	for k := 0; k <= 4; k++ {
		j := k * width / 4
		s := strconv.FormatFloat(lo+float64(k)*(hi-lo)/4, 'g', 4, 64)
		start := min(max(indent+j-len(s)/2, 0), len(axis)-len(s))
		copy(axis[start:], s)
	}
	fmt.Fprintf(w, "%s\n%*s\n", strings.TrimRight(string(axis), " "), indent+width/2+1, "x")
}

// klCmdRange returns a plotting range covering μ ± 4σ of both normals, widened to multiples of
// a round step so the axis labels are short.
func klCmdRange(p, q kl.Normal) (lo, hi float64) {
	lo = math.Min(p.Mu-4*p.Sigma, q.Mu-4*q.Sigma)
	hi = math.Max(p.Mu+4*p.Sigma, q.Mu+4*q.Sigma)
	step := math.Pow(10, math.Floor(math.Log10((hi-lo)/4))) / 2
	return math.Floor(lo/step) * step, math.Ceil(hi/step) * step
}

// klCmdNormalPNG writes the two densities as a PNG chart with gonum/plot.
func klCmdNormalPNG(path string, p, q kl.Normal, pq, qp float64) error {
	pl := plot.New()
	pl.Title.Text = fmt.Sprintf("KL(P||Q) = %s nats,  KL(Q||P) = %s nats", klCmdG(pq), klCmdG(qp))
	pl.X.Label.Text = "x"
	pl.Y.Label.Text = "density"
	lo, hi := klCmdRange(p, q)
	for i, n := range []kl.Normal{p, q} {
		n := n
		fn := plotter.NewFunction(func(x float64) float64 { return math.Exp(n.LogProb(x)) })
		fn.XMin, fn.XMax, fn.Samples = lo, hi, 400
		fn.Width = vg.Points(2)
		if i == 0 {
			fn.Color = plotter.DefaultLineStyle.Color
			pl.Legend.Add("P = "+klCmdNormalDesc(n), fn)
		} else {
			fn.Color = klCmdOrange
			fn.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			pl.Legend.Add("Q = "+klCmdNormalDesc(n), fn)
		}
		pl.Add(fn)
	}
	pl.X.Min, pl.X.Max = lo, hi
	pl.Y.Min = 0
	pl.Y.Max = 1.3 * math.Max(1/(p.Sigma*math.Sqrt(2*math.Pi)), 1/(q.Sigma*math.Sqrt(2*math.Pi)))
	pl.Legend.Top = true
	pl.Legend.Left = true
	if err := pl.Save(6*vg.Inch, 3.2*vg.Inch, path); err != nil {
		return fmt.Errorf("writing --plot %s: %w", path, err)
	}
	return nil
}

var klCmdOrange = color.RGBA{R: 230, G: 120, B: 20, A: 255}

// ---- diagonal Gaussian and VAE ----

func klCmdDiagNormal(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl diag-normal", "--mu-p a,b,.. (--sigma-p a,b,.. | --log-sigma-p a,b,..) --mu-q a,b,.. (--sigma-q .. | --log-sigma-q ..) [--bits] [--json]", stderr)
	muP, muQ := f.list("mu-p", "means of P, one per dimension", true), f.list("mu-q", "means of Q", false)
	sP, sQ := f.list("sigma-p", "standard deviations of P (> 0)", false), f.list("sigma-q", "standard deviations of Q (> 0)", false)
	lsP, lsQ := f.list("log-sigma-p", "log standard deviations of P, instead of --sigma-p", false), f.list("log-sigma-q", "log standard deviations of Q, instead of --sigma-q", false)
	if err := f.parse(args); err != nil {
		return err
	}
	if len(*muQ) == 0 {
		return usagef("missing --mu-q (run 'klppo kl diag-normal -h')")
	}
	mk := func(mu, s, ls *floatList, side string) (kl.DiagNormal, error) {
		d := kl.DiagNormal{Mu: *mu}
		switch {
		case len(*s) > 0 && len(*ls) > 0:
			return d, usagef("--sigma-%s %s and --log-sigma-%s %s: give only one of them", side, s, side, ls)
		case len(*s) > 0:
			d.Sigma = *s
		case len(*ls) > 0:
			d.LogSigma = *ls
		default:
			return d, usagef("missing --sigma-%s or --log-sigma-%s", side, side)
		}
		return d, nil
	}
	p, err := mk(muP, sP, lsP, "p")
	if err != nil {
		return err
	}
	q, err := mk(muQ, sQ, lsQ, "q")
	if err != nil {
		return err
	}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) { return q.KL(p) })
	if err != nil {
		return err
	}
	params := (&klCmdObj{}).add("mu_p", []float64(*muP)).add("mu_q", []float64(*muQ))
	for _, x := range []struct {
		name string
		v    *floatList
	}{{"sigma_p", sP}, {"log_sigma_p", lsP}, {"sigma_q", sQ}, {"log_sigma_q", lsQ}} {
		if len(*x.v) > 0 {
			params.add(x.name, []float64(*x.v))
		}
	}
	desc := func(d kl.DiagNormal) string {
		if d.Sigma != nil {
			return "N(μ=" + klCmdVec(d.Mu) + ", σ=" + klCmdVec(d.Sigma) + ")"
		}
		return "N(μ=" + klCmdVec(d.Mu) + ", log σ=" + klCmdVec(d.LogSigma) + ")"
	}
	return klCmdBoth(stdout, f, "diag_normal", desc(p), desc(q), params, pq, qp, nil)
}

func klCmdVAE(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl vae", "--mu a,b,.. --logvar a,b,.. [--bits] [--json]", stderr)
	mu := f.list("mu", "encoder means μ, one per latent dimension", true)
	lv := f.list("logvar", "encoder log-variances log σ²", true)
	if err := f.parse(args); err != nil {
		return err
	}
	pq, err := kl.VAEPriorKL(*mu, *lv)
	if err != nil {
		return f.argError(err)
	}
	// The reverse, KL(N(0,I)‖N(μ,σ²)), as a diagonal-Gaussian KL with log σ = logvar/2.
	ls := make([]float64, len(*lv))
	for i, v := range *lv {
		ls[i] = v / 2
	}
	zero, zeroLS := make([]float64, len(*mu)), make([]float64, len(*mu))
	qp, err := kl.DiagNormal{Mu: zero, LogSigma: zeroLS}.KL(kl.DiagNormal{Mu: *mu, LogSigma: ls})
	if err != nil {
		return f.argError(err)
	}
	params := (&klCmdObj{}).add("mu", []float64(*mu)).add("logvar", []float64(*lv))
	return klCmdBoth(stdout, f, "vae_standard_normal",
		"N(μ="+klCmdVec(*mu)+", log σ²="+klCmdVec(*lv)+")  (the encoder's posterior)",
		"N(0, I)  (the prior)", params, pq, qp, func(w io.Writer) {
			fmt.Fprintln(w, "KL(P‖Q) is the VAE loss's prior term: −½ Σ (1 + log σ² − μ² − σ²)")
		})
}

// ---- one-parameter and two-parameter families ----

func klCmdBernoulli(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl bernoulli", "--p A --q B [--bits] [--json]", stderr)
	a := f.num("p", "P's probability of 1, in [0, 1]")
	b := f.num("q", "Q's probability of 1, in [0, 1]")
	if err := f.parse(args); err != nil {
		return err
	}
	p, q := kl.Bernoulli{P: a.v}, kl.Bernoulli{P: b.v}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) { return q.KL(p) })
	if err != nil {
		return err
	}
	js, err := kl.JS([]float64{a.v, 1 - a.v}, []float64{b.v, 1 - b.v})
	if err != nil {
		return f.argError(err)
	}
	if f.json {
		o := (&klCmdObj{}).add("kind", "bernoulli").add("p", a.v).add("q", b.v)
		o.add("kl_pq", jsonFloat(pq)).add("kl_qp", jsonFloat(qp)).add("js", jsonFloat(js)).add("unit", "nats")
		return klCmdWriteJSON(stdout, o)
	}
	return klCmdBoth(stdout, f, "bernoulli", "Bernoulli("+klCmdG(a.v)+")", "Bernoulli("+klCmdG(b.v)+")", nil, pq, qp,
		func(w io.Writer) {
			klCmdLine(w, "JS(P,Q)", js, f.bits, "symmetric, always finite, at most ln 2 = 1 bit")
		})
}

func klCmdBeta(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl beta", "--alpha-p A --beta-p B --alpha-q A --beta-q B [--bits] [--json]", stderr)
	ap, bp := f.num("alpha-p", "α of P (> 0)"), f.num("beta-p", "β of P (> 0)")
	aq, bq := f.num("alpha-q", "α of Q (> 0)"), f.num("beta-q", "β of Q (> 0)")
	if err := f.parse(args); err != nil {
		return err
	}
	p, q := kl.Beta{Alpha: ap.v, Beta: bp.v}, kl.Beta{Alpha: aq.v, Beta: bq.v}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) { return q.KL(p) })
	if err != nil {
		return err
	}
	params := (&klCmdObj{}).add("alpha_p", ap.v).add("beta_p", bp.v).add("alpha_q", aq.v).add("beta_q", bq.v)
	return klCmdBoth(stdout, f, "beta", "Beta("+klCmdG(ap.v)+", "+klCmdG(bp.v)+")", "Beta("+klCmdG(aq.v)+", "+klCmdG(bq.v)+")", params, pq, qp, nil)
}

func klCmdDirichlet(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl dirichlet", "--alpha-p a,b,.. --alpha-q a,b,.. [--bits] [--json]", stderr)
	ap := f.list("alpha-p", "concentrations of P (each > 0, at least two)", true)
	aq := f.list("alpha-q", "concentrations of Q", true)
	if err := f.parse(args); err != nil {
		return err
	}
	p, q := kl.Dirichlet{Alpha: *ap}, kl.Dirichlet{Alpha: *aq}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) {
		// Errors were reported for the forward call; the reverse only swaps the roles.
		return q.KL(p)
	})
	if err != nil {
		return err
	}
	params := (&klCmdObj{}).add("alpha_p", []float64(*ap)).add("alpha_q", []float64(*aq))
	return klCmdBoth(stdout, f, "dirichlet", "Dirichlet"+klCmdVec(*ap), "Dirichlet"+klCmdVec(*aq), params, pq, qp, nil)
}

// klCmdRates handles the two one-rate families.
func klCmdRates(args []string, stdout, stderr io.Writer, path, kind, name string, div func(a, b float64) (float64, error)) error {
	f := klCmdNewFlags(path, "--rate-p R --rate-q R [--bits] [--json]", stderr)
	rp, rq := f.num("rate-p", "rate of P (> 0)"), f.num("rate-q", "rate of Q (> 0)")
	if err := f.parse(args); err != nil {
		return err
	}
	pq, err := div(rp.v, rq.v)
	if err != nil {
		return f.argError(err)
	}
	qp, err := div(rq.v, rp.v)
	if err != nil {
		return f.argError(err)
	}
	params := (&klCmdObj{}).add("rate_p", rp.v).add("rate_q", rq.v)
	return klCmdBoth(stdout, f, kind, name+"(rate "+klCmdG(rp.v)+")", name+"(rate "+klCmdG(rq.v)+")", params, pq, qp, nil)
}

func klCmdPoisson(args []string, stdout, stderr io.Writer) error {
	return klCmdRates(args, stdout, stderr, "kl poisson", "poisson", "Poisson", func(a, b float64) (float64, error) {
		return kl.Poisson{Rate: a}.KL(kl.Poisson{Rate: b})
	})
}

func klCmdExponential(args []string, stdout, stderr io.Writer) error {
	return klCmdRates(args, stdout, stderr, "kl exponential", "exponential", "Exponential", func(a, b float64) (float64, error) {
		return kl.Exponential{Rate: a}.KL(kl.Exponential{Rate: b})
	})
}

func klCmdGamma(args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl gamma", "--shape-p K --rate-p R --shape-q K --rate-q R [--bits] [--json]", stderr)
	kp, rp := f.num("shape-p", "shape k of P (> 0)"), f.num("rate-p", "rate θ of P (> 0; mean k/θ)")
	kq, rq := f.num("shape-q", "shape k of Q (> 0)"), f.num("rate-q", "rate θ of Q (> 0)")
	if err := f.parse(args); err != nil {
		return err
	}
	p, q := kl.Gamma{Shape: kp.v, Rate: rp.v}, kl.Gamma{Shape: kq.v, Rate: rq.v}
	pq, qp, err := klCmdPair(f, func() (float64, error) { return p.KL(q) }, func() (float64, error) { return q.KL(p) })
	if err != nil {
		return err
	}
	params := (&klCmdObj{}).add("shape_p", kp.v).add("rate_p", rp.v).add("shape_q", kq.v).add("rate_q", rq.v)
	return klCmdBoth(stdout, f, "gamma", "Gamma(shape "+klCmdG(kp.v)+", rate "+klCmdG(rp.v)+")", "Gamma(shape "+klCmdG(kq.v)+", rate "+klCmdG(rq.v)+")", params, pq, qp, nil)
}
