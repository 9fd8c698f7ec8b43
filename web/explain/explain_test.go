package explain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every page's sliders are well formed: a range, a default inside it, whole numbers for Int
// parameters, a positive range for Log ones; every example link names the page's parameters
// with values the sliders can reach.
func TestPageDefinitions(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Pages {
		if seen[p.Slug] {
			t.Errorf("slug %q twice", p.Slug)
		}
		seen[p.Slug] = true
		names := map[string]Param{}
		for _, pr := range p.Params {
			names[pr.Name] = pr
			if !(pr.Min < pr.Max) || pr.Default < pr.Min || pr.Default > pr.Max || !(pr.Step > 0) {
				t.Errorf("%s %s: range [%v, %v], default %v, step %v", p.Slug, pr.Name, pr.Min, pr.Max, pr.Default, pr.Step)
			}
			if pr.Log && !(pr.Min > 0 && pr.Step <= 0.05) {
				t.Errorf("%s %s: a log slider needs Min > 0 and a step of log10 ≤ 0.05, has %v, %v", p.Slug, pr.Name, pr.Min, pr.Step)
			}
			if pr.Int && (pr.Min != math.Trunc(pr.Min) || pr.Max != math.Trunc(pr.Max) || pr.Default != math.Trunc(pr.Default) || pr.Step != math.Trunc(pr.Step)) {
				t.Errorf("%s %s: an Int slider with fractional bounds or step", p.Slug, pr.Name)
			}
		}
		for _, e := range p.Examples {
			given, err := ParseQuery(e.Query)
			if err != nil {
				t.Errorf("%s example %q: %v", p.Slug, e.Query, err)
				continue
			}
			for k, v := range given {
				pr, ok := names[k]
				if !ok {
					t.Errorf("%s example %q: no parameter %s", p.Slug, e.Query, k)
				} else if err := pr.check(v); err != nil {
					t.Errorf("%s example %q: %v", p.Slug, e.Query, err)
				}
			}
		}
	}
}

// sliderStates returns the states to try for a page: the defaults; each slider alone at its
// minimum, its maximum and three values between (on its step, as the browser snaps them); every
// slider at its minimum; every slider at its maximum; and every example link.
func sliderStates(t *testing.T, p *Page) []map[string]float64 {
	t.Helper()
	states := []map[string]float64{{}}
	all := func(at func(Param) float64) map[string]float64 {
		m := map[string]float64{}
		for _, pr := range p.Params {
			m[pr.Name] = at(pr)
		}
		return m
	}
	states = append(states, all(func(pr Param) float64 { return pr.Min }), all(func(pr Param) float64 { return pr.Max }))
	for _, pr := range p.Params {
		for _, f := range []float64{0, 0.13, 0.5, 0.87, 1} {
			var v float64
			if pr.Log {
				lo, hi := math.Log10(pr.Min), math.Log10(pr.Max)
				v = math.Pow(10, lo+math.Round(f*(hi-lo)/pr.Step)*pr.Step)
				v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64) // as explain.js rounds it
			} else {
				v = pr.Min + math.Round(f*(pr.Max-pr.Min)/pr.Step)*pr.Step
				v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
			}
			v = math.Min(pr.Max, math.Max(pr.Min, v))
			if pr.Int {
				v = math.Round(v)
			}
			states = append(states, map[string]float64{pr.Name: v})
		}
	}
	for _, e := range p.Examples {
		given, err := ParseQuery(e.Query)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, given)
	}
	return states
}

// checkValue checks one headline value's text against its number, independently of Format:
// the text reads back as the value to 6 significant digits, an infinity as "+Inf", NaN as
// "undefined"; the bits are the nats over ln 2; a unit reading "1" is singular.
func checkValue(t *testing.T, where string, v Value) {
	t.Helper()
	readsAs := func(text string, x float64) bool {
		switch {
		case math.IsNaN(x):
			return text == "undefined"
		case math.IsInf(x, 1):
			return text == "+Inf"
		case math.IsInf(x, -1):
			return text == "-Inf"
		}
		got, err := strconv.ParseFloat(text, 64)
		digits := len(strings.TrimLeft(strings.NewReplacer(".", "", "-", "").Replace(strings.SplitN(text, "e", 2)[0]), "0"))
		return err == nil && digits <= 6 && math.Abs(got-x) <= 5e-6*math.Abs(x)
	}
	if !readsAs(v.Text, v.V) {
		t.Errorf("%s: %s = %v is shown as %q", where, v.Name, v.V, v.Text)
	}
	if v.Unit == "nats" || v.Unit == "nat" {
		if !readsAs(v.Bits, v.V/math.Ln2) {
			t.Errorf("%s: %s = %v nats is shown as %q bits", where, v.Name, v.V, v.Bits)
		}
		if want := map[bool]string{true: "bit", false: "bits"}[v.Bits == "1"]; v.BitsUnit != want {
			t.Errorf("%s: %s: %q %s", where, v.Name, v.Bits, v.BitsUnit)
		}
	}
	singular := map[string]bool{"nat": true, "bit": true, "token": true}
	plural := map[string]bool{"nats": true, "bits": true, "tokens": true}
	if (v.Text == "1" && plural[v.Unit]) || (v.Text != "1" && singular[v.Unit]) {
		t.Errorf("%s: %s: %q %s", where, v.Name, v.Text, v.Unit)
	}
}

// Every page accepts every state its sliders and its links can reach: the view is complete,
// marshals to JSON (no "unsupported value: +Inf"), and shows every value as its number.
func TestEverySliderState(t *testing.T) {
	for i := range Pages {
		p := &Pages[i]
		for _, given := range sliderStates(t, p) {
			where := fmt.Sprint(p.Slug, " ", given)
			v, err := p.Run(given)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if len(v.Values) == 0 || len(v.Charts) == 0 || v.Command == "" || v.Caption == "" {
				t.Errorf("%s: incomplete view %+v", where, v)
			}
			if strings.Contains(v.Caption, "NaN") || strings.Contains(v.Caption, "%!") {
				t.Errorf("%s: caption %q", where, v.Caption)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Errorf("%s: marshal: %v", where, err)
			}
			if strings.Contains(string(b), "NaN") {
				t.Errorf("%s: JSON has NaN", where)
			}
			for _, val := range v.Values {
				checkValue(t, where, val)
			}
		}
	}
}

// A value no slider can reach is an error naming the parameter, the value and the range.
func TestParamErrors(t *testing.T) {
	coin, _ := Lookup("coin")
	zeros, _ := Lookup("zeros")
	for _, tc := range []struct {
		page  *Page
		given map[string]float64
		param string
		value float64
		msg   string
	}{
		{coin, map[string]float64{"p": 1.5}, "p", 1.5, "explain coin: p = 1.5: must be in [0, 1]"},
		{coin, map[string]float64{"q": -0.01}, "q", -0.01, "explain coin: q = -0.01: must be in [0, 1]"},
		{coin, map[string]float64{"n": 2.5e3 + 0.5}, "n", 2500.5, "explain coin: n = 2500.5: must be a whole number"},
		{coin, map[string]float64{"n": 5010}, "n", 5010, "explain coin: n = 5010: must be in [10, 5000]"},
		{coin, map[string]float64{"seed": math.Inf(1)}, "seed", math.Inf(1), "explain coin: seed = +Inf: must be a finite number"},
		{zeros, map[string]float64{"eps": 0}, "eps", 0, "explain zeros: eps = 0: must be in [1e-06, 0.2]"},
	} {
		_, err := tc.page.Run(tc.given)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || pe.Value != tc.value || err.Error() != tc.msg {
			t.Errorf("%s %v: err = %v, want %q", tc.page.Slug, tc.given, err, tc.msg)
		}
	}
	if _, err := ParseQuery("p=abc"); err == nil || err.Error() != `p = "abc": not a number` {
		t.Errorf("p=abc: err = %v", err)
	}
}

// Format prints six significant digits, and names the infinities and NaN.
func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1, "1"}, {0.5, "0.5"}, {1.0 / 3, "0.333333"}, {2.0 / 3, "0.666667"}, {123456789, "1.23457e+08"},
		{1e-7, "1e-07"}, {0, "0"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "undefined"},
	} {
		if got := Format(tc.v); got != tc.want {
			t.Errorf("Format(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if v := Nats("x", "x", math.Ln2); v.Bits != "1" || v.BitsUnit != "bit" || v.Unit != "nats" {
		t.Errorf("ln 2 nats: %q %s = %q %s", v.Text, v.Unit, v.Bits, v.BitsUnit)
	}
	if v := Nats("x", "x", 1); v.Unit != "nat" || v.BitsUnit != "bits" {
		t.Errorf("1 nat: %q %s = %q %s", v.Text, v.Unit, v.Bits, v.BitsUnit)
	}
	if v := Plain("x", "x", 1, "tokens"); v.Unit != "token" {
		t.Errorf("1 token: %q %s", v.Text, v.Unit)
	}
}

func view(t *testing.T, slug, query string) (View, map[string]Value) {
	t.Helper()
	p, ok := Lookup(slug)
	if !ok {
		t.Fatalf("no page %s", slug)
	}
	given, err := ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Run(given)
	if err != nil {
		t.Fatalf("%s?%s: %v", slug, query, err)
	}
	m := map[string]Value{}
	for _, val := range v.Values {
		m[val.Name] = val
	}
	return v, m
}

func value(t *testing.T, slug, query, name string) float64 {
	t.Helper()
	_, m := view(t, slug, query)
	val, ok := m[name]
	if !ok {
		t.Fatalf("%s: no value %s", slug, name)
	}
	return val.V
}

// The coin's KL is the closed form a·ln(a/b) + (1−a)·ln((1−a)/(1−b)), written out here; Q = 0
// where P > 0 is +Inf, shown as such, with a JSON view and a caption that says why.
func TestCoin(t *testing.T) {
	for _, pq := range [][2]float64{{0.7, 0.5}, {0.99, 0.5}, {0.5, 0.99}, {0.01, 0.3}} {
		a, b := pq[0], pq[1]
		want := a*math.Log(a/b) + (1-a)*math.Log((1-a)/(1-b))
		q := "p=" + strconv.FormatFloat(a, 'g', -1, 64) + "&q=" + strconv.FormatFloat(b, 'g', -1, 64)
		if got := value(t, "coin", q, "kl_pq"); math.Abs(got-want) > 1e-14 {
			t.Errorf("coin %s: KL(P‖Q) = %v, closed form %v", q, got, want)
		}
	}
	v, m := view(t, "coin", "p=0.7&q=0")
	if m["kl_pq"].Text != "+Inf" || m["surprise_q_heads"].Text != "+Inf" || m["llr_mean"].Text != "+Inf" {
		t.Errorf("coin q = 0: kl_pq %q, −ln Q(heads) %q, running mean %q; want +Inf", m["kl_pq"].Text, m["surprise_q_heads"].Text, m["llr_mean"].Text)
	}
	if want := -math.Log(1 - 0.7); math.Abs(m["kl_qp"].V-want) > 1e-15 { // KL(Q‖P) = 1·ln(1/0.3)
		t.Errorf("coin q = 0: KL(Q‖P) = %v, want ln(1/0.3) = %v", m["kl_qp"].V, want)
	}
	if b, err := json.Marshal(v); err != nil || strings.Contains(string(b), `"at":null`) {
		t.Errorf("coin q = 0: JSON %v (a reference line at +Inf must be left out)", err)
	}
	if !strings.Contains(v.Caption, "KL(P‖Q) = +Inf") || !strings.Contains(v.Caption, "from flip 1 on") {
		t.Errorf("coin q = 0: caption %q", v.Caption) // seed 1's first flip of a 0.7 coin is heads
	}
	// P never shows heads and Q always does: both directions infinite; P never flips heads.
	_, m = view(t, "coin", "p=0&q=1")
	if m["kl_pq"].Text != "+Inf" || m["kl_qp"].Text != "+Inf" || m["heads"].V != 0 {
		t.Errorf("coin p = 0, q = 1: %q, %q, %v heads", m["kl_pq"].Text, m["kl_qp"].Text, m["heads"].V)
	}
}

// The arithmetic coder decodes what it encoded, and its length is within 2 bits + quantisation
// loss of the ideal code length Σ −log2 q(x).
func TestArithmeticCodeRoundTrip(t *testing.T) {
	q := []float64{0.5, 0.25, 0.125, 0.0625, 0.0625}
	m, err := newCodeModel(q)
	if err != nil {
		t.Fatal(err)
	}
	r := newRand(7)
	sym := make([]int, 3000)
	ideal := 0.0
	for i := range sym {
		sym[i] = draw(r, []float64{0.1, 0.2, 0.3, 0.2, 0.2})
		ideal += -math.Log2(q[sym[i]])
	}
	bits, err := m.encode(sym)
	if err != nil {
		t.Fatal(err)
	}
	back, err := m.decode(bits, len(sym))
	if err != nil {
		t.Fatal(err)
	}
	for i := range sym {
		if back[i] != sym[i] {
			t.Fatalf("symbol %d: decoded %d, encoded %d", i, back[i], sym[i])
		}
	}
	if got := float64(len(bits)); got < ideal-1 || got > ideal*1.001+4 {
		t.Errorf("code length %v bits, ideal %v", got, ideal)
	}
}

// The measured extra bits per symbol approach KL(P‖Q)/ln 2; the code for P follows the
// sample's own ideal length, and when that is below H(P) the caption says why.
func TestCompression(t *testing.T) {
	q := "lambda=1&n=20000&seed=3"
	want := value(t, "compression", q, "kl_pq_bits")
	got := value(t, "compression", q, "extra_bits")
	if math.Abs(got-want) > 0.05*want {
		t.Errorf("extra bits %v, KL/ln 2 = %v", got, want)
	}
	h := 0.0
	for _, p := range codeP {
		h -= p * math.Log2(p)
	}
	below := 0
	for seed := 1; seed <= 50; seed++ {
		v, m := view(t, "compression", "lambda=0.6&n=100&seed="+strconv.Itoa(seed))
		n := 100.0
		if d := (m["bits_p"].V - m["ideal_p_bits"].V) * n; d < -0.5 || d > 4 {
			t.Errorf("seed %d: the code for P took %v bits more than the sample's Σ −log₂ P(x)", seed, d)
		}
		if m["bits_p"].V < h {
			below++
			if !strings.Contains(v.Caption, "below H(P)") {
				t.Errorf("seed %d: %v bits per symbol < H(P) = %v, caption %q", seed, m["bits_p"].V, h, v.Caption)
			}
		} else if strings.Contains(v.Caption, "below H(P)") {
			t.Errorf("seed %d: %v bits per symbol ≥ H(P) = %v, caption %q", seed, m["bits_p"].V, h, v.Caption)
		}
	}
	if below == 0 || below == 50 {
		t.Errorf("%d of 50 samples of 100 symbols coded below H(P): the test needs both cases", below)
	}
}

// The "at scale" references name documentation pages that exist in the repository.
func TestAtScaleDocsExist(t *testing.T) {
	for _, p := range Pages {
		for _, s := range p.AtScale {
			if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(s.Doc))); err != nil {
				t.Errorf("%s: at-scale doc %s: %v", p.Slug, s.Doc, err)
			}
			if !strings.HasPrefix(s.Command, "klppo ") {
				t.Errorf("%s: at-scale command %q", p.Slug, s.Command)
			}
		}
	}
}
