package kl

// Input as a person gives it: vectors typed on a command line or kept in a file, categorical
// distributions given as probabilities, weights or logits, optionally smoothed. The klppo kl
// command is a thin layer over these functions; an in-browser explainer can use them too.

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ParseVector parses numbers separated by commas and/or white space: "0.7,0.3", "0.7 0.3",
// or a file's "0.7\n0.3\n". Each number is in Go's float syntax, which includes "Inf", "-Inf"
// and "NaN" (whether those are allowed is up to the function the vector goes to). An empty
// field between commas ("0.7,,0.3", or a trailing comma) and an input without numbers are
// errors; the error names the item ("item 2: "x" is not a number").
func ParseVector(s string) ([]float64, error) {
	fields := strings.Split(s, ",")
	var out []float64
	for i, field := range fields {
		words := strings.Fields(field)
		if len(words) == 0 {
			if len(fields) == 1 {
				break // no comma and no number: reported below
			}
			return nil, fmt.Errorf("kl: empty field %d of %d between commas (after item %d)", i+1, len(fields), len(out))
		}
		for _, w := range words {
			v, err := strconv.ParseFloat(w, 64)
			if err != nil {
				return nil, fmt.Errorf("kl: item %d: %q is not a number", len(out)+1, w)
			}
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("kl: no numbers")
	}
	return out, nil
}

// ReadVector reads r to its end and parses the text with ParseVector: a file or a stream of
// numbers separated by commas and/or white space (newlines included).
func ReadVector(r io.Reader) ([]float64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("kl: reading a vector: %w", err)
	}
	return ParseVector(string(b))
}

// CategoricalSpec is a categorical distribution as a user gives it: probabilities (or, with
// Normalize, non-negative weights proportional to them) or logits, and an optional additive
// smoothing. Resolve turns it into log-probabilities, the common currency of the ...Logits
// functions (exact for extreme logits, −Inf for a zero probability).
type CategoricalSpec struct {
	// Name is the distribution's argument name in errors, e.g. "p": errors about Probs name it,
	// errors about Logits name Name+"_logits", errors about Smooth name "smooth".
	Name string
	// Probs are the probabilities (Σ = 1 within SumTolerance), or weights if Normalize is set.
	// Give exactly one of Probs and Logits.
	Probs []float64
	// Logits are unnormalised log-probabilities: P = softmax(Logits); −Inf is probability 0.
	Logits []float64
	// Smooth is the additive smoothing ε ≥ 0 (0 = none): p̃ᵢ = (pᵢ + ε) / Σⱼ (pⱼ + ε), applied to
	// the probabilities (softmax(Logits) for logits). It makes KL finite where Q has zeros.
	Smooth float64
	// Normalize divides Probs by their sum, so that they may be any non-negative weights. Smooth
	// renormalises anyway; Normalize has no effect on Logits.
	Normalize bool
}

// Resolve validates s and returns its log-probabilities (−Inf where the probability is 0) and
// its probabilities. Errors are *ArgError values named as documented on the fields, except the
// choice between Probs and Logits, which is a plain error.
func (s CategoricalSpec) Resolve() (logProbs, probs []float64, err error) {
	if !(s.Smooth >= 0) || math.IsInf(s.Smooth, 1) {
		return nil, nil, argErr("smooth", -1, s.Smooth, "must be finite and ≥ 0 (0 = no smoothing)")
	}
	switch {
	case s.Probs != nil && s.Logits != nil:
		return nil, nil, fmt.Errorf("kl: %s: give probabilities or logits, not both", s.Name)
	case s.Probs == nil && s.Logits == nil:
		return nil, nil, fmt.Errorf("kl: %s: give probabilities or logits", s.Name)
	case s.Logits != nil:
		name := s.Name + "_logits"
		if err := validateLogits(name, s.Logits); err != nil {
			return nil, nil, err
		}
		logProbs = make([]float64, len(s.Logits))
		logSoftmaxInto(logProbs, s.Logits)
		probs = make([]float64, len(logProbs))
		for i, l := range logProbs {
			probs[i] = math.Exp(l)
		}
		if s.Smooth == 0 {
			return logProbs, probs, nil
		}
		if probs, err = Smooth(probs, s.Smooth); err != nil {
			return nil, nil, renameArg(err, name)
		}
	default:
		switch {
		case s.Smooth > 0:
			probs, err = Smooth(s.Probs, s.Smooth) // renormalises too
		case s.Normalize:
			probs, err = Normalize(s.Probs)
		default:
			probs, err = s.Probs, ValidateProbs(s.Name, s.Probs)
		}
		if err != nil {
			return nil, nil, renameArg(err, s.Name)
		}
	}
	logProbs = make([]float64, len(probs))
	for i, p := range probs {
		logProbs[i] = logSafe(p) // −Inf for 0; exact for subnormal p (see logSafe)
	}
	return logProbs, probs, nil
}

// ResolvePair resolves P and Q and checks that they have the same number of outcomes (an
// *ArgError naming Q's argument, "len(q) = 3: lengths differ: len(p) = 2").
func ResolvePair(p, q CategoricalSpec) (logP, logQ, probsP, probsQ []float64, err error) {
	if logP, probsP, err = p.Resolve(); err != nil {
		return nil, nil, nil, nil, err
	}
	if logQ, probsQ, err = q.Resolve(); err != nil {
		return nil, nil, nil, nil, err
	}
	if len(logP) != len(logQ) {
		return nil, nil, nil, nil, lengthErr(p.argName(), len(logP), q.argName(), len(logQ))
	}
	return logP, logQ, probsP, probsQ, nil
}

// argName is the name of the argument the distribution was given by.
func (s CategoricalSpec) argName() string {
	if s.Logits != nil {
		return s.Name + "_logits"
	}
	return s.Name
}

// renameArg gives an *ArgError from Smooth or Normalize (which call their input "w") the
// caller's argument name; the "eps" of Smooth becomes "smooth". Other errors pass unchanged.
func renameArg(err error, name string) error {
	var ae *ArgError
	if !errors.As(err, &ae) {
		return err
	}
	c := *ae
	switch c.Arg {
	case "w":
		c.Arg = name
	case "eps":
		c.Arg = "smooth"
	}
	return &c
}

// Zero reports whether outcome i has probability exactly 0 by the distribution's definition: a
// zero probability (or weight) or a −Inf logit, and no smoothing. A log-probability from
// Resolve can also be −Inf when float64 overflows (logits about 1e308 apart give an
// unrepresentable −2e308); that outcome is not a zero, only a very improbable one.
func (s CategoricalSpec) Zero(i int) bool {
	switch {
	case s.Smooth > 0:
		return false
	case s.Logits != nil:
		return i >= 0 && i < len(s.Logits) && math.IsInf(s.Logits[i], -1)
	}
	return i >= 0 && i < len(s.Probs) && s.Probs[i] == 0
}

// SupportGap returns the first outcome i where P has probability > 0 and Q has probability 0
// (see Zero), the reason KL(P‖Q) is +Inf, or −1 if there is none: then KL(P‖Q) is finite in
// exact arithmetic, and an infinite float64 result is an overflow, not a support mismatch.
func SupportGap(p, q CategoricalSpec) int {
	n := max(len(p.Probs), len(p.Logits))
	for i := range n {
		if !p.Zero(i) && q.Zero(i) {
			return i
		}
	}
	return -1
}
