package explain

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"strconv"

	"klppo/kl"
)

// Param is one slider of a page. The URL query parameter and the argument of Compute carry Name.
type Param struct {
	Name    string  `json:"name"`    // query parameter, e.g. "mu_p"
	Label   string  `json:"label"`   // what the slider shows, e.g. "μ of P"
	Min     float64 `json:"min"`     // slider range (a URL may give any value Compute accepts)
	Max     float64 `json:"max"`     //
	Step    float64 `json:"step"`    // slider resolution (on the log10 scale when Log)
	Default float64 `json:"default"` // value when the URL does not give one
	Log     bool    `json:"log"`     // the slider moves log10 of the value
	Int     bool    `json:"int"`     // the value must be a whole number (counts, seeds)
}

// Example is a link to a page state, shown in the page's text: Query is a URL query string
// without the "?", e.g. "p=0.99&q=0.5".
type Example struct {
	Text  string `json:"text"`
	Query string `json:"query"`
}

// Page is one explainer.
type Page struct {
	Slug     string    // URL path element: /explain/<Slug>
	Title    string    // page heading
	Summary  string    // one line for the index
	Intro    string    // HTML paragraphs shown above the controls
	Params   []Param   // sliders, in display order
	Examples []Example // linkable states
	AtScale  []Scale   // klppo commands that show the idea on real training runs
	Compute  func(a Args) (View, error)
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
	Name  string  `json:"name"`  // data-value name: kl_pq, kl_qp, js, h_p, h_pq, …
	Label string  `json:"label"` // e.g. "KL(P‖Q)"
	V     float64 `json:"-"`     // the value (nats when Unit is "nats")
	Text  string  `json:"text"`  // Format(V): the digits `klppo kl` prints
	Unit  string  `json:"unit"`  // "nats", "bits" or "" (a count, a mean, …)
	Bits  string  `json:"bits"`  // for nats: Format(kl.ToBits(V)); else ""
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

// Mark is a labelled reference line.
type Mark struct {
	At    float64 `json:"at"`
	Label string  `json:"label"`
}

// Band is a shaded x range.
type Band struct {
	From, To float64
	Label    string
}

// Point is a highlighted point with a label.
type Point struct {
	X, Y  float64
	Label string
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
// infinite divergence.
func Format(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Nats returns a headline value in nats (with its bits).
func Nats(name, label string, v float64) Value {
	return Value{Name: name, Label: label, V: v, Text: Format(v), Unit: "nats", Bits: Format(kl.ToBits(v))}
}

// Plain returns a headline value that is not an information quantity (unit may be "bits").
func Plain(name, label string, v float64, unit string) Value {
	return Value{Name: name, Label: label, V: v, Text: Format(v), Unit: unit}
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
// are not Params of the page are ignored (URLs may carry other parameters). A non-finite value or
// a fractional value for an Int parameter is an error naming the parameter.
func (p *Page) Args(given map[string]float64) (Args, error) {
	a := Args{}
	for _, pr := range p.Params {
		v, ok := given[pr.Name]
		if !ok {
			v = pr.Default
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s = %v: must be a finite number", pr.Name, v)
		}
		if pr.Int && v != math.Trunc(v) {
			return nil, fmt.Errorf("%s = %v: must be a whole number", pr.Name, v)
		}
		a[pr.Name] = v
	}
	return a, nil
}

// Run fills defaults and computes the page's view for the given parameter values.
func (p *Page) Run(given map[string]float64) (View, error) {
	a, err := p.Args(given)
	if err != nil {
		return View{}, fmt.Errorf("explain %s: %w", p.Slug, err)
	}
	v, err := p.Compute(a)
	if err != nil {
		return View{}, fmt.Errorf("explain %s: %w", p.Slug, err)
	}
	return v, nil
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

// rangeCheck returns an error naming name unless lo ≤ v ≤ hi.
func rangeCheck(name string, v, lo, hi float64) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s = %v: must be in [%v, %v]", name, v, lo, hi)
	}
	return nil
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
