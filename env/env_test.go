package env

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var classicIDs = []string{"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "Bandit-v0"}

func u64(x uint64) *uint64 { return &x }

// rollout runs Make(id) from seed for n steps with actions drawn from a fixed generator,
// resetting (Reset(nil)) after every episode end; it records every value produced.
func rollout(t *testing.T, id string, seed uint64, n int) []float64 {
	t.Helper()
	e, err := Make(id)
	if err != nil {
		t.Fatal(err)
	}
	arng := rand.New(rand.NewPCG(7, 7))
	o, _, err := e.Reset(&seed)
	if err != nil {
		t.Fatal(err)
	}
	rec := append([]float64(nil), o...)
	for i := 0; i < n; i++ {
		r, err := e.Step(e.ActionSpace().Sample(arng))
		if err != nil {
			t.Fatalf("%s step %d: %v", id, i, err)
		}
		rec = append(rec, r.Obs...)
		rec = append(rec, r.Reward)
		if r.Terminated || r.Truncated {
			o, _, err := e.Reset(nil)
			if err != nil {
				t.Fatal(err)
			}
			rec = append(rec, o...)
		}
	}
	return rec
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestSeedingDeterminism(t *testing.T) {
	for _, id := range classicIDs {
		t.Run(id, func(t *testing.T) {
			a := rollout(t, id, 42, 1200)
			b := rollout(t, id, 42, 1200)
			if !sameBits(a, b) {
				t.Fatal("same seed gave different trajectories")
			}
			if c := rollout(t, id, 43, 1200); sameBits(a, c) {
				t.Fatal("seeds 42 and 43 gave identical trajectories")
			}
		})
	}
}

func TestResetNilContinuesStream(t *testing.T) {
	e := NewCartPole()
	o1, _, _ := e.Reset(u64(5))
	first := append([]float64(nil), o1...)
	o2, _, _ := e.Reset(nil)
	second := append([]float64(nil), o2...)
	if sameBits(first, second) {
		t.Fatal("Reset(nil) repeated the seeded initial state")
	}
	o3, _, _ := e.Reset(u64(5))
	if !sameBits(first, o3) {
		t.Fatal("reseeding with the same seed did not repeat the initial state")
	}
	o4, _, _ := e.Reset(nil)
	if !sameBits(second, o4) {
		t.Fatal("Reset(nil) after reseeding did not continue the same stream")
	}
	// An environment never seeded still works (seeded from the process-wide source).
	if _, _, err := NewPendulum().Reset(nil); err != nil {
		t.Fatal(err)
	}
}

// Initial states follow Gymnasium's distributions: uniform on the documented ranges. Checked via
// the range and the first two moments over many resets.
func TestInitialStateDistributions(t *testing.T) {
	const n = 20000
	cases := []struct {
		name string
		env  interface {
			Env
			StateSetter
		}
		lo, hi []float64
	}{
		{"CartPole", NewCartPole(), []float64{-.05, -.05, -.05, -.05}, []float64{.05, .05, .05, .05}},
		{"Acrobot", NewAcrobot(), []float64{-.1, -.1, -.1, -.1}, []float64{.1, .1, .1, .1}},
		{"MountainCar", NewMountainCar(), []float64{-.6, 0}, []float64{-.4, 0}},
		{"MountainCarContinuous", NewMountainCarContinuous(), []float64{-.6, 0}, []float64{-.4, 0}},
		{"Pendulum", NewPendulum(), []float64{-math.Pi, -1}, []float64{math.Pi, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := len(c.lo)
			sum, sq := make([]float64, d), make([]float64, d)
			for i := 0; i < n; i++ {
				var s *uint64
				if i == 0 {
					s = u64(1)
				}
				if _, _, err := c.env.Reset(s); err != nil {
					t.Fatal(err)
				}
				st := c.env.State()
				for j, v := range st {
					if v < c.lo[j] || v > c.hi[j] {
						t.Fatalf("state[%d] = %v outside [%v, %v]", j, v, c.lo[j], c.hi[j])
					}
					sum[j] += v
					sq[j] += v * v
				}
			}
			for j := 0; j < d; j++ {
				mean := sum[j] / n
				variance := sq[j]/n - mean*mean
				wantMean := (c.lo[j] + c.hi[j]) / 2
				w := c.hi[j] - c.lo[j]
				wantVar := w * w / 12
				if math.Abs(mean-wantMean) > 5*math.Sqrt(wantVar/n)+1e-12 {
					t.Errorf("state[%d]: mean %v, want %v", j, mean, wantMean)
				}
				if math.Abs(variance-wantVar) > 0.05*wantVar+1e-12 {
					t.Errorf("state[%d]: variance %v, want %v", j, variance, wantVar)
				}
			}
		})
	}
}

func TestSpaceContainment(t *testing.T) {
	for _, id := range classicIDs {
		t.Run(id, func(t *testing.T) {
			e, _ := Make(id)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < 100; i++ {
				if a := e.ActionSpace().Sample(rng); !e.ActionSpace().Contains(a) {
					t.Fatalf("sampled action %v not in %v", a, e.ActionSpace())
				}
			}
			o, _, _ := e.Reset(u64(3))
			for i := 0; i < 3000; i++ {
				if !e.ObservationSpace().Contains(o) {
					t.Fatalf("step %d: observation %v not in %v", i, o, e.ObservationSpace())
				}
				r, err := e.Step(e.ActionSpace().Sample(rng))
				if err != nil {
					t.Fatal(err)
				}
				o = r.Obs
				if r.Terminated || r.Truncated {
					if !e.ObservationSpace().Contains(o) {
						t.Fatalf("final observation %v not in %v", o, e.ObservationSpace())
					}
					o, _, _ = e.Reset(nil)
				}
			}
		})
	}
}

func TestSpaces(t *testing.T) {
	box, err := NewBox([]float64{-1, 0}, []float64{1, math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	d := &Discrete{N: 3}
	cases := []struct {
		name  string
		space Space
		x     []float64
		want  bool
	}{
		{"discrete 0", d, []float64{0}, true},
		{"discrete 2", d, []float64{2}, true},
		{"discrete 3", d, []float64{3}, false},
		{"discrete -1", d, []float64{-1}, false},
		{"discrete 1.5", d, []float64{1.5}, false},
		{"discrete NaN", d, []float64{math.NaN()}, false},
		{"discrete length 2", d, []float64{0, 1}, false},
		{"discrete empty", d, nil, false},
		{"box inside", box, []float64{0.5, 1e300}, true},
		{"box on bounds", box, []float64{-1, 0}, true},
		{"box below", box, []float64{-1.0001, 0}, false},
		{"box NaN", box, []float64{0, math.NaN()}, false},
		{"box +Inf on infinite bound", box, []float64{0, math.Inf(1)}, true},
		{"box short", box, []float64{0}, false},
	}
	for _, c := range cases {
		if got := c.space.Contains(c.x); got != c.want {
			t.Errorf("%s: %v.Contains(%v) = %v, want %v", c.name, c.space, c.x, got, c.want)
		}
	}
	if _, err := NewBox([]float64{1}, []float64{0}); err == nil {
		t.Error("NewBox accepted low > high")
	}
	if _, err := NewBox([]float64{0, 0}, []float64{1, 1}, 3); err == nil {
		t.Error("NewBox accepted a shape that does not match the bounds")
	}
	// The fixed boxes of the built-in environments satisfy NewBox's rules.
	for _, s := range Specs() {
		o, a := s.Spaces()
		for _, sp := range []Space{o, a} {
			if b, ok := sp.(*Box); ok {
				if _, err := NewBox(b.Low, b.High, b.Shape...); err != nil {
					t.Errorf("%s: %v", s.ID, err)
				}
			}
		}
	}
	if _, err := NewBandit(DefaultBanditConfig()); err != nil {
		t.Errorf("default bandit configuration: %v", err)
	}
	if _, err := NewDiscrete(0); err == nil {
		t.Error("NewDiscrete accepted 0")
	}
	// Unbounded dimensions sample from N(0,1) / shifted exponentials.
	rng := rand.New(rand.NewPCG(9, 9))
	var sum float64
	for i := 0; i < 10000; i++ {
		x := box.Sample(rng)
		if x[1] < 0 {
			t.Fatalf("exponential coordinate %v below its lower bound 0", x[1])
		}
		sum += x[1]
	}
	if m := sum / 10000; math.Abs(m-1) > 0.05 {
		t.Errorf("mean of Exp(1) coordinate = %v, want about 1", m)
	}
}

func TestBadActions(t *testing.T) {
	cases := []struct {
		id     string
		action []float64
		want   string
	}{
		{"CartPole-v1", []float64{2}, "not in Discrete(2)"},
		{"CartPole-v1", []float64{-1}, "not in Discrete(2)"},
		{"CartPole-v1", []float64{0.5}, "not in Discrete(2)"},
		{"CartPole-v1", []float64{math.NaN()}, "not in Discrete(2)"},
		{"CartPole-v1", []float64{0, 1}, "length 2"},
		{"CartPole-v1", nil, "length 0"},
		{"Acrobot-v1", []float64{3}, "not in Discrete(3)"},
		{"MountainCar-v0", []float64{1, 1}, "length 2"},
		{"MountainCarContinuous-v0", []float64{1.5}, "outside"},
		{"MountainCarContinuous-v0", []float64{math.NaN()}, "not finite"},
		{"Pendulum-v1", []float64{-2.1}, "outside"},
		{"Pendulum-v1", []float64{math.Inf(1)}, "not finite"},
		{"Pendulum-v1", []float64{0, 0}, "length 2"},
		{"Bandit-v0", []float64{5}, "not in Discrete(5)"},
	}
	for _, c := range cases {
		e, _ := Make(c.id)
		if _, err := e.Step([]float64{0}); !errors.Is(err, errNotReset) {
			t.Errorf("%s: Step before Reset: err = %v, want errNotReset", c.id, err)
		}
		e.Reset(u64(0))
		var before []float64
		ss, isSetter := Unwrapped(e).(StateSetter)
		if isSetter {
			before = ss.State()
		}
		_, err := e.Step(c.action)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Step(%v) err = %v, want one containing %q", c.id, c.action, err, c.want)
		}
		if isSetter && !sameBits(before, ss.State()) {
			t.Errorf("%s: a rejected action changed the state", c.id)
		}
	}
}

func TestStepAfterEnd(t *testing.T) {
	// Termination: CartPole pushed one way falls within a few dozen steps.
	e, _ := Make("CartPole-v1")
	e.Reset(u64(1))
	var r StepResult
	var err error
	for i := 0; i < 500 && !r.Terminated; i++ {
		if r, err = e.Step([]float64{1}); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Terminated || r.Reward != 1 {
		t.Fatalf("terminating step: terminated %v reward %v, want true and 1 (Gymnasium rewards it)", r.Terminated, r.Reward)
	}
	if _, err := e.Step([]float64{1}); !errors.Is(err, errFinished) {
		t.Fatalf("Step after termination: err = %v, want errFinished", err)
	}
	if _, _, err := e.Reset(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step([]float64{1}); err != nil {
		t.Fatalf("Step after Reset: %v", err)
	}
}

func TestCartPoleStepsAfterTermination(t *testing.T) {
	e := NewCartPole()
	e.StepsAfterTermination = true
	e.SetState([]float64{2.39, 1, 0, 0})
	r, _ := e.Step([]float64{1})
	if !r.Terminated || r.Reward != 1 {
		t.Fatalf("terminating step: %+v", r)
	}
	for i := 0; i < 3; i++ {
		r, err := e.Step([]float64{0})
		if err != nil || !r.Terminated || r.Reward != 0 {
			t.Fatalf("step %d after termination: %+v, %v; want terminated with reward 0", i, r, err)
		}
	}
}

func TestTimeLimitTruncation(t *testing.T) {
	for _, c := range []struct {
		id     string
		action []float64
		limit  int
	}{
		{"Pendulum-v1", []float64{0}, 200},
		{"MountainCar-v0", []float64{1}, 200},
		{"MountainCarContinuous-v0", []float64{0}, 999},
		{"Acrobot-v1", []float64{1}, 500},
	} {
		e, _ := Make(c.id)
		e.Reset(u64(0))
		for i := 1; i <= c.limit; i++ {
			r, err := e.Step(c.action)
			if err != nil {
				t.Fatalf("%s step %d: %v", c.id, i, err)
			}
			if r.Terminated {
				t.Fatalf("%s: terminated at step %d with a do-nothing action", c.id, i)
			}
			if r.Truncated != (i == c.limit) {
				t.Fatalf("%s step %d: truncated = %v", c.id, i, r.Truncated)
			}
		}
		if _, err := e.Step(c.action); !errors.Is(err, errFinished) {
			t.Fatalf("%s: Step after truncation: err = %v, want errFinished", c.id, err)
		}
		e.Reset(nil)
		if _, err := e.Step(c.action); err != nil {
			t.Fatalf("%s: Step after Reset: %v", c.id, err)
		}
	}
	// Truncation and termination can coincide: both are reported.
	tl, _ := NewTimeLimit(NewCartPole(), 1)
	tl.SetState([]float64{2.39, 1, 0, 0})
	r, err := tl.Step([]float64{1})
	if err != nil || !r.Terminated || !r.Truncated {
		t.Fatalf("coinciding end: %+v, %v; want terminated and truncated", r, err)
	}
	if _, err := NewTimeLimit(NewCartPole(), 0); err == nil {
		t.Fatal("NewTimeLimit accepted 0 steps")
	}
}

func TestRegistry(t *testing.T) {
	want := map[string]struct {
		steps     int
		threshold float64
		has       bool
	}{
		"CartPole-v1":              {500, 475, true},
		"Acrobot-v1":               {500, -100, true},
		"MountainCar-v0":           {200, -110, true},
		"MountainCarContinuous-v0": {999, 90, true},
		"Pendulum-v1":              {200, 0, false},
		"Bandit-v0":                {0, 0, false},
	}
	if len(Specs()) != len(want) {
		t.Fatalf("%d specs, want %d", len(Specs()), len(want))
	}
	for _, s := range Specs() {
		w, ok := want[s.ID]
		if !ok {
			t.Errorf("unexpected id %s", s.ID)
			continue
		}
		th, has := s.Threshold()
		if s.MaxEpisodeSteps != w.steps || th != w.threshold || has != w.has {
			t.Errorf("%s: steps %d threshold %v/%v, want %d %v/%v", s.ID, s.MaxEpisodeSteps, th, has, w.steps, w.threshold, w.has)
		}
		e := s.Make()
		if o, a := s.Spaces(); o.String() != e.ObservationSpace().String() || a.String() != e.ActionSpace().String() {
			t.Errorf("%s: Spaces() = %v, %v; env has %v, %v", s.ID, o, a, e.ObservationSpace(), e.ActionSpace())
		}
		_, isTL := e.(*TimeLimit)
		if isTL != (w.steps > 0) {
			t.Errorf("%s: Make returned %T", s.ID, e)
		}
	}
	if _, err := Make("CartPole-v0"); err == nil || !strings.Contains(err.Error(), "CartPole-v0") {
		t.Errorf("Make(unknown) err = %v", err)
	}
}

func TestBandit(t *testing.T) {
	b, err := NewBandit(DefaultBanditConfig())
	if err != nil {
		t.Fatal(err)
	}
	if b.OptimalArm() != 2 || b.OptimalMean() != 0.8 {
		t.Fatalf("optimal arm %d mean %v, want 2 and 0.8", b.OptimalArm(), b.OptimalMean())
	}
	const n = 20000
	b.Reset(u64(11))
	for a, m := range b.Config().Means {
		var sum float64
		for i := 0; i < n; i++ {
			b.Reset(nil)
			r, err := b.Step([]float64{float64(a)})
			if err != nil || !r.Terminated {
				t.Fatalf("pull: %+v %v", r, err)
			}
			if r.Reward != 0 && r.Reward != 1 {
				t.Fatalf("Bernoulli reward %v", r.Reward)
			}
			sum += r.Reward
		}
		if got := sum / n; math.Abs(got-m) > 5*math.Sqrt(m*(1-m)/n) {
			t.Errorf("arm %d: mean reward %v, want %v", a, got, m)
		}
	}
	g, err := NewBandit(BanditConfig{Means: []float64{-1, 3}, Gaussian: true, Std: 2})
	if err != nil {
		t.Fatal(err)
	}
	g.Reset(u64(1))
	var sum, sq float64
	for i := 0; i < n; i++ {
		g.Reset(nil)
		r, _ := g.Step([]float64{1})
		sum += r.Reward
		sq += r.Reward * r.Reward
	}
	mean := sum / n
	if sd := math.Sqrt(sq/n - mean*mean); math.Abs(mean-3) > 0.1 || math.Abs(sd-2) > 0.1 {
		t.Errorf("Gaussian arm: mean %v sd %v, want 3 and 2", mean, sd)
	}
	for _, bad := range []BanditConfig{{}, {Means: []float64{1.5}}, {Means: []float64{0}, Gaussian: true}, {Means: []float64{math.NaN()}}} {
		if _, err := NewBandit(bad); err == nil {
			t.Errorf("NewBandit(%+v) accepted", bad)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	for _, id := range classicIDs {
		e, _ := Make(id)
		e.Reset(u64(1))
		rng := rand.New(rand.NewPCG(1, 1))
		actions := make([][]float64, 64)
		for i := range actions {
			actions[i] = e.ActionSpace().Sample(rng)
		}
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			r, _ := e.Step(actions[i%len(actions)])
			i++
			if r.Terminated || r.Truncated {
				e.Reset(nil)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per step, want 0", id, allocs)
		}
	}
	v, _ := MakeVector("CartPole-v1", 8)
	v.Reset(u64(1))
	acts := []float64{0, 1, 1, 0, 1, 0, 0, 1}
	if allocs := testing.AllocsPerRun(1000, func() { v.Step(acts) }); allocs != 0 {
		t.Errorf("vector step: %v allocations, want 0", allocs)
	}
	w, _ := WrapVectorContinuous(mustVector(t, "Pendulum-v1", 4), 0.99)
	w.Reset(u64(1))
	pa := []float64{0.5, -3, 1, 2}
	if allocs := testing.AllocsPerRun(1000, func() { w.Step(pa) }); allocs != 0 {
		t.Errorf("normalised vector step: %v allocations, want 0", allocs)
	}
}

func mustVector(t testing.TB, id string, n int) *Vector {
	t.Helper()
	v, err := MakeVector(id, n)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJSONSpecs(t *testing.T) {
	b, err := json.Marshal(Specs())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"id":"CartPole-v1","max_episode_steps":500,"reward_threshold":475`) {
		t.Fatalf("unexpected JSON %s", b)
	}
}

// Gymnasium stores MountainCarContinuous's state as float32 after each step (and uses the
// float64 value drawn by reset for the first step); the reference cases are too short to see it.
func TestMountainCarContinuousFloat32State(t *testing.T) {
	e := NewMountainCarContinuous()
	e.Reset(u64(4))
	if s := e.State(); s[0] == f32(s[0]) {
		t.Fatalf("reset position %v is already a float32: the draw should be float64", s[0])
	}
	for i := 0; i < 20; i++ {
		if _, err := e.Step([]float64{0.3}); err != nil {
			t.Fatal(err)
		}
		for j, v := range e.State() {
			if v != f32(v) {
				t.Fatalf("step %d: state[%d] = %v is not a float32 value", i, j, v)
			}
		}
	}
}
