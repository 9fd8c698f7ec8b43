package main

// The `klppo kl <kind>` commands: one table (klSubs) of thin layers over package kl. Each row
// declares its flags and a compute function that turns the parsed values into kl's
// distributions and measures; one runner parses, computes and prints both directions of the
// divergence with a one-line reading of each (klExplain), or with --json one JSON object in nats.
//
// Vector flags take comma- and/or space-separated numbers, @FILE (a file of such numbers) or
// - (standard input), so that long vectors need not fit on a command line.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg/draw"

	"klppo/experiments"
	"klppo/kl"
)

// klSub is one row of the command table: `klppo kl <name>`.
type klSub struct {
	name     string      // the word after "kl"
	kind     string      // the JSON "kind"
	summary  string      // one line for `klppo help`
	synopsis string      // the flags, for -h
	flags    []klFlagDef // the command's flags, besides --json and --bits
	oneOf    [][2]string // pairs of flags of which exactly one must be given
	// coding selects the reading of a finite KL: "extra bits per symbol when coding …" for
	// discrete distributions, "evidence per sample" otherwise.
	coding  bool
	compute func(in *klIn) (*klOut, error)
}

// klFlagKind says what a flag holds.
type klFlagKind int

const (
	klNum  klFlagKind = iota // one number, required
	klOpt                    // one number, optional, default 0
	klVec                    // a vector: "a,b,..", "a b ..", @FILE or -
	klStr                    // a string
	klBool                   // a switch
)

// klFlagDef declares one flag of a klSub.
type klFlagDef struct {
	name     string // the flag without dashes, e.g. "mu-p"; kl's argument mu_p maps to it
	kind     klFlagKind
	usage    string
	required bool // for klVec (klNum is always required)
}

// klIn holds the parsed flags of one invocation.
type klIn struct {
	num map[string]float64   // klNum and klOpt flags
	vec map[string][]float64 // the vectors given (absent: not given)
	str map[string]string
	on  map[string]bool
}

// given reports whether the vector flag name was given.
func (in *klIn) given(name string) bool { _, ok := in.vec[name]; return ok }

// klMeasure is a further value printed after the two KLs (JS, entropies), or only in JSON.
type klMeasure struct {
	label, key string // text label ("" = JSON only) and JSON key
	v          float64
	reading    string
}

// klOut is what a compute function returns: the distributions described, the two directions of
// the divergence and what the readings need to know to say what happened.
type klOut struct {
	p, q         string    // descriptions of P and Q
	params       *klCmdObj // JSON fields between "kind" and "kl_pq"
	pq, qp       float64   // KL(P‖Q), KL(Q‖P) in nats
	same         bool      // P and Q have the same parameters (so a 0 means equality)
	gapPQ, gapQP string    // the outcome that makes KL(P‖Q) (KL(Q‖P)) infinite, e.g. "outcome 1"; "" if none
	notes        []string  // text lines before the measures
	more         []klMeasure
	tail         *klCmdObj               // JSON fields after the measures
	after        []string                // text lines after the measures
	chart        func(w io.Writer) error // drawn last in text mode
	wrote        []string                // files written, reported in text mode
}

var klSubs = []klSub{
	{
		name:     "categorical",
		kind:     "categorical",
		summary:  "KL(P‖Q), KL(Q‖P), JS, H(P), H(P,Q) of two categorical distributions (probabilities or logits)",
		synopsis: "(--p a,b,.. | --p-logits a,b,..) (--q a,b,.. | --q-logits a,b,..) [--smooth EPS] [--normalize] [--bits] [--json]",
		flags: []klFlagDef{
			{name: "p", kind: klVec, usage: "probabilities of P, comma-separated (must sum to 1 within 1e-6 unless --normalize)"},
			{name: "q", kind: klVec, usage: "probabilities of Q, comma-separated"},
			{name: "p-logits", kind: klVec, usage: "logits of P instead of --p (P = softmax of them; -Inf allowed: probability 0)"},
			{name: "q-logits", kind: klVec, usage: "logits of Q instead of --q"},
			{name: "smooth", kind: klOpt, usage: "additive smoothing ε > 0 applied to P and Q, then renormalised (makes KL finite where Q has zeros); 0 = none"},
			{name: "normalize", kind: klBool, usage: "divide --p and --q by their sums (they may then be any non-negative weights)"},
		},
		oneOf:   [][2]string{{"p", "p-logits"}, {"q", "q-logits"}},
		coding:  true,
		compute: klCategorical,
	},
	{
		name:     "normal",
		kind:     "normal",
		summary:  "KL between two univariate normals, both ways, with a terminal (and optional PNG) chart",
		synopsis: "--mu-p M --sigma-p S --mu-q M --sigma-q S [--plot FILE.png] [--no-chart] [--bits] [--json]",
		flags: []klFlagDef{
			{name: "mu-p", kind: klNum, usage: "mean of P"}, {name: "sigma-p", kind: klNum, usage: "standard deviation of P (> 0)"},
			{name: "mu-q", kind: klNum, usage: "mean of Q"}, {name: "sigma-q", kind: klNum, usage: "standard deviation of Q (> 0)"},
			{name: "plot", kind: klStr, usage: "also write a PNG chart of the two densities to this file"},
			{name: "no-chart", kind: klBool, usage: "omit the terminal chart"},
		},
		compute: klNormal,
	},
	{
		name:     "diag-normal",
		kind:     "diag_normal",
		summary:  "KL between two diagonal Gaussians (σ or log σ per dimension)",
		synopsis: "--mu-p a,b,.. (--sigma-p a,b,.. | --log-sigma-p a,b,..) --mu-q a,b,.. (--sigma-q .. | --log-sigma-q ..) [--bits] [--json]",
		flags: []klFlagDef{
			{name: "mu-p", kind: klVec, usage: "means of P, one per dimension", required: true},
			{name: "mu-q", kind: klVec, usage: "means of Q", required: true},
			{name: "sigma-p", kind: klVec, usage: "standard deviations of P (> 0)"},
			{name: "sigma-q", kind: klVec, usage: "standard deviations of Q (> 0)"},
			{name: "log-sigma-p", kind: klVec, usage: "log standard deviations of P, instead of --sigma-p"},
			{name: "log-sigma-q", kind: klVec, usage: "log standard deviations of Q, instead of --sigma-q"},
		},
		oneOf:   [][2]string{{"sigma-p", "log-sigma-p"}, {"sigma-q", "log-sigma-q"}},
		compute: klDiagNormal,
	},
	{
		name:     "vae",
		kind:     "vae_standard_normal",
		summary:  "the VAE prior term KL(N(μ, σ²)‖N(0, I)) from --mu and --logvar",
		synopsis: "--mu a,b,.. --logvar a,b,.. [--bits] [--json]",
		flags: []klFlagDef{
			{name: "mu", kind: klVec, usage: "encoder means μ, one per latent dimension", required: true},
			{name: "logvar", kind: klVec, usage: "encoder log-variances log σ²", required: true},
		},
		compute: klVAE,
	},
	{
		name:     "bernoulli",
		kind:     "bernoulli",
		summary:  "KL between two Bernoulli distributions (coins)",
		synopsis: "--p A --q B [--bits] [--json]",
		flags: []klFlagDef{
			{name: "p", kind: klNum, usage: "P's probability of 1, in [0, 1]"},
			{name: "q", kind: klNum, usage: "Q's probability of 1, in [0, 1]"},
		},
		compute: klBernoulli,
	},
	{
		name:     "beta",
		kind:     "beta",
		summary:  "KL between two Beta distributions",
		synopsis: "--alpha-p A --beta-p B --alpha-q A --beta-q B [--bits] [--json]",
		flags: []klFlagDef{
			{name: "alpha-p", kind: klNum, usage: "α of P (> 0)"}, {name: "beta-p", kind: klNum, usage: "β of P (> 0)"},
			{name: "alpha-q", kind: klNum, usage: "α of Q (> 0)"}, {name: "beta-q", kind: klNum, usage: "β of Q (> 0)"},
		},
		compute: func(in *klIn) (*klOut, error) {
			p := kl.Beta{Alpha: in.num["alpha-p"], Beta: in.num["beta-p"]}
			q := kl.Beta{Alpha: in.num["alpha-q"], Beta: in.num["beta-q"]}
			desc := func(b kl.Beta) string { return "Beta(" + klCmdG(b.Alpha) + ", " + klCmdG(b.Beta) + ")" }
			return klClosed(in, p, q, desc(p), desc(q), p == q, "alpha_p", "beta_p", "alpha_q", "beta_q")
		},
	},
	{
		name:     "dirichlet",
		kind:     "dirichlet",
		summary:  "KL between two Dirichlet distributions",
		synopsis: "--alpha-p a,b,.. --alpha-q a,b,.. [--bits] [--json]",
		flags: []klFlagDef{
			{name: "alpha-p", kind: klVec, usage: "concentrations of P (each > 0, at least two)", required: true},
			{name: "alpha-q", kind: klVec, usage: "concentrations of Q", required: true},
		},
		compute: func(in *klIn) (*klOut, error) {
			p, q := kl.Dirichlet{Alpha: in.vec["alpha-p"]}, kl.Dirichlet{Alpha: in.vec["alpha-q"]}
			return klClosed(in, p, q, "Dirichlet"+klCmdVec(p.Alpha), "Dirichlet"+klCmdVec(q.Alpha),
				slices.Equal(p.Alpha, q.Alpha), "alpha_p", "alpha_q")
		},
	},
	klRateSub("poisson", "KL between two Poisson distributions", "Poisson", func(r float64) kl.Poisson { return kl.Poisson{Rate: r} }),
	klRateSub("exponential", "KL between two exponential distributions", "Exponential", func(r float64) kl.Exponential { return kl.Exponential{Rate: r} }),
	{
		name:     "gamma",
		kind:     "gamma",
		summary:  "KL between two gamma distributions (shape, rate)",
		synopsis: "--shape-p K --rate-p R --shape-q K --rate-q R [--bits] [--json]",
		flags: []klFlagDef{
			{name: "shape-p", kind: klNum, usage: "shape k of P (> 0)"}, {name: "rate-p", kind: klNum, usage: "rate θ of P (> 0; mean k/θ)"},
			{name: "shape-q", kind: klNum, usage: "shape k of Q (> 0)"}, {name: "rate-q", kind: klNum, usage: "rate θ of Q (> 0)"},
		},
		compute: func(in *klIn) (*klOut, error) {
			p := kl.Gamma{Shape: in.num["shape-p"], Rate: in.num["rate-p"]}
			q := kl.Gamma{Shape: in.num["shape-q"], Rate: in.num["rate-q"]}
			desc := func(g kl.Gamma) string { return "Gamma(shape " + klCmdG(g.Shape) + ", rate " + klCmdG(g.Rate) + ")" }
			return klClosed(in, p, q, desc(p), desc(q), p == q, "shape_p", "rate_p", "shape_q", "rate_q")
		},
	},
}

func init() {
	for i := range klSubs {
		s := &klSubs[i]
		register("kl "+s.name, s.summary, func(args []string, stdout, stderr io.Writer) error {
			return klRun(s, args, stdout, stderr)
		})
	}
}

// ---- the runner ----

// klRun parses args for s, computes and prints.
func klRun(s *klSub, args []string, stdout, stderr io.Writer) error {
	f := klCmdNewFlags("kl "+s.name, s.synopsis, stderr)
	vals := map[string]any{} // by flag: *klCmdNum, *float64, *klVecFlag, *string or *bool
	stdinUser := ""          // the vector flag given as "-"
	for _, d := range s.flags {
		switch d.kind {
		case klNum:
			vals[d.name] = f.num(d.name, d.usage)
		case klOpt:
			vals[d.name] = f.fs.Float64(d.name, 0, d.usage)
		case klVec:
			vals[d.name] = f.vec(d.name, d.usage, d.required)
		case klStr:
			vals[d.name] = f.fs.String(d.name, "", d.usage)
		case klBool:
			vals[d.name] = f.fs.Bool(d.name, false, d.usage)
		}
	}
	if err := f.parse(args); err != nil {
		return err
	}
	for _, pair := range s.oneOf {
		a, b := f.fs.Lookup(pair[0]).Value.String(), f.fs.Lookup(pair[1]).Value.String()
		switch {
		case a != "" && b != "":
			return usagef("--%s %s and --%s %s: give only one of them", pair[0], a, pair[1], b)
		case a == "" && b == "":
			return usagef("missing --%s or --%s (run 'klppo kl %s -h')", pair[0], pair[1], s.name)
		}
	}
	for _, d := range s.flags { // in declaration order, so that errors are deterministic
		if v, ok := vals[d.name].(*klVecFlag); ok && v.raw == "-" {
			if stdinUser != "" {
				return usagef("--%s -: standard input is already read by --%s", d.name, stdinUser)
			}
			stdinUser = d.name
		}
	}
	given := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	in := &klIn{num: map[string]float64{}, vec: map[string][]float64{}, str: map[string]string{}, on: map[string]bool{}}
	for _, d := range s.flags {
		switch v := vals[d.name].(type) {
		case *klCmdNum:
			in.num[d.name] = v.v
		case *float64:
			in.num[d.name] = *v
		case *string:
			if *v == "" && given[d.name] {
				return usagef(`--%s "": empty file name (omit --%s for none)`, d.name, d.name)
			}
			in.str[d.name] = *v
		case *bool:
			in.on[d.name] = *v
		case *klVecFlag:
			if v.raw == "" {
				continue // not given
			}
			x, err := v.load(os.Stdin)
			if err != nil {
				return usagef("--%s %s: %v", d.name, v.raw, err)
			}
			in.vec[d.name] = x
		}
	}
	out, err := s.compute(in)
	if err != nil {
		return f.argError(err)
	}
	if f.json {
		return klWriteJSON(stdout, s.kind, out)
	}
	return klWriteText(stdout, s, f.bits, out)
}

// klWriteJSON prints {"kind", params…, "kl_pq", "kl_qp", measures…, tail…, "unit": "nats"}.
func klWriteJSON(w io.Writer, kind string, out *klOut) error {
	o := (&klCmdObj{}).add("kind", kind).merge(out.params)
	o.add("kl_pq", jsonFloat(out.pq)).add("kl_qp", jsonFloat(out.qp))
	for _, m := range out.more {
		o.add(m.key, jsonFloat(m.v))
	}
	o.merge(out.tail).add("unit", "nats")
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// klWriteText prints P, Q, the two KLs with their readings, the further measures, the chart.
func klWriteText(w io.Writer, s *klSub, bits bool, out *klOut) error {
	var b strings.Builder
	fmt.Fprintf(&b, "P = %s\nQ = %s\n", out.p, out.q)
	for _, n := range out.notes {
		fmt.Fprintln(&b, n)
	}
	unit := "nats"
	if bits {
		unit = "bits"
	}
	klCmdLine(&b, "KL(P‖Q)", out.pq, bits, klExplain(s.coding, out.pq, "P", "Q", out.gapPQ, out.same, unit))
	klCmdLine(&b, "KL(Q‖P)", out.qp, bits, klExplain(s.coding, out.qp, "Q", "P", out.gapQP, out.same, unit))
	for _, m := range out.more {
		if m.label != "" {
			klCmdLine(&b, m.label, m.v, bits, strings.ReplaceAll(m.reading, "{unit}", unit))
		}
	}
	for _, a := range out.after {
		fmt.Fprintln(&b, a)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if out.chart != nil {
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
		if err := out.chart(w); err != nil {
			return err
		}
	}
	for _, file := range out.wrote {
		if _, err := fmt.Fprintf(w, "wrote %s\n", file); err != nil {
			return err
		}
	}
	return nil
}

// klExplain is the one-line reading of v = KL(A‖B). It says what actually happened:
//   - +Inf with gap (an outcome where B is 0 and A is not): a support mismatch, infinite by
//     definition;
//   - +Inf without one: B > 0 wherever A > 0, so the exact KL is finite and the float64
//     evaluation overflowed (e.g. normals with μ = ±1e300);
//   - 0: the same distribution if the parameters are the same, else a positive value that
//     float64 rounds to 0;
//   - otherwise what the number means, for discrete (coding) or continuous distributions.
func klExplain(coding bool, v float64, a, b, gap string, same bool, unit string) string {
	switch {
	case math.IsInf(v, 1) && gap != "":
		return b + " gives zero probability to " + gap + " where " + a + " doesn't → infinite"
	case math.IsInf(v, 1):
		return "overflow: the exact value is finite (" + b + " > 0 wherever " + a + " > 0) but float64 overflowed evaluating it"
	case v == 0 && same:
		if coding {
			return "0: " + a + " and " + b + " are the same distribution"
		}
		return "0: the two are the same distribution"
	case v == 0:
		return "0 in float64 although P ≠ Q: the exact value is > 0 but too small to show"
	case coding:
		return "extra " + unit + " per symbol when coding " + a + " with a code built for " + b
	}
	return "average ln(" + strings.ToLower(a) + "(x)/" + strings.ToLower(b) + "(x)) over x ~ " + a + ": " + unit + " of evidence per sample that it came from " + a + ", not " + b
}

// ---- the compute functions ----

func klCategorical(in *klIn) (*klOut, error) {
	smooth := in.num["smooth"]
	side := func(name string) kl.CategoricalSpec {
		return kl.CategoricalSpec{Name: name, Probs: in.vec[name], Logits: in.vec[name+"-logits"], Smooth: smooth, Normalize: in.on["normalize"]}
	}
	p, q := side("p"), side("q")
	lp, lq, pp, qq, err := kl.ResolvePair(p, q)
	if err != nil {
		return nil, err
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
		return nil, err // cannot happen for resolved distributions
	}
	out := &klOut{
		p: klCmdVec(pp), q: klCmdVec(qq),
		params: (&klCmdObj{}).add("p", klCmdJSONList(pp)).add("q", klCmdJSONList(qq)),
		pq:     klpq, qp: klqp, same: slices.Equal(lp, lq),
		gapPQ: klOutcome(kl.SupportGap(p, q)), gapQP: klOutcome(kl.SupportGap(q, p)),
		more: []klMeasure{
			{"JS(P,Q)", "js", js, "symmetric, always finite: mean KL of P and Q to their average M; at most ln 2 = 1 bit"},
			{"", "entropy_p", hp, ""},
			{"", "entropy_q", hq, ""},
			{"", "cross_entropy_pq", hpq, ""},
			{"", "cross_entropy_qp", hqp, ""},
		},
		tail: (&klCmdObj{}).add("smooth", smooth),
	}
	// The text shows H(P) and H(P,Q) after JS; JSON keeps its historical key order.
	out.more[1].label, out.more[1].reading = "H(P)", "average {unit} per symbol of P with the best code for P"
	out.more[3].label, out.more[3].reading = "H(P,Q)", "average {unit} per symbol of P with a code built for Q = H(P) + KL(P‖Q)"
	if smooth > 0 {
		out.notes = append(out.notes, fmt.Sprintf("(both smoothed: (x + %g) / Σ(x + %g))", smooth, smooth))
	}
	return out, nil
}

// klOutcome names outcome i for a reading, or "" for i < 0 (no support gap).
func klOutcome(i int) string {
	if i < 0 {
		return ""
	}
	return "outcome " + strconv.Itoa(i)
}

func klNormal(in *klIn) (*klOut, error) {
	if file := in.str["plot"]; file != "" {
		// checked before anything is computed or created (the chart writer creates the file first)
		ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(file)), ".")
		if formats := draw.Formats(); !slices.Contains(formats, ext) {
			return nil, usagef("--plot %s: unknown image format %q (taken from the extension; known: %s)", file, ext, strings.Join(formats, ", "))
		}
	}
	p := kl.Normal{Mu: in.num["mu-p"], Sigma: in.num["sigma-p"]}
	q := kl.Normal{Mu: in.num["mu-q"], Sigma: in.num["sigma-q"]}
	desc := func(n kl.Normal) string { return "N(μ=" + klCmdG(n.Mu) + ", σ=" + klCmdG(n.Sigma) + ")" }
	out, err := klClosed(in, p, q, desc(p), desc(q), p == q, "mu_p", "sigma_p", "mu_q", "sigma_q")
	if err != nil {
		return nil, err
	}
	if file := in.str["plot"]; file != "" {
		if err := experiments.NormalsPNG(file, p, q, out.p, out.q, out.pq, out.qp); err != nil {
			return nil, fmt.Errorf("--plot %s: %w", file, err)
		}
		out.wrote = append(out.wrote, file)
	}
	if !in.on["no-chart"] {
		out.chart = func(w io.Writer) error { return experiments.NormalsText(w, p, q, out.p, out.q, 60, 15) }
	}
	return out, nil
}

// klClosed computes both directions of a closed form. params names the JSON fields, in the
// order of the flags (kl's argument names); their values are read from the flags.
func klClosed[D kl.Divergence[D]](in *klIn, p, q D, pDesc, qDesc string, same bool, params ...string) (*klOut, error) {
	pq, err := p.KL(q)
	if err != nil {
		return nil, err
	}
	qp, err := q.KL(p)
	if err != nil {
		return nil, err
	}
	o := &klCmdObj{}
	for _, name := range params {
		flagName := strings.ReplaceAll(name, "_", "-")
		if v, ok := in.vec[flagName]; ok {
			o.add(name, v)
		} else {
			o.add(name, in.num[flagName])
		}
	}
	return &klOut{p: pDesc, q: qDesc, params: o, pq: pq, qp: qp, same: same}, nil
}

func klDiagNormal(in *klIn) (*klOut, error) {
	mk := func(side string) kl.DiagNormal {
		return kl.DiagNormal{Mu: in.vec["mu-"+side], Sigma: in.vec["sigma-"+side], LogSigma: in.vec["log-sigma-"+side]}
	}
	p, q := mk("p"), mk("q")
	desc := func(d kl.DiagNormal) string {
		if d.Sigma != nil {
			return "N(μ=" + klCmdVec(d.Mu) + ", σ=" + klCmdVec(d.Sigma) + ")"
		}
		return "N(μ=" + klCmdVec(d.Mu) + ", log σ=" + klCmdVec(d.LogSigma) + ")"
	}
	var params []string
	for _, name := range []string{"mu_p", "mu_q", "sigma_p", "log_sigma_p", "sigma_q", "log_sigma_q"} {
		if in.given(strings.ReplaceAll(name, "_", "-")) {
			params = append(params, name)
		}
	}
	same := slices.Equal(p.Mu, q.Mu) && slices.Equal(p.Sigma, q.Sigma) && slices.Equal(p.LogSigma, q.LogSigma)
	return klClosed(in, p, q, desc(p), desc(q), same, params...)
}

func klVAE(in *klIn) (*klOut, error) {
	mu, lv := in.vec["mu"], in.vec["logvar"]
	pq, err := kl.VAEPriorKL(mu, lv)
	if err != nil {
		return nil, err
	}
	// The reverse, KL(N(0,I)‖N(μ,σ²)), as a diagonal-Gaussian KL with log σ = logvar/2.
	ls := make([]float64, len(lv))
	for i, v := range lv {
		ls[i] = v / 2
	}
	zero := make([]float64, len(mu))
	qp, err := kl.DiagNormal{Mu: zero, LogSigma: zero}.KL(kl.DiagNormal{Mu: mu, LogSigma: ls})
	if err != nil {
		return nil, err
	}
	isZero := func(v []float64) bool { return !slices.ContainsFunc(v, func(x float64) bool { return x != 0 }) }
	return &klOut{
		p:      "N(μ=" + klCmdVec(mu) + ", log σ²=" + klCmdVec(lv) + ")  (the encoder's posterior)",
		q:      "N(0, I)  (the prior)",
		params: (&klCmdObj{}).add("mu", mu).add("logvar", lv),
		pq:     pq, qp: qp, same: isZero(mu) && isZero(lv),
		after: []string{"KL(P‖Q) is the VAE loss's prior term: −½ Σ (1 + log σ² − μ² − σ²)"},
	}, nil
}

func klBernoulli(in *klIn) (*klOut, error) {
	a, b := in.num["p"], in.num["q"]
	p, q := kl.Bernoulli{P: a}, kl.Bernoulli{P: b}
	out, err := klClosed(in, p, q, "Bernoulli("+klCmdG(a)+")", "Bernoulli("+klCmdG(b)+")", a == b, "p", "q")
	if err != nil {
		return nil, err
	}
	js, err := kl.JS([]float64{a, 1 - a}, []float64{b, 1 - b})
	if err != nil {
		return nil, err
	}
	out.more = []klMeasure{{"JS(P,Q)", "js", js, "symmetric, always finite, at most ln 2 = 1 bit"}}
	// Outcomes 0 and 1 with probabilities 1 − x and x.
	pc, qc := kl.CategoricalSpec{Probs: []float64{1 - a, a}}, kl.CategoricalSpec{Probs: []float64{1 - b, b}}
	out.gapPQ, out.gapQP = klOutcome(kl.SupportGap(pc, qc)), klOutcome(kl.SupportGap(qc, pc))
	return out, nil
}

// klRateSub is the row of a one-rate family (Poisson, exponential).
func klRateSub[D kl.Divergence[D]](name, summary, family string, mk func(rate float64) D) klSub {
	return klSub{
		name:     name,
		kind:     name,
		summary:  summary,
		synopsis: "--rate-p R --rate-q R [--bits] [--json]",
		flags: []klFlagDef{
			{name: "rate-p", kind: klNum, usage: "rate of P (> 0)"},
			{name: "rate-q", kind: klNum, usage: "rate of Q (> 0)"},
		},
		compute: func(in *klIn) (*klOut, error) {
			rp, rq := in.num["rate-p"], in.num["rate-q"]
			p, q := mk(rp), mk(rq)
			return klClosed(in, p, q, family+"(rate "+klCmdG(rp)+")", family+"(rate "+klCmdG(rq)+")", rp == rq, "rate_p", "rate_q")
		},
	}
}
