package ppo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PenaltyKind selects the policy objective.
type PenaltyKind string

// The policy objectives. With r = π_θ(a|s)/π_old(a|s), advantage A and
// KL = KL(π_old(·|s) ‖ π_θ(·|s)) (the exact per-state divergence):
//
//	clip:        L = E[min(r·A, clip(r, 1−ε, 1+ε)·A)]
//	kl-fixed:    L = E[r·A − β·KL], β fixed
//	kl-adaptive: L = E[r·A − β·KL], β halved when d < d_targ/1.5, doubled when d > 1.5·d_targ
//	kl-prop:     L = E[r·A − β·KL], β ← β·(1 + clip(d/d_targ − 1, −0.2, 0.2)·n/horizon)
//	none:        L = E[r·A]
//
// PPO maximises L, i.e. minimises −L.
const (
	PenaltyClip       PenaltyKind = "clip"
	PenaltyKLFixed    PenaltyKind = "kl-fixed"
	PenaltyKLAdaptive PenaltyKind = "kl-adaptive"
	PenaltyKLProp     PenaltyKind = "kl-prop"
	PenaltyNone       PenaltyKind = "none"
)

// Penalty is a parsed penalty spec such as "clip:0.2", "kl-adaptive:0.01+stop:0.02" or "none".
type Penalty struct {
	Kind PenaltyKind
	// Value is ε for clip, β for kl-fixed, d_targ for kl-adaptive and kl-prop, 0 for none.
	Value float64
	// StopKL > 0 enables the early stop: the epoch loop of an update ends as soon as the mean
	// exact KL(π_old‖π_θ) of a minibatch (measured on that minibatch before its gradient step)
	// exceeds StopKL. 0 disables it.
	StopKL float64
}

// suffixStart returns the index of the '+' that starts a suffix such as "+stop:KL", or -1. A '+'
// after a digit (or '.') and an 'e' belongs to a number's exponent ("kl-fixed:1e+1") and is skipped;
// the '+' of "none+stop:KL" is a suffix.
func suffixStart(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '+' {
			continue
		}
		exponent := i >= 2 && (s[i-1] == 'e' || s[i-1] == 'E') &&
			(s[i-2] == '.' || ('0' <= s[i-2] && s[i-2] <= '9'))
		if !exponent {
			return i
		}
	}
	return -1
}

// ParsePenalty parses a penalty spec: KIND[:VALUE][+stop:KL] with KIND one of clip, kl-fixed,
// kl-adaptive, kl-prop (these need a VALUE) or none (no VALUE).
func ParsePenalty(spec string) (Penalty, error) {
	var p Penalty
	s := strings.TrimSpace(spec)
	if s == "" {
		return p, fmt.Errorf("penalty: empty spec (want clip:EPS, kl-fixed:BETA, kl-adaptive:DTARG, kl-prop:DTARG or none, optionally +stop:KL)")
	}
	main := s
	if i := suffixStart(s); i >= 0 {
		main = s[:i]
		rest := s[i+1:]
		v, ok := strings.CutPrefix(rest, "stop:")
		if !ok {
			return p, fmt.Errorf("penalty %q: unknown suffix %q (want +stop:KL)", spec, "+"+rest)
		}
		kl, err := parsePositive(v)
		if err != nil {
			return p, fmt.Errorf("penalty %q: stop KL %q: %w", spec, v, err)
		}
		p.StopKL = kl
	}
	kind, val, hasVal := strings.Cut(main, ":")
	p.Kind = PenaltyKind(kind)
	switch p.Kind {
	case PenaltyNone:
		if hasVal {
			return p, fmt.Errorf("penalty %q: none takes no value", spec)
		}
		return p, nil
	case PenaltyClip, PenaltyKLFixed, PenaltyKLAdaptive, PenaltyKLProp:
		if !hasVal {
			return p, fmt.Errorf("penalty %q: %s needs a value (e.g. %s:%s)", spec, kind, kind, exampleValue(p.Kind))
		}
		v, err := parsePositive(val)
		if err != nil {
			return p, fmt.Errorf("penalty %q: %s value %q: %w", spec, kind, val, err)
		}
		if p.Kind == PenaltyClip && v >= 1 {
			return p, fmt.Errorf("penalty %q: clip ε %v must be in (0, 1)", spec, v)
		}
		p.Value = v
		return p, nil
	default:
		err := fmt.Errorf("penalty %q: unknown kind %q (want clip, kl-fixed, kl-adaptive, kl-prop or none)", spec, kind)
		if alt := penaltyTypo(s); alt != "" {
			err = fmt.Errorf("%w; did you mean %q?", err, alt)
		}
		return p, err
	}
}

// penaltyTypo returns the valid spec a mistyped one most likely meant — "clip=0.2" or
// "clip 0.2" for "clip:0.2", "KL_Fixed:1" for "kl-fixed:1" — or "".
func penaltyTypo(s string) string {
	main, suffix := s, ""
	if i := suffixStart(s); i >= 0 {
		main, suffix = s[:i], s[i:]
	}
	main = strings.ToLower(strings.TrimSpace(main))
	for _, sep := range []string{"=", " ", "/"} {
		if k, v, ok := strings.Cut(main, sep); ok && !strings.Contains(main, ":") {
			main = strings.TrimSpace(k) + ":" + strings.TrimSpace(v)
			break
		}
	}
	kind, val, hasVal := strings.Cut(main, ":")
	alt := strings.ReplaceAll(kind, "_", "-")
	if hasVal {
		alt += ":" + val
	}
	alt += suffix
	if alt == s {
		return ""
	}
	if _, err := ParsePenalty(alt); err != nil {
		return ""
	}
	return alt
}

func exampleValue(k PenaltyKind) string {
	switch k {
	case PenaltyClip:
		return "0.2"
	case PenaltyKLFixed:
		return "1"
	default:
		return "0.01"
	}
}

func parsePositive(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return 0, fmt.Errorf("must be a finite number > 0")
	}
	return v, nil
}

// String returns the canonical spec; it round-trips through ParsePenalty.
func (p Penalty) String() string {
	var b strings.Builder
	b.WriteString(string(p.Kind))
	if p.Kind != PenaltyNone {
		b.WriteString(":")
		b.WriteString(strconv.FormatFloat(p.Value, 'g', -1, 64))
	}
	if p.StopKL > 0 {
		b.WriteString("+stop:")
		b.WriteString(strconv.FormatFloat(p.StopKL, 'g', -1, 64))
	}
	return b.String()
}

// UsesBeta reports whether the objective has a KL penalty term β·KL (kl-fixed, kl-adaptive, kl-prop).
func (p Penalty) UsesBeta() bool {
	return p.Kind == PenaltyKLFixed || p.Kind == PenaltyKLAdaptive || p.Kind == PenaltyKLProp
}

// HasTarget reports whether the objective has a KL target d_targ that β is adapted to
// (kl-adaptive, kl-prop).
func (p Penalty) HasTarget() bool {
	return p.Kind == PenaltyKLAdaptive || p.Kind == PenaltyKLProp
}

// InitialBeta is β for the first update: Value for kl-fixed, initBeta for the adaptive rules, 0
// for objectives without a KL term.
func (p Penalty) InitialBeta(initBeta float64) float64 {
	switch p.Kind {
	case PenaltyKLFixed:
		return p.Value
	case PenaltyKLAdaptive, PenaltyKLProp:
		return initBeta
	}
	return 0
}

// canonicalPenalty returns the canonical form of a valid spec (see Penalty.String), or spec
// unchanged when it does not parse.
func canonicalPenalty(spec string) string {
	p, err := ParsePenalty(spec)
	if err != nil {
		return spec
	}
	return p.String()
}
