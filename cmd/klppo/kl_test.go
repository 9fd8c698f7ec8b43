package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"klppo/internal/golden"
)

// klTestGolden loads ../shared/golden/kl.json from the repo root, or the copy in kl/testdata;
// it fails (never skips) if neither exists.
func klTestGolden(t *testing.T) []map[string]any {
	t.Helper()
	b, path, err := golden.Read("kl.json", "kl/testdata/kl.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []map[string]any `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Cases) == 0 {
		t.Fatalf("%s: %v (%d cases)", path, err, len(doc.Cases))
	}
	return doc.Cases
}

// klTestArg formats a golden value (number or list) as a flag value that round-trips exactly.
func klTestArg(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = klTestArg(t, e)
		}
		return strings.Join(parts, ",")
	}
	t.Fatalf("unexpected golden value %v (%T)", v, v)
	return ""
}

// klTestNum reads a JSON number or the strings "+Inf"/"-Inf".
func klTestNum(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		switch x {
		case "+Inf":
			return math.Inf(1)
		case "-Inf":
			return math.Inf(-1)
		}
	}
	t.Fatalf("not a number: %v (%T)", v, v)
	return 0
}

// TestKLGoldenThroughCLI drives every golden case through `klppo kl <kind> ... --json`.
func TestKLGoldenThroughCLI(t *testing.T) {
	kinds := map[string]struct {
		cmd   string
		flags []string // golden field names; the flag is "--" + name with "_" → "-"
		key   string   // the JSON key compared with kl_nats
	}{
		"categorical_probs":   {"categorical", []string{"p", "q"}, "kl_pq"},
		"categorical_logits":  {"categorical", []string{"p_logits", "q_logits"}, "kl_pq"},
		"jensen_shannon":      {"categorical", []string{"p", "q"}, "js"},
		"normal":              {"normal", []string{"mu_p", "sigma_p", "mu_q", "sigma_q"}, "kl_pq"},
		"diag_normal":         {"diag-normal", []string{"mu_p", "sigma_p", "mu_q", "sigma_q"}, "kl_pq"},
		"vae_standard_normal": {"vae", []string{"mu", "logvar"}, "kl_pq"},
		"bernoulli":           {"bernoulli", []string{"p", "q"}, "kl_pq"},
		"beta":                {"beta", []string{"alpha_p", "beta_p", "alpha_q", "beta_q"}, "kl_pq"},
		"dirichlet":           {"dirichlet", []string{"alpha_p", "alpha_q"}, "kl_pq"},
		"poisson":             {"poisson", []string{"rate_p", "rate_q"}, "kl_pq"},
		"exponential":         {"exponential", []string{"rate_p", "rate_q"}, "kl_pq"},
		"gamma":               {"gamma", []string{"shape_p", "rate_p", "shape_q", "rate_q"}, "kl_pq"},
	}
	seen := map[string]int{}
	for i, c := range klTestGolden(t) {
		kind, _ := c["kind"].(string)
		k, ok := kinds[kind]
		if !ok {
			t.Errorf("case %d: unknown kind %q", i, kind)
			continue
		}
		args := []string{"kl", k.cmd, "--json"}
		for _, name := range k.flags {
			v, ok := c[name]
			if !ok {
				t.Fatalf("case %d (%s): no field %q", i, kind, name)
			}
			args = append(args, "--"+strings.ReplaceAll(name, "_", "-"), klTestArg(t, v))
		}
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Errorf("case %d: klppo %s: exit %d: %s", i, strings.Join(args, " "), code, errb.String())
			continue
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Errorf("case %d: output %q is not one JSON object: %v", i, out.String(), err)
			continue
		}
		for _, key := range []string{"kl_pq", "kl_qp"} {
			if _, ok := got[key]; !ok {
				t.Errorf("case %d: JSON lacks %s: %s", i, key, out.String())
			}
		}
		want, have := klTestNum(t, c["kl_nats"]), klTestNum(t, got[k.key])
		if math.IsInf(want, 0) || math.IsInf(have, 0) {
			if want != have {
				t.Errorf("case %d (%s): %s = %v, want %v", i, kind, k.key, have, want)
			}
		} else if math.Abs(have-want) > 1e-9*math.Abs(want) {
			t.Errorf("case %d (%s): %s = %.17g, want %.17g", i, kind, k.key, have, want)
		}
		seen[kind]++
	}
	if len(seen) != len(kinds) {
		t.Errorf("kinds exercised: %v", seen)
	}
}

// TestKLCommandText checks the text output. The readings say what actually happened: an
// infinite KL is a support mismatch (Q gives zero probability where P doesn't) or an overflow
// of a finite formula (normals share all of ℝ, so their KL is always finite: μ = ±1e300 only
// overflows float64); a zero is "the same distribution" only when the parameters are the same.
func TestKLCommandText(t *testing.T) {
	tests := []struct {
		args        []string
		want, avoid []string // substrings that stdout must and must not contain
	}{
		{[]string{"kl", "categorical", "--p", "0.7,0.3", "--q", "0.5,0.5"},
			[]string{"KL(P‖Q)   = 0.0822829 nats (0.118709 bits)", "KL(Q‖P)", "JS(P,Q)", "H(P)", "H(P,Q)", "code built for Q"}, nil},
		{[]string{"kl", "categorical", "--p", "0.7,0.3", "--q", "0.5,0.5", "--bits"},
			[]string{"0.118709 bits (0.0822829 nats)"}, nil},
		{[]string{"kl", "categorical", "--p", "0.5,0.5,0", "--q", "1,0,0"},
			[]string{"KL(P‖Q)   = +Inf", "Q gives zero probability to outcome 1 where P doesn't → infinite"}, []string{"overflow"}},
		{[]string{"kl", "categorical", "--p", "0.5,0.5,0", "--q", "1,0,0", "--smooth", "1e-3"},
			[]string{"smoothed", "KL(P‖Q)   = 2.75947 nats"}, nil}, // both smoothed: checked by hand
		{[]string{"kl", "categorical", "--p", "7,3", "--q", "1,1", "--normalize"},
			[]string{"0.0822829 nats"}, nil},
		{[]string{"kl", "categorical", "--p-logits", "800,0,-800", "--q-logits", "0,900,1"},
			[]string{"KL(P‖Q)   = 900 nats"}, nil},
		{[]string{"kl", "normal", "--mu-p", "-3", "--sigma-p", "1", "--mu-q", "3", "--sigma-q", "1"},
			[]string{"KL(P‖Q)   = 18 nats", "KL(Q‖P)   = 18 nats", "* P = N(μ=-3, σ=1)", "o Q", "0.399 |", "      0 +---"}, nil},
		{[]string{"kl", "bernoulli", "--p", "0.7", "--q", "0.5"}, []string{"0.0822829 nats", "JS(P,Q)"}, nil},
		{[]string{"kl", "vae", "--mu", "0,1", "--logvar", "0,0"}, []string{"KL(P‖Q)   = 0.5 nats"}, nil},
		{[]string{"kl", "normal", "--mu-p", "1e300", "--sigma-p", "1", "--mu-q", "-1e300", "--sigma-q", "1"},
			[]string{"+Inf", "overflow"}, []string{"zero probability"}},
		{[]string{"kl", "exponential", "--rate-p", "1e-300", "--rate-q", "1e300"},
			[]string{"+Inf", "overflow"}, []string{"zero probability"}},
		{[]string{"kl", "bernoulli", "--p", "0.5", "--q", "0"},
			[]string{"Q gives zero probability to outcome 1 where P doesn't"}, []string{"overflow"}},
		{[]string{"kl", "categorical", "--p-logits", "1e308,-1e308", "--q-logits", "-1e308,1e308"},
			[]string{"overflow"}, []string{"zero probability"}},
		{[]string{"kl", "normal", "--mu-p", "0", "--sigma-p", "1", "--mu-q", "1e-200", "--sigma-q", "1"},
			[]string{"0 in float64 although P ≠ Q"}, []string{"same distribution"}},
		{[]string{"kl", "normal", "--mu-p", "0", "--sigma-p", "1", "--mu-q", "0", "--sigma-q", "1"},
			[]string{"the same distribution"}, nil},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, errb.String())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(out.String(), a) {
				t.Errorf("%v: output says %q:\n%s", tc.args, a, out.String())
			}
		}
	}
}

// TestKLNormalChartShape checks the terminal chart: 15 plot rows of ≤ 60 columns plus axes.
func TestKLNormalChartShape(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"kl", "normal", "--mu-p", "-3", "--sigma-p", "1", "--mu-q", "3", "--sigma-q", "1"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	var rows, stars, os int
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.Index(line, " |"); i == 7 {
			rows++
			body := line[i+2:]
			if len(body) > 60 {
				t.Errorf("chart row wider than 60: %q", body)
			}
			stars += strings.Count(body, "*")
			os += strings.Count(body, "o")
		}
	}
	if rows != 15 || stars < 20 || os < 20 {
		t.Errorf("chart: %d rows, %d '*', %d 'o'; want 15 rows and both curves:\n%s", rows, stars, os, out.String())
	}
}

func TestKLNormalPlotPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.png")
	var out, errb bytes.Buffer
	if code := run([]string{"kl", "normal", "--mu-p", "0", "--sigma-p", "1", "--mu-q", "1", "--sigma-q", "2", "--plot", path, "--json"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("--plot did not write a PNG: %v", err)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("--json with --plot printed %q", out.String())
	}
}

func TestKLJSONInfinity(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"kl", "categorical", "--p", "0.5,0.5", "--q", "1,0", "--json"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["kl_pq"] != "+Inf" || got["kl_qp"] != math.Ln2 || got["js"] == nil {
		t.Errorf("JSON = %s", out.String())
	}
}

func TestKLCommandBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string // a substring of the one-line error
	}{
		{[]string{"kl", "categorical", "--p", "0.7,-0.3", "--q", "0.5,0.5"}, "--p 0.7,-0.3"},
		{[]string{"kl", "categorical", "--p", "0.7,0.2", "--q", "0.5,0.5"}, "sum(p) = 0.9"},
		{[]string{"kl", "categorical", "--p", "0.7,0.3", "--q", "0.2,0.3,0.5"}, "lengths differ"},
		{[]string{"kl", "categorical", "--p", "0.7,x", "--q", "0.5,0.5"}, "-p"},
		{[]string{"kl", "categorical", "--p", "1", "--p-logits", "0", "--q", "1"}, "give only one"},
		{[]string{"kl", "categorical", "--q", "1"}, "missing --p or --p-logits"},
		{[]string{"kl", "categorical", "--p", "1", "--q", "1", "--smooth", "-1"}, "--smooth -1"},
		// an ε whose ε·K overflows names --smooth, not --p (whose sum was blamed)
		{[]string{"kl", "categorical", "--p", "0.5,0.5", "--q", "0.5,0.5", "--smooth", "1e308"}, "--smooth 1e+308: kl: smooth = 1e+308: too large"},
		{[]string{"kl", "categorical", "--p-logits", "0,0", "--q", "0.5,0.5", "--smooth", "1e308"}, "--smooth 1e+308"},
		{[]string{"kl", "categorical", "--p-logits", "NaN,0", "--q", "0.5,0.5"}, "--p-logits NaN,0"},
		{[]string{"kl", "normal", "--mu-p", "0", "--sigma-p", "0", "--mu-q", "0", "--sigma-q", "1"}, "--sigma-p 0"},
		{[]string{"kl", "normal", "--mu-p", "0", "--sigma-p", "1", "--mu-q", "0"}, "missing --sigma-q"},
		{[]string{"kl", "diag-normal", "--mu-p", "0,0", "--sigma-p", "1,1", "--mu-q", "0", "--sigma-q", "1"}, "--mu-q 0"},
		{[]string{"kl", "diag-normal", "--mu-p", "0", "--sigma-p", "-1", "--mu-q", "0", "--sigma-q", "1"}, "--sigma-p -1"},
		{[]string{"kl", "vae", "--mu", "0,0", "--logvar", "0"}, "--logvar 0"},
		{[]string{"kl", "bernoulli", "--p", "1.5", "--q", "0.5"}, "--p 1.5"},
		{[]string{"kl", "beta", "--alpha-p", "1", "--beta-p", "0", "--alpha-q", "1", "--beta-q", "1"}, "--beta-p 0"},
		{[]string{"kl", "dirichlet", "--alpha-p", "1,2", "--alpha-q", "1,-2"}, "--alpha-q 1,-2"},
		{[]string{"kl", "poisson", "--rate-p", "0", "--rate-q", "1"}, "--rate-p 0"},
		{[]string{"kl", "exponential", "--rate-p", "1", "--rate-q", "-3"}, "--rate-q -3"},
		{[]string{"kl", "gamma", "--shape-p", "1", "--rate-p", "1", "--shape-q", "-1", "--rate-q", "1"}, "--shape-q -1"},
		{[]string{"kl", "gamma", "--shape-p", "1", "--rate-p", "1", "--shape-q", "1", "--rate-q", "1", "--bogus"}, "bogus"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := run(tc.args, &out, &errb)
		msg := strings.TrimRight(errb.String(), "\n")
		if code != 2 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, msg, tc.want)
		}
		// Flag-syntax errors are followed by the usage text (the shared parseFlags); the error
		// itself is the last line. Errors found after parsing are exactly one line.
		if !strings.Contains(msg, "invalid value") && !strings.Contains(msg, "not defined") && strings.Contains(msg, "\n") {
			t.Errorf("%v: error is not one line: %q", tc.args, msg)
		}
		if lines := strings.Split(msg, "\n"); !strings.Contains(lines[len(lines)-1], tc.want) {
			t.Errorf("%v: last line %q lacks %q", tc.args, lines[len(lines)-1], tc.want)
		}
	}
}

// TestKLPlotBadName: --plot with an extension no image writer knows, or an explicit empty name,
// exits 2 naming the flag before anything is computed, and creates no file (it used to exit 1
// after the computation and leave an empty file behind; --plot "" silently meant no chart).
func TestKLPlotBadName(t *testing.T) {
	dir := t.TempDir()
	normal := []string{"kl", "normal", "--mu-p", "0", "--sigma-p", "1", "--mu-q", "1", "--sigma-q", "1", "--plot"}
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "chart.txt"), `unknown image format "txt"`},
		{filepath.Join(dir, "chart"), `unknown image format ""`},
		{"", `--plot "": empty file name`},
	} {
		var out, errb bytes.Buffer
		code := run(append(normal, tc.file), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("--plot %q: exit %d, stderr %q; want 2 and %q", tc.file, code, errb.String(), tc.want)
		}
		if tc.file != "" {
			if _, err := os.Stat(tc.file); !os.IsNotExist(err) {
				t.Errorf("--plot %q left a file behind (%v)", tc.file, err)
			}
		}
	}
}

func TestKLCommandsHaveHelp(t *testing.T) {
	for _, kind := range []string{"categorical", "normal", "diag-normal", "vae", "bernoulli", "beta", "dirichlet", "poisson", "exponential", "gamma"} {
		var out, errb bytes.Buffer
		if code := run([]string{"kl", kind, "-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-json") {
			t.Errorf("kl %s -h: exit %d, %q", kind, code, errb.String())
		}
	}
}

// Vectors can come from a file (@FILE, numbers separated by commas and/or white space) or from
// standard input (-), for vectors longer than a command line holds; a bad or unreadable file is
// a usage error naming the flag and the file.
// TestKLVectorStopsAtALimit: an endless standard input stops at klVectorLimit bytes with an error
// naming the flag (io.ReadAll once grew without bound, 150 MB/s); so does a file past the limit.
func TestKLVectorStopsAtALimit(t *testing.T) {
	defer func(l int64) { klVectorLimit = l }(klVectorLimit)
	klVectorLimit = 1 << 20
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { // like `yes 1 |`
		line := bytes.Repeat([]byte("1\n"), 4096)
		for {
			if _, err := w.Write(line); err != nil {
				w.Close()
				return
			}
		}
	}()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	var out, errb bytes.Buffer
	code := run([]string{"kl", "categorical", "--p", "-", "--q", "0.5,0.5"}, &out, &errb)
	r.Close() // ends the writer
	if code != 2 || !strings.Contains(errb.String(), "--p -: too large: more than 1048576 bytes") {
		t.Errorf("endless stdin: exit %d, %q", code, errb.String())
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(big, bytes.Repeat([]byte("1\n"), 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run([]string{"kl", "categorical", "--p", "@" + big, "--q", "0.5,0.5"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "too large") {
		t.Errorf("a 2 MiB file over a 1 MiB limit: exit %d, %q", code, errb.String())
	}
}

func TestKLVectorFromFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A 100,000-outcome uniform P against a Q that doubles the first half: KL(P‖Q) = ln(4/3)·½ + ln(2/3)·½.
	const n = 100000
	var pb, qb strings.Builder
	for i := 0; i < n; i++ {
		pb.WriteString("1\n")
		if i < n/2 {
			qb.WriteString("2, ")
		} else {
			qb.WriteString("1 ")
		}
	}
	pFile, qFile := write("p.txt", pb.String()), write("q.txt", qb.String())
	var out, errb bytes.Buffer
	if code := run([]string{"kl", "categorical", "--p", "@" + pFile, "--q", "@" + qFile, "--normalize", "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := 0.5*math.Log(0.75) + 0.5*math.Log(1.5)
	if v := klTestNum(t, got["kl_pq"]); math.Abs(v-want) > 1e-12 {
		t.Errorf("KL from @FILE vectors = %.15g, want %.15g", v, want)
	}

	// "-" reads standard input.
	stdin, err := os.Open(write("mu.txt", "0 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	saved := os.Stdin
	os.Stdin = stdin
	out.Reset()
	errb.Reset()
	code := run([]string{"kl", "vae", "--mu", "-", "--logvar", "0,0"}, &out, &errb)
	os.Stdin = saved
	if code != 0 || !strings.Contains(out.String(), "KL(P‖Q)   = 0.5 nats") {
		t.Errorf("--mu - (stdin): exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}

	bad := write("bad.txt", "0.5, x, 0.5\n")
	empty := write("empty.txt", " \n")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"kl", "categorical", "--p", "@" + bad, "--q", "0.5,0.5"}, []string{"--p", bad, `"x" is not a number`}},
		{[]string{"kl", "categorical", "--p", "@" + filepath.Join(dir, "missing.txt"), "--q", "0.5,0.5"}, []string{"--p", "missing.txt"}},
		{[]string{"kl", "dirichlet", "--alpha-p", "1,2", "--alpha-q", "@" + empty}, []string{"--alpha-q", empty, "no numbers"}},
		{[]string{"kl", "categorical", "--p", "0.5,,0.5", "--q", "0.5,0.5"}, []string{"-p", "empty field 2 of 3"}},
		{[]string{"kl", "categorical", "--p", "-", "--q", "-"}, []string{"--q -", "standard input is already read by --p"}},
		// a device is not a file of numbers: refused at once (it was read without end)
		{[]string{"kl", "categorical", "--p", "@/dev/zero", "--q", "0.5,0.5"}, []string{"--p @/dev/zero", "not a regular file (a device)"}},
	} {
		out.Reset()
		errb.Reset()
		code := run(tc.args, &out, &errb)
		msg := strings.TrimRight(errb.String(), "\n")
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", tc.args, code, msg)
		}
		lines := strings.Split(msg, "\n")
		for _, w := range tc.want {
			if !strings.Contains(lines[len(lines)-1], w) {
				t.Errorf("%v: error %q lacks %q", tc.args, msg, w)
			}
		}
	}
}
