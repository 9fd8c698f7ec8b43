package rlhf

import (
	"context"
	"fmt"
	"math/rand/v2"

	"klppo/internal/rng"
	"klppo/kl"
	"klppo/nn"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// RewardModel is the learned proxy reward r_φ(x): a linear function of the bag of words,
//
//	r_φ(x) = Σ_w φ_w · count_w(x) + b,
//
// (an nn.MLP with no hidden layer over the V word counts). It is trained on preference pairs
// with the Bradley–Terry loss. It cannot see word order, so it cannot tell "not good" from
// "good", nor a grammatical review from a string of adjectives — and it only ever saw π_ref's
// text, where more praise always came in grammatical form. A policy optimised against it
// without a leash finds out.
type RewardModel struct {
	Net *nn.MLP
	V   int
}

// NewRewardModel returns a reward model with weights drawn from rng (orthogonal, gain 1) and zero bias.
func NewRewardModel(rng *rand.Rand, v int) (*RewardModel, error) {
	net, err := nn.NewMLP(rng, nn.MLPConfig{Name: "rm", In: v, Out: 1, Dtype: tensor.Float64})
	if err != nil {
		return nil, fmt.Errorf("rlhf: reward model: %w", err)
	}
	return &RewardModel{Net: net, V: v}, nil
}

// Features writes the bag-of-words counts of x into dst (len V).
func (rm *RewardModel) Features(dst []float64, x []int) {
	clear(dst)
	for _, t := range x {
		if t >= 0 && t < rm.V {
			dst[t]++
		}
	}
}

// Scores returns r_φ(x) for every sequence. It only reads the weights, so several goroutines
// may score at once (while nothing trains the model).
func (rm *RewardModel) Scores(xs [][]int) ([]float64, error) {
	var ws nn.Workspace
	if len(xs) == 0 {
		return nil, nil
	}
	f := make([]float64, len(xs)*rm.V)
	for i, x := range xs {
		rm.Features(f[i*rm.V:(i+1)*rm.V], x)
	}
	out, err := rm.Net.Forward(&ws, f, len(xs))
	if err != nil {
		return nil, fmt.Errorf("rlhf: reward model: %w", err)
	}
	return append([]float64(nil), out...), nil
}

// Pair is one labelled comparison: Chosen was preferred to Rejected.
type Pair struct {
	Chosen, Rejected []int
}

// Labeler is a Bradley–Terry labeler on the gold reward: shown a and b it prefers a with
//
//	P(a ≻ b) = σ((gold(a) − gold(b)) / Temperature),
//
// so Temperature is the label noise (large: a coin flip). Temperature 0 is the limit τ → 0:
// deterministic preferences by the gold order, P(a ≻ b) = 1 if gold(a) > gold(b), 0 if
// gold(a) < gold(b), and ½ (a fair coin) on a tie.
type Labeler struct {
	Gold        *Gold
	Temperature float64
}

// Prob returns P(a ≻ b).
func (l Labeler) Prob(a, b []int) float64 {
	d := l.Gold.Score(a) - l.Gold.Score(b)
	if l.Temperature == 0 {
		switch {
		case d > 0:
			return 1
		case d < 0:
			return 0
		}
		return 0.5
	}
	return kl.Sigmoid(d / l.Temperature)
}

// Label returns the pair (a, b) ordered by one draw of the labeler (one rng.Float64, whatever
// the temperature).
func (l Labeler) Label(rng *rand.Rand, a, b []int) Pair {
	if rng.Float64() < l.Prob(a, b) {
		return Pair{Chosen: a, Rejected: b}
	}
	return Pair{Chosen: b, Rejected: a}
}

// BTLoss is the Bradley–Terry negative log-likelihood of the pairs under rm,
//
//	L(φ) = mean over pairs of −ln σ(r_φ(chosen) − r_φ(rejected)) = mean softplus(r_φ(rejected) − r_φ(chosen)).
//
// It stops with ctx's error once ctx is done.
func BTLoss(ctx context.Context, rm *RewardModel, pairs []Pair) (float64, error) {
	var s float64
	for i, p := range pairs {
		if err := interrupted(ctx, i, len(pairs), "rm: Bradley–Terry loss", "pair"); err != nil {
			return 0, err
		}
		r, err := rm.Scores([][]int{p.Chosen, p.Rejected})
		if err != nil {
			return 0, err
		}
		s += kl.Softplus(r[1] - r[0])
	}
	return s / float64(len(pairs)), nil
}

// Accuracy is the fraction of pairs whose chosen text the reward model scores higher. It stops
// with ctx's error once ctx is done.
func Accuracy(ctx context.Context, rm *RewardModel, pairs []Pair) (float64, error) {
	if len(pairs) == 0 {
		return 0, fmt.Errorf("rlhf: accuracy of no pairs")
	}
	ok := 0
	for i, p := range pairs {
		if err := interrupted(ctx, i, len(pairs), "rm: accuracy", "pair"); err != nil {
			return 0, err
		}
		r, err := rm.Scores([][]int{p.Chosen, p.Rejected})
		if err != nil {
			return 0, err
		}
		if r[0] > r[1] {
			ok++
		}
	}
	return float64(ok) / float64(len(pairs)), nil
}

// btGraph is the Bradley–Terry training graph for B pairs, built once.
type btGraph struct {
	g          *G.ExprGraph
	xc, xr     *G.Node
	xcT, xrT   *tensor.Dense
	loss       *G.Node
	lossV      G.Value
	learnables G.Nodes
}

func newBTGraph(rm *RewardModel, B int) (*btGraph, error) {
	g := G.NewGraph()
	b := &btGraph{g: g}
	b.xcT = tensor.New(tensor.WithShape(B, rm.V), tensor.Of(tensor.Float64))
	b.xrT = tensor.New(tensor.WithShape(B, rm.V), tensor.Of(tensor.Float64))
	b.xc = G.NewMatrix(g, tensor.Float64, G.WithShape(B, rm.V), G.WithName("chosen"), G.WithValue(b.xcT))
	b.xr = G.NewMatrix(g, tensor.Float64, G.WithShape(B, rm.V), G.WithName("rejected"), G.WithValue(b.xrT))
	wrap := func(step string, err error) (*btGraph, error) {
		return nil, fmt.Errorf("rlhf: bradley-terry graph: %s: %w", step, err)
	}
	rc, err := rm.Net.Graph(g, b.xc)
	if err != nil {
		return wrap("r(chosen)", err)
	}
	rr, err := rm.Net.Graph(g, b.xr) // the same weight nodes (shared)
	if err != nil {
		return wrap("r(rejected)", err)
	}
	d, err := G.Sub(rr, rc)
	if err != nil {
		return wrap("r(rejected) − r(chosen)", err)
	}
	sp, err := G.Softplus(d)
	if err != nil {
		return wrap("softplus", err)
	}
	if b.loss, err = G.Mean(sp); err != nil {
		return wrap("mean", err)
	}
	G.Read(b.loss, &b.lossV)
	if b.learnables, err = rm.Net.Learnables(g); err != nil {
		return wrap("learnables", err)
	}
	return b, nil
}

func (b *btGraph) set(rm *RewardModel, pairs []Pair) {
	xc, xr := b.xcT.Data().([]float64), b.xrT.Data().([]float64)
	for i, p := range pairs {
		rm.Features(xc[i*rm.V:(i+1)*rm.V], p.Chosen)
		rm.Features(xr[i*rm.V:(i+1)*rm.V], p.Rejected)
	}
}

// RMConfig configures the preference data and the reward model's training.
type RMConfig struct {
	Pairs       int     `json:"pairs"`       // training pairs (two π_ref samples each)
	TestPairs   int     `json:"test_pairs"`  // held-out pairs
	Temperature float64 `json:"label_noise"` // the labeler's Bradley–Terry temperature
	Epochs      int     `json:"epochs"`
	Batch       int     `json:"batch"` // pairs per minibatch
	LR          float64 `json:"lr"`
	Seed        uint64  `json:"seed"`
}

// DefaultRMConfig: 3000 pairs, label temperature 0.1, 30 epochs of 100 pairs, Adam 0.02.
func DefaultRMConfig(seed uint64) RMConfig {
	return RMConfig{Pairs: 3000, TestPairs: 1000, Temperature: 0.1, Epochs: 30, Batch: 100, LR: 0.02, Seed: seed}
}

// RMReport is the reward model's evaluation.
type RMReport struct {
	TrainLoss    float64            `json:"train_loss"`
	TestLoss     float64            `json:"test_loss"`
	TestAccuracy float64            `json:"test_accuracy"` // agreement with the (noisy) held-out labels
	GoldAccuracy float64            `json:"gold_accuracy"` // agreement with the gold order on held-out pairs with distinct gold (0 if none)
	GoldPairs    int                `json:"gold_pairs"`    // how many held-out pairs have distinct gold
	Weights      map[string]float64 `json:"weights"`       // φ_w per word (the model is linear)
	Bias         float64            `json:"bias"`
}

// SamplePairs draws the preference data of cfg: 2·(Pairs + TestPairs) samples of ref, paired in
// order and labelled by lab, split into cfg.Pairs training pairs and cfg.TestPairs held-out
// ones. The same (ref, cfg.Seed, cfg.Pairs, cfg.TestPairs, lab) always gives the same pairs:
// the reward model (TrainRM) and DPO (RunDPO) are trained on exactly these. It stops with ctx's
// error once ctx is done.
func SamplePairs(ctx context.Context, ref *Model, lab Labeler, cfg RMConfig) (train, test []Pair, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if lab.Temperature != cfg.Temperature {
		return nil, nil, bad("rm.label_noise", cfg.Temperature, "the labeler's temperature is %v", lab.Temperature)
	}
	draws := rng.New(cfg.Seed, streamPrefs)
	texts, err := ref.Sample(ctx, draws, 2*(cfg.Pairs+cfg.TestPairs))
	if err != nil {
		return nil, nil, fmt.Errorf("rlhf: preference pairs: sampling π_ref: %w", err)
	}
	pairs := make([]Pair, cfg.Pairs+cfg.TestPairs)
	for i := range pairs {
		if err := interrupted(ctx, i, len(pairs), "preference pairs: labelling", "pair"); err != nil {
			return nil, nil, err
		}
		pairs[i] = lab.Label(draws, texts[2*i], texts[2*i+1])
	}
	return pairs[:cfg.Pairs:cfg.Pairs], pairs[cfg.Pairs:], nil
}

// TrainRM samples preference pairs from ref (SamplePairs), labels them with the labeler and
// trains a reward model on them with the Bradley–Terry loss.
func TrainRM(ctx context.Context, g *Grammar, ref *Model, lab Labeler, cfg RMConfig) (*RewardModel, RMReport, error) {
	var rep RMReport
	if err := cfg.Validate(); err != nil {
		return nil, rep, err
	}
	if err := memCheck(cfg.MemoryEstimate(ref.Cfg), "rm.pairs", cfg.Pairs); err != nil {
		return nil, rep, err
	}
	train, test, err := SamplePairs(ctx, ref, lab, cfg)
	if err != nil {
		return nil, rep, err
	}
	rm, err := NewRewardModel(rng.New(cfg.Seed, streamRMInit), g.V())
	if err != nil {
		return nil, rep, err
	}
	bt, err := newBTGraph(rm, cfg.Batch)
	if err != nil {
		return nil, rep, err
	}
	tr, err := nn.NewTrainer(bt.g, bt.loss, bt.learnables)
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: rm: %w", err)
	}
	defer tr.Close()
	opt, err := nn.NewAdam(tr.Params(), nn.AdamConfig{})
	if err != nil {
		return nil, rep, fmt.Errorf("rlhf: rm: %w", err)
	}
	shuffle := rng.New(cfg.Seed, streamRMShuffle)
	batch := make([]Pair, cfg.Batch)
	for e := 0; e < cfg.Epochs; e++ {
		shuffle.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		for s := 0; s+cfg.Batch <= len(train); s += cfg.Batch {
			if err := ctx.Err(); err != nil {
				return nil, rep, fmt.Errorf("rlhf: rm: %w", err)
			}
			copy(batch, train[s:s+cfg.Batch])
			bt.set(rm, batch)
			grads, err := tr.Run()
			if err != nil {
				return nil, rep, fmt.Errorf("rlhf: rm: epoch %d: %w", e+1, err)
			}
			if err := opt.Step(cfg.LR, grads); err != nil {
				return nil, rep, fmt.Errorf("rlhf: rm: %w", err)
			}
		}
	}
	if rep.TrainLoss, err = BTLoss(ctx, rm, train); err != nil {
		return nil, rep, err
	}
	if rep.TestLoss, err = BTLoss(ctx, rm, test); err != nil {
		return nil, rep, err
	}
	if rep.TestAccuracy, err = Accuracy(ctx, rm, test); err != nil {
		return nil, rep, err
	}
	var distinct []Pair
	for i, p := range test {
		if err := interrupted(ctx, i, len(test), "rm: gold order of the held-out pairs", "pair"); err != nil {
			return nil, rep, err
		}
		gc, gr := lab.Gold.Score(p.Chosen), lab.Gold.Score(p.Rejected)
		switch {
		case gc > gr:
			distinct = append(distinct, p)
		case gr > gc:
			distinct = append(distinct, Pair{Chosen: p.Rejected, Rejected: p.Chosen})
		}
	}
	rep.GoldPairs = len(distinct)
	if len(distinct) > 0 {
		if rep.GoldAccuracy, err = Accuracy(ctx, rm, distinct); err != nil {
			return nil, rep, err
		}
	}
	rep.Weights, rep.Bias = rm.weights(g)
	return rm, rep, nil
}

// weights returns φ per word and b.
func (rm *RewardModel) weights(g *Grammar) (map[string]float64, float64) {
	ps := rm.Net.Params()
	out := make(map[string]float64, rm.V)
	for i := 0; i < rm.V; i++ {
		out[g.Words[i]] = nn.ValueAt(ps[0], i)
	}
	return out, nn.ValueAt(ps[1], 0)
}
