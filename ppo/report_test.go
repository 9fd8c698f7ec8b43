package ppo

import (
	"math"
	"strings"
	"testing"
)

func TestQuarters(t *testing.T) {
	var ms []UpdateMetrics
	for u := 1; u <= 10; u++ {
		ms = append(ms, UpdateMetrics{Update: u, GlobalStep: 100 * u, KL: float64(u), Beta: 1, ClipFrac: 0.1, Epochs: 4, EpisodicReturn: float64(10 * u)})
	}
	qs := Quarters(ms)
	// 10 updates split as 2, 3, 2, 3 (q·n/4 boundaries 0, 2, 5, 7, 10).
	want := []struct {
		first, last int
		kl          float64
	}{{1, 2, 1.5}, {3, 5, 4}, {6, 7, 6.5}, {8, 10, 9}}
	if len(qs) != 4 {
		t.Fatalf("%d quarters", len(qs))
	}
	for i, w := range want {
		q := qs[i]
		if q.FirstUpdate != w.first || q.LastUpdate != w.last || math.Abs(q.KL-w.kl) > 1e-12 || q.MaxKL != float64(w.last) || q.Return != float64(10*w.last) {
			t.Fatalf("quarter %d = %+v, want updates %d-%d mean KL %v", i+1, q, w.first, w.last, w.kl)
		}
	}
	if s := FormatQuarters(qs); !strings.Contains(s, "mean KL") || strings.Count(s, "\n") != 5 {
		t.Fatalf("table:\n%s", s)
	}
	if len(Quarters(ms[:2])) != 2 || len(Quarters(nil)) != 0 {
		t.Fatal("fewer than 4 updates should give one group per update")
	}
}
