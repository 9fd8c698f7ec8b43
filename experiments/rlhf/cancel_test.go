package rlhf

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"klppo/policy"
)

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// cancelSoon cancels ctx's cancel after d, on another goroutine.
func cancelSoon(cancel context.CancelFunc, d time.Duration) {
	go func() {
		time.Sleep(d)
		cancel()
	}()
}

// stoppedAt parses the "(item i of n)" of an interrupted loop's error, failing the test when err
// does not match re (whose last two matched groups are i and n) or when i is not below n: a loop
// that ran to its end before it looked at the context did not stop promptly.
func stoppedAt(t *testing.T, err error, re *regexp.Regexp) (i, n int) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	m := re.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error %q does not match %q: not stopped inside the loop", err, re)
	}
	var groups []string
	for _, s := range m[1:] {
		if s != "" {
			groups = append(groups, s)
		}
	}
	i, _ = strconv.Atoi(groups[len(groups)-2])
	n, _ = strconv.Atoi(groups[len(groups)-1])
	if i < 1 || i >= n {
		t.Fatalf("error %q: stopped at item %d of %d, want 1 ≤ item < %d", err, i, n, n)
	}
	return i, n
}

// noStage fails the test when dir holds anything of a stage (a stage Prepare wrote completely
// is one stageWritten accepts; an interrupted stage must not even look begun).
func noStage(t *testing.T, dir string) {
	t.Helper()
	if stageWritten(dir, SFTModelFile) || stageWritten(dir, RMModelFile) {
		t.Errorf("%s looks like a finished stage after the interrupt", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after the interrupt: %v", dir, err)
	}
}

// TestTrainSFTCancelledBeforeTheCall: with a context cancelled before the call, TrainSFT returns
// before it samples its first sentence (it used to sample and build the whole corpus, seconds at
// 60000 sentences, and stop only at the first training step).
func TestTrainSFTCancelledBeforeTheCall(t *testing.T) {
	g, _ := reviews(t)
	cfg := DefaultSFTConfig(g.V(), 1)
	cfg.Train = 60000
	start := time.Now()
	m, _, err := TrainSFT(cancelled(), g, cfg, func(e SFTEpoch) { t.Errorf("epoch %d ran", e.Epoch) })
	t.Logf("returned in %v: %v", time.Since(start), err)
	if !errors.Is(err, context.Canceled) || m != nil {
		t.Fatalf("TrainSFT: model %v, error %v; want none and context.Canceled", m, err)
	}
	if want := "rlhf: sft: sampling the corpus (sentence 1 of 60000): context canceled"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestPrepareCancelledWhileBuildingTheCorpus: a cancel a few milliseconds into Prepare, while the
// SFT corpus of 60000 sentences is sampled and turned into rows (≈ 0.2 s to seconds before the
// first training step, depending on how fast the machine hands out fresh memory), ends Prepare
// inside that loop, and leaves no sft/ (nor rm/) directory that could pass for a finished stage.
func TestPrepareCancelledWhileBuildingTheCorpus(t *testing.T) {
	out := t.TempDir()
	pc := DefaultPrepareConfig(1)
	pc.SFT.Train, pc.SFT.Test = 60000, 200000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelSoon(cancel, 5*time.Millisecond)
	start := time.Now()
	_, err := Prepare(ctx, pc, out, func(s string) { t.Errorf("a stage finished: %s", s) })
	i, n := stoppedAt(t, err, regexp.MustCompile(`^rlhf: sft: (sampling the corpus|sampling the held-out sentences|building the corpus) \(sentence (\d+) of (\d+)\)`))
	t.Logf("stopped at sentence %d of %d, %v after the start: %v", i, n, time.Since(start), err)
	noStage(t, filepath.Join(out, "sft"))
	noStage(t, filepath.Join(out, "rm"))
}

// TestPrepareCancelledWhileSamplingPreferencePairs: a cancel 0.1 s after π_ref is written, while
// the reward model's 2·(200000 + 1000) π_ref samples are drawn (≈ 5 s), ends Prepare inside the
// sampling; sft/ stays a finished stage (a resumed sweep loads it) and there
// is no rm/.
func TestPrepareCancelledWhileSamplingPreferencePairs(t *testing.T) {
	out := t.TempDir()
	pc := DefaultPrepareConfig(1)
	pc.SFT.Train, pc.SFT.Test, pc.SFT.Epochs = 300, 100, 1
	pc.RM.Pairs = 200000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logged []string
	_, err := Prepare(ctx, pc, out, func(s string) {
		logged = append(logged, s)
		if strings.HasPrefix(s, "sft:") {
			cancelSoon(cancel, 100*time.Millisecond)
		}
	})
	if len(logged) != 1 {
		t.Fatalf("stages reported: %q, want only π_ref's", logged)
	}
	i, n := stoppedAt(t, err, regexp.MustCompile(`^rlhf: preference pairs: (sampling π_ref: rlhf: sample: token \d+ \(sequence (\d+) of (\d+)\)|labelling \(pair (\d+) of (\d+)\))`))
	t.Logf("stopped at %d of %d: %v", i, n, err)
	if !stageWritten(filepath.Join(out, "sft"), SFTModelFile) {
		t.Error("sft/ is not a finished stage after an interrupt in the next one")
	}
	noStage(t, filepath.Join(out, "rm"))
}

// TestPreparationLoopsLookAtTheContext: every loop that prepares data or measures a model
// outside the training steps returns ctx's error, saying where it stopped, when ctx is
// cancelled — and, with a live context, runs to its end.
func TestPreparationLoopsLookAtTheContext(t *testing.T) {
	g, gold := reviews(t)
	cfg := DefaultModelConfig(g.V())
	ref, err := NewModel(rand.New(rand.NewPCG(1, 2)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := NewRewardModel(rand.New(rand.NewPCG(3, 4)), g.V())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	sents := make([][]int, 300)
	for i := range sents {
		sents[i] = g.Sample(r)
	}
	pairs := make([]Pair, len(sents)/2)
	for i := range pairs {
		pairs[i] = Pair{Chosen: sents[2*i], Rejected: sents[2*i+1]}
	}
	prompts, err := NewPrompts(g, DefaultHeldOut)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{G: g, Gold: gold, Ref: ref, RM: rm}
	rmc := DefaultRMConfig(1)
	rmc.Pairs, rmc.TestPairs = 200, 50
	rng := func() *rand.Rand { return rand.New(rand.NewPCG(7, 8)) }
	for _, c := range []struct {
		name, want string
		run        func(ctx context.Context) error
	}{
		{"Complete", "rlhf: sample: token 1 (sequence 1 of 1500)", func(ctx context.Context) error {
			_, err := ref.Sample(ctx, rng(), 1500)
			return err
		}},
		{"corpusRows", "rlhf: sft: building the corpus (sentence 1 of 300)", func(ctx context.Context) error {
			_, _, err := corpusRows(ctx, cfg, sents)
			return err
		}},
		{"tokenCE", "rlhf: sft: held-out cross-entropy after epoch 2 (sentence 1 of 300)", func(ctx context.Context) error {
			_, err := tokenCE(ctx, ref, sents, 2)
			return err
		}},
		{"evaluateSFT", "rlhf: sft: evaluating π_ref (held-out sentence 1 of 300)", func(ctx context.Context) error {
			return evaluateSFT(ctx, ref, g, sents, &SFTReport{}, rng())
		}},
		{"SamplePairs", "rlhf: preference pairs: sampling π_ref: rlhf: sample: token 1 (sequence 1 of 500)", func(ctx context.Context) error {
			_, _, err := SamplePairs(ctx, ref, Labeler{Gold: gold, Temperature: rmc.Temperature}, rmc)
			return err
		}},
		{"BTLoss", "rlhf: rm: Bradley–Terry loss (pair 1 of 150)", func(ctx context.Context) error {
			_, err := BTLoss(ctx, rm, pairs)
			return err
		}},
		{"Accuracy", "rlhf: rm: accuracy (pair 1 of 150)", func(ctx context.Context) error {
			_, err := Accuracy(ctx, rm, pairs)
			return err
		}},
		{"bonOnPool", "rlhf: best-of-n: merging the pool (sample 1 of 300)", func(ctx context.Context) error {
			_, err := bonOnPool(ctx, g, gold, rm, sents, []int{1, 4}, []Reward{RewardRM}, 0)
			return err
		}},
		{"BestOfN", "rlhf: best-of-n: sampling the pool (sample 1 of 300)", func(ctx context.Context) error {
			_, err := BestOfN(ctx, g, gold, ref, rm, 300, []int{1, 4}, 1)
			return err
		}},
		{"PromptedBestOfN", "rlhf: best-of-n: prompt 1 of 2", func(ctx context.Context) error {
			_, err := PromptedBestOfN(ctx, env, [][]int{sents[0][:1], sents[1][:1]}, 50, []int{1, 4}, []Reward{RewardRM}, 1, 4, rng())
			return err
		}},
		{"RefStatsOf", "rlhf: π_ref's rewards: rlhf: sample: token 1 (sequence 1 of 300)", func(ctx context.Context) error {
			_, err := RefStatsOf(ctx, g, gold, rm, ref, 300, 1)
			return err
		}},
		{"refRewards", "rlhf: π_ref's rewards: gold scores (sample 1 of 300)", func(ctx context.Context) error {
			_, err := refRewards(ctx, g, gold, rm, sents, make([]int, len(sents)))
			return err
		}},
		{"Prompts.Batch", "rlhf: prompts: drawing held-out prompts (prompt 1 of 300)", func(ctx context.Context) error {
			_, err := prompts.Batch(ctx, rng(), 300, true)
			return err
		}},
		{"Evaluate", "rlhf: evaluation: rlhf: prompts: drawing held-out prompts (prompt 1 of 256)", func(ctx context.Context) error {
			_, err := Evaluate(ctx, ref, g, gold, prompts, DefaultEvalConfig(), 1)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(cancelled())
			if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("cancelled: %v; want context.Canceled after %q", err, c.want)
			}
			if err := c.run(context.Background()); err != nil {
				t.Errorf("not cancelled: %v", err)
			}
		})
	}
}

// TestCompleteChunksChangeNothing: Complete, which advances 1024 sequences per forward pass so
// that it can look at the context between passes, draws exactly the sequences of one pass over
// all of them (the sampler before the chunks, written out here), for prompts and whole reviews,
// in float32 and float64.
func TestCompleteChunksChangeNothing(t *testing.T) {
	g, _ := reviews(t)
	onePass := func(m *Model, r *rand.Rand, prompts [][]int) [][]int {
		seqs := make([][]int, len(prompts))
		for i, p := range prompts {
			seqs[i] = slices.Clone(p)
		}
		actor := policy.NewActor(m.AC)
		D := m.Cfg.ObsDim()
		for {
			var active []int
			for i, x := range seqs {
				if !m.Cfg.Done(x) {
					active = append(active, i)
				}
			}
			if len(active) == 0 {
				return seqs
			}
			obs := make([]float64, len(active)*D)
			for k, i := range active {
				m.Cfg.Obs(obs[k*D:(k+1)*D], seqs[i])
			}
			act, err := actor.Act(obs, len(active), r, false, false)
			if err != nil {
				t.Fatal(err)
			}
			for k, i := range active {
				seqs[i] = append(seqs[i], int(act.Actions[k]))
			}
		}
	}
	n := 2*sampleChunk + 123
	pr := make([][]int, n)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range pr {
		if i%3 != 0 { // every third one a whole review
			x := g.Sample(r)
			pr[i] = x[:r.IntN(len(x))]
		}
	}
	for _, dtype := range []string{"float32", "float64"} {
		cfg := DefaultModelConfig(g.V())
		cfg.DType = dtype
		m, err := NewModel(rand.New(rand.NewPCG(1, 1)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Complete(context.Background(), rand.New(rand.NewPCG(2, 2)), pr)
		if err != nil {
			t.Fatal(err)
		}
		want := onePass(m, rand.New(rand.NewPCG(2, 2)), pr)
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Fatalf("%s: sequence %d: %v, one pass over all %d gives %v", dtype, i, got[i], n, want[i])
			}
		}
		t.Logf("%s: %d sequences as one pass draws them", dtype, n)
	}
}
