package ppo

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"klppo/kl"
	"klppo/nn"
	"klppo/policy"

	"gorgonia.org/tensor"
)

// testBatch is a random batch of n samples for the discrete test actor-critic.
func testBatch(ac *policy.ActorCritic, n int, seed uint64) *Batch {
	rng := rand.New(rand.NewPCG(seed, 9))
	c := makeCase(ac, n, 0.05, 0, rng)
	b := &Batch{N: n, Obs: c.obs, Actions: c.act, Dist: c.oldDist, LogProbs: c.oldLogP, Advantages: c.adv}
	for i := 0; i < n; i++ {
		b.Returns = append(b.Returns, rng.NormFloat64())
		b.Values = append(b.Values, 0.1*rng.NormFloat64())
		b.Weights = append(b.Weights, 1/float64(n))
	}
	return b
}

func testLearnerConfig() LearnerConfig {
	return LearnerConfig{Penalty: Penalty{Kind: PenaltyClip, Value: 0.2}, Epochs: 3, MinibatchSize: 4,
		NormAdv: AdvNormMinibatch, Critic: true, VFCoef: 0.5, MaxGradNorm: 0.5, GradClip: GradClipJoint, SingleThreaded: true}
}

func params(ac *policy.ActorCritic) []float64 {
	var out []float64
	for _, p := range append(ac.PolicyParams(), ac.ValueParams()...) {
		out = append(out, p.Data().([]float64)...)
	}
	return out
}

// TestLearnerMinibatchCount: a batch of N samples gives max(1, ⌊N/B⌋) steps per epoch; a batch
// smaller than one minibatch is cycled to fill it (one step per epoch, not zero).
func TestLearnerMinibatchCount(t *testing.T) {
	for _, tc := range []struct{ n, wantSteps int }{{13, 9}, {12, 9}, {3, 3}, {1, 3}} {
		ac := newTestAC(t, true)
		l, err := NewLearner(ac, testLearnerConfig())
		if err != nil {
			t.Fatal(err)
		}
		before := params(ac)
		st, err := l.Learn(context.Background(), testBatch(ac, tc.n, 1), 1e-3, 0, 0, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Steps != tc.wantSteps || st.Epochs != 3 || st.Stopped {
			t.Errorf("N = %d: %d steps in %d epochs (stopped %v), want %d in 3", tc.n, st.Steps, st.Epochs, st.Stopped, tc.wantSteps)
		}
		moved := false
		for i, p := range params(ac) {
			moved = moved || p != before[i]
		}
		if !moved {
			t.Errorf("N = %d: no parameter moved", tc.n)
		}
	}
}

// TestLearnerWeightedMeanEqualsMean: weights 1/N make the weighted loss the plain mean (the
// learner scales a minibatch's weights by N/B), so one update lands on the same parameters up
// to rounding.
func TestLearnerWeightedMeanEqualsMean(t *testing.T) {
	var got [2][]float64
	for k, weighted := range []bool{false, true} {
		ac := newTestAC(t, true)
		cfg := testLearnerConfig()
		cfg.Weighted = weighted
		l, err := NewLearner(ac, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Learn(context.Background(), testBatch(ac, 12, 2), 1e-2, 0, 0, rand.New(rand.NewPCG(3, 4))); err != nil {
			t.Fatal(err)
		}
		got[k] = params(ac)
	}
	for i := range got[0] {
		if math.Abs(got[0][i]-got[1][i]) > 1e-12 {
			t.Fatalf("parameter %d: mean %v, weighted %v", i, got[0][i], got[1][i])
		}
	}
	// And weights that are not uniform do change the update.
	ac := newTestAC(t, true)
	cfg := testLearnerConfig()
	cfg.Weighted = true
	l, err := NewLearner(ac, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := testBatch(ac, 12, 2)
	for i := range b.Weights {
		b.Weights[i] = float64(i%3) / 12
	}
	if _, err := l.Learn(context.Background(), b, 1e-2, 0, 0, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	same := true
	for i, p := range params(ac) {
		same = same && math.Abs(p-got[0][i]) < 1e-12
	}
	if same {
		t.Error("non-uniform weights gave the update of the plain mean")
	}
}

// TestLearnerClipModes: joint clipping scales both networks' gradients by one factor from
// their common norm; separate clipping scales each network to max_grad_norm on its own.
func TestLearnerClipModes(t *testing.T) {
	mk := func(vals ...float64) []*tensor.Dense {
		return []*tensor.Dense{tensor.New(tensor.WithShape(len(vals)), tensor.WithBacking(append([]float64(nil), vals...)))}
	}
	norm := func(g []*tensor.Dense) float64 {
		s, _ := nn.SumSquares(0, g)
		return math.Sqrt(s)
	}
	for _, mode := range []GradClip{GradClipJoint, GradClipSeparate} {
		ac := newTestAC(t, true)
		cfg := testLearnerConfig()
		cfg.GradClip, cfg.MaxGradNorm = mode, 1
		l, err := NewLearner(ac, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Replace the optimisers by ones over the fake gradients' shapes, learning rate 0.
		g := gradients{policy: mk(3, 4), value: mk(0.6, 0.8)} // norms 5 and 1
		if l.policyAdam, err = nn.NewAdam(mk(0, 0), nn.AdamConfig{}); err != nil {
			t.Fatal(err)
		}
		if l.valueAdam, err = nn.NewAdam(mk(0, 0), nn.AdamConfig{}); err != nil {
			t.Fatal(err)
		}
		g.policySumSq, g.valueSumSq = 25, 1
		if err := l.clipAndStep(0, g); err != nil {
			t.Fatal(err)
		}
		pn, vn := norm(g.policy), norm(g.value)
		var wantP, wantV float64
		// nn.ClipScale's factor is max_norm/(norm + 1e-6), as torch's clip_grad_norm_.
		if mode == GradClipJoint {
			s := 1 / (math.Sqrt(26) + 1e-6)
			wantP, wantV = 5*s, s
		} else {
			wantP, wantV = 5/(5+1e-6), 1/(1+1e-6)
		}
		if math.Abs(pn-wantP) > 1e-12 || math.Abs(vn-wantV) > 1e-12 {
			t.Errorf("%s: norms after clipping %v, %v; want %v, %v", mode, pn, vn, wantP, wantV)
		}
	}
}

// TestLearnerRefusesBadInput: the config and the batch are checked, naming what is wrong.
func TestLearnerRefusesBadInput(t *testing.T) {
	ac := newTestAC(t, true)
	for _, tc := range []struct {
		mod  func(*LearnerConfig)
		want string
	}{
		{func(c *LearnerConfig) { c.Epochs = 0 }, "epochs"},
		{func(c *LearnerConfig) { c.MinibatchSize = 0 }, "minibatch"},
		{func(c *LearnerConfig) { c.NormAdv = "global" }, "advantage normalisation"},
		{func(c *LearnerConfig) { c.GradClip = "" }, "grad clip"},
		{func(c *LearnerConfig) { c.MaxGradNorm = math.NaN() }, "max_grad_norm"},
		{func(c *LearnerConfig) { c.KLRef = KLRef{Estimator: kl.Estimator(9), In: KLInLoss} }, "Estimator(9)"},
	} {
		cfg := testLearnerConfig()
		tc.mod(&cfg)
		if _, err := NewLearner(ac, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config error %v, want one naming %q", err, tc.want)
		}
	}
	cfg := testLearnerConfig()
	cfg.KLRef = KLRef{Estimator: kl.K3, In: KLInLoss, Beta: 0.1}
	l, err := NewLearner(ac, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := testBatch(ac, 8, 1)
	if _, err := l.Learn(context.Background(), b, 1e-3, 0, 0.1, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "ref_logits") {
		t.Errorf("batch without reference logits: %v", err)
	}
	b.RefLogits = append([]float64(nil), b.Dist...)
	b.Returns = b.Returns[:3]
	if _, err := l.Learn(context.Background(), b, 1e-3, 0, 0.1, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "returns") {
		t.Errorf("short returns: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = testBatch(ac, 8, 1)
	b.RefLogits = append([]float64(nil), b.Dist...)
	if _, err := l.Learn(ctx, b, 1e-3, 0, 0.1, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestLearnerSequenceLevelSingletonsEqualTokens: a sequence-level learner over sequences of one
// sample each (an identity segment matrix, minibatches packed from the same shuffle) takes the
// same steps as the token-level weighted learner, bit for bit.
func TestLearnerSequenceLevelSingletonsEqualTokens(t *testing.T) {
	var got [2][]float64
	for k, seq := range []bool{false, true} {
		ac := newTestAC(t, true)
		cfg := testLearnerConfig()
		cfg.Critic, cfg.NormAdv, cfg.Weighted, cfg.SequenceLevel = false, AdvNormNone, true, seq
		l, err := NewLearner(ac, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b := testBatch(ac, 12, 5)
		for i := 0; i <= b.N; i++ {
			b.Starts = append(b.Starts, i)
		}
		st, err := l.Learn(context.Background(), b, 1e-2, 0, 0, rand.New(rand.NewPCG(3, 4)))
		if err != nil {
			t.Fatal(err)
		}
		if st.Steps != 9 {
			t.Fatalf("sequence-level %v: %d steps, want 3 epochs × 3", seq, st.Steps)
		}
		got[k] = params(ac)
	}
	for i := range got[0] {
		if got[0][i] != got[1][i] {
			t.Fatalf("parameter %d: token-level %v, sequence-level %v", i, got[0][i], got[1][i])
		}
	}
}

// TestLearnerPacksWholeSequences: sequences are packed in the shuffled order into minibatches of
// at most MinibatchSize samples, never split; every sequence is in exactly one minibatch of an
// epoch; padding rows have weight 0 and each sequence's rows share one segment.
func TestLearnerPacksWholeSequences(t *testing.T) {
	ac := newTestAC(t, true)
	cfg := testLearnerConfig()
	cfg.Critic, cfg.NormAdv, cfg.Weighted, cfg.SequenceLevel, cfg.MinibatchSize = false, AdvNormNone, true, true, 5
	l, err := NewLearner(ac, cfg)
	if err != nil {
		t.Fatal(err)
	}
	lengths := []int{3, 2, 4, 1, 5, 2}
	b := testBatch(ac, 17, 6)
	b.Starts = []int{0}
	for _, n := range lengths {
		b.Starts = append(b.Starts, b.Starts[len(b.Starts)-1]+n)
	}
	l.order = []int{2, 0, 1, 4, 3, 5} // lengths 4, 3, 2, 5, 1, 2
	l.pack(b)
	want := [][2]int{{0, 1}, {1, 3}, {3, 4}, {4, 6}} // [4] [3 2] [5] [1 2]
	if len(l.packs) != len(want) {
		t.Fatalf("packs %v, want %v", l.packs, want)
	}
	for i := range want {
		if l.packs[i] != want[i] {
			t.Fatalf("packs %v, want %v", l.packs, want)
		}
	}
	// The second minibatch: sequences 0 (rows 0–2) and 1 (rows 3–4), 2 sequences of 6.
	l.gatherSequences(b, b.Advantages, l.order[1:3], 6.0/2)
	B := cfg.MinibatchSize
	if l.mb.used != 5 {
		t.Fatalf("used rows %d, want 5", l.mb.used)
	}
	for i := 0; i < B; i++ {
		for j := 0; j < B; j++ {
			same := (i < 3) == (j < 3)
			if w := l.mb.segments[i*B+j]; w != map[bool]float64{true: 1, false: 0}[same] {
				t.Fatalf("segment[%d][%d] = %v", i, j, w)
			}
		}
		if want := b.Weights[i] * 3; math.Abs(l.mb.weights[i]-want) > 1e-15 {
			t.Fatalf("row %d weight %v, want %v", i, l.mb.weights[i], want)
		}
	}
	// The first minibatch holds one sequence of 4 and one padding row of weight 0 and no segment.
	l.gatherSequences(b, b.Advantages, l.order[0:1], 6)
	if l.mb.used != 4 || l.mb.weights[4] != 0 || l.mb.segments[4*B+4] != 0 || l.mb.segments[3*B+3] != 1 {
		t.Fatalf("padding: used %d, weight %v, segment %v", l.mb.used, l.mb.weights[4], l.mb.segments[4*B+4])
	}
	st, err := l.Learn(context.Background(), b, 1e-3, 0, 0, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	// 17 samples in minibatches of 5 need at least 4 steps per epoch; 6 sequences at most 6.
	if st.Steps < 3*4 || st.Steps > 3*6 || st.Epochs != 3 {
		t.Errorf("%d steps in %d epochs", st.Steps, st.Epochs)
	}
}

// TestLearnerSequenceLevelRefusals: a sequence-level learner needs weights, has no critic and no
// per-minibatch normalisation; its batch needs valid starts and sequences that fit a minibatch.
func TestLearnerSequenceLevelRefusals(t *testing.T) {
	ac := newTestAC(t, true)
	base := testLearnerConfig()
	base.Critic, base.NormAdv, base.Weighted, base.SequenceLevel = false, AdvNormNone, true, true
	for _, tc := range []struct {
		mod  func(*LearnerConfig)
		want string
	}{
		{func(c *LearnerConfig) { c.Weighted = false }, "weights"},
		{func(c *LearnerConfig) { c.Critic = true }, "critic"},
		{func(c *LearnerConfig) { c.NormAdv = AdvNormMinibatch }, "padded"},
	} {
		cfg := base
		tc.mod(&cfg)
		if _, err := NewLearner(ac, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config error %v, want one naming %q", err, tc.want)
		}
	}
	l, err := NewLearner(ac, base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		starts []int
		want   string
	}{
		{nil, "starts"}, {[]int{0, 4, 6}, "starts"}, {[]int{1, 4, 8}, "starts"}, {[]int{0, 4, 4, 8}, "sequence 1 has 0"},
		{[]int{0, 1, 8}, "sequence 1 has 7"},
	} {
		b := testBatch(ac, 8, 1)
		b.Starts = tc.starts
		if _, err := l.Learn(context.Background(), b, 1e-3, 0, 0, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("starts %v: %v, want an error naming %q", tc.starts, err, tc.want)
		}
	}
}
