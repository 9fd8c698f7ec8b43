package datasets

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestGlyphsDeterministic(t *testing.T) {
	cfg := withSeed(7, 300, 100)
	a, err := Glyphs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Glyphs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different glyph data")
	}
	cfg.Seed = 8
	c, err := Glyphs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Train.X, c.Train.X) {
		t.Fatal("different seeds gave identical glyph data")
	}
	// The training set does not depend on the test set's size.
	d, err := Glyphs(withSeed(7, 300, 17))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Train, d.Train) {
		t.Fatal("changing Test changed the training set")
	}
	if reflect.DeepEqual(a.Train.X[:100*a.Train.Dim], a.Test.X) {
		t.Fatal("train and test share their random stream")
	}
}

func TestRingDeterministic(t *testing.T) {
	a, err := Ring(RingConfig{Train: 200, Test: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Ring(RingConfig{Train: 200, Test: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different ring data")
	}
	c, err := Ring(RingConfig{Train: 200, Test: 50, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Train.X, c.Train.X) {
		t.Fatal("different seeds gave identical ring data")
	}
}

func TestGlyphsProperties(t *testing.T) {
	s, err := Glyphs(withSeed(1, 1000, 10))
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Train
	if tr.N != 1000 || tr.Dim != 144 || len(tr.X) != 1000*144 || tr.Width != 12 || tr.Height != 12 {
		t.Fatalf("shape: N=%d Dim=%d len=%d %d×%d", tr.N, tr.Dim, len(tr.X), tr.Width, tr.Height)
	}
	count := make([]int, 10)
	for _, y := range tr.Y {
		count[y]++
	}
	for d, n := range count {
		if n != 100 {
			t.Errorf("digit %d appears %d times, want 100 (balanced)", d, n)
		}
	}
	for i, v := range tr.X {
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Fatalf("pixel %d = %v outside [0, 1]", i, v)
		}
	}
	// Noise and shifts make two examples of the same digit differ.
	var first = -1
	for i, y := range tr.Y {
		if y != 3 {
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		if reflect.DeepEqual(tr.Row(first), tr.Row(i)) {
			t.Errorf("examples %d and %d of digit 3 are identical", first, i)
		}
		break
	}
}

// A clean glyph is the font drawn centred: compare pixel by pixel with the font strings.
func TestGlyphsCleanMatchesFont(t *testing.T) {
	for _, size := range []int{8, 12} {
		s, err := Glyphs(GlyphConfig{Size: size, Train: 20, Test: 1, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		x0, y0 := (size-fontCols)/2, (size-fontRows)/2
		for i := 0; i < s.Train.N; i++ {
			d, row := s.Train.Y[i], s.Train.Row(i)
			var inkSum float64
			for r := 0; r < size; r++ {
				for c := 0; c < size; c++ {
					want := false
					if fr, fc := r-y0, c-x0; fr >= 0 && fr < fontRows && fc >= 0 && fc < fontCols {
						want = font[d][fr][fc] == '#'
					}
					v := row[r*size+c]
					if got := v > 0; got != want {
						t.Fatalf("size %d digit %d pixel (%d,%d) = %v, want ink %v", size, d, r, c, v, want)
					}
					inkSum += v
				}
			}
			if inkSum == 0 {
				t.Fatalf("digit %d is blank", d)
			}
		}
	}
}

func TestFontDigitsDistinct(t *testing.T) {
	seen := map[string]int{}
	for d, g := range font {
		k := strings.Join(g[:], "/")
		if o, dup := seen[k]; dup {
			t.Errorf("digits %d and %d share a glyph", o, d)
		}
		seen[k] = d
		for r, line := range g {
			if len(line) != fontCols || strings.Trim(line, "#.") != "" {
				t.Errorf("digit %d row %d = %q: want %d of '#' or '.'", d, r, line, fontCols)
			}
		}
	}
}

func TestRingModes(t *testing.T) {
	s, err := Ring(RingConfig{Modes: 4, Radius: 3, Std: 0.01, Train: 400, Test: 1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < s.Train.N; i++ {
		x, y := s.Train.X[2*i], s.Train.X[2*i+1]
		a := 2 * math.Pi * float64(s.Train.Y[i]) / 4
		if d := math.Hypot(x-3*math.Cos(a), y-3*math.Sin(a)); d > 0.1 {
			t.Fatalf("point %d (%v,%v) is %v from its mode %d", i, x, y, d, s.Train.Y[i])
		}
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"size", func() error { _, e := Glyphs(GlyphConfig{Size: 5}); return e }, "Size = 5"},
		{"negative train", func() error { _, e := Glyphs(GlyphConfig{Train: -1}); return e }, "Train = -1"},
		{"prob", func() error { _, e := Glyphs(GlyphConfig{PixelNoise: 1.5}); return e }, "PixelNoise = 1.5"},
		{"shift", func() error { _, e := Glyphs(GlyphConfig{MaxShift: -2}); return e }, "MaxShift = -2"},
		{"modes", func() error { _, e := Ring(RingConfig{Modes: -3}); return e }, "Modes = -3"},
		{"std", func() error { _, e := Ring(RingConfig{Std: math.NaN()}); return e }, "Std = NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestImage(t *testing.T) {
	s, err := Glyphs(GlyphConfig{Size: 8, Train: 2, Test: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Train.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 8 || b.Dy() != 8 {
		t.Fatalf("image bounds %v", b)
	}
	for p, v := range s.Train.Row(0) {
		if g := img.GrayAt(p%8, p/8).Y; (v > 0) != (g < 255) {
			t.Fatalf("pixel %d value %v rendered as grey %d", p, v, g)
		}
	}
	if _, err := s.Train.Image(2); err == nil {
		t.Fatal("out-of-range index accepted")
	}
}

func withSeed(seed uint64, train, test int) GlyphConfig {
	c := DefaultGlyphConfig()
	c.Seed, c.Train, c.Test = seed, train, test
	return c
}

// The fresh Transfer part comes from its own stream: asking for it changes neither Train nor
// Test, and it differs from both.
func TestGlyphsTransferPart(t *testing.T) {
	plain, err := Glyphs(withSeed(7, 300, 100))
	if err != nil {
		t.Fatal(err)
	}
	if plain.Transfer != nil {
		t.Fatal("Transfer = 0 gave a transfer set")
	}
	cfg := withSeed(7, 300, 100)
	cfg.Transfer = 200
	with, err := Glyphs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plain.Train, with.Train) || !reflect.DeepEqual(plain.Test, with.Test) {
		t.Fatal("asking for a transfer set changed the training or test set")
	}
	tr := with.Transfer
	if tr == nil || tr.N != 200 || tr.Dim != 144 || tr.Classes != 10 {
		t.Fatalf("transfer set %+v", tr)
	}
	if reflect.DeepEqual(tr.X[:100*tr.Dim], with.Test.X) || reflect.DeepEqual(tr.X, with.Train.X[:200*tr.Dim]) {
		t.Fatal("the transfer set repeats another part's stream")
	}
	cfg.Transfer = -1
	if _, err := Glyphs(cfg); err == nil || !strings.Contains(err.Error(), "Transfer = -1") {
		t.Fatalf("Transfer = -1: error %v", err)
	}
}

func TestWithoutClassAndHead(t *testing.T) {
	s := &Set{X: []float64{0, 1, 2, 3, 4, 5, 6, 7}, Y: []int{2, 0, 2, 1}, N: 4, Dim: 2, Classes: 3}
	w, err := s.WithoutClass(2)
	if err != nil {
		t.Fatal(err)
	}
	if w.N != 2 || !reflect.DeepEqual(w.Y, []int{0, 1}) || !reflect.DeepEqual(w.X, []float64{2, 3, 6, 7}) || w.Classes != 3 {
		t.Fatalf("WithoutClass(2) = %+v", w)
	}
	w.X[0] = 99
	if s.X[2] != 2 {
		t.Fatal("WithoutClass shares memory with its source")
	}
	if _, err := s.WithoutClass(3); err == nil {
		t.Fatal("class 3 of 3 accepted")
	}
	h, err := s.Head(3)
	if err != nil {
		t.Fatal(err)
	}
	if h.N != 3 || !reflect.DeepEqual(h.Y, []int{2, 0, 2}) || !reflect.DeepEqual(h.X, []float64{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("Head(3) = %+v", h)
	}
	if h, err := s.Head(10); err != nil || h.N != 4 {
		t.Fatalf("Head(10) = %+v, %v", h, err)
	}
	if _, err := s.Head(-1); err == nil {
		t.Fatal("Head(-1) accepted")
	}
}
