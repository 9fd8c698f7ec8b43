package klgraph

import (
	"fmt"

	"gorgonia.org/tensor"

	"klppo/kl"
)

// argErr and aggErr build a *kl.ArgError, so that errors.As finds the same type as for the
// slice functions of package kl.
func argErr(arg string, index int, value float64, reason string) error {
	return &kl.ArgError{Arg: arg, Index: index, Value: value, Reason: reason}
}

func aggErr(arg, of string, value float64, reason string) error {
	return &kl.ArgError{Arg: arg, Index: -1, Of: of, Value: value, Reason: reason}
}

// PairFunc is a row measure such as KL, ReverseKL, JS, CrossEntropy or their Logits forms
// (instantiated at float64: pass kl.KL or kl.KLLogits directly). Unary turns a one-argument
// measure such as Entropy into a PairFunc.
type PairFunc func(p, q []float64) (float64, error)

// Unary adapts a one-argument row measure (Entropy, EntropyLogits) to a PairFunc that ignores q;
// use it with q = nil in Rows and Reduce.
func Unary(f func(p []float64) (float64, error)) PairFunc {
	return func(p, _ []float64) (float64, error) { return f(p) }
}

// Reduction says how Reduce combines the per-row values.
type Reduction int

const (
	Mean Reduction = iota // the mean over rows
	Sum                   // the sum over rows
)

// rowsOf returns the rows of a (B, K) or (K) float64/float32 tensor as float64 values (one
// shared backing slice), materialising views. name is used in errors.
func rowsOf(name string, t *tensor.Dense) (rows, cols int, data []float64, err error) {
	if t == nil {
		return 0, 0, nil, aggErr(name, "len", 0, "tensor is nil")
	}
	if t.IsMaterializable() {
		m, ok := t.Materialize().(*tensor.Dense)
		if !ok {
			return 0, 0, nil, fmt.Errorf("klgraph: %s: cannot materialise a %T view", name, t.Materialize())
		}
		t = m
	}
	shape := t.Shape()
	switch len(shape) {
	case 1:
		rows, cols = 1, shape[0]
	case 2:
		rows, cols = shape[0], shape[1]
	default:
		return 0, 0, nil, aggErr(name, "dims", float64(len(shape)), fmt.Sprintf("shape %v: want (B, K) or (K)", shape))
	}
	if rows == 0 || cols == 0 {
		return 0, 0, nil, aggErr(name, "len", 0, fmt.Sprintf("shape %v is empty", shape))
	}
	switch d := t.Data().(type) {
	case []float64:
		data = d[:rows*cols]
	case []float32:
		data = make([]float64, rows*cols)
		for i := range data {
			data[i] = float64(d[i])
		}
	default:
		return 0, 0, nil, fmt.Errorf("klgraph: %s: dtype %v: want Float64 or Float32", name, t.Dtype())
	}
	return rows, cols, data, nil
}

// Rows applies f to every pair of rows of p and q — (B, K) tensors of the same shape, or (K)
// vectors, dtype Float64 or Float32 — and returns the B values as a (B) Float64 tensor. q may be
// nil for a Unary measure. An error reports the first bad row: "klgraph: row 3: kl: p[1] = -0.2: ..."
// (the *ArgError is kept for errors.As).
func Rows(f PairFunc, p, q *tensor.Dense) (*tensor.Dense, error) {
	v, err := rowValues(f, "p", p, "q", q)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)), nil
}

// Reduce is Rows followed by the mean or sum over rows (a +Inf row makes the result +Inf).
func Reduce(f PairFunc, p, q *tensor.Dense, r Reduction) (float64, error) {
	if r != Mean && r != Sum {
		return 0, argErr("reduction", -1, float64(r), "must be Mean or Sum")
	}
	v, err := rowValues(f, "p", p, "q", q)
	if err != nil {
		return 0, err
	}
	var s float64
	for _, x := range v {
		s += x
	}
	if r == Mean {
		s /= float64(len(v))
	}
	return s, nil
}

func rowValues(f PairFunc, pn string, p *tensor.Dense, qn string, q *tensor.Dense) ([]float64, error) {
	if f == nil {
		return nil, fmt.Errorf("klgraph: the row function is nil")
	}
	rows, cols, pd, err := rowsOf(pn, p)
	if err != nil {
		return nil, err
	}
	var qd []float64
	if q != nil {
		qr, qc, d, err := rowsOf(qn, q)
		if err != nil {
			return nil, err
		}
		if qr != rows || qc != cols {
			return nil, aggErr(qn, "rows", float64(qr), fmt.Sprintf("shape (%d, %d) differs from %s's (%d, %d)", qr, qc, pn, rows, cols))
		}
		qd = d
	}
	out := make([]float64, rows)
	for i := range out {
		var qi []float64
		if qd != nil {
			qi = qd[i*cols : (i+1)*cols]
		}
		v, err := f(pd[i*cols:(i+1)*cols], qi)
		if err != nil {
			return nil, fmt.Errorf("klgraph: row %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// Scale says how a Gaussian's spread is given: as σ or as ln σ.
type Scale int

const (
	SigmaScale    Scale = iota // standard deviations σ > 0
	LogSigmaScale              // log standard deviations ln σ (finite)
)

// DiagNormalRows returns KL(N(μ_p, diag σ_p²)‖N(μ_q, diag σ_q²)) for every row of four (B, D)
// tensors (or (D) vectors) as a (B) Float64 tensor: a batch of diagonal-Gaussian policies, with
// the scales given as σ or as ln σ. Errors name mu_p, sigma_p (log_sigma_p), mu_q, sigma_q.
func DiagNormalRows(muP, scaleP, muQ, scaleQ *tensor.Dense, s Scale) (*tensor.Dense, error) {
	if s != SigmaScale && s != LogSigmaScale {
		return nil, argErr("scale", -1, float64(s), "must be SigmaScale or LogSigmaScale")
	}
	prefix := "sigma_"
	if s == LogSigmaScale {
		prefix = "log_sigma_"
	}
	names := []string{"mu_p", prefix + "p", "mu_q", prefix + "q"}
	var rows, cols int
	data := make([][]float64, 4)
	for i, t := range []*tensor.Dense{muP, scaleP, muQ, scaleQ} {
		r, c, d, err := rowsOf(names[i], t)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			rows, cols = r, c
		} else if r != rows || c != cols {
			return nil, aggErr(names[i], "rows", float64(r), fmt.Sprintf("shape (%d, %d) differs from mu_p's (%d, %d)", r, c, rows, cols))
		}
		data[i] = d
	}
	out := make([]float64, rows)
	for i := range out {
		lo, hi := i*cols, (i+1)*cols
		p := kl.DiagNormal{Mu: data[0][lo:hi]}
		q := kl.DiagNormal{Mu: data[2][lo:hi]}
		if s == SigmaScale {
			p.Sigma, q.Sigma = data[1][lo:hi], data[3][lo:hi]
		} else {
			p.LogSigma, q.LogSigma = data[1][lo:hi], data[3][lo:hi]
		}
		v, err := p.KL(q)
		if err != nil {
			return nil, fmt.Errorf("klgraph: row %d: %w", i, err)
		}
		out[i] = v
	}
	return tensor.New(tensor.WithShape(rows), tensor.WithBacking(out)), nil
}

// VAEPriorRows returns VAEPriorKL for every row of (B, D) tensors mu and logvar (or (D) vectors)
// as a (B) Float64 tensor.
func VAEPriorRows(mu, logvar *tensor.Dense) (*tensor.Dense, error) {
	v, err := rowValues(kl.VAEPriorKL[float64], "mu", mu, "logvar", logvar)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)), nil
}
