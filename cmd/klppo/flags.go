package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// floatList is a flag.Value for comma-separated numbers such as "0.7,0.3" (klppo kl's vector
// flags use klVecFlag, which also reads @FILE and stdin).
type floatList []float64

func (l *floatList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (l *floatList) Set(s string) error {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", p)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

// jsonFloat marshals like a float64 but writes ±Inf and NaN as the strings "+Inf", "-Inf", "NaN".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	}
	return json.Marshal(v)
}

var _ flag.Value = (*widthList)(nil)

// widthList is a flag.Value for comma-separated positive integers: layer widths such as
// "256,256", values of n, set sizes.
type widthList []int

func (l *widthList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *widthList) Set(s string) error {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v <= 0 {
			return fmt.Errorf("%q: want a positive integer", strings.TrimSpace(p))
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

// seedList parses comma-separated seeds.
func seedList(flagName, s string) ([]uint64, error) {
	var out []uint64
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil {
			return nil, usagef("--%s %q: want non-negative integers separated by commas", flagName, s)
		}
		out = append(out, v)
	}
	return out, nil
}
