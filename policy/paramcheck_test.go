package policy

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestRestoreRefusesDamagedWeights: a checkpoint whose checksum is valid but whose parameters are
// not finite or lie beyond nn.MaxParam is corrupt (the same check as every KLNN file), named by
// the parameter; a huge finite weight was accepted before, only NaN and ±Inf were refused.
func TestRestoreRefusesDamagedWeights(t *testing.T) {
	ac, _ := New(rand.New(rand.NewPCG(1, 2)), testConfig(true, "float32"))
	for _, v := range []float64{math.NaN(), math.Inf(1), 1e30} {
		c, err := ac.Snapshot(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Arrays[0].Values[0] = v
		err = ac.Restore(c)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.Arrays[0].Name) {
			t.Errorf("weight %v: %v, want ErrCorrupt naming %s", v, err, c.Arrays[0].Name)
		}
		if _, err := Load(c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Load with weight %v: %v", v, err)
		}
	}
}
