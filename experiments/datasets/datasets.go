package datasets

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// Set is a labelled dataset stored row-major: example i is X[i*Dim:(i+1)*Dim] with label Y[i].
type Set struct {
	X       []float64 // N×Dim values; glyph pixels lie in [0, 1]
	Y       []int     // N labels in [0, Classes)
	N       int       // number of examples
	Dim     int       // values per example
	Classes int       // number of distinct labels
	Width   int       // image width for image data (Width·Height = Dim); 0 for points
	Height  int       // image height for image data; 0 for points
}

// Row returns example i (a view into X, not a copy).
func (s *Set) Row(i int) []float64 { return s.X[i*s.Dim : (i+1)*s.Dim] }

// Image renders example i of an image set as a grey image, ink (1) drawn black on white paper (0).
func (s *Set) Image(i int) (*image.Gray, error) {
	if s.Width <= 0 || s.Height <= 0 {
		return nil, errors.New("datasets: Image: the set holds points, not images")
	}
	if i < 0 || i >= s.N {
		return nil, fmt.Errorf("datasets: Image: index %d out of range [0, %d)", i, s.N)
	}
	return GrayImage(s.Row(i), s.Width, s.Height)
}

// GrayImage renders w·h values in [0, 1] (clamped) as a grey image, 1 black and 0 white.
func GrayImage(v []float64, w, h int) (*image.Gray, error) {
	if w <= 0 || h <= 0 || len(v) != w*h {
		return nil, fmt.Errorf("datasets: GrayImage: %d values do not make a %d×%d image", len(v), w, h)
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			p := math.Min(1, math.Max(0, v[r*w+c]))
			img.SetGray(c, r, color.Gray{Y: uint8(math.Round(255 * (1 - p)))})
		}
	}
	return img, nil
}

// Split is a dataset's train and test parts; they are drawn from independent random streams.
// Transfer is an optional third part from its own stream (nil when not asked for): fresh
// examples that a model trained on Train has never seen, e.g. a distillation transfer set.
type Split struct {
	Name     string
	Train    *Set
	Test     *Set
	Transfer *Set
}

// WithoutClass returns a copy of s holding only the examples whose label is not class, in
// their original order. Classes stays the same: the class still exists, it has no example.
func (s *Set) WithoutClass(class int) (*Set, error) {
	if class < 0 || class >= s.Classes {
		return nil, fmt.Errorf("datasets: WithoutClass: class %d, want 0 to %d", class, s.Classes-1)
	}
	out := &Set{Dim: s.Dim, Classes: s.Classes, Width: s.Width, Height: s.Height}
	for i, y := range s.Y {
		if y == class {
			continue
		}
		out.X = append(out.X, s.Row(i)...)
		out.Y = append(out.Y, y)
		out.N++
	}
	return out, nil
}

// Head returns a copy of the first n examples of s (all of them when n ≥ N).
func (s *Set) Head(n int) (*Set, error) {
	if n < 0 {
		return nil, fmt.Errorf("datasets: Head: n = %d, want ≥ 0", n)
	}
	n = min(n, s.N)
	return &Set{X: append([]float64(nil), s.X[:n*s.Dim]...), Y: append([]int(nil), s.Y[:n]...), N: n,
		Dim: s.Dim, Classes: s.Classes, Width: s.Width, Height: s.Height}, nil
}

// GlyphConfig sets how digit glyphs are rendered. Size, Train and Test take their defaults when
// zero; the noise fields are used as given (zero means no noise of that kind), so start from
// DefaultGlyphConfig for the standard noisy glyphs.
type GlyphConfig struct {
	Size  int // canvas side in pixels, 8 to 32 (default 12)
	Train int // number of training examples (default 5000)
	Test  int // number of test examples (default 1000)
	// Transfer is the number of examples of a third, independent part (default 0: none);
	// changing it changes neither Train nor Test.
	Transfer   int
	Seed       uint64  // random seed; the same seed gives the same data
	MaxShift   int     // largest shift from the centred position along each axis (standard 2)
	BoldProb   float64 // probability a glyph is drawn with strokes two pixels wide (standard 0.4)
	StrokeDrop float64 // probability each ink pixel is erased (standard 0.08)
	StrokeGrow float64 // probability each ink pixel spills ink onto a random neighbour (standard 0.08)
	PixelNoise float64 // probability each pixel is replaced by a uniform grey in [0, 1] (standard 0.02)
	// Jitter makes the ink intensity of each glyph uniform in [0.7, 1] instead of 1 (standard true).
	Jitter bool
}

// DefaultGlyphConfig returns the standard noisy glyphs used by the klppo vae and distill commands.
func DefaultGlyphConfig() GlyphConfig {
	return GlyphConfig{Size: 12, Train: 5000, Test: 1000, MaxShift: 2,
		BoldProb: 0.4, StrokeDrop: 0.08, StrokeGrow: 0.08, PixelNoise: 0.02, Jitter: true}
}

func (c GlyphConfig) withDefaults() GlyphConfig {
	d := DefaultGlyphConfig()
	if c.Size == 0 {
		c.Size = d.Size
	}
	if c.Train == 0 {
		c.Train = d.Train
	}
	if c.Test == 0 {
		c.Test = d.Test
	}
	return c
}

func checkProb(name string, p float64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("datasets: %s = %v, want a probability in [0, 1]", name, p)
	}
	return nil
}

// Glyphs renders noisy images of the ten digits from the embedded 5×7 font: each example is a
// digit (classes balanced) placed at a random shift around the centre of a Size×Size canvas,
// optionally bold, with ink pixels erased or spilled onto neighbours (stroke noise), optionally a
// random ink intensity in [0.7, 1], and pixels replaced by random greys (pixel noise). Train and test sets
// come from independent streams of the seed, so one does not change when the other's size does.
func Glyphs(cfg GlyphConfig) (*Split, error) {
	c := cfg.withDefaults()
	if c.Size < 8 || c.Size > 32 {
		return nil, fmt.Errorf("datasets: glyph Size = %d, want 8 to 32", c.Size)
	}
	if c.Train < 0 || c.Test < 0 || c.Transfer < 0 {
		return nil, fmt.Errorf("datasets: glyph Train = %d, Test = %d, Transfer = %d, want ≥ 0", c.Train, c.Test, c.Transfer)
	}
	if c.MaxShift < 0 {
		return nil, fmt.Errorf("datasets: glyph MaxShift = %d, want ≥ 0", c.MaxShift)
	}
	for _, p := range []struct {
		n string
		v float64
	}{{"BoldProb", c.BoldProb}, {"StrokeDrop", c.StrokeDrop}, {"StrokeGrow", c.StrokeGrow}, {"PixelNoise", c.PixelNoise}} {
		if err := checkProb(p.n, p.v); err != nil {
			return nil, err
		}
	}
	s := &Split{
		Name:  "glyphs",
		Train: renderGlyphs(c, c.Train, rand.New(rand.NewPCG(c.Seed, 0x676c797068730001))),
		Test:  renderGlyphs(c, c.Test, rand.New(rand.NewPCG(c.Seed, 0x676c797068730002))),
	}
	if c.Transfer > 0 {
		s.Transfer = renderGlyphs(c, c.Transfer, rand.New(rand.NewPCG(c.Seed, 0x676c797068730003)))
	}
	return s, nil
}

func renderGlyphs(c GlyphConfig, n int, rng *rand.Rand) *Set {
	s := &Set{X: make([]float64, n*c.Size*c.Size), Y: make([]int, n), N: n, Dim: c.Size * c.Size,
		Classes: 10, Width: c.Size, Height: c.Size}
	// Balanced labels in a random order.
	for i := range s.Y {
		s.Y[i] = i % 10
	}
	rng.Shuffle(n, func(i, j int) { s.Y[i], s.Y[j] = s.Y[j], s.Y[i] })
	inkMap := make([]bool, c.Size*c.Size)
	for i := 0; i < n; i++ {
		renderOne(c, s.Y[i], rng, inkMap, s.Row(i))
	}
	return s
}

// shiftRange draws an offset in [max(0, centre−m), min(free, centre+m)] uniformly.
func shiftRange(free, m int, rng *rand.Rand) int {
	centre := free / 2
	lo, hi := max(0, centre-m), min(free, centre+m)
	return lo + rng.IntN(hi-lo+1)
}

func renderOne(c GlyphConfig, digit int, rng *rand.Rand, inkMap []bool, out []float64) {
	size := c.Size
	for i := range inkMap {
		inkMap[i] = false
	}
	bold := rng.Float64() < c.BoldProb
	w := fontCols
	if bold {
		w++
	}
	x0 := shiftRange(size-w, c.MaxShift, rng)
	y0 := shiftRange(size-fontRows, c.MaxShift, rng)
	for r := 0; r < fontRows; r++ {
		for col := 0; col < fontCols; col++ {
			if !ink(digit, r, col) {
				continue
			}
			inkMap[(y0+r)*size+x0+col] = true
			if bold {
				inkMap[(y0+r)*size+x0+col+1] = true
			}
		}
	}
	// Stroke noise: erase or spill each original ink pixel.
	neighbours := [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}}
	var spill []int
	for p, on := range inkMap {
		if !on {
			continue
		}
		if rng.Float64() < c.StrokeGrow {
			d := neighbours[rng.IntN(4)]
			r, col := p/size+d[0], p%size+d[1]
			if r >= 0 && r < size && col >= 0 && col < size {
				spill = append(spill, r*size+col)
			}
		}
		if rng.Float64() < c.StrokeDrop {
			inkMap[p] = false
		}
	}
	for _, p := range spill {
		inkMap[p] = true
	}
	intensity := 1.0
	if c.Jitter {
		intensity = 0.7 + 0.3*rng.Float64()
	}
	for p, on := range inkMap {
		v := 0.0
		if on {
			v = intensity
		}
		if rng.Float64() < c.PixelNoise {
			v = rng.Float64()
		}
		out[p] = v
	}
}

// RingConfig sets the 2-D ring of Gaussians.
type RingConfig struct {
	Modes  int     // number of Gaussian modes evenly spaced on the circle (default 8)
	Radius float64 // circle radius (default 2)
	Std    float64 // standard deviation of each mode along both axes (default 0.2)
	Train  int     // number of training points (default 4000)
	Test   int     // number of test points (default 1000)
	Seed   uint64  // random seed; the same seed gives the same data
}

// DefaultRingConfig returns the defaults used by the klppo vae command.
func DefaultRingConfig() RingConfig {
	return RingConfig{Modes: 8, Radius: 2, Std: 0.2, Train: 4000, Test: 1000}
}

// Ring samples points from an equal-weight mixture of Modes isotropic Gaussians whose means lie
// evenly on a circle: mode k has mean Radius·(cos 2πk/Modes, sin 2πk/Modes) and its index k is
// the point's label (for colouring). Train and test sets come from independent streams of the seed.
func Ring(cfg RingConfig) (*Split, error) {
	d := DefaultRingConfig()
	if cfg.Modes == 0 {
		cfg.Modes = d.Modes
	}
	if cfg.Radius == 0 {
		cfg.Radius = d.Radius
	}
	if cfg.Std == 0 {
		cfg.Std = d.Std
	}
	if cfg.Train == 0 {
		cfg.Train = d.Train
	}
	if cfg.Test == 0 {
		cfg.Test = d.Test
	}
	switch {
	case cfg.Modes < 1:
		return nil, fmt.Errorf("datasets: ring Modes = %d, want ≥ 1", cfg.Modes)
	case !(cfg.Radius > 0) || math.IsInf(cfg.Radius, 0):
		return nil, fmt.Errorf("datasets: ring Radius = %v, want a finite value > 0", cfg.Radius)
	case !(cfg.Std > 0) || math.IsInf(cfg.Std, 0):
		return nil, fmt.Errorf("datasets: ring Std = %v, want a finite value > 0", cfg.Std)
	case cfg.Train < 0 || cfg.Test < 0:
		return nil, fmt.Errorf("datasets: ring Train = %d, Test = %d, want ≥ 0", cfg.Train, cfg.Test)
	}
	gen := func(n int, rng *rand.Rand) *Set {
		s := &Set{X: make([]float64, 2*n), Y: make([]int, n), N: n, Dim: 2, Classes: cfg.Modes}
		for i := 0; i < n; i++ {
			k := rng.IntN(cfg.Modes)
			a := 2 * math.Pi * float64(k) / float64(cfg.Modes)
			s.Y[i] = k
			s.X[2*i] = cfg.Radius*math.Cos(a) + cfg.Std*rng.NormFloat64()
			s.X[2*i+1] = cfg.Radius*math.Sin(a) + cfg.Std*rng.NormFloat64()
		}
		return s
	}
	return &Split{
		Name:  "ring",
		Train: gen(cfg.Train, rand.New(rand.NewPCG(cfg.Seed, 0x72696e6700000001))),
		Test:  gen(cfg.Test, rand.New(rand.NewPCG(cfg.Seed, 0x72696e6700000002))),
	}, nil
}
