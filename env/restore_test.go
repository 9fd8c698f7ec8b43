package env

import (
	"slices"
	"testing"
)

// TestVectorResetSeedsAndProgress: with SetResetSeeds every auto-reset uses the given seed (the
// new episode starts as a fresh copy reset with it), EpisodeProgress reports the running
// return and length, and SetEpisodeProgress restores them.
func TestVectorResetSeedsAndProgress(t *testing.T) {
	v, err := MakeVector("CartPole-v1", 2)
	if err != nil {
		t.Fatal(err)
	}
	next := uint64(100)
	var used []uint64
	v.SetResetSeeds(func(i int) uint64 {
		next++
		used = append(used, next)
		return next
	})
	seed := uint64(7)
	if _, err := v.Reset(&seed); err != nil {
		t.Fatal(err)
	}
	push := []float64{1, 1} // always right: episodes end within a few dozen steps
	for len(used) == 0 {
		s, err := v.Step(push)
		if err != nil {
			t.Fatal(err)
		}
		for _, ep := range s.Episodes {
			fresh := NewCartPole()
			want, _, err := fresh.Reset(&used[0])
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Obs[ep.Env*4 : ep.Env*4+4]; !slices.Equal(got, want) {
				t.Fatalf("copy %d restarted at %v, a CartPole reset with seed %d starts at %v", ep.Env, got, used[0], want)
			}
			if r, l := v.EpisodeProgress(ep.Env); r != 0 || l != 0 {
				t.Fatalf("progress after the reset: %v, %d", r, l)
			}
		}
	}
	if err := v.SetEpisodeProgress(1, 12, 12); err != nil {
		t.Fatal(err)
	}
	if r, l := v.EpisodeProgress(1); r != 12 || l != 12 {
		t.Fatalf("EpisodeProgress after SetEpisodeProgress: %v, %d", r, l)
	}
	if err := v.SetEpisodeProgress(2, 0, 0); err == nil {
		t.Fatal("SetEpisodeProgress accepted copy 2 of 2")
	}
}

// TestTimeLimitSetElapsed: a restored step counter truncates the episode at the right step.
func TestTimeLimitSetElapsed(t *testing.T) {
	e, err := NewTimeLimit(NewPendulum(), 200)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(1)
	if _, _, err := e.Reset(&seed); err != nil {
		t.Fatal(err)
	}
	if err := e.SetElapsed(198); err != nil {
		t.Fatal(err)
	}
	for step := 199; step <= 200; step++ {
		r, err := e.Step([]float64{0})
		if err != nil {
			t.Fatal(err)
		}
		if r.Truncated != (step == 200) {
			t.Fatalf("step %d: truncated %v", step, r.Truncated)
		}
	}
	for _, n := range []int{-1, 200} {
		if err := e.SetElapsed(n); err == nil {
			t.Fatalf("SetElapsed(%d) accepted", n)
		}
	}
}
