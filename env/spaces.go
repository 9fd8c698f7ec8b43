package env

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Discrete is the set {0, 1, …, N−1}. An element is the one-element slice [a] holding an integer.
// Environments return it as a *Discrete.
type Discrete struct {
	N int
}

var _ Space = (*Discrete)(nil)

// NewDiscrete returns Discrete{N: n}; n must be positive.
func NewDiscrete(n int) (*Discrete, error) {
	if n <= 0 {
		return nil, fmt.Errorf("env: Discrete: n must be positive, got %d", n)
	}
	return &Discrete{N: n}, nil
}

// Contains reports whether x is [a] with a an integer in [0, N).
func (d *Discrete) Contains(x []float64) bool {
	if len(x) != 1 {
		return false
	}
	a := x[0]
	return a >= 0 && a < float64(d.N) && a == math.Trunc(a)
}

// Sample draws a uniformly from {0, …, N−1} (nil when N ≤ 0).
func (d *Discrete) Sample(rng *rand.Rand) []float64 {
	if d.N <= 0 {
		return nil // an empty space has no element
	}
	return []float64{float64(rng.IntN(d.N))}
}

// Dim is 1.
func (d *Discrete) Dim() int { return 1 }

func (d *Discrete) String() string { return "Discrete(" + strconv.Itoa(d.N) + ")" }

// checkDiscrete returns the action index of a, or an error naming the problem.
func checkDiscrete(a []float64, n int) (int, error) {
	if len(a) != 1 {
		return 0, fmt.Errorf("env: action has length %d, want 1 (Discrete(%d))", len(a), n)
	}
	v := a[0]
	if !(v >= 0 && v < float64(n)) || v != math.Trunc(v) {
		return 0, fmt.Errorf("env: action %v is not in Discrete(%d)", v, n)
	}
	return int(v), nil
}

// Box is the product of closed intervals [Low[i], High[i]] (bounds may be infinite), flattened
// row-major from Shape. Environments return it as a *Box.
type Box struct {
	Low, High []float64
	Shape     []int
}

var _ Space = (*Box)(nil)

// NewBox returns a Box with the given bounds. shape defaults to [len(low)]; its product must
// equal len(low) == len(high), and low[i] ≤ high[i] with no NaN.
func NewBox(low, high []float64, shape ...int) (*Box, error) {
	if len(low) != len(high) {
		return nil, fmt.Errorf("env: Box: len(low)=%d != len(high)=%d", len(low), len(high))
	}
	if len(low) == 0 {
		return nil, fmt.Errorf("env: Box: empty bounds")
	}
	if len(shape) == 0 {
		shape = []int{len(low)}
	}
	p := 1
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("env: Box: shape %v has a non-positive entry", shape)
		}
		p *= s
	}
	if p != len(low) {
		return nil, fmt.Errorf("env: Box: shape %v has %d elements, bounds have %d", shape, p, len(low))
	}
	for i := range low {
		if math.IsNaN(low[i]) || math.IsNaN(high[i]) || low[i] > high[i] {
			return nil, fmt.Errorf("env: Box: bound %d is [%v, %v]", i, low[i], high[i])
		}
	}
	return &Box{Low: append([]float64(nil), low...), High: append([]float64(nil), high...), Shape: append([]int(nil), shape...)}, nil
}

// fixedBox builds the one-dimensional boxes of the built-in environments, whose constant bounds
// are valid by construction (TestSpaces checks them with NewBox's rules).
func fixedBox(low, high []float64) *Box {
	return &Box{Low: low, High: high, Shape: []int{len(low)}}
}

// Contains reports whether x has Dim elements, none NaN, each within its bounds.
func (b *Box) Contains(x []float64) bool {
	if len(x) != len(b.Low) {
		return false
	}
	for i, v := range x {
		if !(v >= b.Low[i] && v <= b.High[i]) {
			return false
		}
	}
	return true
}

// Sample draws each coordinate independently as Gymnasium does: uniform on a bounded interval,
// a standard normal on (−∞, ∞), low + Exp(1) on [low, ∞) and high − Exp(1) on (−∞, high].
func (b *Box) Sample(rng *rand.Rand) []float64 {
	x := make([]float64, len(b.Low))
	for i := range x {
		lo, hi := b.Low[i], b.High[i]
		switch {
		case math.IsInf(lo, -1) && math.IsInf(hi, 1):
			x[i] = rng.NormFloat64()
		case math.IsInf(hi, 1):
			x[i] = lo + rng.ExpFloat64()
		case math.IsInf(lo, -1):
			x[i] = hi - rng.ExpFloat64()
		default:
			x[i] = lo + (hi-lo)*rng.Float64()
		}
	}
	return x
}

// Dim is the number of elements (the product of Shape).
func (b *Box) Dim() int { return len(b.Low) }

func (b *Box) String() string {
	var sb strings.Builder
	sb.WriteString("Box(")
	sb.WriteString(boundString(b.Low))
	sb.WriteString(", ")
	sb.WriteString(boundString(b.High))
	sb.WriteString(", (")
	for i, s := range b.Shape {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(strconv.Itoa(s))
	}
	if len(b.Shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString("))")
	return sb.String()
}

// boundString prints a bound vector compactly: a single number when all entries are equal.
func boundString(v []float64) string {
	same := true
	for _, x := range v {
		if x != v[0] {
			same = false
		}
	}
	f := func(x float64) string {
		switch {
		case x >= math.MaxFloat32:
			return "+f32max"
		case x <= -math.MaxFloat32:
			return "-f32max"
		}
		return strconv.FormatFloat(x, 'g', 5, 64)
	}
	if same {
		return f(v[0])
	}
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = f(x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// checkBox returns an error unless a is a valid element of b (strict) or, when strict is false,
// a finite vector of the right length (Gymnasium clips such actions inside the dynamics).
func checkBox(a []float64, b *Box, strict bool) error {
	if len(a) != len(b.Low) {
		return fmt.Errorf("env: action has length %d, want %d (%v)", len(a), len(b.Low), b)
	}
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("env: action[%d] = %v is not finite", i, v)
		}
		if strict && (v < b.Low[i] || v > b.High[i]) {
			return fmt.Errorf("env: action[%d] = %v is outside [%v, %v]", i, v, b.Low[i], b.High[i])
		}
	}
	return nil
}

// f32 rounds x to the nearest float32, as numpy does when Gymnasium builds a float32 observation.
func f32(x float64) float64 { return float64(float32(x)) }
