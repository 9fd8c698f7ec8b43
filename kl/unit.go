package kl

import (
	"fmt"
	"math"
)

// Unit is the unit of an information quantity. Every function in this package returns nats
// (natural logarithm); convert with Unit.From or ToBits.
//
//	bits = nats / ln 2
type Unit int

const (
	Nats Unit = iota // natural logarithm (the default)
	Bits             // base-2 logarithm: nats / ln 2
)

var _ fmt.Stringer = Nats

// From converts a value in nats to u.
func (u Unit) From(nats float64) float64 {
	if u == Bits {
		return nats / math.Ln2
	}
	return nats
}

// String returns "nats" or "bits".
func (u Unit) String() string {
	if u == Bits {
		return "bits"
	}
	return "nats"
}

// ToBits converts nats to bits: nats / ln 2. ±Inf stays ±Inf.
func ToBits(nats float64) float64 { return nats / math.Ln2 }
