package fast

import "math"

// Fast e^a for the non-positive arguments of the fused KL pass (a = logit − row max ≤ 0).
//
// Range reduction: with N = 256, k = round(a·N/ln 2) and r = a − k·ln2/N (|r| ≤ ln2/(2N) ≈ 0.00135,
// ln2/N split into a 24-bit head and a tail so k·head is exact),
//
//	e^a = 2^(k/N) · e^r = 2^⌊k/N⌋ · 2^((k mod N)/N) · e^r.
//
// 2^⌊k/N⌋ is added straight into the exponent bits of the table entry 2^((k mod N)/N); k is read
// from the low bits of t = a·N/ln2 + 1.5·2⁵², whose addition rounds to the nearest integer.
// e^r is the degree-3 Taylor polynomial, relative error ≤ r⁴/4! ≈ 1.4e-13: far below float32's
// 6e-8, and small enough for float64 logits too. The evaluation is in float64; the measured
// error (fast_test.go) includes its rounding. Table and degree were chosen so that the whole
// function stays within the compiler's inlining budget (a higher degree does not).
//
// Arguments below fastExpMin are clamped to it (e^−700 ≈ 1e−304, which is 0 for every sum here);
// NaN propagates. `go build -gcflags=-m ./kl/fast` reports "can inline fastExpNeg".

const (
	fastExpLog2N = 8
	fastExpN     = 1 << fastExpLog2N
	fastExpMin   = -700.0
	fastExpMagic = 0x1.8p52 // 1.5·2⁵²: adding it rounds a float64 of magnitude < 2⁵¹ to an integer
	fastExpScale = fastExpN / math.Ln2
	// ln2/N = fastExpLn2Hi + fastExpLn2Lo with a 24-bit head: k·head is exact for |k| < 2²⁹.
	fastExpLn2Hi = float64(float32(math.Ln2 / fastExpN))
	fastExpLn2Lo = math.Ln2/fastExpN - fastExpLn2Hi
)

// fastExpTable[j] = bits of 2^(j/N).
var fastExpTable = fastExpMakeTable()

func fastExpMakeTable() (t [fastExpN]uint64) {
	for j := range t {
		t[j] = math.Float64bits(math.Exp2(float64(j) / fastExpN))
	}
	return t
}

// fastExpNeg returns e^a for a ≤ 0 (relative error below 2e-13; NaN gives NaN).
func fastExpNeg(a float64) float64 {
	a = max(a, fastExpMin)
	t := a*fastExpScale + fastExpMagic
	k := t - fastExpMagic
	r := a - k*fastExpLn2Hi - k*fastExpLn2Lo
	b := math.Float64bits(t)
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6)))
	return math.Float64frombits(fastExpTable[b&(fastExpN-1)]+(b>>fastExpLog2N)<<52) * p
}
