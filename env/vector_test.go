package env

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// The vector env must behave exactly like N independent environments seeded seed+i that are
// reset (Reset(nil)) whenever an episode ends, with the final observation kept.
func TestVectorAutoResetMatchesSingleEnvs(t *testing.T) {
	for _, id := range []string{"CartPole-v1", "Pendulum-v1", "Acrobot-v1", "Bandit-v0"} {
		t.Run(id, func(t *testing.T) {
			const n, seed, steps = 3, 10, 700
			v := mustVector(t, id, n)
			singles := make([]Env, n)
			for i := range singles {
				singles[i], _ = Make(id)
			}
			obs, err := v.Reset(u64(seed))
			if err != nil {
				t.Fatal(err)
			}
			d := v.ObservationSpace().Dim()
			for i, e := range singles {
				o, _, _ := e.Reset(u64(seed + uint64(i)))
				if !sameBits(o, obs[i*d:(i+1)*d]) {
					t.Fatalf("copy %d: reset obs %v, single env %v", i, obs[i*d:(i+1)*d], o)
				}
			}
			rng := rand.New(rand.NewPCG(3, 4))
			ret := make([]float64, n)
			length := make([]int, n)
			finals := 0
			acts := make([]float64, 0, n*v.ActionSpace().Dim())
			for s := 0; s < steps; s++ {
				acts = acts[:0]
				for range n {
					acts = append(acts, v.ActionSpace().Sample(rng)...)
				}
				vs, err := v.Step(acts)
				if err != nil {
					t.Fatal(err)
				}
				k := v.ActionSpace().Dim()
				var wantEpisodes []EpisodeStat
				for i, e := range singles {
					r, err := e.Step(acts[i*k : (i+1)*k])
					if err != nil {
						t.Fatal(err)
					}
					ret[i] += r.Reward
					length[i]++
					if vs.Rewards[i] != r.Reward || vs.Terminated[i] != r.Terminated || vs.Truncated[i] != r.Truncated {
						t.Fatalf("step %d copy %d: vector (%v %v %v), single (%v %v %v)", s, i,
							vs.Rewards[i], vs.Terminated[i], vs.Truncated[i], r.Reward, r.Terminated, r.Truncated)
					}
					row := vs.Obs[i*d : (i+1)*d]
					if r.Terminated || r.Truncated {
						finals++
						if !sameBits(vs.FinalObs[i], r.Obs) {
							t.Fatalf("step %d copy %d: FinalObs %v, single env's last obs %v", s, i, vs.FinalObs[i], r.Obs)
						}
						wantEpisodes = append(wantEpisodes, EpisodeStat{Env: i, Return: ret[i], Length: length[i]})
						ret[i], length[i] = 0, 0
						o, _, _ := e.Reset(nil)
						if !sameBits(row, o) {
							t.Fatalf("step %d copy %d: row %v is not the new episode's first obs %v", s, i, row, o)
						}
					} else {
						if vs.FinalObs[i] != nil {
							t.Fatalf("step %d copy %d: FinalObs set for a running episode", s, i)
						}
						if !sameBits(row, r.Obs) {
							t.Fatalf("step %d copy %d: row %v, single obs %v", s, i, row, r.Obs)
						}
					}
				}
				if len(vs.Episodes) != len(wantEpisodes) {
					t.Fatalf("step %d: episodes %v, want %v", s, vs.Episodes, wantEpisodes)
				}
				for j := range wantEpisodes {
					if vs.Episodes[j] != wantEpisodes[j] {
						t.Fatalf("step %d: episode %+v, want %+v", s, vs.Episodes[j], wantEpisodes[j])
					}
				}
			}
			if finals == 0 {
				t.Fatal("no episode ended: the auto-reset path was not exercised")
			}
		})
	}
}

func TestVectorErrors(t *testing.T) {
	v := mustVector(t, "CartPole-v1", 3)
	if _, err := v.Step([]float64{0, 0, 0}); err == nil {
		t.Fatal("Step before Reset accepted")
	}
	v.Reset(u64(1))
	states := func() [][]float64 {
		var s [][]float64
		for _, e := range v.Envs() {
			s = append(s, Unwrapped(e).(StateSetter).State())
		}
		return s
	}
	before := states()
	for _, bad := range [][]float64{{0, 2, 1}, {0, 1}, {0, math.NaN(), 1}, {0, 1, 0.5}} {
		if _, err := v.Step(bad); err == nil {
			t.Errorf("Step(%v) accepted", bad)
		}
	}
	for i, s := range states() {
		if !sameBits(s, before[i]) {
			t.Fatalf("copy %d moved although the action batch was rejected", i)
		}
	}
	if _, err := NewVector(0, nil); err == nil {
		t.Error("NewVector(0) accepted")
	}
	if _, err := MakeVector("Nope-v0", 2); err == nil {
		t.Error("MakeVector(unknown id) accepted")
	}
}

func TestVectorWorkersMatchSequential(t *testing.T) {
	run := func(workers int) []float64 {
		v := mustVector(t, "CartPole-v1", 8)
		v.SetWorkers(workers)
		defer v.Close()
		v.Reset(u64(5))
		rng := rand.New(rand.NewPCG(1, 1))
		acts := make([]float64, 8)
		var rec []float64
		for s := 0; s < 300; s++ {
			for i := range acts {
				acts[i] = float64(rng.IntN(2))
			}
			vs, err := v.Step(acts)
			if err != nil {
				t.Fatal(err)
			}
			rec = append(rec, vs.Obs...)
			for _, e := range vs.Episodes {
				rec = append(rec, float64(e.Env), e.Return)
			}
		}
		return rec
	}
	if !sameBits(run(1), run(3)) {
		t.Fatal("stepping in 3 goroutines gave different results from sequential stepping")
	}
}

// pooledMoments returns the mean and variance of the data pooled with Gymnasium's prior
// (mean 0, variance 1, weight 1e-4), computed directly rather than incrementally.
func pooledMoments(data []float64) (mean, variance float64) {
	const w0 = 1e-4
	n := float64(len(data)) + w0
	for _, x := range data {
		mean += x
	}
	mean /= n
	m2 := w0 * (1 + mean*mean)
	for _, x := range data {
		m2 += (x - mean) * (x - mean)
	}
	return mean, m2 / n
}

func TestRunningMeanStd(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	r := NewRunningMeanStd(2)
	var col0, col1 []float64
	for b := 0; b < 50; b++ {
		rows := 1 + rng.IntN(5)
		batch := make([]float64, 0, 2*rows)
		for i := 0; i < rows; i++ {
			x, y := 3+2*rng.NormFloat64(), -1+0.5*rng.NormFloat64()
			col0, col1 = append(col0, x), append(col1, y)
			batch = append(batch, x, y)
		}
		if err := r.Update(batch); err != nil {
			t.Fatal(err)
		}
	}
	for j, col := range [][]float64{col0, col1} {
		m, v := pooledMoments(col)
		if math.Abs(r.Mean[j]-m) > 1e-12*math.Max(1, math.Abs(m)) || math.Abs(r.Var[j]-v) > 1e-12*math.Max(1, v) {
			t.Errorf("dim %d: mean %v var %v, direct %v %v", j, r.Mean[j], r.Var[j], m, v)
		}
	}
	if want := float64(len(col0)) + 1e-4; math.Abs(r.Count-want) > 1e-9 {
		t.Errorf("count %v, want %v", r.Count, want)
	}
	if err := r.Update([]float64{1, 2, 3}); err == nil {
		t.Error("Update accepted a batch that is not whole rows")
	}
}

// scripted is a one-dimensional environment that replays fixed rewards and terminations.
type scripted struct {
	rewards []float64
	term    []bool
	i       int
	obs     [1]float64
}

func (s *scripted) ObservationSpace() Space { return fixedBox([]float64{-100}, []float64{100}) }
func (s *scripted) ActionSpace() Space      { return &Discrete{N: 1} }
func (s *scripted) Reset(*uint64) ([]float64, Info, error) {
	s.obs[0] = float64(s.i)
	return s.obs[:], nil, nil
}
func (s *scripted) Step([]float64) (StepResult, error) {
	r := StepResult{Obs: s.obs[:], Reward: s.rewards[s.i], Terminated: s.term[s.i]}
	s.i++
	s.obs[0] = float64(s.i % 7)
	return r, nil
}

func TestNormalizeReward(t *testing.T) {
	rewards := []float64{1, 2, -1, 0.5, 3, 1, 1, -2, 0, 4}
	term := []bool{false, false, true, false, false, false, true, false, false, false}
	const gamma = 0.9
	w, err := NewNormalizeReward(&scripted{rewards: rewards, term: term}, gamma, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Reset(nil)
	var g float64
	var returns []float64
	for i := range rewards {
		r, _ := w.Step([]float64{0})
		if term[i] {
			g = 0 // Gymnasium: G ← γ·G·(1 − terminated) + r
		}
		g = gamma*g + rewards[i]
		returns = append(returns, g)
		_, variance := pooledMoments(returns)
		want := rewards[i] / math.Sqrt(variance+1e-8)
		if math.Abs(r.Reward-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("step %d: scaled reward %v, want %v", i, r.Reward, want)
		}
	}
	if _, err := NewNormalizeReward(&scripted{}, 1.5, 0); err == nil {
		t.Error("gamma 1.5 accepted")
	}
	c, _ := NewNormalizeReward(&scripted{rewards: []float64{1000}, term: []bool{false}}, 0.99, 10)
	c.SetState(NormalizeRewardState{RMS: RunningMeanStd{Mean: []float64{0}, Var: []float64{1}, Count: 1}, Returns: []float64{0}, Gamma: 0.99, Clip: 10, Epsilon: 1e-8, Frozen: true})
	if r, _ := c.Step([]float64{0}); r.Reward != 10 {
		t.Errorf("clipped reward %v, want 10", r.Reward)
	}
}

func TestNormalizeObservation(t *testing.T) {
	e := NewNormalizeObservation(&scripted{rewards: make([]float64, 20), term: make([]bool, 20)}, 0)
	var seen []float64
	o, _, _ := e.Reset(nil)
	seen = append(seen, 0)
	check := func(step int, got float64) {
		m, v := pooledMoments(seen)
		want := (seen[len(seen)-1] - m) / math.Sqrt(v+1e-8)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Fatalf("step %d: normalised %v, want %v", step, got, want)
		}
	}
	check(-1, o[0])
	for i := 0; i < 15; i++ {
		r, _ := e.Step([]float64{0})
		seen = append(seen, float64((i+1)%7))
		check(i, r.Obs[0])
	}
}

// Saving the statistics to JSON and loading them into a fresh wrapper stack must make the fresh
// stack produce exactly the same outputs from then on.
func TestVectorNormalizationRoundTrip(t *testing.T) {
	build := func() VectorEnv {
		w, err := WrapVectorContinuous(mustVector(t, "Pendulum-v1", 4), 0.99)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	a := build()
	a.Reset(u64(1))
	rng := rand.New(rand.NewPCG(5, 5))
	acts := make([]float64, 4)
	for s := 0; s < 500; s++ {
		for i := range acts {
			acts[i] = 3 * rng.NormFloat64()
		}
		if _, err := a.Step(acts); err != nil {
			t.Fatal(err)
		}
	}
	saved := SaveVectorNormalization(a)
	if saved.Observation == nil || saved.Reward == nil {
		t.Fatalf("saved state incomplete: %+v", saved)
	}
	if saved.Observation.RMS.Count < 500 {
		t.Fatalf("observation count %v: statistics were not updated", saved.Observation.RMS.Count)
	}
	blob, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var loaded NormalizationState
	if err := json.Unmarshal(blob, &loaded); err != nil {
		t.Fatal(err)
	}
	b := build()
	if err := LoadVectorNormalization(b, loaded); err != nil {
		t.Fatal(err)
	}
	if again := SaveVectorNormalization(b); mustJSON(t, again) != string(blob) {
		t.Fatalf("reloaded state differs:\n%s\n%s", mustJSON(t, again), blob)
	}
	// Same environment seeds from here on: identical normalised outputs bit for bit.
	oa, _ := a.Reset(u64(9))
	ob, _ := b.Reset(u64(9))
	if !sameBits(oa, ob) {
		t.Fatal("reset observations differ after restoring the statistics")
	}
	for s := 0; s < 300; s++ {
		for i := range acts {
			acts[i] = 3 * rng.NormFloat64()
		}
		sa, _ := a.Step(acts)
		ra := append(append([]float64(nil), sa.Obs...), sa.Rewards...)
		sb, _ := b.Step(acts)
		rb := append(append([]float64(nil), sb.Obs...), sb.Rewards...)
		if !sameBits(ra, rb) {
			t.Fatalf("step %d: outputs differ after restoring the statistics", s)
		}
	}
	// A state without a matching wrapper, or of the wrong dimension, is rejected.
	if err := LoadVectorNormalization(mustVector(t, "Pendulum-v1", 4), loaded); err == nil {
		t.Error("loading into a chain without normalisers succeeded")
	}
	bad := loaded
	obs := *bad.Observation
	obs.RMS.Mean = obs.RMS.Mean[:1]
	bad.Observation = &obs
	if err := LoadVectorNormalization(build(), bad); err == nil {
		t.Error("loading statistics of the wrong dimension succeeded")
	}
}

func mustJSON(t *testing.T, x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Single-env wrappers save and restore the same way.
func TestSingleNormalizationRoundTrip(t *testing.T) {
	build := func() Env {
		e, _ := Make("MountainCarContinuous-v0")
		c, _ := NewClipAction(e)
		r, _ := NewNormalizeReward(NewNormalizeObservation(c, 10), 0.99, 10)
		return r
	}
	a := build()
	a.Reset(u64(3))
	for s := 0; s < 100; s++ {
		a.Step([]float64{5}) // clipped to 1 by ClipAction
	}
	st := SaveNormalization(a)
	b := build()
	if err := LoadNormalization(b, st); err != nil {
		t.Fatal(err)
	}
	if mustJSON(t, SaveNormalization(b)) != mustJSON(t, st) {
		t.Fatal("restored single-env state differs")
	}
	if _, err := a.Step([]float64{math.NaN()}); err == nil {
		t.Fatal("ClipAction let a NaN action through")
	}
}

func TestVectorNormalizeObservationFinalObs(t *testing.T) {
	v := mustVector(t, "CartPole-v1", 2)
	w := NewVectorNormalizeObservation(v, 5)
	w.Reset(u64(0))
	for s := 0; s < 200; s++ {
		vs, err := w.Step([]float64{1, 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range vs.FinalObs {
			if f == nil {
				continue
			}
			raw := v.finalObs[i]
			want := make([]float64, len(raw))
			w.Normalize(want, raw)
			if !sameBits(f, want) {
				t.Fatalf("FinalObs %v is not the normalised raw final obs %v", f, want)
			}
			for _, x := range f {
				if math.Abs(x) > 5 {
					t.Fatalf("FinalObs %v not clipped to ±5", f)
				}
			}
			return
		}
	}
	t.Fatal("no episode ended")
}

func TestEpisodeStatisticsAndClipAction(t *testing.T) {
	e, _ := Make("CartPole-v1")
	w := NewEpisodeStatistics(e)
	w.Reset(u64(2))
	if _, ok := w.Last(); ok {
		t.Fatal("Last reports an episode before any ended")
	}
	var sum float64
	for n := 1; ; n++ {
		r, err := w.Step([]float64{0})
		if err != nil {
			t.Fatal(err)
		}
		sum += r.Reward
		if !(r.Terminated || r.Truncated) {
			if r.Info != nil {
				t.Fatalf("step %d: Info %v before the episode ended", n, r.Info)
			}
			continue
		}
		if r.Info[InfoEpisodeReturn] != sum || r.Info[InfoEpisodeLength] != float64(n) {
			t.Fatalf("Info %v, want return %v length %d", r.Info, sum, n)
		}
		if last, ok := w.Last(); !ok || last.Return != sum || last.Length != n || w.Episodes() != 1 {
			t.Fatalf("Last() = %+v, %v; episodes %d", last, ok, w.Episodes())
		}
		break
	}

	// ClipAction: an out-of-range torque acts exactly like the bound.
	p1, _ := NewClipAction(NewPendulum())
	p2 := NewPendulum()
	p1.Reset(u64(8))
	p2.Reset(u64(8))
	for i, a := range []float64{5, -7, 1.5, 2, -2.0000001} {
		r1, err := p1.Step([]float64{a})
		if err != nil {
			t.Fatal(err)
		}
		r2, _ := p2.Step([]float64{math.Max(-2, math.Min(2, a))})
		if !sameBits(r1.Obs, r2.Obs) || r1.Reward != r2.Reward {
			t.Fatalf("step %d: clipped %v gave %v %v, bound gave %v %v", i, a, r1.Obs, r1.Reward, r2.Obs, r2.Reward)
		}
	}
	if _, err := NewClipAction(NewCartPole()); err == nil {
		t.Fatal("ClipAction accepted a Discrete action space")
	}
}
