package nn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	arrays := []Array{
		{Name: "a", Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, float32(math.Copysign(0, -1))}},
		{Name: "b/64", Shape: []int{4}, F64: []float64{math.Pi, -1e-300, math.NaN(), math.MaxFloat64}},
		{Name: "scalar", Shape: nil, F64: []float64{42}},
		{Name: "empty", Shape: []int{0, 5}, F32: []float32{}},
	}
	var buf bytes.Buffer
	if err := Encode(&buf, arrays); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(arrays) {
		t.Fatalf("%d arrays, want %d", len(got), len(arrays))
	}
	for i, a := range arrays {
		g := got[i]
		if g.Name != a.Name || len(g.Shape) != len(a.Shape) || (g.F32 == nil) != (a.F32 == nil) || len(g.F32) != len(a.F32) || len(g.F64) != len(a.F64) {
			t.Fatalf("array %d: got %+v, want %+v", i, g, a)
		}
		for j := range a.Shape {
			if g.Shape[j] != a.Shape[j] {
				t.Errorf("%s: shape %v, want %v", a.Name, g.Shape, a.Shape)
			}
		}
		for j := range a.F32 {
			if math.Float32bits(g.F32[j]) != math.Float32bits(a.F32[j]) {
				t.Errorf("%s[%d]: %v, want %v (bit-exact)", a.Name, j, g.F32[j], a.F32[j])
			}
		}
		for j := range a.F64 {
			if math.Float64bits(g.F64[j]) != math.Float64bits(a.F64[j]) {
				t.Errorf("%s[%d]: %v, want %v (bit-exact)", a.Name, j, g.F64[j], a.F64[j])
			}
		}
	}
	// The header is as documented: magic, version, count, and the CRC-32 trailer.
	b := buf.Bytes()
	le := binary.LittleEndian
	if string(b[:4]) != "KLNN" || le.Uint32(b[4:]) != 1 || le.Uint32(b[8:]) != uint32(len(arrays)) {
		t.Errorf("header % x", b[:12])
	}
	if le.Uint32(b[len(b)-4:]) != crc32.ChecksumIEEE(b[:len(b)-4]) {
		t.Error("trailer is not the CRC-32 of the preceding bytes")
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		arrays []Array
	}{
		{"no name", []Array{{Shape: []int{1}, F64: []float64{1}}}},
		{"both dtypes", []Array{{Name: "x", Shape: []int{1}, F64: []float64{1}, F32: []float32{1}}}},
		{"no data", []Array{{Name: "x", Shape: []int{1}}}},
		{"size mismatch", []Array{{Name: "x", Shape: []int{2}, F64: []float64{1}}}},
		{"repeated name", []Array{{Name: "x", F64: []float64{1}}, {Name: "x", F64: []float64{2}}}},
	} {
		if err := Encode(&bytes.Buffer{}, c.arrays); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestDecodeCorruption(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{8}, Out: 2})
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		return b
	}
	// A structurally bad file with a valid checksum: the count says one more array than present.
	badCount := bytes.Clone(good[:len(good)-4])
	binary.LittleEndian.PutUint32(badCount[8:], binary.LittleEndian.Uint32(badCount[8:])+1)
	badCount = binary.LittleEndian.AppendUint32(badCount, crc32.ChecksumIEEE(badCount))

	cases := []struct {
		name     string
		data     []byte
		checksum bool   // the error must wrap ErrChecksum
		contains string // and mention this
	}{
		{"flipped value byte", flip(len(good) / 2), true, "checksum"},
		{"flipped name byte", flip(15), true, "checksum"},
		{"flipped checksum", flip(len(good) - 1), true, "checksum"},
		{"truncated", good[:len(good)-9], true, "checksum"},
		{"empty", nil, false, "not a KLNN"},
		{"bad magic", append([]byte("XXXX"), good[4:]...), false, "not a KLNN"},
		{"count beyond data", badCount, false, "file ends inside"},
	}
	for _, c := range cases {
		err := m.UnmarshalBinary(c.data)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if errors.Is(err, ErrChecksum) != c.checksum || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%s: error %q", c.name, err)
		}
	}
	if err := m.UnmarshalBinary(good); err != nil {
		t.Errorf("intact file: %v", err)
	}
}

func TestMLPRoundTripAndMismatch(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		src, _ := NewMLP(seeded(1), MLPConfig{In: 4, Hidden: []int{8, 8}, Out: 2, Dtype: dt})
		data, err := src.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		dst, _ := NewMLP(seeded(2), MLPConfig{In: 4, Hidden: []int{8, 8}, Out: 2, Dtype: dt})
		before := dst.Params()[0]
		if err := dst.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if dst.Params()[0] != before {
			t.Error("UnmarshalBinary replaced a parameter tensor instead of copying into it")
		}
		for i, p := range src.Params() {
			a, b := toF64(p), toF64(dst.Params()[i])
			for j := range a {
				if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
					t.Fatalf("%v %s[%d]: %v after round trip, want %v", dt, src.ParamNames()[i], j, b[j], a[j])
				}
			}
		}

		mismatches := []struct {
			name string
			cfg  MLPConfig
			want string
		}{
			{"wider hidden", MLPConfig{In: 4, Hidden: []int{16, 8}, Out: 2, Dtype: dt}, "want"},
			{"extra layer", MLPConfig{In: 4, Hidden: []int{8, 8, 8}, Out: 2, Dtype: dt}, "want"},
			{"fewer layers", MLPConfig{In: 4, Hidden: []int{8}, Out: 8, Dtype: dt}, "more layers"},
			{"other name", MLPConfig{Name: "critic", In: 4, Hidden: []int{8, 8}, Out: 2, Dtype: dt}, "not found"},
			{"other dtype", MLPConfig{In: 4, Hidden: []int{8, 8}, Out: 2, Dtype: map[bool]tensor.Dtype{true: tensor.Float64, false: tensor.Float32}[dt == tensor.Float32]}, "want"},
		}
		for _, c := range mismatches {
			other, err := NewMLP(seeded(3), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			keep := toF64(other.Params()[0])
			err = other.UnmarshalBinary(data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v %s: error %v, want one containing %q", dt, c.name, err, c.want)
			}
			if got := toF64(other.Params()[0]); got[0] != keep[0] {
				t.Errorf("%v %s: a failed load modified the parameters", dt, c.name)
			}
		}
	}
}

func TestAdamRoundTrip(t *testing.T) {
	p := denseFrom(tensor.Float32, []int{2, 2}, []float64{1, 2, 3, 4})
	q := denseFrom(tensor.Float64, []int{3}, []float64{1, 2, 3})
	a, _ := NewAdam([]*tensor.Dense{p, q}, AdamConfig{Eps: 1e-5})
	for i := 0; i < 3; i++ {
		gs := []*tensor.Dense{denseFrom(tensor.Float32, []int{2, 2}, randomBatch(seeded(uint64(i)), 4)), denseFrom(tensor.Float64, []int{3}, randomBatch(seeded(uint64(i+9)), 3))}
		if err := a.Step(1e-2, gs); err != nil {
			t.Fatal(err)
		}
	}
	data, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewAdam([]*tensor.Dense{denseFrom(tensor.Float32, []int{2, 2}, nil), denseFrom(tensor.Float64, []int{3}, nil)}, AdamConfig{})
	if err := b.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	sa, sb := a.State(), b.State()
	if sa.Step != sb.Step || sa.Config != sb.Config {
		t.Errorf("restored step/config %d %+v, want %d %+v", sb.Step, sb.Config, sa.Step, sa.Config)
	}
	for i := range sa.M {
		for j := range sa.M[i] {
			if sa.M[i][j] != sb.M[i][j] || sa.V[i][j] != sb.V[i][j] {
				t.Errorf("moment %d[%d] differs after round trip", i, j)
			}
		}
	}
	c, _ := NewAdam([]*tensor.Dense{denseFrom(tensor.Float32, []int{4}, nil), denseFrom(tensor.Float64, []int{3}, nil)}, AdamConfig{})
	if err := c.UnmarshalBinary(data); err == nil {
		t.Error("state for a (2,2) parameter loaded into a (4) parameter: no error")
	}
	d, _ := NewAdam([]*tensor.Dense{denseFrom(tensor.Float32, []int{2, 2}, nil)}, AdamConfig{})
	if err := d.UnmarshalBinary(data); err == nil {
		t.Error("state for 2 parameters loaded into an Adam over 1: no error")
	}
}

func TestWriteReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.klnn")
	m, err := NewMLP(seeded(1), MLPConfig{Name: "actor", In: 3, Hidden: []int{5}, Out: 2})
	if err != nil {
		t.Fatal(err)
	}
	params, err := m.Arrays()
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, params); err != nil {
		t.Fatal(err)
	}
	arrays, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(arrays) != 4 || arrays[0].Name != "actor.l0.W" {
		t.Errorf("read %d arrays, first %q", len(arrays), arrays[0].Name)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory after WriteFile, want 1 (temporary file left?)", len(entries))
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

// Arrays reports a parameter of a dtype it cannot copy (naming the network and the parameter)
// instead of returning an empty array in its place.
func TestMLPArraysError(t *testing.T) {
	m, err := NewMLP(seeded(1), MLPConfig{Name: "actor", In: 3, Hidden: []int{5}, Out: 2})
	if err != nil {
		t.Fatal(err)
	}
	m.params[1] = tensor.New(tensor.WithShape(5), tensor.WithBacking(make([]int, 5)))
	arrays, err := m.Arrays()
	if err == nil || arrays != nil || !strings.Contains(err.Error(), `"actor"`) || !strings.Contains(err.Error(), m.names[1]) {
		t.Errorf("Arrays with an int parameter = %d arrays, %v; want an error naming the MLP and %q", len(arrays), err, m.names[1])
	}
	if _, err := m.MarshalBinary(); err == nil {
		t.Error("MarshalBinary with an int parameter: no error")
	}
}
