package kl

import (
	"fmt"
	"strconv"
)

// ArgError reports an invalid argument. Arg names the argument the way the documentation and
// the klppo command do ("p", "q_logits", "sigma_p", "alpha_q", "eps", ...); Index is the
// element's position in a slice argument, or -1 for a scalar or for the slice as a whole.
//
// For a problem with a slice as a whole, Of names the aggregate ("sum", "len") and Value is
// that aggregate, giving messages such as "kl: sum(p) = 0.9: must be 1 within 1e-06".
type ArgError struct {
	Arg    string  // argument name, e.g. "sigma_p"
	Index  int     // element index, or -1
	Of     string  // "" or an aggregate of the whole slice: "sum", "len"
	Value  float64 // the offending value (or aggregate)
	Reason string  // what is wrong, e.g. "must be > 0"
}

var _ error = (*ArgError)(nil)

// Error returns e.g. "kl: p[1] = -0.2: must be ≥ 0" or "kl: sigma_p = 0: must be > 0" (the value
// printed to 10 significant digits).
func (e *ArgError) Error() string {
	name := e.Arg
	if e.Of != "" {
		name = e.Of + "(" + name + ")"
	} else if e.Index >= 0 {
		name += "[" + strconv.Itoa(e.Index) + "]"
	}
	return fmt.Sprintf("kl: %s = %s: %s", name, strconv.FormatFloat(e.Value, 'g', 10, 64), e.Reason)
}

func argErr(arg string, index int, value float64, reason string) error {
	return &ArgError{Arg: arg, Index: index, Value: value, Reason: reason}
}

// lengthErr reports slices whose lengths differ (Value is the length of arg b).
func lengthErr(a string, na int, b string, nb int) error {
	return &ArgError{Arg: b, Index: -1, Of: "len", Value: float64(nb),
		Reason: fmt.Sprintf("lengths differ: len(%s) = %d", a, na)}
}

// aggErr reports a problem with a whole slice: Of(arg) = value: reason.
func aggErr(arg, of string, value float64, reason string) error {
	return &ArgError{Arg: arg, Index: -1, Of: of, Value: value, Reason: reason}
}
