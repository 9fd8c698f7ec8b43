package main

// `klppo rlhf estimators`: where RLHF's KL(π‖π_ref) goes (reward or loss) and which estimator
// (k1, k2, k3, exact) is used, made exact on one categorical decision. A thin flag layer over
// experiments/estimators.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"klppo/experiments/estimators"
	"klppo/internal/rundir"
)

func init() {
	register("rlhf estimators", "where the KL(π‖π_ref) penalty goes and which estimator: exact expected gradients, Monte Carlo, fixed points, Schulman's table", rlhfEstimatorsCmd)
}

// rlhfEstimatorsTableSamples is the number of normal draws per row of Schulman's table by default.
const rlhfEstimatorsTableSamples = 500000

// Upper bounds of the counts that memory follows (refused before anything is allocated):
// --samples and --table-samples hold one or two float64 per draw, and the Monte Carlo keeps
// --trials estimates of each estimator's value and of every configuration's gradient (one
// float64 per arm), which rlhfEstimatorsMaxMCBytes bounds.
const (
	rlhfEstimatorsMaxSamples      = 10_000_000
	rlhfEstimatorsMaxTableSamples = 10_000_000
	rlhfEstimatorsMaxTrials       = 1_000_000
	rlhfEstimatorsMaxMCBytes      = 1 << 30
)

type rlhfEstimatorsOpts struct {
	problem        estimators.Problem
	samples        int
	trials         int
	seed           uint64
	optimise       bool
	out            string
	json           bool
	tableSamples   int
	optimiseConfig estimators.OptimiseConfig
}

// rlhfEstimatorsFlag maps a Problem field named by estimators.InputError to its flag.
var rlhfEstimatorsFlag = map[string]string{"logits": "logits", "ref_logits": "ref-logits", "reward": "reward", "beta": "beta"}

func rlhfEstimatorsParse(args []string, stderr io.Writer) (*rlhfEstimatorsOpts, error) {
	fs := newFlagSet("rlhf estimators", "[--logits a,b,..] [--ref-logits a,b,..] [--reward a,b,..] [--beta B] [--samples N] [--trials T] [--seed S] [--optimise] [--out DIR] [--json]", stderr)
	def := estimators.Default()
	defRef, defReward := floatList(def.RefLogits), floatList(def.Reward)
	var logits, refLogits, reward floatList
	fs.Var(&logits, "logits", "θ, the policy's logits π = softmax(θ), comma-separated, each within ±"+strconv.Itoa(estimators.MaxLogit)+" (default: 0 per arm of --ref-logits, i.e. π uniform)")
	fs.Var(&refLogits, "ref-logits", "θ_ref, the frozen reference's logits π_ref = softmax(θ_ref), each within ±"+strconv.Itoa(estimators.MaxLogit)+" (default "+defRef.String()+")")
	fs.Var(&reward, "reward", "r(x) per arm, each within ±1e6 (default "+defReward.String()+")")
	o := &rlhfEstimatorsOpts{}
	fs.Float64Var(&o.problem.Beta, "beta", def.Beta, "β in (0, 1e6], the weight of KL(π‖π_ref) in J = E_π[r] − β·KL(π‖π_ref)")
	fs.IntVar(&o.samples, "samples", 16, "Monte Carlo: samples x ~ π per estimate (and per step of the sampled optimiser runs); 0 skips sampling")
	fs.IntVar(&o.trials, "trials", 2000, "Monte Carlo: independent estimates over which bias and standard deviation are measured (≥ 2)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of every random draw (same seed, same output)")
	fs.BoolVar(&o.optimise, "optimise", false, "run gradient ascent with each configuration from θ to convergence and report where it ends")
	fs.StringVar(&o.out, "out", "", "with --optimise: write the chart "+estimators.ChartFile+" (KL and E[r] per iteration) into DIR")
	fs.BoolVar(&o.json, "json", false, "print one JSON object instead of the tables")
	fs.IntVar(&o.tableSamples, "table-samples", rlhfEstimatorsTableSamples, "normal draws per row of Schulman's Gaussian table (≥ 100)")
	fs.Float64Var(&o.optimiseConfig.LR, "lr", 1, "step size of the exact-gradient ascent (--optimise)")
	fs.IntVar(&o.optimiseConfig.MaxIter, "max-iter", 200000, "iteration cap of an exact-gradient ascent (--optimise)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	o.problem.Logits, o.problem.RefLogits, o.problem.Reward = def.Logits, def.RefLogits, def.Reward
	if refLogits != nil {
		o.problem.RefLogits = refLogits
	}
	if reward != nil {
		o.problem.Reward = reward
	}
	switch {
	case logits != nil:
		o.problem.Logits = logits
	case refLogits != nil || reward != nil: // uniform start, as many arms as the reference
		o.problem.Logits = make([]float64, len(o.problem.RefLogits))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// shown names a vector flag with its value, or with "(default …)" when it was not given
	shown := func(name string, v []float64) string {
		if given[name] {
			l := floatList(v)
			return "--" + name + " " + l.String()
		}
		l := floatList(v)
		return "--" + name + " (default " + l.String() + ")"
	}
	if err := o.problem.Validate(); err != nil {
		var ie *estimators.InputError
		if errors.As(err, &ie) {
			name := rlhfEstimatorsFlag[ie.Field]
			vec := map[string][]float64{"logits": o.problem.Logits, "ref-logits": o.problem.RefLogits, "reward": o.problem.Reward}
			n := len(o.problem.Logits)
			if ie.Field != "beta" && len(vec[name]) >= 2 && len(vec[name]) != n {
				// a length mismatch with θ, whose length is --logits' or, for the uniform
				// start, --ref-logits': lead with the flag the user gave
				ref := "logits"
				if !given["logits"] {
					ref = "ref-logits"
				}
				if given[ref] && !given[name] {
					name, ref = ref, name
				}
				return nil, usagef("%s: %d values, but %s has %d", shown(name, vec[name]), len(vec[name]), shown(ref, vec[ref]), len(vec[ref]))
			}
			if name == "logits" && logits == nil { // the uniform start copied --ref-logits' length
				name = "ref-logits"
			}
			if name == "beta" {
				return nil, usagef("--beta %g: %s", o.problem.Beta, ie.Reason)
			}
			return nil, usagef("%s: %s", shown(name, vec[name]), ie.Reason)
		}
		return nil, err
	}
	arms := len(o.problem.Logits)
	mcBytes := 8 * float64(o.trials) * float64(3+len(estimators.Configs)*arms)
	switch {
	case o.samples < 0 || o.samples > rlhfEstimatorsMaxSamples:
		return nil, usagef("--samples %d: must be in [0, %d]", o.samples, rlhfEstimatorsMaxSamples)
	case o.samples > 0 && (o.trials < 2 || o.trials > rlhfEstimatorsMaxTrials):
		return nil, usagef("--trials %d: must be in [2, %d]", o.trials, rlhfEstimatorsMaxTrials)
	case o.samples > 0 && mcBytes > rlhfEstimatorsMaxMCBytes:
		return nil, usagef("--trials %d: %d trials × %d arms need %.1f GiB for the Monte Carlo estimates (at most %d GiB)",
			o.trials, o.trials, arms, mcBytes/(1<<30), rlhfEstimatorsMaxMCBytes>>30)
	case o.tableSamples < 100 || o.tableSamples > rlhfEstimatorsMaxTableSamples:
		return nil, usagef("--table-samples %d: must be in [100, %d]", o.tableSamples, rlhfEstimatorsMaxTableSamples)
	case given["out"] && o.out == "":
		return nil, usagef(`--out "": empty directory name (omit --out for no chart)`)
	case o.out != "" && !o.optimise:
		return nil, usagef("--out %s: the chart comes from --optimise; add --optimise", o.out)
	case !(o.optimiseConfig.LR > 0):
		return nil, usagef("--lr %g: must be > 0", o.optimiseConfig.LR)
	case o.optimiseConfig.MaxIter < 1:
		return nil, usagef("--max-iter %d: must be ≥ 1", o.optimiseConfig.MaxIter)
	}
	o.optimiseConfig.Samples, o.optimiseConfig.Seed = o.samples, o.seed
	return o, nil
}

// rlhfEstimatorsReport is everything one invocation computes; its JSON form is the --json output.
type rlhfEstimatorsReport struct {
	ex   *estimators.Exact
	mc   *estimators.MonteCarloResult
	runs []estimators.Run
	tab  []estimators.SchulmanRow
}

func rlhfEstimatorsCmd(args []string, stdout, stderr io.Writer) error {
	o, err := rlhfEstimatorsParse(args, stderr)
	if err != nil {
		return err
	}
	rep := &rlhfEstimatorsReport{}
	if rep.ex, err = estimators.Analyse(o.problem); err != nil {
		return err
	}
	if o.samples > 0 {
		if rep.mc, err = estimators.MonteCarlo(o.problem, rep.ex, o.samples, o.trials, o.seed); err != nil {
			return err
		}
	}
	if o.optimise {
		if rep.runs, err = estimators.Optimise(o.problem, o.optimiseConfig); err != nil {
			return err
		}
		if o.out != "" {
			if err := os.MkdirAll(o.out, 0o755); err != nil {
				return fmt.Errorf("--out %s: %w", o.out, err)
			}
			if err := rundir.WriteKind(o.out, rundir.KindEstimators); err != nil {
				return fmt.Errorf("--out %s: %w", o.out, err)
			}
			if err := estimators.WriteChart(filepath.Join(o.out, estimators.ChartFile), o.problem, rep.runs); err != nil {
				return fmt.Errorf("--out %s: %w", o.out, err)
			}
		}
	}
	if rep.tab, err = estimators.SchulmanTable(o.tableSamples, o.seed); err != nil {
		return err
	}
	if o.json {
		b, err := json.Marshal(rep.jsonObject(o))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	return rep.writeText(stdout, o)
}

// ---- JSON ----

type rlhfJSONConfig struct {
	Grad      []jsonFloat `json:"grad"`
	Cosine    jsonFloat   `json:"cosine"`
	NormRatio jsonFloat   `json:"norm_ratio"`
	Follows   string      `json:"follows"`
	Verdict   string      `json:"verdict"`
}

type rlhfJSONValue struct {
	Mean    jsonFloat `json:"mean"`
	SE      jsonFloat `json:"se"`
	BiasRel jsonFloat `json:"bias_rel"`
	StdRel  jsonFloat `json:"std_rel"`
	NegFrac jsonFloat `json:"negative_fraction"`
}

type rlhfJSONGrad struct {
	Mean    []jsonFloat `json:"mean"`
	SE      []jsonFloat `json:"se"`
	MaxZ    jsonFloat   `json:"max_z_vs_exact"`
	BiasRel jsonFloat   `json:"bias_rel_true"`
	StdRel  jsonFloat   `json:"std_rel_true"`
}

type rlhfJSONMC struct {
	Samples int                      `json:"samples"`
	Trials  int                      `json:"trials"`
	Seed    uint64                   `json:"seed"`
	Values  map[string]rlhfJSONValue `json:"values"`
	Grads   map[string]rlhfJSONGrad  `json:"grads"`
}

type rlhfJSONRun struct {
	Config     string      `json:"config"`
	Sampled    bool        `json:"sampled"`
	Iterations int         `json:"iterations"`
	Converged  bool        `json:"converged"`
	Diverged   bool        `json:"diverged"`
	Pi         []jsonFloat `json:"pi"`
	ExpectedR  jsonFloat   `json:"expected_reward"`
	KL         jsonFloat   `json:"kl_reverse"`
	KLForward  jsonFloat   `json:"kl_forward"`
	DistRev    jsonFloat   `json:"dist_optimum"`
	DistFwd    jsonFloat   `json:"dist_forward_optimum"`
}

type rlhfJSONSchulman struct {
	Delta      float64   `json:"delta"`
	TrueKL     float64   `json:"true_kl"`
	Estimator  string    `json:"estimator"`
	BiasRel    jsonFloat `json:"bias_rel"`
	BiasRelSE  jsonFloat `json:"bias_rel_se"`
	StdRel     jsonFloat `json:"std_rel"`
	StdRelSE   jsonFloat `json:"std_rel_se"`
	ClosedBias jsonFloat `json:"closed_bias_rel"`
	ClosedStd  jsonFloat `json:"closed_std_rel"`
}

type rlhfJSON struct {
	Pi            []jsonFloat               `json:"pi"`
	PiRef         []jsonFloat               `json:"pi_ref"`
	Reward        []float64                 `json:"reward"`
	Beta          float64                   `json:"beta"`
	KLReverse     jsonFloat                 `json:"kl_reverse"`
	KLForward     jsonFloat                 `json:"kl_forward"`
	ExpectedR     jsonFloat                 `json:"expected_reward"`
	GradTrue      []jsonFloat               `json:"grad_true"`
	GradReward    []jsonFloat               `json:"grad_reward"`
	GradKLReverse []jsonFloat               `json:"grad_kl_reverse"`
	GradKLForward []jsonFloat               `json:"grad_kl_forward"`
	Configs       map[string]rlhfJSONConfig `json:"configs"`
	Optimum       []jsonFloat               `json:"optimum"`
	ForwardOpt    []jsonFloat               `json:"forward_optimum"`
	MonteCarlo    *rlhfJSONMC               `json:"monte_carlo,omitempty"`
	Optimise      []rlhfJSONRun             `json:"optimise,omitempty"`
	Schulman      []rlhfJSONSchulman        `json:"schulman"`
}

func (rep *rlhfEstimatorsReport) jsonObject(o *rlhfEstimatorsOpts) *rlhfJSON {
	ex := rep.ex
	j := &rlhfJSON{Pi: klCmdJSONList(ex.Pi), PiRef: klCmdJSONList(ex.PiRef), Reward: o.problem.Reward, Beta: o.problem.Beta,
		KLReverse: jsonFloat(ex.KLReverse), KLForward: jsonFloat(ex.KLForward), ExpectedR: jsonFloat(ex.ExpectedR),
		GradTrue: klCmdJSONList(ex.GradTrue), GradReward: klCmdJSONList(ex.GradReward),
		GradKLReverse: klCmdJSONList(ex.GradKLReverse), GradKLForward: klCmdJSONList(ex.GradKLForward),
		Configs: map[string]rlhfJSONConfig{}, Optimum: klCmdJSONList(ex.Optimum), ForwardOpt: klCmdJSONList(ex.ForwardOpt)}
	for _, c := range ex.Configs {
		j.Configs[c.Name] = rlhfJSONConfig{Grad: klCmdJSONList(c.Grad), Cosine: jsonFloat(c.Cosine), NormRatio: jsonFloat(c.NormRatio),
			Follows: string(c.Follows), Verdict: c.Follows.Verdict()}
	}
	if mc := rep.mc; mc != nil {
		j.MonteCarlo = &rlhfJSONMC{Samples: mc.Samples, Trials: mc.Trials, Seed: o.seed,
			Values: map[string]rlhfJSONValue{}, Grads: map[string]rlhfJSONGrad{}}
		for _, v := range mc.Values {
			j.MonteCarlo.Values[v.Estimator] = rlhfJSONValue{jsonFloat(v.Mean), jsonFloat(v.SE), jsonFloat(v.BiasRel), jsonFloat(v.StdRel), jsonFloat(v.NegFrac)}
		}
		for _, g := range mc.Grads {
			j.MonteCarlo.Grads[g.Config] = rlhfJSONGrad{klCmdJSONList(g.Mean), klCmdJSONList(g.SE), jsonFloat(g.MaxZ), jsonFloat(g.BiasRel), jsonFloat(g.StdRel)}
		}
	}
	for _, r := range rep.runs {
		j.Optimise = append(j.Optimise, rlhfJSONRun{r.Config, r.Sampled, r.Iterations, r.Converged, r.Diverged, klCmdJSONList(r.Pi),
			jsonFloat(r.ExpectedR), jsonFloat(r.KL), jsonFloat(r.KLForward), jsonFloat(r.DistRev), jsonFloat(r.DistFwd)})
	}
	for _, r := range rep.tab {
		j.Schulman = append(j.Schulman, rlhfJSONSchulman{r.Delta, r.TrueKL, r.Estimator, jsonFloat(r.BiasRel), jsonFloat(r.BiasRelSE),
			jsonFloat(r.StdRel), jsonFloat(r.StdRelSE), jsonFloat(r.ClosedBias), jsonFloat(r.ClosedStd)})
	}
	return j
}

// ---- text ----

func vecString(v []float64, prec int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', prec, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (rep *rlhfEstimatorsReport) writeText(w io.Writer, o *rlhfEstimatorsOpts) error {
	ex, p := rep.ex, o.problem
	bw := &rlhfErrWriter{w: w}
	fmt.Fprintf(bw, "RLHF's KL leash on one categorical decision: %d arms, β = %g, J = E_π[r] − β·KL(π‖π_ref)\n", len(p.Logits), p.Beta)
	fmt.Fprintf(bw, "  π      = %s   E_π[r] = %.4f\n", vecString(ex.Pi, 4), ex.ExpectedR)
	fmt.Fprintf(bw, "  π_ref  = %s\n", vecString(ex.PiRef, 4))
	fmt.Fprintf(bw, "  r      = %s\n", vecString(p.Reward, 4))
	fmt.Fprintf(bw, "  KL(π‖π_ref) = %.6f (reverse, what RLHF penalises)   KL(π_ref‖π) = %.6f (forward)\n", ex.KLReverse, ex.KLForward)
	fmt.Fprintf(bw, "  π* ∝ π_ref·exp(r/β)  = %s   (maximises J)\n", vecString(ex.Optimum, 4))
	fmt.Fprintf(bw, "  forward-KL optimum   = %s   (maximises E_π[r] − β·KL(π_ref‖π))\n\n", vecString(ex.ForwardOpt, 4))

	fmt.Fprintf(bw, "1. Exact expected gradient of each surrogate w.r.t. θ (all x enumerated, on-policy)\n")
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tgradient\tcos to ∇J\t‖g‖/‖∇J‖\tverdict\n")
	for _, row := range []struct {
		name string
		g    []float64
		note string
	}{
		{"∇J", ex.GradTrue, "the truth: ∇E[r] − β·∇KL(π‖π_ref)"},
		{"∇E[r]", ex.GradReward, "the reward alone"},
		{"∇KL(π‖π_ref)", ex.GradKLReverse, "the reverse KL (RLHF's leash)"},
		{"∇KL(π_ref‖π)", ex.GradKLForward, "the forward KL"},
	} {
		fmt.Fprintf(tw, "  %s\t%s\t%.4f\t%.4f\t%s\n", row.name, vecString(row.g, 4), estimators.Cosine(row.g, ex.GradTrue),
			estimators.Norm(row.g)/estimators.Norm(ex.GradTrue), row.note)
	}
	for _, c := range ex.Configs {
		fmt.Fprintf(tw, "  %s\t%s\t%.4f\t%.4f\t%s\n", c.Name, vecString(c.Grad, 4), c.Cosine, c.NormRatio, c.Follows.Verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if mc := rep.mc; mc != nil {
		fmt.Fprintf(bw, "\n2. Monte Carlo: %d samples x ~ π per estimate, %d trials, seed %d\n", mc.Samples, mc.Trials, o.seed)
		fmt.Fprintf(bw, "  value, as an estimate of KL(π‖π_ref) = %.6f:\n", ex.KLReverse)
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  \tmean ± SE\tbias/KL\tstd/KL\tP(estimate < 0)\n")
		for _, v := range mc.Values {
			fmt.Fprintf(tw, "  %s\t%.5f ± %.5f\t%+.4f\t%.4f\t%.4f\n", v.Estimator, v.Mean, v.SE, v.BiasRel, v.StdRel, v.NegFrac)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(bw, "  gradient (of the maximised surrogate), against ∇J and against its own exact expectation:\n")
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  \t‖bias vs ∇J‖/‖∇J‖\tstd/‖∇J‖\tmax |z| vs exact expectation\n")
		for _, g := range mc.Grads {
			fmt.Fprintf(tw, "  %s\t%.4f\t%.4f\t%.2f\n", g.Config, g.BiasRel, g.StdRel, g.MaxZ)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(rep.runs) > 0 {
		oc := o.optimiseConfig
		fmt.Fprintf(bw, "\n3. Gradient ascent from θ: exact expected gradients (lr %g, until max|g| < 1e-13 or %d steps)", oc.LR, oc.MaxIter)
		if oc.Samples > 0 {
			fmt.Fprintf(bw, ";\n   sampled: %d draws x ~ π per step, lr 0.05, 20000 steps, π averaged over the last half", oc.Samples)
		}
		fmt.Fprintf(bw, "\n")
		tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  \tgradient\tsteps\tend\tπ\tE_π[r]\tKL(π‖π_ref)\t|π − π*|∞\t|π − π_fwd|∞\n")
		for _, r := range rep.runs {
			kind, status := "exact", "at max-iter"
			switch {
			case r.Converged:
				status = "converged"
			case r.Diverged:
				status = "diverged"
			}
			if r.Sampled {
				kind, status = "sampled", "mean of last half"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%.4f\t%.4f\t%.2e\t%.2e\n", r.Config, kind, r.Iterations, status, vecString(r.Pi, 4),
				r.ExpectedR, r.KL, r.DistRev, r.DistFwd)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if o.out != "" {
			fmt.Fprintf(bw, "  chart: %s\n", filepath.Join(o.out, estimators.ChartFile))
		}
	}

	if len(rep.runs) == 0 {
		fmt.Fprintf(bw, "\n3. (add --optimise to see where gradient ascent with each configuration ends)\n")
	}
	fmt.Fprintf(bw, "\n4. Schulman's table: q = N(0,1), p = N(δ,1), x ~ q, estimating KL(q‖p) = δ²/2 (%d draws, seed %d)\n", o.tableSamples, o.seed)
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  δ\testimator\tbias/KL measured\tclosed form\tstd/KL measured\tclosed form\n")
	for _, r := range rep.tab {
		fmt.Fprintf(tw, "  %g\t%s\t%+.4f ± %.4f\t%+.4f\t%.4f ± %.4f\t%.4f\n", r.Delta, r.Estimator, r.BiasRel, r.BiasRelSE, r.ClosedBias,
			r.StdRel, r.StdRelSE, r.ClosedStd)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.err
}

// rlhfErrWriter remembers the first write error so that a run of Fprintf calls can be checked once.
type rlhfErrWriter struct {
	w   io.Writer
	err error
}

func (e *rlhfErrWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
