package explain

import (
	"errors"
	"fmt"
	"math"
)

// An arithmetic coder (Witten, Neal & Cleary 1987, with 32-bit integer arithmetic) for symbols
// drawn from a fixed alphabet: the code is built from a model's probabilities, quantised to
// integer frequencies summing to codeTotal. Coding a sample of P with a code built for Q costs
// about H(P,Q)/ln 2 bits per symbol, KL(P‖Q)/ln 2 more than the code built for P.

const (
	codeBits    = 32
	codeTop     = uint64(1)<<codeBits - 1
	codeHalf    = uint64(1) << (codeBits - 1)
	codeQuarter = uint64(1) << (codeBits - 2)
	codeTotal   = 1 << 16 // sum of the quantised frequencies
)

// codeModel is a model quantised for the coder: cum[i] .. cum[i+1] is symbol i's range.
type codeModel struct{ cum []uint64 }

// newCodeModel quantises probabilities q (Σq = 1) to frequencies ≥ 1 summing to codeTotal.
func newCodeModel(q []float64) (codeModel, error) {
	if len(q) < 2 || len(q) > codeTotal/2 {
		return codeModel{}, fmt.Errorf("code: %d symbols: need 2 to %d", len(q), codeTotal/2)
	}
	free := codeTotal - len(q) // every symbol gets 1, the rest is shared in proportion to q
	f := make([]uint64, len(q))
	used := 0
	for i, v := range q {
		if v < 0 || math.IsNaN(v) {
			return codeModel{}, fmt.Errorf("code: q[%d] = %v: must be ≥ 0", i, v)
		}
		n := int(math.Floor(v * float64(free)))
		f[i] = uint64(1 + n)
		used += n
	}
	// Hand the rounding remainder to the largest symbols, one each.
	for rest := free - used; rest > 0; {
		for i := range f {
			if rest == 0 {
				break
			}
			if q[i] > 0 {
				f[i]++
				rest--
			}
		}
	}
	m := codeModel{cum: make([]uint64, len(q)+1)}
	for i := range f {
		m.cum[i+1] = m.cum[i] + f[i]
	}
	if m.cum[len(q)] != codeTotal {
		return codeModel{}, errors.New("code: frequencies do not sum to the total")
	}
	return m, nil
}

// encode returns the arithmetic code of the symbols under model m as bits (one byte each, 0 or 1).
func (m codeModel) encode(symbols []int) ([]byte, error) {
	var out []byte
	low, high := uint64(0), codeTop
	pending := 0
	emit := func(bit byte) {
		out = append(out, bit)
		for ; pending > 0; pending-- {
			out = append(out, 1-bit)
		}
	}
	for _, s := range symbols {
		if s < 0 || s >= len(m.cum)-1 {
			return nil, fmt.Errorf("code: symbol %d out of range", s)
		}
		r := high - low + 1
		high = low + r*m.cum[s+1]/codeTotal - 1
		low = low + r*m.cum[s]/codeTotal
		for {
			switch {
			case high < codeHalf:
				emit(0)
			case low >= codeHalf:
				emit(1)
				low -= codeHalf
				high -= codeHalf
			case low >= codeQuarter && high < 3*codeQuarter:
				pending++
				low -= codeQuarter
				high -= codeQuarter
			default:
				goto next
			}
			low = 2 * low
			high = 2*high + 1
		}
	next:
	}
	// Two more bits pick a point inside the final interval.
	pending++
	if low < codeQuarter {
		emit(0)
	} else {
		emit(1)
	}
	return out, nil
}

// decode reads n symbols from bits under model m (the inverse of encode).
func (m codeModel) decode(bits []byte, n int) ([]int, error) {
	pos := 0
	next := func() uint64 {
		if pos < len(bits) {
			pos++
			return uint64(bits[pos-1])
		}
		return 0
	}
	var value uint64
	for i := 0; i < codeBits; i++ {
		value = value<<1 | next()
	}
	low, high := uint64(0), codeTop
	out := make([]int, 0, n)
	for len(out) < n {
		r := high - low + 1
		target := ((value-low+1)*codeTotal - 1) / r
		s := 0
		for s < len(m.cum)-2 && m.cum[s+1] <= target {
			s++
		}
		out = append(out, s)
		high = low + r*m.cum[s+1]/codeTotal - 1
		low = low + r*m.cum[s]/codeTotal
		for {
			switch {
			case high < codeHalf:
			case low >= codeHalf:
				low -= codeHalf
				high -= codeHalf
				value -= codeHalf
			case low >= codeQuarter && high < 3*codeQuarter:
				low -= codeQuarter
				high -= codeQuarter
				value -= codeQuarter
			default:
				goto next
			}
			low = 2 * low
			high = 2*high + 1
			value = 2*value + next()
		}
	next:
	}
	return out, nil
}
