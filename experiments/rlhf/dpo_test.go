package rlhf

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"klppo/kl"
	"klppo/nn"
)

// TestDPOPairLossHandValues: the two losses at hand-computed points, and the minimisers of the
// soft-label loss p·f(h) + (1 − p)·f(−h): βh = logit(p) for DPO, h = (2p − 1)/(2τ) for IPO.
func TestDPOPairLossHandValues(t *testing.T) {
	dpo := DPOConfig{Loss: LossDPO, Beta: 0.5}
	ipo := DPOConfig{Loss: LossIPO, Beta: 0.25}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"dpo h=2: −ln σ(1) = ln(1 + e⁻¹)", dpo.PairLoss(2), math.Log1p(math.Exp(-1))},
		{"dpo h=0: ln 2", dpo.PairLoss(0), math.Ln2},
		{"dpo h=−4: −ln σ(−2)", dpo.PairLoss(-4), math.Log1p(math.Exp(2))},
		{"ipo h=1, target 2: (1 − 2)²", ipo.PairLoss(1), 1},
		{"ipo h=2 (the target): 0", ipo.PairLoss(2), 0},
		{"ipo h=−1: 9", ipo.PairLoss(-1), 9},
	} {
		if math.Abs(tc.got-tc.want) > 1e-14 {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	const p = 0.8
	for _, tc := range []struct {
		cfg DPOConfig
		opt float64
	}{{dpo, math.Log(p/(1-p)) / dpo.Beta}, {ipo, (2*p - 1) / (2 * ipo.Beta)}} {
		at := tc.cfg.lossOf(tc.opt, p)
		const e = 1e-4
		if d := (tc.cfg.lossOf(tc.opt+e, p) - tc.cfg.lossOf(tc.opt-e, p)) / (2 * e); math.Abs(d) > 1e-8 {
			t.Errorf("%s: slope %v at the claimed minimiser h = %v", tc.cfg.Loss, d, tc.opt)
		}
		if !(tc.cfg.lossOf(tc.opt+0.1, p) > at && tc.cfg.lossOf(tc.opt-0.1, p) > at) {
			t.Errorf("%s: h = %v is not a minimum", tc.cfg.Loss, tc.opt)
		}
	}
}

// TestDPOGraphLossAndGradient: the training graph's loss equals the plain-Go formula
// (prefData.loss: ln π of whole sequences, the margin, the loss), and its gradient with respect
// to every policy parameter equals central finite differences of that formula — for both
// losses, both token aggregations, and soft labels (p < 1), on pairs of different lengths
// (including a pair of two identical sequences, whose margin is 0 whatever π).
func TestDPOGraphLossAndGradient(t *testing.T) {
	const V, L = 4, 4
	ref := randomModel(t, 1, V, L)
	for _, tc := range []struct {
		loss DPOLoss
		logp LogpNorm
		soft bool
	}{{LossDPO, LogpSum, false}, {LossIPO, LogpMean, false}, {LossDPO, LogpMean, true}, {LossIPO, LogpSum, true}} {
		name := string(tc.loss) + "-" + string(tc.logp)
		if tc.soft {
			name += "-soft"
		}
		pi := randomModel(t, 2, V, L)
		seqs, err := pi.Sample(context.Background(), rand.New(rand.NewPCG(3, 4)), 10)
		if err != nil {
			t.Fatal(err)
		}
		pairs := []Pair{{seqs[0], seqs[1]}, {seqs[2], seqs[3]}, {seqs[4], seqs[5]}, {seqs[6], seqs[7]}, {seqs[8], seqs[8]}}
		d, err := newPrefData(context.Background(), ref, nil, nil, pairs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.soft {
			for i := range d.train {
				d.train[i].p = 0.6 + 0.1*float64(i)
			}
		}
		cfg := DPOConfig{Loss: tc.loss, Beta: 0.7, Logp: tc.logp}
		dg, err := newDPOGraph(pi, cfg, len(pairs))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := nn.NewTrainer(dg.pg.G, dg.loss, dg.pg.Learnables)
		if err != nil {
			t.Fatal(err)
		}
		if err := dg.set(pi.Cfg, d, d.train); err != nil {
			t.Fatal(err)
		}
		grads, err := tr.Run()
		if err != nil {
			t.Fatal(err)
		}
		tr.Close()
		plain, err := d.loss(cfg, pi, d.train)
		if err != nil {
			t.Fatal(err)
		}
		if got := nn.ValueAt(dg.lossV, 0); math.Abs(got-plain) > 1e-10 {
			t.Fatalf("%s: graph loss %v, formula %v", name, got, plain)
		}
		if h := nn.ValueAt(dg.h, len(pairs)-1); h != 0 {
			t.Errorf("%s: margin of two identical sequences %v, want 0", name, h)
		}
		const e = 1e-6
		checked, worst := 0, 0.0
		for k, p := range pi.AC.PolicyParams() {
			w := p.Data().([]float64)
			gw := grads[k].Data().([]float64)
			for i := range w {
				orig := w[i]
				w[i] = orig + e
				lp, err1 := d.loss(cfg, pi, d.train)
				w[i] = orig - e
				lm, err2 := d.loss(cfg, pi, d.train)
				w[i] = orig
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				fd := (lp - lm) / (2 * e)
				worst = math.Max(worst, math.Abs(fd-gw[i]))
				if math.Abs(fd-gw[i]) > 1e-7*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s: param %d[%d]: graph gradient %v, finite difference %v", name, k, i, gw[i], fd)
				}
				checked++
			}
		}
		if checked < 50 || worst == 0 {
			t.Errorf("%s: %d parameters checked, largest deviation %v", name, checked, worst)
		}
	}
}

// TestImplicitRewardAtTheOptimum, on a problem small enough to enumerate (3 tokens, sequences of
// at most 3: 15 of them) with a reward r and β = 0.5:
//
//  1. π* = π_ref·exp(r/β)/Z maximises J(π) = E_π[r] − β·KL(π‖π_ref) (J(π*) = β ln Z, and random
//     distributions near π* do worse), and its implicit reward β·ln(π*/π_ref) is r − β ln Z;
//  2. DPO trained (the run's graph, trainer and Adam) on every pair of sequences labelled with its
//     exact Bradley–Terry preference probability σ(r(a) − r(b)) reaches π*: its implicit reward
//     equals r up to one constant, and KL(π*‖π_θ) is small next to KL(π*‖π_ref).
func TestImplicitRewardAtTheOptimum(t *testing.T) {
	const V, L, beta = 3, 3, 0.5
	cfg := ModelConfig{V: V, MaxLen: L, Hidden: []int{24}, DType: "float64", Act: "tanh"}
	ref, err := NewModel(rand.New(rand.NewPCG(11, 1)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	perturb := rand.New(rand.NewPCG(11, 2))
	for _, p := range ref.AC.PolicyParams() { // a non-uniform reference
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.5 * perturb.NormFloat64()
		}
	}
	var seqs [][]int
	var walk func(x []int)
	walk = func(x []int) {
		if cfg.Done(x) {
			seqs = append(seqs, append([]int(nil), x...))
			return
		}
		for w := 0; w < V; w++ {
			walk(append(x, w))
		}
	}
	walk(nil)
	if len(seqs) != 15 {
		t.Fatalf("%d sequences, want 15", len(seqs))
	}
	lref, err := ref.SequenceLogProbs(context.Background(), seqs)
	if err != nil {
		t.Fatal(err)
	}
	r := make([]float64, len(seqs))
	var z float64
	for i := range seqs {
		r[i] = 3 * (perturb.Float64() - 0.5)
		z += math.Exp(lref[i] + r[i]/beta)
	}
	star := make([]float64, len(seqs)) // π*
	for i := range seqs {
		star[i] = math.Exp(lref[i]+r[i]/beta) / z
	}
	J := func(p []float64) float64 {
		var j float64
		for i := range p {
			if p[i] > 0 {
				j += p[i] * (r[i] - beta*(math.Log(p[i])-lref[i]))
			}
		}
		return j
	}
	if math.Abs(J(star)-beta*math.Log(z)) > 1e-12 {
		t.Errorf("J(π*) = %v, β ln Z = %v", J(star), beta*math.Log(z))
	}
	for trial := 0; trial < 200; trial++ {
		q := make([]float64, len(star))
		var s float64
		for i := range q {
			q[i] = star[i] * math.Exp(0.3*perturb.NormFloat64())
			s += q[i]
		}
		for i := range q {
			q[i] /= s
		}
		if J(q) >= J(star) {
			t.Fatalf("trial %d: J(q) = %v ≥ J(π*) = %v", trial, J(q), J(star))
		}
	}
	for i := range seqs {
		if got := beta * (math.Log(star[i]) - lref[i]); math.Abs(got-(r[i]-beta*math.Log(z))) > 1e-12 {
			t.Errorf("sequence %d: β ln(π*/π_ref) = %v, r − β ln Z = %v", i, got, r[i]-beta*math.Log(z))
		}
	}
	// 2. DPO on exact preferences over all 105 pairs.
	d := &prefData{seqs: seqs}
	for a := range seqs {
		for b := a + 1; b < len(seqs); b++ {
			d.train = append(d.train, softPair{a: a, b: b, p: kl.Sigmoid(r[a] - r[b])})
		}
	}
	if err := d.finish(context.Background(), ref, nil, nil); err != nil {
		t.Fatal(err)
	}
	dcfg := DPOConfig{Loss: LossDPO, Beta: beta, Logp: LogpSum, LR: 0.03, MaxGrad: 10, Seed: 1}
	tr, err := newDPOTrainer(ref, dcfg, len(d.train))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	klStar := func(m *Model) float64 {
		lp, err := m.SequenceLogProbs(context.Background(), seqs)
		if err != nil {
			t.Fatal(err)
		}
		var k float64
		for i := range seqs {
			k += star[i] * (math.Log(star[i]) - lp[i])
		}
		return k
	}
	before := klStar(tr.pi)
	for s := 0; s < 250; s++ {
		if _, err := tr.step(d, d.train); err != nil {
			t.Fatal(err)
		}
	}
	after := klStar(tr.pi)
	lp, err := tr.pi.SequenceLogProbs(context.Background(), seqs)
	if err != nil {
		t.Fatal(err)
	}
	var c float64 // the constant: mean of implicit reward − r
	for i := range seqs {
		c += (beta*(lp[i]-lref[i]) - r[i]) / float64(len(seqs))
	}
	var worst float64
	for i := range seqs {
		worst = math.Max(worst, math.Abs(beta*(lp[i]-lref[i])-r[i]-c))
	}
	t.Logf("KL(π*‖π) %.4f → %.6f; implicit reward − r = %.4f ± %.4f (max), β ln Z = %.4f", before, after, c, worst, beta*math.Log(z))
	if !(before > 0.1) {
		t.Fatalf("KL(π*‖π_ref) = %v: the optimum is too close to π_ref for a meaningful test", before)
	}
	if !(after < 1e-3) || !(worst < 0.03) {
		t.Errorf("DPO on exact preferences: KL(π*‖π) %v → %v, implicit reward − r varies by up to %v", before, after, worst)
	}
}

// TestLabelerTemperatureZero: with label noise 0 the labeler prefers the higher gold reward every
// time and flips a fair coin on ties; with τ > 0 it follows σ(Δgold/τ).
func TestLabelerTemperatureZero(t *testing.T) {
	g, gd := reviews(t)
	parse := func(s string) []int {
		x, err := g.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	good, bad, bad2 := parse("the food was very good ."), parse("the food was bad ."), parse("the staff was bad .")
	lab := Labeler{Gold: gd, Temperature: 0}
	rng := rand.New(rand.NewPCG(1, 2))
	first := 0
	const n = 4000
	for i := 0; i < n; i++ {
		if p := lab.Label(rng, bad, good); &p.Chosen[0] != &good[0] {
			t.Fatal("τ = 0 chose the worse text")
		}
		if p := lab.Label(rng, bad, bad2); &p.Chosen[0] == &bad[0] {
			first++
		}
	}
	if f := float64(first) / n; math.Abs(f-0.5) > 4*math.Sqrt(0.25/n) {
		t.Errorf("a tie was decided for the first text %.3f of the time, want ½", f)
	}
	if p := (Labeler{Gold: gd, Temperature: 0.5}).Prob(good, bad); math.Abs(p-kl.Sigmoid((gd.Score(good)-gd.Score(bad))/0.5)) > 1e-15 {
		t.Errorf("τ = 0.5: P = %v", p)
	}
}

// TestSequenceLogProbsMatchesLogProb: the trie of prefixes (evaluated in 4096-node chunks) gives
// Model.LogProb sequence by sequence, and shares the prefixes (fewer nodes than tokens).
func TestSequenceLogProbsMatchesLogProb(t *testing.T) {
	m := randomModel(t, 5, 8, 8)
	rng := rand.New(rand.NewPCG(1, 1))
	xs := make([][]int, 3000) // words, then End unless cut at 8 tokens
	for i := range xs {
		for len(xs[i]) < 4+rng.IntN(5) {
			xs[i] = append(xs[i], 1+rng.IntN(7))
		}
		if len(xs[i]) < 8 {
			xs[i] = append(xs[i], End)
		}
	}
	xs = append(xs, xs[0], []int{}) // a repeated sequence and an empty one (ln π = 0)
	s, err := NewSequenceScorer(context.Background(), m.Cfg, xs)
	if err != nil {
		t.Fatal(err)
	}
	tokens := len(s.node)
	if s.nodes <= 4096 || s.nodes >= tokens {
		t.Fatalf("%d nodes for %d tokens: does not cross a chunk or shares nothing", s.nodes, tokens)
	}
	got, err := s.LogProbs(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		want, err := m.LogProb(x)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got[i]-want) > 1e-12 {
			t.Fatalf("sequence %d: %v, LogProb %v", i, got[i], want)
		}
	}
	if _, err := NewSequenceScorer(context.Background(), m.Cfg, [][]int{{1, 9}}); err == nil {
		t.Error("a token outside the vocabulary was accepted")
	}
}

// TestExactLanguageMass: the walk over the automaton gives Σ_{x∈L} π(x) and Σ_{x∈L} π(x)·score(x)
// of enumerating the language sentence by sentence; with MaxLen 2 the 3-token sentences, which π
// cannot generate, are left out.
func TestExactLanguageMass(t *testing.T) {
	g := tinyGrammar(t)
	score := func(x []int) float64 { return float64(len(x)) + 0.1*float64(x[0]) }
	for _, maxLen := range []int{4, 2} {
		m := randomModel(t, 9, g.V(), maxLen)
		var mass, sc float64
		n := 0
		var err error
		g.Enumerate(func(x []int, _ float64) {
			if len(x) > maxLen || err != nil {
				return
			}
			var lp float64
			lp, err = m.LogProb(x)
			mass += math.Exp(lp)
			sc += math.Exp(lp) * score(x)
			n++
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExactLanguageMass(context.Background(), g, m, score)
		if err != nil {
			t.Fatal(err)
		}
		want := sc + (1-mass)*OutOfLanguage
		if math.Abs(got.Mass-mass) > 1e-12 || math.Abs(got.Gold-want) > 1e-12 {
			t.Errorf("max_len %d (%d sentences): walk %+v, enumeration mass %v score %v", maxLen, n, got, mass, want)
		}
		if !(mass > 0.05 && mass < 0.95) {
			t.Errorf("max_len %d: mass %v: a degenerate test", maxLen, mass)
		}
	}
}

// TestEvalPoints: evaluations every quarter epoch of 8 steps, exact mass at the first, the last
// and every 4th; with 3 steps per epoch and 4 evaluations, coinciding ones merge.
func TestEvalPoints(t *testing.T) {
	got := evalPoints(DPOConfig{Epochs: 2, EvalsPerEpoch: 4, MassEvery: 4}, 8)
	want := []evalPoint{{0, true}, {2, false}, {4, false}, {6, false}, {8, true}, {10, false}, {12, false}, {14, false}, {16, true}}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	got = evalPoints(DPOConfig{Epochs: 1, EvalsPerEpoch: 4, MassEvery: 2}, 3)
	// k·3/4 rounded: 0, 1 (0.75), 2 (1.5), 2 (2.25), 3; k = 2 (exact) and 3 (not) merge into an exact one
	want = []evalPoint{{0, true}, {1, false}, {2, true}, {3, true}}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

func tinyDPO(loss DPOLoss) DPOConfig {
	c := DefaultDPOConfig(loss, 0.2, 7)
	c.Epochs, c.Batch, c.EvalsPerEpoch, c.EvalSamples, c.RefSamples, c.LR = 2, 32, 2, 64, 64, 3e-3
	return c
}

// TestDPODeterministic: the same seed gives bit-identical metrics (wall times aside) for both
// losses; the files of the output contract are written; the run learns the preferences (the
// margin and the implicit-reward accuracy rise on the training pairs) and its masses add up.
func TestDPODeterministic(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	prefs := DefaultPrepareConfig(7).RM
	prefs.Pairs, prefs.TestPairs, prefs.Epochs = 400, 100, 5 // tinyPrepare's
	for _, loss := range []DPOLoss{LossDPO, LossIPO} {
		cfg := tinyDPO(loss)
		if loss == LossIPO {
			cfg.MassEvery = -1
		}
		var runs [2][]DPOMetrics
		var sums [2]DPOSummary
		for k := range runs {
			d := filepath.Join(dir, string(loss), string(rune('a'+k)))
			s, err := RunDPO(context.Background(), p.Env, prefs, cfg, d, nil)
			if err != nil {
				t.Fatalf("%s: %v", loss, err)
			}
			ms, err := ReadDPOMetrics(filepath.Join(d, MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			for i := range ms {
				ms[i].WallS = 0
			}
			runs[k], sums[k] = ms, s
		}
		// 400 pairs / 32 = 12 steps per epoch, evaluations at 0, 6, 12, 18, 24
		if len(runs[0]) != 5 || !sums[0].Complete || sums[0].Steps != 24 || runs[0][2].Epoch != 1 {
			t.Fatalf("%s: %d evaluations, complete %v, %d steps", loss, len(runs[0]), sums[0].Complete, sums[0].Steps)
		}
		for i := range runs[0] {
			a, b := runs[0][i].values(), runs[1][i].values()
			for j := range a {
				if a[j] != b[j] && !(math.IsNaN(a[j]) && math.IsNaN(b[j])) {
					t.Errorf("%s evaluation %d differs:\n%+v\n%+v", loss, i, runs[0][i], runs[1][i])
					break
				}
			}
		}
		first, last := runs[0][0], runs[0][len(runs[0])-1]
		if math.Abs(first.Margin) > 1e-3 || math.Abs(first.KL) > 1e-6 || !(last.Margin > first.Margin+0.1) || !(last.TrainAcc > 0.6) {
			t.Errorf("%s: margin %v → %v, KL %v → %v, train accuracy %v", loss, first.Margin, last.Margin, first.KL, last.KL, last.TrainAcc)
		}
		for _, m := range []DPOMetrics{first, last} {
			if sum := m.MassChosen + m.MassRejected + m.MassBoth + m.MassOffData; math.Abs(sum-1) > 1e-7 || !(m.MassOffData > 0) {
				t.Errorf("%s step %d: masses %+v", loss, m.Step, m)
			}
		}
		if loss == LossDPO {
			// exact π(L) against the sampled in-language fraction (64 samples: standard error ≤ 0.0625)
			if sums[0].FinalMassLanguage == nil || math.Abs(first.MassLanguage-first.InLanguage) > 0.15 ||
				!(last.MassOffDataInLang >= 0) || !(first.GoldExact > -1) {
				t.Errorf("exact mass: summary %v, first %+v", sums[0].FinalMassLanguage, first)
			}
		} else if sums[0].FinalMassLanguage != nil || !math.IsNaN(last.MassLanguage) {
			t.Errorf("mass_every −1 computed the language mass")
		}
	}
}

// TestDPOInterruptKeepsTheRun: a run cancelled at its second evaluation returns the error and
// still leaves both rows in metrics.csv and a summary.json marked incomplete.
func TestDPOInterruptKeepsTheRun(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, dir)
	prefs := DefaultPrepareConfig(7).RM
	prefs.Pairs, prefs.TestPairs, prefs.Epochs = 400, 100, 5
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := tinyDPO(LossDPO)
	cfg.MassEvery = -1
	run := filepath.Join(dir, "dpo")
	evals := 0
	_, err := RunDPO(ctx, p.Env, prefs, cfg, run, func(DPOMetrics) {
		if evals++; evals == 2 {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled run returned no error")
	}
	ms, rerr := ReadDPOMetrics(filepath.Join(run, MetricsFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	s, serr := ReadDPOSummary(filepath.Join(run, SummaryFile))
	if serr != nil {
		t.Fatal(serr)
	}
	if len(ms) != 2 || s.Evals != 2 || s.Complete {
		t.Errorf("after the interrupt: %d metrics rows, summary evaluations %d complete %v; want 2, 2, false", len(ms), s.Evals, s.Complete)
	}
}

// TestDPOGridResume: a grid run again with Resume keeps its finished runs (their files are not
// rewritten) and trains only what changed (an arm with another β).
func TestDPOGridResume(t *testing.T) {
	dir := t.TempDir()
	p := tinyPrepare(t, filepath.Join(dir, "prep"))
	prefs := DefaultPrepareConfig(7).RM
	prefs.Pairs, prefs.TestPairs, prefs.Epochs = 400, 100, 5
	cfg := DPOGridConfig{Seeds: []uint64{7}, Arms: []DPOArm{{LossDPO, 0.2, LogpSum}, {LossIPO, 0.5, LogpMean}}, DPO: tinyDPO(LossDPO), Parallel: 2}
	cfg.DPO.Epochs, cfg.DPO.MassEvery = 1, -1
	seedEnv := func(uint64) (GridSeed, error) { return GridSeed{Env: p.Env, Prefs: prefs}, nil }
	first, err := RunDPOGrid(context.Background(), cfg, dir, DPOGridOptions{SeedEnv: seedEnv})
	if err != nil {
		t.Fatal(err)
	}
	stat := func(rel string) os.FileInfo {
		fi, err := os.Stat(filepath.Join(dir, rel, MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	before := stat(first[0].Dir)
	cfg.Arms[1].Beta = 0.6
	var told []string
	again, err := RunDPOGrid(context.Background(), cfg, dir, DPOGridOptions{SeedEnv: seedEnv, Resume: true,
		OnRun: func(r DPOGridRun) { told = append(told, r.Dir) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 2 || len(told) != 2 || again[0].Summary.FinalKL != first[0].Summary.FinalKL || again[1].Dir != filepath.Join("seed-7", "ipo-beta-0.6") {
		t.Fatalf("resumed: %+v (told %v)", again, told)
	}
	if after := stat(first[0].Dir); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a finished run was trained again")
	}
	if _, err := os.Stat(filepath.Join(dir, "seed-7", "ipo-beta-0.6", SummaryFile)); err != nil {
		t.Error("the changed arm was not trained:", err)
	}
	// Another learning rate is another run: trained again in the same directory.
	cfg.DPO.LR *= 2
	third, err := RunDPOGrid(context.Background(), cfg, dir, DPOGridOptions{SeedEnv: seedEnv, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if third[0].Summary.FinalKL == first[0].Summary.FinalKL {
		t.Error("a run with another learning rate was kept")
	}
}
