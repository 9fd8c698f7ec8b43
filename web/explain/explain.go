package explain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"

	"klppo/kl"
)

// Param is one slider of a page. The URL query parameter and the argument of Compute carry Name.
// Min, Max, Int and Log are the one definition of the parameter's range: the slider is drawn
// from them and Page.Args accepts exactly the values the slider can reach (a URL gives any value
// in [Min, Max]; anything else is a *ParamError).
type Param struct {
	Name    string  `json:"name"`    // query parameter, e.g. "mu_p"
	Label   string  `json:"label"`   // what the slider shows, e.g. "μ of P"
	Min     float64 `json:"min"`     // the smallest value (the slider's left end); > 0 when Log
	Max     float64 `json:"max"`     // the largest value (the slider's right end)
	Step    float64 `json:"step"`    // slider resolution (of log10 of the value when Log)
	Default float64 `json:"default"` // value when the URL does not give one
	Log     bool    `json:"log"`     // the slider moves log10 of the value
	Int     bool    `json:"int"`     // the value must be a whole number (counts, seeds)
}

// check returns a *ParamError unless v is a value of the slider: finite, in [Min, Max], and
// whole when Int.
func (pr Param) check(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return &ParamError{Param: pr.Name, Value: v, Reason: "must be a finite number"}
	case v < pr.Min || v > pr.Max:
		return &ParamError{Param: pr.Name, Value: v, Reason: fmt.Sprintf("must be in [%s, %s]", num(pr.Min), num(pr.Max))}
	case pr.Int && v != math.Trunc(v):
		return &ParamError{Param: pr.Name, Value: v, Reason: "must be a whole number"}
	}
	return nil
}

// ParamError is a parameter value that a page does not accept, e.g. "q = 1.5: must be in [0, 1]".
type ParamError struct {
	Param  string  // the query parameter, e.g. "q"
	Value  float64 // the value given
	Reason string  // what is wrong
}

// Error returns "NAME = VALUE: REASON".
func (e *ParamError) Error() string {
	return fmt.Sprintf("%s = %s: %s", e.Param, num(e.Value), e.Reason)
}

// Example is a link to a page state, shown in the page's text: Query is a URL query string
// without the "?", e.g. "p=0.99&q=0.5".
type Example struct {
	Text  string `json:"text"`
	Query string `json:"query"`
}

// Page is one explainer. Each page lives in its own file: its Page value (text, sliders, links)
// next to its Compute.
type Page struct {
	Slug     string                     // URL path element: /explain/<Slug>
	Title    string                     // page heading
	Summary  string                     // one line for the index
	Intro    string                     // HTML paragraphs shown above the controls
	Params   []Param                    // sliders, in display order
	Examples []Example                  // linkable states
	AtScale  []Scale                    // klppo commands that show the idea on real training runs
	Compute  func(a Args) (View, error) // a holds a value of every Param, checked by Page.Args
}

// Scale names a klppo command that shows a page's idea at scale, and its documentation page.
type Scale struct {
	Command string // e.g. "klppo vae"
	Shows   string // what it shows
	Doc     string // e.g. "docs/vae.md"
}

// Args holds a value for every Param of a page (Page.Args fills the defaults).
type Args map[string]float64

// View is what a page shows for one setting of its sliders.
type View struct {
	Values  []Value `json:"values"`  // headline numbers, each shown in an element data-value=Name
	Charts  []Chart `json:"charts"`  // drawn in order
	Caption string  `json:"caption"` // one or two sentences reading the current state
	Command string  `json:"command"` // a klppo command that prints the headline numbers (or runs it at scale)
}

// Value is one headline number.
type Value struct {
	Name     string  `json:"name"`      // data-value name: kl_pq, kl_qp, js, h_p, h_pq, …
	Label    string  `json:"label"`     // e.g. "KL(P‖Q)"
	V        float64 `json:"-"`         // the value (nats when Unit is "nats"); ±Inf and NaN allowed
	Text     string  `json:"text"`      // Format(V): the digits `klppo kl` prints, "+Inf", "undefined"
	Unit     string  `json:"unit"`      // "nats", "bits" or "" (a count, a mean, …), singular for a Text of "1"
	Bits     string  `json:"bits"`      // for nats: Format(kl.ToBits(V)); else ""
	BitsUnit string  `json:"bits_unit"` // "bits", or "bit" when Bits is "1"
}

// Chart describes one SVG chart. Kind is "line" (Series with X and Y), "bars" (grouped bars: one
// Y per Category per Series) or "stacked" (bars whose Series stack).
type Chart struct {
	Title      string    `json:"title"`
	Kind       string    `json:"kind"`
	XLabel     string    `json:"xlabel"`
	YLabel     string    `json:"ylabel"`
	Categories []string  `json:"categories,omitempty"`
	Series     []Series  `json:"series"`
	HLines     []Mark    `json:"hlines,omitempty"` // horizontal reference lines
	VLines     []Mark    `json:"vlines,omitempty"` // vertical reference lines
	Bands      []Band    `json:"bands,omitempty"`  // shaded x ranges
	LogX       bool      `json:"logx,omitempty"`
	LogY       bool      `json:"logy,omitempty"`
	YMin       NullFloat `json:"ymin"` // null: from the data
	YMax       NullFloat `json:"ymax"`
	Points     []Point   `json:"points,omitempty"` // highlighted points (line charts)
	HideLegend bool      `json:"hidelegend,omitempty"`
}

// Series is one line or one bar group. Style is "" (solid line), "dash", "area" (filled to 0)
// or "steps".
type Series struct {
	Name  string `json:"name"`
	X     Floats `json:"x,omitempty"`
	Y     Floats `json:"y"`
	Style string `json:"style,omitempty"`
}

// Mark is a labelled reference line. A mark at a non-finite position cannot be drawn: Page.Run
// leaves it out (the headline value says +Inf), and it marshals with "at": null.
type Mark struct {
	At    float64 `json:"at"`
	Label string  `json:"label"`
}

// MarshalJSON implements json.Marshaler (null for a non-finite At).
func (m Mark) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		At    NullFloat `json:"at"`
		Label string    `json:"label"`
	}{NullFloat(m.At), m.Label})
}

// Band is a shaded x range.
type Band struct {
	From, To float64
	Label    string
}

// MarshalJSON implements json.Marshaler (null for a non-finite end).
func (b Band) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From, To NullFloat
		Label    string
	}{NullFloat(b.From), NullFloat(b.To), b.Label})
}

// Point is a highlighted point with a label.
type Point struct {
	X, Y  float64
	Label string
}

// MarshalJSON implements json.Marshaler (null for a non-finite coordinate).
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		X, Y  NullFloat
		Label string
	}{NullFloat(p.X), NullFloat(p.Y), p.Label})
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// drawable returns the view without the marks, bands and points that sit at a non-finite
// position (a reference line at KL = +Inf): the chart cannot draw them, the values show them.
func (v View) drawable() View {
	for i := range v.Charts {
		c := &v.Charts[i]
		var hs, vs []Mark
		for _, m := range c.HLines {
			if isFinite(m.At) {
				hs = append(hs, m)
			}
		}
		for _, m := range c.VLines {
			if isFinite(m.At) {
				vs = append(vs, m)
			}
		}
		var bs []Band
		for _, b := range c.Bands {
			if isFinite(b.From) && isFinite(b.To) {
				bs = append(bs, b)
			}
		}
		var ps []Point
		for _, p := range c.Points {
			if isFinite(p.X) && isFinite(p.Y) {
				ps = append(ps, p)
			}
		}
		c.HLines, c.VLines, c.Bands, c.Points = hs, vs, bs, ps
	}
	return v
}

// Floats marshals to a JSON array with null for NaN and ±Inf (JSON has no infinities).
type Floats []float64

// MarshalJSON implements json.Marshaler.
func (f Floats) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range f {
		if i > 0 {
			b.WriteByte(',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteString("null")
			continue
		}
		b.WriteString(strconv.FormatFloat(v, 'g', 10, 64))
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// NullFloat is an optional float: NaN marshals as null.
type NullFloat float64

// MarshalJSON implements json.Marshaler.
func (f NullFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// Auto is the NullFloat that lets the chart choose its axis limit from the data.
var Auto = NullFloat(math.NaN())

// Format prints a value the way `klppo kl` prints it: 6 significant digits ('g'), "+Inf" for an
// infinite divergence, and "undefined" for NaN (e.g. a ratio 0/0).
func Format(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "undefined"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// unitFor returns unit ("nats", "bits", "tokens") in the singular when text reads exactly one:
// "1 bit", "1 nat", but "0.5 bits" and "+Inf nats".
func unitFor(text, unit string) string {
	if (text == "1" || text == "-1") && len(unit) > 1 && unit[len(unit)-1] == 's' {
		return unit[:len(unit)-1]
	}
	return unit
}

// Nats returns a headline value in nats (with its bits).
func Nats(name, label string, v float64) Value {
	text, bits := Format(v), Format(kl.ToBits(v))
	return Value{Name: name, Label: label, V: v, Text: text, Unit: unitFor(text, "nats"), Bits: bits, BitsUnit: unitFor(bits, "bits")}
}

// Plain returns a headline value that is not an information quantity (unit may be "bits").
func Plain(name, label string, v float64, unit string) Value {
	text := Format(v)
	return Value{Name: name, Label: label, V: v, Text: text, Unit: unitFor(text, unit)}
}

// Lookup returns the page with the given slug.
func Lookup(slug string) (*Page, bool) {
	for i := range Pages {
		if Pages[i].Slug == slug {
			return &Pages[i], true
		}
	}
	return nil, false
}

// Args returns the page's arguments: given values where present, defaults elsewhere. Names that
// are not Params of the page are ignored (URLs may carry other parameters). A value the
// parameter's slider cannot take (outside [Min, Max], not finite, fractional for an Int
// parameter) is a *ParamError naming the parameter.
func (p *Page) Args(given map[string]float64) (Args, error) {
	a := Args{}
	for _, pr := range p.Params {
		v, ok := given[pr.Name]
		if !ok {
			v = pr.Default
		}
		if err := pr.check(v); err != nil {
			return nil, err
		}
		a[pr.Name] = v
	}
	return a, nil
}

// Run fills defaults, checks the values and computes the page's view. The view always marshals
// to JSON: values that are infinite or undefined are shown as "+Inf" or "undefined", and chart
// marks at such positions are left out.
func (p *Page) Run(given map[string]float64) (View, error) {
	a, err := p.Args(given)
	if err != nil {
		return View{}, fmt.Errorf("explain %s: %w", p.Slug, err)
	}
	v, err := p.Compute(a)
	if err != nil {
		return View{}, fmt.Errorf("explain %s: %w", p.Slug, err)
	}
	return v.drawable(), nil
}

// num formats a number for a command line: the shortest representation that parses back to v.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// list formats a probability vector for a command-line flag, to 10 significant digits.
func list(v []float64) string {
	var b bytes.Buffer
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(x, 'g', 10, 64)) // enough for the printed 6 digits
	}
	return b.String()
}

// linspace returns n points from a to b inclusive.
func linspace(a, b float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return x
}

// logspace returns n points from a to b inclusive, evenly spaced in log.
func logspace(a, b float64, n int) []float64 {
	x := linspace(math.Log(a), math.Log(b), n)
	for i := range x {
		x[i] = math.Exp(x[i])
	}
	return x
}

// density returns the density of n on the grid x.
func density(n kl.Normal, x []float64) []float64 {
	d := make([]float64, len(x))
	for i, xi := range x {
		d[i] = math.Exp(n.LogProb(xi))
	}
	return d
}

// ParseQuery parses a URL query string such as "p=0.7&q=0.5" into parameter values; a value
// that is not a number is an error naming the parameter.
func ParseQuery(query string) (map[string]float64, error) {
	vals, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	out := map[string]float64{}
	for k, vs := range vals {
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		v, err := strconv.ParseFloat(vs[0], 64)
		if err != nil {
			return nil, fmt.Errorf("%s = %q: not a number", k, vs[0])
		}
		out[k] = v
	}
	return out, nil
}
