package rlhf

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"klppo/internal/rng"
	"klppo/kl"
	"klppo/ppo"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)) }

// TestGroupAdvantagesByHand: rewards (1, 2 | 3, 6 | 5, 5) in groups of 2. Group means 1.5, 4.5,
// 5; standard deviations (Bessel) √0.5 = 0.70711, √4.5 = 2.12132, 0 — so the scaled advantages
// are ±0.5/(0.70711 + 1e-4), ±1.5/(2.12132 + 1e-4) and 0, the unscaled (Dr. GRPO) ±0.5, ±1.5, 0.
func TestGroupAdvantagesByHand(t *testing.T) {
	r := []float64{1, 2, 3, 6, 5, 5}
	s1, s2 := math.Sqrt(0.5)+1e-4, math.Sqrt(4.5)+1e-4
	for _, tc := range []struct {
		scale bool
		want  []float64
	}{
		{true, []float64{-0.5 / s1, 0.5 / s1, -1.5 / s2, 1.5 / s2, 0, 0}},
		{false, []float64{-0.5, 0.5, -1.5, 1.5, 0, 0}},
	} {
		got, err := GroupAdvantages(r, 2, tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !near(got[i], tc.want[i]) {
				t.Errorf("scale %v: advantage %d = %.12g, want %.12g", tc.scale, i, got[i], tc.want[i])
			}
		}
	}
	// One group of 3: mean 2, std 1.
	got, err := GroupAdvantages([]float64{1, 2, 3}, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got[0], -1/1.0001) || !near(got[2], 1/1.0001) || got[1] != 0 {
		t.Errorf("group of 3: %v", got)
	}
	for _, bad := range []struct{ n, g int }{{6, 1}, {6, 4}, {3, 0}} {
		if _, err := GroupAdvantages(make([]float64, bad.n), bad.g, true); err == nil {
			t.Errorf("%d rewards in groups of %d: no error", bad.n, bad.g)
		}
	}
}

// TestLossTypeWeightsByHand: four completions of 2, 4, 3 and 1 tokens (10 tokens), the longest
// allowed 15. TRL's normalisations of the per-token losses ℓ_it,
//
//	grpo:    mean_i (1/|o_i|) Σ_t ℓ_it       weights 1/(4·2), 1/(4·4), 1/(4·3), 1/(4·1)
//	dr_grpo: Σ_it ℓ_it / (4·15)              weights 1/60
//	dapo:    Σ_it ℓ_it / 10                  weights 1/10
//
// and Σ_i w_i Σ_t ℓ_it equals each formula computed directly on some per-token losses.
func TestLossTypeWeightsByHand(t *testing.T) {
	lengths := []int{2, 4, 3, 1}
	losses := [][]float64{{0.3, -1}, {2, 0.5, -0.25, 1}, {0.1, 0.2, 0.3}, {-2}}
	var sum, meanOfMeans float64
	for _, l := range losses {
		var s float64
		for _, x := range l {
			s += x
		}
		sum += s
		meanOfMeans += s / float64(len(l)) / 4
	}
	for _, tc := range []struct {
		lt   LossType
		want []float64
		loss float64
	}{
		{LossGRPO, []float64{1.0 / 8, 1.0 / 16, 1.0 / 12, 1.0 / 4}, meanOfMeans},
		{LossDrGRPO, []float64{1.0 / 60, 1.0 / 60, 1.0 / 60, 1.0 / 60}, sum / 60},
		{LossDAPO, []float64{0.1, 0.1, 0.1, 0.1}, sum / 10},
	} {
		w, err := tc.lt.Weights(lengths, 15)
		if err != nil {
			t.Fatal(err)
		}
		var loss float64
		for i := range w {
			if !near(w[i], tc.want[i]) {
				t.Errorf("%s: weight %d = %v, want %v", tc.lt, i, w[i], tc.want[i])
			}
			for _, x := range losses[i] {
				loss += w[i] * x
			}
		}
		if !near(loss, tc.loss) {
			t.Errorf("%s: weighted loss %v, formula %v", tc.lt, loss, tc.loss)
		}
	}
	if _, err := LossDAPO.Weights([]int{2, 16}, 15); err == nil {
		t.Error("a completion longer than the longest allowed: no error")
	}
	if _, err := LossType("bnpo").Weights(lengths, 15); err == nil {
		t.Error("loss type bnpo: no error")
	}
}

// TestLeaveOneOutByHand: rewards (1, 2, 4) of one prompt: baselines (2+4)/2 = 3, (1+4)/2 = 2.5,
// (1+2)/2 = 1.5, advantages −2, −0.5, 2.5 (= 3/2·(R − 7/3)); a second group (3, 5) of k = 2...
// with k = 2 each baseline is the other reward.
func TestLeaveOneOutByHand(t *testing.T) {
	got, err := LeaveOneOut([]float64{1, 2, 4, 0, 0, 9}, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{-2, -0.5, 2.5, -4.5, -4.5, 9} {
		if !near(got[i], want) {
			t.Errorf("k = 3: advantage %d = %v, want %v", i, got[i], want)
		}
	}
	got, err = LeaveOneOut([]float64{3, 5}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != -2 || got[1] != 2 {
		t.Errorf("k = 2: %v, want −2, 2", got)
	}
	if _, err := LeaveOneOut([]float64{1, 2, 3}, 2); err == nil {
		t.Error("3 rewards in groups of 2: no error")
	}
}

// groupEnv is the reviews language with tiny float64 models: π_ref, and a reward model whose
// random weights give every completion a different score.
func groupEnv(t *testing.T) Env {
	t.Helper()
	g, gold := reviews(t)
	rm, err := NewRewardModel(rand.New(rand.NewPCG(3, 4)), g.V())
	if err != nil {
		t.Fatal(err)
	}
	return Env{G: g, Gold: gold, Ref: randomModel(t, 2, g.V(), 16), RM: rm}
}

// moveAway perturbs the policy's weights so that π ≠ π_ref (the trainers start from a copy of
// π_ref, where every KL to it and its gradient vanish).
func moveAway(m *Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.AC.PolicyParams() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.5 * r.NormFloat64()
		}
	}
}

// refGroupLoss is the group methods' loss on the rollout r written from the formulas, at the
// current parameters of pi: with ρ_it = π_θ(y_t)/π_old(y_t) (token level) or ρ_i = Π_t ρ_it
// (sequence level), l_it = ln π_θ(y_t) − ln π_ref(y_t) and the batch's advantages A_i and
// weights w_i,
//
//	L = Σ_i w_i·Σ_t [−min(ρ·A_i, clip(ρ, 1±ε)·A_i) + β·(e^(−l) − 1 + l)].
func refGroupLoss(t *testing.T, pi *Model, r *rollout, eps, beta float64, sequence bool) float64 {
	t.Helper()
	var loss float64
	V := pi.Cfg.V
	row := make([]float64, V)
	for i, x := range r.seqs {
		lp, _, err := pi.LogProbs(x)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := r.start[i], r.start[i+1]
		lp = lp[r.prompt[i]:] // the completion's tokens
		var seqLR float64
		for k := lo; k < hi; k++ {
			seqLR += lp[k-lo] - r.batch.LogProbs[k]
		}
		for k := lo; k < hi; k++ {
			A, w := r.batch.Advantages[k], r.batch.Weights[k]
			lr := lp[k-lo] - r.batch.LogProbs[k]
			if sequence {
				lr = seqLR
			}
			rho := math.Exp(lr)
			loss -= w * math.Min(rho*A, math.Max(1-eps, math.Min(1+eps, rho))*A)
			if err := kl.LogSoftmaxInto(row, r.batch.RefLogits[k*V:(k+1)*V]); err != nil {
				t.Fatal(err)
			}
			l := lp[k-lo] - row[int(r.batch.Actions[k])]
			loss += w * beta * (math.Exp(-l) - 1 + l)
		}
	}
	return loss
}

// TestGroupLossGradientThroughLearner: the gradient the learner applies — GRPO's clipped ratio
// per token with each loss type's weights and β·k3 in the loss, RLOO's sequence ratio — equals
// the central finite differences of the loss written from the formulas (refGroupLoss), on a real
// rollout of the trainer. The learner runs one step over the whole batch with Adam's ε = lr =
// 1e8, which makes Adam's first step θ ← θ − g·lr/(|g| + ε) ≈ θ − g.
func TestGroupLossGradientThroughLearner(t *testing.T) {
	env := groupEnv(t)
	for _, tc := range []struct {
		name string
		spec func() groupSpec
		beta float64
		seq  bool
	}{
		{"grpo dapo k3", func() groupSpec { return grpoSpec(LossDAPO, 0.5) }, 0.5, false},
		{"grpo grpo k3", func() groupSpec { return grpoSpec(LossGRPO, 0.5) }, 0.5, false},
		{"grpo dr_grpo k3 unscaled", func() groupSpec {
			s := grpoSpec(LossDrGRPO, 0.5)
			s.advantages = func(r []float64) ([]float64, error) { return GroupAdvantages(r, 4, false) }
			return s
		}, 0.5, false},
		{"rloo", func() groupSpec {
			c := DefaultRLOOConfig(0.05, 5)
			c.Prompts, c.K = 2, 4
			return c.spec()
		}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := newGroupTrainer(env, tc.spec())
			if err != nil {
				t.Fatal(err)
			}
			moveAway(tr.pi, 11)
			r, err := tr.batch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			lc := tr.spec.learnerConfig()
			lc.Epochs, lc.MinibatchSize, lc.MaxGradNorm, lc.AdamEps = 1, r.batch.N, 0, 1e8
			learner, err := ppo.NewLearner(tr.pi.AC, lc)
			if err != nil {
				t.Fatal(err)
			}
			var before []float64
			for _, p := range tr.pi.AC.PolicyParams() {
				before = append(before, p.Data().([]float64)...)
			}
			// The finite differences, at the parameters before the step, of every fifth parameter.
			const h, every = 1e-6, 5
			fd := make([]float64, 0, len(before))
			maxAbs := 0.0
			for _, p := range tr.pi.AC.PolicyParams() {
				d := p.Data().([]float64)
				for i := range d {
					if len(fd)%every != 0 {
						fd = append(fd, math.NaN())
						continue
					}
					old := d[i]
					d[i] = old + h
					lp := refGroupLoss(t, tr.pi, r, tr.spec.clip, tc.beta, tc.seq)
					d[i] = old - h
					lm := refGroupLoss(t, tr.pi, r, tr.spec.clip, tc.beta, tc.seq)
					d[i] = old
					fd = append(fd, (lp-lm)/(2*h))
					maxAbs = math.Max(maxAbs, math.Abs(fd[len(fd)-1]))
				}
			}
			if maxAbs < 1e-3 {
				t.Fatalf("max |gradient| %v: the loss does not depend on the parameters", maxAbs)
			}
			if _, err := learner.Learn(context.Background(), &r.batch, 1e8, 0, tc.beta, rand.New(rand.NewPCG(1, 1))); err != nil {
				t.Fatal(err)
			}
			k := 0
			for _, p := range tr.pi.AC.PolicyParams() {
				for _, after := range p.Data().([]float64) {
					g := before[k] - after // = g·1e8/(|g| + 1e8)
					if !math.IsNaN(fd[k]) && math.Abs(g-fd[k]) > 1e-6*(1+math.Abs(fd[k]))+1e-7*maxAbs {
						t.Fatalf("parameter %d: learner's gradient %v, finite difference %v", k, g, fd[k])
					}
					k++
				}
			}
		})
	}
}

func grpoSpec(lt LossType, beta float64) groupSpec {
	c := DefaultGRPOConfig(beta, 5)
	c.Prompts, c.Group, c.LossType = 2, 4, lt
	return c.spec(15)
}

// TestRLOORewardIsScoreMinusSequenceK1: RLOO's advantages are the leave-one-out advantages of
// R_i = score_i − β·Σ_t (ln π_old(y_t) − ln π_ref(y_t)), recomputed here from the batch's
// log-probabilities and π_ref's logits; GRPO's are the group advantages of the scores alone.
func TestRLOORewardIsScoreMinusSequenceK1(t *testing.T) {
	env := groupEnv(t)
	c := DefaultRLOOConfig(0.3, 6)
	c.Prompts, c.K = 3, 4
	tr, err := NewRLOOTrainer(env, c)
	if err != nil {
		t.Fatal(err)
	}
	moveAway(tr.pi, 12)
	r, err := tr.batch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	V := env.Ref.Cfg.V
	row := make([]float64, V)
	R := make([]float64, len(r.seqs))
	for i := range r.seqs {
		R[i] = r.proxy[i]
		for k := r.start[i]; k < r.start[i+1]; k++ {
			if err := kl.LogSoftmaxInto(row, r.batch.RefLogits[k*V:(k+1)*V]); err != nil {
				t.Fatal(err)
			}
			R[i] -= 0.3 * (r.batch.LogProbs[k] - row[int(r.batch.Actions[k])])
		}
	}
	want, err := LeaveOneOut(R, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r.seqs {
		for k := r.start[i]; k < r.start[i+1]; k++ {
			if math.Abs(r.batch.Advantages[k]-want[i]) > 1e-9 {
				t.Fatalf("completion %d token %d: advantage %v, want %v", i, k, r.batch.Advantages[k], want[i])
			}
		}
		if got := r.batch.Weights[r.start[i]] * float64(r.start[i+1]-r.start[i]); !near(got, 1.0/12) {
			t.Fatalf("completion %d: weights sum to %v, want 1/12", i, got)
		}
	}
	// The completions of one prompt share it; prompts are never held out.
	for i := range r.seqs {
		q := r.seqs[i][:r.prompt[i]]
		if tr.prompts.IsHeldOut(q) || env.G.Text(q) != env.G.Text(r.seqs[i-i%4][:r.prompt[i-i%4]]) {
			t.Fatalf("completion %d: prompt %q", i, env.G.Text(q))
		}
	}
}

// tinyGroup shrinks a run for tests.
func tinyGroup(t *Task, updates, refSamples *int) {
	*updates, *refSamples = 3, 64
	t.Eval = EvalConfig{HeldOutPrompts: 16, DistinctPrompts: 4, DistinctSamples: 4}
}

// TestGroupMethodsDeterministic: GRPO and RLOO (and prompted PPO against the gold reward) give
// bit-identical metrics for the same seed, and write the run files with the method, the reward
// and the evaluation in summary.json.
func TestGroupMethodsDeterministic(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	runs := map[string]func(d string) (Summary, error){
		"grpo": func(d string) (Summary, error) {
			c := DefaultGRPOConfig(0.1, 3)
			tinyGroup(&c.Task, &c.Updates, &c.RefSamples)
			c.Reward = RewardGold
			return RunGRPO(context.Background(), p.Env, c, d, nil)
		},
		"rloo": func(d string) (Summary, error) {
			c := DefaultRLOOConfig(0.05, 3)
			tinyGroup(&c.Task, &c.Updates, &c.RefSamples)
			return RunRLOO(context.Background(), p.Env, c, d, nil)
		},
		"ppo": func(d string) (Summary, error) {
			c := tinyPPO(0.1)
			tinyGroup(&c.Task, &c.Updates, &c.RefSamples)
			c.Prompted, c.Reward = true, RewardGold
			return RunPPO(context.Background(), p.Env, c, d, nil)
		},
	}
	for name, run := range runs {
		var ms [2][]UpdateMetrics
		var sums [2]Summary
		for k := range ms {
			d := filepath.Join(dir, name, string(rune('a'+k)))
			s, err := run(d)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if ms[k], err = ReadMetrics(filepath.Join(d, MetricsFile)); err != nil {
				t.Fatal(err)
			}
			for i := range ms[k] {
				ms[k][i].WallS, ms[k][i].TokensPerS = 0, 0
			}
			s.WallS, s.TokensPerS = 0, 0
			sums[k] = s
			var rc RunConfig
			data, err := os.ReadFile(filepath.Join(d, ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &rc); err != nil || rc.Method != name {
				t.Fatalf("%s: config.json method %q (%v)", name, rc.Method, err)
			}
		}
		if len(ms[0]) != 3 || !sums[0].Complete || sums[0].Method != name || sums[0].DistinctOf != 16 || sums[0].FinalDistinct < 1 ||
			sums[0].RefDistinct < 1 || sums[0].HeldOutGold == 0 || sums[0].RefHeldOutGold == 0 || !sums[0].Prompted {
			t.Fatalf("%s: %d updates, summary %+v", name, len(ms[0]), sums[0])
		}
		for i := range ms[0] {
			// NaN ≠ NaN: compare the rows' text.
			if ms[0][i].csv() != ms[1][i].csv() {
				t.Errorf("%s update %d differs:\n%s\n%s", name, i+1, ms[0][i].csv(), ms[1][i].csv())
			}
		}
		a, _ := json.Marshal(sums[0])
		b, _ := json.Marshal(sums[1])
		if string(a) != string(b) {
			t.Errorf("%s: summaries differ:\n%s\n%s", name, a, b)
		}
	}
}

// TestPromptsHeldOutAndComplete: the two sides of the prompt space are disjoint, both non-empty,
// every prompt is a proper opening of a sentence (no ".") and completions by π_ref keep it.
func TestPromptsHeldOutAndComplete(t *testing.T) {
	g, _ := reviews(t)
	p, err := NewPrompts(g, DefaultHeldOut)
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(1, 2)
	held := map[string]bool{}
	for _, side := range []bool{false, true} {
		qs, err := p.Batch(context.Background(), r, 300, side)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			text := g.Text(q)
			if p.IsHeldOut(q) != side || len(q) == 0 || q[len(q)-1] == End {
				t.Fatalf("prompt %q on side held-out=%v", text, side)
			}
			if side {
				held[text] = true
			} else if held[text] {
				t.Fatalf("prompt %q on both sides", text)
			}
			if !isOpening(g, q) {
				t.Fatalf("prompt %q is not the opening of a sentence", text)
			}
		}
	}
	if _, err := NewPrompts(g, 1); err == nil {
		t.Error("held-out fraction 1: no error")
	}
	m, err := NewModel(rng.New(1, 1), DefaultModelConfig(g.V()))
	if err != nil {
		t.Fatal(err)
	}
	qs, _ := p.Batch(context.Background(), r, 20, false)
	seqs, err := m.Complete(context.Background(), r, qs)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range seqs {
		if len(x) <= len(qs[i]) || g.Text(x[:len(qs[i])]) != g.Text(qs[i]) {
			t.Fatalf("completion %q of prompt %q", g.Text(x), g.Text(qs[i]))
		}
	}
}

// isOpening reports whether q is the beginning of a sentence of g (every token an edge, no end).
func isOpening(g *Grammar, q []int) bool {
	s := 0
	for _, w := range q {
		e, ok := g.step(s, w)
		if !ok || e.Next < 0 {
			return false
		}
		s = e.Next
	}
	return true
}
