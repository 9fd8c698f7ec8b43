package main

// The plumbing of the `klppo kl` commands (kl.go): flag values, the shared flags, number
// formatting and a JSON object that keeps its keys in order.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"klppo/internal/fileio"
	"klppo/kl"
)

// klCmdNum is a float flag that remembers whether it was given.
type klCmdNum struct {
	v   float64
	set bool
}

func (n *klCmdNum) String() string {
	if n == nil || !n.set {
		return ""
	}
	return strconv.FormatFloat(n.v, 'g', -1, 64)
}

func (n *klCmdNum) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	n.v, n.set = v, true
	return nil
}

// klVecFlag is a vector flag: numbers given inline are parsed at once (a bad one is a flag
// error); @FILE and - are read after parsing (klVecFlag.load), so that an error can name the
// flag and the file. String returns the text as given, so that messages never print a long
// vector read from a file.
type klVecFlag struct {
	raw    string
	inline []float64
}

var _ flag.Value = (*klVecFlag)(nil)

func (v *klVecFlag) String() string {
	if v == nil {
		return ""
	}
	return v.raw
}

func (v *klVecFlag) Set(s string) error {
	if s == "-" || strings.HasPrefix(s, "@") {
		v.raw, v.inline = s, nil
		return nil
	}
	x, err := kl.ParseVector(s)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "kl: "))
	}
	v.raw, v.inline = s, x
	return nil
}

// klVectorLimit is the most bytes a vector's text may have (tests lower it).
var klVectorLimit = fileio.LargeFile

// load returns the vector: the inline numbers, or those of the file (@FILE, a regular file) or
// of stdin (-), read through internal/fileio so that /dev/zero is refused and an endless pipe
// stops at klVectorLimit bytes instead of filling the memory.
func (v *klVecFlag) load(stdin io.Reader) ([]float64, error) {
	var data []byte
	var err error
	switch {
	case v.raw == "-":
		data, err = fileio.ReadAll(stdin, klVectorLimit)
	case strings.HasPrefix(v.raw, "@"):
		data, err = fileio.ReadFile(v.raw[1:], klVectorLimit)
		if errors.Is(err, fileio.ErrNotRegular) {
			err = fmt.Errorf("%w: give a file, or - and the numbers on standard input", err)
		}
	default:
		return v.inline, nil
	}
	if err != nil {
		return nil, err
	}
	x, err := kl.ParseVector(string(data))
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "kl: "))
	}
	return x, nil
}

// klCmdFlags bundles a command's FlagSet with the flags every kl command shares.
type klCmdFlags struct {
	fs       *flag.FlagSet
	json     bool
	bits     bool
	required []string
}

func klCmdNewFlags(path, synopsis string, stderr io.Writer) *klCmdFlags {
	f := &klCmdFlags{fs: newFlagSet(path, synopsis, stderr)}
	f.fs.BoolVar(&f.json, "json", false, "print one JSON object (values in nats; +Inf as the string \"+Inf\")")
	f.fs.BoolVar(&f.bits, "bits", false, "text output leads with bits instead of nats (JSON stays in nats)")
	return f
}

func (f *klCmdFlags) num(name, usage string) *klCmdNum {
	n := &klCmdNum{}
	f.fs.Var(n, name, usage+" (required)")
	f.required = append(f.required, name)
	return n
}

func (f *klCmdFlags) vec(name, usage string, required bool) *klVecFlag {
	v := &klVecFlag{}
	usage += "; or @FILE (a file of numbers), or - (standard input)"
	if required {
		usage += " (required)"
		f.required = append(f.required, name)
	}
	f.fs.Var(v, name, usage)
	return v
}

// parse parses args and checks the required flags.
func (f *klCmdFlags) parse(args []string) error {
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	seen := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { seen[fl.Name] = true })
	for _, name := range f.required {
		if !seen[name] {
			return usagef("missing --%s (run 'klppo %s -h')", name, strings.TrimPrefix(f.fs.Name(), "klppo "))
		}
	}
	return nil
}

// argError turns a kl error into a usage error naming the flag (kl's argument names map to
// flags by "_" → "-": sigma_p → --sigma-p) and its value as given.
func (f *klCmdFlags) argError(err error) error {
	var ae *kl.ArgError
	if errors.As(err, &ae) {
		name := strings.ReplaceAll(ae.Arg, "_", "-")
		if fl := f.fs.Lookup(name); fl != nil {
			return usagef("--%s %s: %v", name, fl.Value.String(), err)
		}
		return usagef("%v", err)
	}
	return err
}

// klCmdFmt formats a value in nats as "0.0822829 nats (0.118709 bits)", or bits first.
func klCmdFmt(nats float64, bits bool) string {
	n, b := strconv.FormatFloat(nats, 'g', 6, 64), strconv.FormatFloat(kl.ToBits(nats), 'g', 6, 64)
	if math.IsInf(nats, 1) {
		n, b = "+Inf", "+Inf"
	}
	if bits {
		return b + " bits (" + n + " nats)"
	}
	return n + " nats (" + b + " bits)"
}

// klCmdLine prints one labelled value and its reading.
func klCmdLine(w io.Writer, label string, nats float64, bits bool, reading string) {
	fmt.Fprintf(w, "%-9s = %-32s %s\n", label, klCmdFmt(nats, bits), reading)
}

func klCmdG(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func klCmdVec(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = klCmdG(x)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func klCmdJSONList(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

// klCmdObj is a JSON object that keeps its keys in insertion order.
type klCmdObj struct {
	keys []string
	vals []any
}

func (o *klCmdObj) add(k string, v any) *klCmdObj {
	o.keys, o.vals = append(o.keys, k), append(o.vals, v)
	return o
}

// merge appends the fields of other (nil is empty).
func (o *klCmdObj) merge(other *klCmdObj) *klCmdObj {
	if other != nil {
		o.keys, o.vals = append(o.keys, other.keys...), append(o.vals, other.vals...)
	}
	return o
}

func (o *klCmdObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
