package nn

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"

	"klppo/internal/fileio"

	"gorgonia.org/tensor"
)

// Constants of the KLNN format (see Encode).
const (
	fileMagic   = "KLNN"
	fileVersion = 1
	dtypeF32    = 1
	dtypeF64    = 2
	maxFileSize = 1 << 31
)

// ErrChecksum is wrapped by Decode's error when the file's CRC-32 does not match its contents.
var ErrChecksum = errors.New("checksum mismatch (corrupt or truncated file)")

var (
	_ encoding.BinaryMarshaler   = (*MLP)(nil)
	_ encoding.BinaryUnmarshaler = (*MLP)(nil)
	_ encoding.BinaryMarshaler   = (*Adam)(nil)
	_ encoding.BinaryUnmarshaler = (*Adam)(nil)
)

// Array is one named array of a parameter file. Exactly one of F32 and F64 is non-nil and holds
// Π Shape values, row-major.
type Array struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

func (a Array) size() int {
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	return n
}

func (a Array) check() error {
	if a.Name == "" || len(a.Name) > math.MaxUint16 {
		return fmt.Errorf("array name %q: want 1 to %d bytes", a.Name, math.MaxUint16)
	}
	if len(a.Shape) > math.MaxUint8 {
		return fmt.Errorf("array %q: %d dimensions, at most %d", a.Name, len(a.Shape), math.MaxUint8)
	}
	for _, s := range a.Shape {
		if s < 0 || s > math.MaxUint32 {
			return fmt.Errorf("array %q: dimension %d out of range", a.Name, s)
		}
	}
	switch {
	case (a.F32 == nil) == (a.F64 == nil):
		return fmt.Errorf("array %q: exactly one of F32 and F64 must be set", a.Name)
	case a.F32 != nil && len(a.F32) != a.size(), a.F64 != nil && len(a.F64) != a.size():
		return fmt.Errorf("array %q: %d values for shape %v", a.Name, max(len(a.F32), len(a.F64)), a.Shape)
	}
	return nil
}

// Encode writes arrays in the KLNN parameter-file format, version 1. All integers are little-endian; floats are IEEE 754 bit
// patterns, so values round-trip exactly.
//
//	offset  size  field
//	0       4     magic "KLNN"
//	4       4     uint32 format version (1)
//	8       4     uint32 number of arrays n
//	then n arrays, each:
//	        2     uint16 name length k (1 ≤ k)
//	        k     name, UTF-8, unique within the file
//	        1     uint8 dtype: 1 = float32, 2 = float64
//	        1     uint8 number of dimensions d (0 means a single value)
//	        4·d   uint32 dimensions, outermost first
//	        4·N or 8·N  the N = Π dims values, row-major
//	end-4   4     uint32 CRC-32 (IEEE, as zlib.crc32) of every preceding byte
//
// Decode verifies the checksum before parsing, so a corrupt or truncated file gives a
// "checksum mismatch" error; loading into an MLP or Adam checks every name, dtype and shape.
func Encode(w io.Writer, arrays []Array) error {
	var buf bytes.Buffer
	buf.WriteString(fileMagic)
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, fileVersion))
	buf.Write(le.AppendUint32(nil, uint32(len(arrays))))
	seen := map[string]bool{}
	for _, a := range arrays {
		if err := a.check(); err != nil {
			return fmt.Errorf("nn: Encode: %w", err)
		}
		if seen[a.Name] {
			return fmt.Errorf("nn: Encode: array name %q repeated", a.Name)
		}
		seen[a.Name] = true
		b := le.AppendUint16(nil, uint16(len(a.Name)))
		b = append(b, a.Name...)
		if a.F32 != nil {
			b = append(b, dtypeF32)
		} else {
			b = append(b, dtypeF64)
		}
		b = append(b, uint8(len(a.Shape)))
		for _, s := range a.Shape {
			b = le.AppendUint32(b, uint32(s))
		}
		for _, v := range a.F32 {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		for _, v := range a.F64 {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
		buf.Write(b)
	}
	buf.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(buf.Bytes())))
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("nn: Encode: %w", err)
	}
	return nil
}

// Decode reads a KLNN file written by Encode. It fails with an error wrapping ErrChecksum when
// the checksum does not match, and with a descriptive error for any other malformation.
func Decode(r io.Reader) ([]Array, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("nn: Decode: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("nn: Decode: file larger than %d bytes", maxFileSize)
	}
	if len(data) < 16 || string(data[:4]) != fileMagic {
		return nil, fmt.Errorf("nn: Decode: not a KLNN parameter file (bad magic or too short: %d bytes)", len(data))
	}
	le := binary.LittleEndian
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, fmt.Errorf("nn: Decode: %w: stored CRC-32 %08x, computed %08x", ErrChecksum, sum, got)
	}
	if v := le.Uint32(body[4:]); v != fileVersion {
		return nil, fmt.Errorf("nn: Decode: format version %d, want %d", v, fileVersion)
	}
	n := int(le.Uint32(body[8:]))
	p := body[12:]
	short := func(what string, need int) error {
		if len(p) < need {
			return fmt.Errorf("nn: Decode: file ends inside %s (%d bytes left, need %d)", what, len(p), need)
		}
		return nil
	}
	var arrays []Array
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		if err := short("an array header", 2); err != nil {
			return nil, err
		}
		k := int(le.Uint16(p))
		p = p[2:]
		if err := short("an array name", k+2); err != nil {
			return nil, err
		}
		a := Array{Name: string(p[:k])}
		dt, nd := p[k], int(p[k+1])
		p = p[k+2:]
		if a.Name == "" || seen[a.Name] {
			return nil, fmt.Errorf("nn: Decode: array %d has an empty or repeated name %q", i, a.Name)
		}
		seen[a.Name] = true
		if err := short("array "+a.Name+"'s shape", 4*nd); err != nil {
			return nil, err
		}
		size := 1
		for d := 0; d < nd; d++ {
			s := int(le.Uint32(p[4*d:]))
			a.Shape = append(a.Shape, s)
			if s != 0 && size > maxFileSize/s {
				return nil, fmt.Errorf("nn: Decode: array %q: shape %v too large", a.Name, a.Shape)
			}
			size *= s
		}
		p = p[4*nd:]
		switch dt {
		case dtypeF32:
			if err := short("array "+a.Name+"'s values", 4*size); err != nil {
				return nil, err
			}
			a.F32 = make([]float32, size)
			for j := range a.F32 {
				a.F32[j] = math.Float32frombits(le.Uint32(p[4*j:]))
			}
			p = p[4*size:]
		case dtypeF64:
			if err := short("array "+a.Name+"'s values", 8*size); err != nil {
				return nil, err
			}
			a.F64 = make([]float64, size)
			for j := range a.F64 {
				a.F64[j] = math.Float64frombits(le.Uint64(p[8*j:]))
			}
			p = p[8*size:]
		default:
			return nil, fmt.Errorf("nn: Decode: array %q: unknown dtype code %d", a.Name, dt)
		}
		arrays = append(arrays, a)
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("nn: Decode: %d unexpected bytes after %d arrays", len(p), n)
	}
	return arrays, nil
}

// WriteFile encodes arrays to path atomically (fileio.WriteAtomic: a temporary file in the same
// directory, synced, then renamed over path).
func WriteFile(path string, arrays []Array) error {
	var buf bytes.Buffer
	if err := Encode(&buf, arrays); err != nil {
		return err
	}
	if err := fileio.WriteAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("nn: WriteFile: %w", err)
	}
	return nil
}

// ReadFile decodes the KLNN file at path.
func ReadFile(path string) ([]Array, error) {
	data, err := fileio.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("nn: ReadFile: %w", err)
	}
	arrays, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return arrays, nil
}

// ArrayOf copies a float32 or float64 tensor into an Array named name.
func ArrayOf(name string, t *tensor.Dense) (Array, error) {
	a := Array{Name: name, Shape: slices.Clone([]int(t.Shape()))}
	switch s := t.Data().(type) {
	case []float32:
		a.F32 = slices.Clone(s)
	case []float64:
		a.F64 = slices.Clone(s)
	default:
		return Array{}, fmt.Errorf("nn: ArrayOf %q: dtype %v: want float32 or float64", name, t.Dtype())
	}
	return a, nil
}

// MaxParam bounds the magnitude of every parameter value loaded from a file (LoadInto, and so
// MLP.LoadArrays; policy checkpoints use CheckParamValues too). Training never comes near it —
// klppo's networks keep their weights within a few hundred — while a value past it makes a
// forward pass overflow float32 (3.4e38) after a few layers; a file holding one was damaged or
// written by something else, even when its checksum is valid.
const MaxParam = 1e6

// CheckParamValues returns an error naming the parameter when one of vals is NaN, ±Inf or
// larger in magnitude than MaxParam: the one check of loaded weights.
func CheckParamValues(name string, vals []float64) error {
	for i, x := range vals {
		if err := checkParam(name, i, x); err != nil {
			return err
		}
	}
	return nil
}

func checkParam(name string, i int, x float64) error {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return fmt.Errorf("parameter %q value %d is %v: not finite", name, i, x)
	case math.Abs(x) > MaxParam:
		return fmt.Errorf("parameter %q value %d is %g: beyond ±%g, no trained network holds such a weight", name, i, x, float64(MaxParam))
	}
	return nil
}

// checkValues is CheckParamValues for an array of either dtype.
func (a Array) checkValues() error {
	for i, x := range a.F32 {
		if err := checkParam(a.Name, i, float64(x)); err != nil {
			return err
		}
	}
	return CheckParamValues(a.Name, a.F64)
}

// find returns the array named name.
func find(arrays []Array, name string) (Array, error) {
	for _, a := range arrays {
		if a.Name == name {
			return a, nil
		}
	}
	return Array{}, fmt.Errorf("array %q not found", name)
}

// checkInto reports whether the array named name can be copied into t (same dtype and shape).
func checkInto(arrays []Array, name string, t *tensor.Dense) (Array, error) {
	a, err := find(arrays, name)
	if err != nil {
		return a, err
	}
	if err := a.check(); err != nil {
		return a, err
	}
	if err := a.checkValues(); err != nil {
		return a, err
	}
	want := "float64"
	if t.Dtype() == tensor.Float32 {
		want = "float32"
	}
	got := "float64"
	if a.F32 != nil {
		got = "float32"
	}
	if got != want || !slices.Equal(a.Shape, []int(t.Shape())) {
		return a, fmt.Errorf("array %q is %s %v, want %s %v", name, got, a.Shape, want, []int(t.Shape()))
	}
	return a, nil
}

// LoadInto copies the array named name into t in place; its dtype and shape must match t's and
// its values must pass CheckParamValues.
func LoadInto(arrays []Array, name string, t *tensor.Dense) error {
	a, err := checkInto(arrays, name, t)
	if err != nil {
		return fmt.Errorf("nn: LoadInto: %w", err)
	}
	switch s := t.Data().(type) {
	case []float32:
		copy(s, a.F32)
	case []float64:
		copy(s, a.F64)
	}
	return nil
}

// Arrays returns copies of the parameters named by ParamNames ("<Name>.l<i>.W", "<Name>.l<i>.b").
// The parameters are float32 or float64 by construction; an error (from ArrayOf) means a
// parameter tensor was replaced by one of another dtype.
func (m *MLP) Arrays() ([]Array, error) {
	out := make([]Array, len(m.params))
	for i, p := range m.params {
		a, err := ArrayOf(m.names[i], p)
		if err != nil {
			return nil, fmt.Errorf("nn: MLP %q: %w", m.name, err)
		}
		out[i] = a
	}
	return out, nil
}

// LoadArrays copies the arrays named by ParamNames into the parameters in place (graphs built
// from m see the new values). Every array is checked (present, dtype, shape, values finite and
// within ±MaxParam) before anything is copied, and a file with more layers than m is rejected;
// arrays with other names are ignored (see ExtraArrays).
func (m *MLP) LoadArrays(arrays []Array) error {
	for i, p := range m.params {
		if _, err := checkInto(arrays, m.names[i], p); err != nil {
			return fmt.Errorf("nn: MLP %q: %w", m.name, err)
		}
	}
	if extra := fmt.Sprintf("%s.l%d.W", m.name, len(m.w)); slices.ContainsFunc(arrays, func(a Array) bool { return a.Name == extra }) {
		return fmt.Errorf("nn: MLP %q: the arrays have more layers than the network (%q present)", m.name, extra)
	}
	for i, p := range m.params {
		if err := LoadInto(arrays, m.names[i], p); err != nil {
			return err
		}
	}
	return nil
}

// ExtraArrays returns the names of the arrays that are not among the parameters of nets (in file
// order): a file meant to hold exactly some networks can refuse what else it holds.
func ExtraArrays(arrays []Array, nets ...*MLP) []string {
	known := map[string]bool{}
	for _, m := range nets {
		for _, n := range m.names {
			known[n] = true
		}
	}
	var out []string
	for _, a := range arrays {
		if !known[a.Name] {
			out = append(out, a.Name)
		}
	}
	return out
}

// MarshalBinary encodes the parameters (Arrays) in the KLNN format.
func (m *MLP) MarshalBinary() ([]byte, error) {
	arrays, err := m.Arrays()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := Encode(&buf, arrays); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary loads parameters written by MarshalBinary into m, which must have the same
// name and architecture (see LoadArrays).
func (m *MLP) UnmarshalBinary(data []byte) error {
	arrays, err := Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return m.LoadArrays(arrays)
}

// Arrays returns the optimizer state as arrays named "<prefix>.step" (t, one float64),
// "<prefix>.hyper" (β₁, β₂, ε), "<prefix>.m<i>" and "<prefix>.v<i>" (float64, shaped like
// parameter i).
func (a *Adam) Arrays(prefix string) []Array {
	out := []Array{
		{Name: prefix + ".step", Shape: []int{1}, F64: []float64{float64(a.t)}},
		{Name: prefix + ".hyper", Shape: []int{3}, F64: []float64{a.cfg.Beta1, a.cfg.Beta2, a.cfg.Eps}},
	}
	for i, p := range a.params {
		sh := slices.Clone([]int(p.Shape()))
		out = append(out,
			Array{Name: fmt.Sprintf("%s.m%d", prefix, i), Shape: sh, F64: slices.Clone(a.m[i])},
			Array{Name: fmt.Sprintf("%s.v%d", prefix, i), Shape: slices.Clone(sh), F64: slices.Clone(a.v[i])})
	}
	return out
}

// LoadArrays restores the state written by Arrays(prefix); shapes must match the parameters.
func (a *Adam) LoadArrays(prefix string, arrays []Array) error {
	get := func(name string, shape []int) ([]float64, error) {
		x, err := find(arrays, name)
		if err != nil {
			return nil, err
		}
		if x.F64 == nil || !slices.Equal(x.Shape, shape) || len(x.F64) != x.size() {
			return nil, fmt.Errorf("array %q: want float64 %v, got shape %v (float32: %v)", name, shape, x.Shape, x.F32 != nil)
		}
		return x.F64, nil
	}
	step, err := get(prefix+".step", []int{1})
	if err != nil {
		return fmt.Errorf("nn: Adam.LoadArrays: %w", err)
	}
	hyper, err := get(prefix+".hyper", []int{3})
	if err != nil {
		return fmt.Errorf("nn: Adam.LoadArrays: %w", err)
	}
	t := step[0]
	if t < 0 || t != math.Trunc(t) || t > 1<<53 {
		return fmt.Errorf("nn: Adam.LoadArrays: %s.step=%v is not a step count", prefix, t)
	}
	s := AdamState{Config: AdamConfig{Beta1: hyper[0], Beta2: hyper[1], Eps: hyper[2]}, Step: int(t)}
	for i, p := range a.params {
		sh := []int(p.Shape())
		m, err := get(fmt.Sprintf("%s.m%d", prefix, i), sh)
		if err != nil {
			return fmt.Errorf("nn: Adam.LoadArrays: %w", err)
		}
		v, err := get(fmt.Sprintf("%s.v%d", prefix, i), sh)
		if err != nil {
			return fmt.Errorf("nn: Adam.LoadArrays: %w", err)
		}
		s.M, s.V = append(s.M, m), append(s.V, v)
	}
	if _, err := find(arrays, fmt.Sprintf("%s.m%d", prefix, len(a.params))); err == nil {
		return fmt.Errorf("nn: Adam.LoadArrays: the file has state for more than %d parameters", len(a.params))
	}
	return a.SetState(s)
}

// MarshalBinary encodes the optimizer state (Arrays("adam")) in the KLNN format.
func (a *Adam) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, a.Arrays("adam")); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary restores a state written by MarshalBinary into an Adam over parameters of the
// same shapes.
func (a *Adam) UnmarshalBinary(data []byte) error {
	arrays, err := Decode(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return a.LoadArrays("adam", arrays)
}
