package rlhf

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"klppo/kl"
	"klppo/nn"
)

// tinyGrammar is a 4-word language small enough to enumerate by hand:
//
//	a . | a c . | b . | b c . | .     with P(a)=0.5, P(b)=0.3, P(.)=0.2 first, then P(c)=0.6.
func tinyGrammar(t *testing.T) *Grammar {
	t.Helper()
	g, err := NewGrammar([]string{".", "a", "b", "c"}, [][]Edge{
		{{Word: 1, Prob: 0.5, Next: 1}, {Word: 2, Prob: 0.3, Next: 1}, {Word: End, Prob: 0.2, Next: -1}},
		{{Word: 3, Prob: 0.6, Next: 2}, {Word: End, Prob: 0.4, Next: -1}},
		{{Word: End, Prob: 1, Next: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func reviews(t *testing.T) (*Grammar, *Gold) {
	t.Helper()
	g, err := Reviews()
	if err != nil {
		t.Fatal(err)
	}
	gd, err := NewGold(g)
	if err != nil {
		t.Fatal(err)
	}
	return g, gd
}

func TestGrammarProbabilitiesSumToOne(t *testing.T) {
	g := tinyGrammar(t)
	var sum float64
	var got []string
	g.Enumerate(func(x []int, p float64) {
		sum += p
		got = append(got, g.Text(x))
		if lp := g.LogProb(x); math.Abs(math.Exp(lp)-p) > 1e-15 {
			t.Errorf("%q: LogProb gives %v, enumeration %v", g.Text(x), math.Exp(lp), p)
		}
		if !g.Accepts(x) {
			t.Errorf("%q enumerated but not accepted", g.Text(x))
		}
	})
	if len(got) != 5 || math.Abs(sum-1) > 1e-15 {
		t.Fatalf("tiny grammar: %d sentences %q with total probability %v, want 5 summing to 1", len(got), got, sum)
	}
	// By hand: P(a c .) = 0.5·0.6·1.
	x, err := g.Parse("a c .")
	if err != nil {
		t.Fatal(err)
	}
	if p := math.Exp(g.LogProb(x)); math.Abs(p-0.3) > 1e-15 {
		t.Errorf("P(a c .) = %v, want 0.3", p)
	}
	for _, s := range []string{"a", "c .", "a . a", "a c c ."} {
		x, _ := g.Parse(s)
		if g.Accepts(x) || !math.IsInf(g.LogProb(x), -1) {
			t.Errorf("%q accepted or given probability > 0", s)
		}
	}
	rg, _ := reviews(t)
	n, total := 0, 0.0
	rg.Enumerate(func(x []int, p float64) { n++; total += p })
	if math.Abs(total-1) > 1e-9 {
		t.Errorf("reviews grammar: %d sentences sum to %v", n, total)
	}
}

func TestEntropyMonteCarloMatchesExact(t *testing.T) {
	g := tinyGrammar(t)
	h, meanLen := g.Entropy()
	// By hand: H = H(0.5,0.3,0.2) + 0.8·H(0.6,0.4); E|x| = 1 + 0.8·(1 + 0.6).
	want := -(0.5*math.Log(0.5) + 0.3*math.Log(0.3) + 0.2*math.Log(0.2)) - 0.8*(0.6*math.Log(0.6)+0.4*math.Log(0.4))
	if math.Abs(h-want) > 1e-12 || math.Abs(meanLen-2.28) > 1e-12 {
		t.Fatalf("exact H = %v, E|x| = %v; want %v, 2.28", h, meanLen, want)
	}
	for _, tc := range []struct {
		name string
		g    *Grammar
	}{{"tiny", g}, {"reviews", func() *Grammar { r, _ := reviews(t); return r }()}} {
		h, _ := tc.g.Entropy()
		rng := rand.New(rand.NewPCG(1, 2))
		const n = 20000
		v := make([]float64, n)
		for i := range v {
			v[i] = -tc.g.LogProb(tc.g.Sample(rng))
		}
		m, sd := meanStd(v)
		se := sd / math.Sqrt(n)
		if math.Abs(m-h) > 4*se {
			t.Errorf("%s: Monte Carlo H = %.4f ± %.4f, exact %.4f", tc.name, m, se, h)
		}
	}
}

// TestSFTMeasuresKL trains a small π_ref on the tiny grammar and checks what the SFT report's
// "CE = H(P) + KL(P‖π_ref)" decomposition rests on, against an enumeration of the language:
// the grammar's H(P) (computed by Grammar.Entropy without enumerating) equals −Σ P ln P; the
// exact KL(P‖π_ref) is positive and far below an untrained model's; and both held-out
// estimates of it (CE − H, and the mean of ln P − ln π_ref) agree with the exact value within
// their standard errors.
func TestSFTMeasuresKL(t *testing.T) {
	g := tinyGrammar(t)
	cfg := SFTConfig{Train: 400, Test: 2000, Epochs: 3, Batch: 64, LR: 0.01, Seed: 3,
		Model: ModelConfig{V: g.V(), MaxLen: 4, Hidden: []int{8}, DType: "float64", Act: "tanh"}}
	m, rep, err := TrainSFT(context.Background(), g, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	untrained, err := NewModel(rand.New(rand.NewPCG(9, 9)), cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	var hEnum, klExact, klUntrained float64
	var enumErr error
	g.Enumerate(func(x []int, p float64) {
		lq, err1 := m.LogProb(x)
		lu, err2 := untrained.LogProb(x)
		if err1 != nil || err2 != nil {
			enumErr = errors.Join(err1, err2)
		}
		hEnum -= p * math.Log(p)
		klExact += p * (math.Log(p) - lq)
		klUntrained += p * (math.Log(p) - lu)
	})
	if enumErr != nil {
		t.Fatal(enumErr)
	}
	if h, _ := g.Entropy(); math.Abs(h-hEnum) > 1e-12 || math.Abs(rep.HSentence-hEnum) > 1e-12 {
		t.Fatalf("H(P): Grammar.Entropy %v, report %v, enumeration %v", h, rep.HSentence, hEnum)
	}
	if !(klExact > 0) || !(klExact < 0.5*klUntrained) {
		t.Fatalf("exact KL(P‖π_ref) = %v after SFT, %v untrained: SFT did not learn P", klExact, klUntrained)
	}
	if d := math.Abs(rep.KLSentence - klExact); d > 4*rep.CESentenceSE+1e-3 {
		t.Errorf("held-out CE − H = %v ± %v, exact KL(P‖π_ref) = %v", rep.KLSentence, rep.CESentenceSE, klExact)
	}
	if d := math.Abs(rep.KLDirectSentence - klExact); d > 4*rep.KLDirectSE+1e-3 {
		t.Errorf("held-out direct KL = %v ± %v, exact %v", rep.KLDirectSentence, rep.KLDirectSE, klExact)
	}
	if rep.Epochs[len(rep.Epochs)-1].TestCE >= rep.Epochs[0].TrainCE {
		t.Errorf("no learning: %+v", rep.Epochs)
	}
}

func TestGold(t *testing.T) {
	g, gd := reviews(t)
	for s, want := range map[string]float64{
		"the food was good .":                                             0.6,
		"the food was very good .":                                        1,
		"the food was not bad .":                                          0.3,
		"the food was not very bad .":                                     0.5,
		"the food was ok .":                                               0,
		"the food was good and the staff was rude .":                      0,
		"the food was good but the staff was rude .":                      (0.6 - 1.2) / 3,
		"the food was good and the staff was really lovely .":             0.8,
		"the food was good good .":                                        OutOfLanguage,
		"the food was good":                                               OutOfLanguage,
		"the food was very ok .":                                          OutOfLanguage,
		"the food was good and the room was good and the view was good .": OutOfLanguage,
	} {
		x, err := g.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := gd.Score(x); math.Abs(got-want) > 1e-12 {
			t.Errorf("gold(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestBradleyTerryGradient checks the reward model's training graph gradient against central
// finite differences of BTLoss (plain Go).
func TestBradleyTerryGradient(t *testing.T) {
	g, gd := reviews(t)
	rng := rand.New(rand.NewPCG(5, 6))
	rm, err := NewRewardModel(rng, g.V())
	if err != nil {
		t.Fatal(err)
	}
	lab := Labeler{Gold: gd, Temperature: 0.2}
	pairs := make([]Pair, 8)
	for i := range pairs {
		pairs[i] = lab.Label(rng, g.Sample(rng), g.Sample(rng))
	}
	// Non-zero bias and weights away from the orthogonal init.
	for _, p := range rm.Net.Params() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.3 * rng.NormFloat64()
		}
	}
	bt, err := newBTGraph(rm, len(pairs))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := nn.NewTrainer(bt.g, bt.loss, bt.learnables)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	bt.set(rm, pairs)
	grads, err := tr.Run()
	if err != nil {
		t.Fatal(err)
	}
	graphLoss := nn.ValueAt(bt.lossV, 0)
	plain, err := BTLoss(context.Background(), rm, pairs)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(graphLoss-plain) > 1e-12 {
		t.Fatalf("graph loss %v, plain %v", graphLoss, plain)
	}
	const h = 1e-6
	checked := 0
	for k, p := range rm.Net.Params() {
		d := p.Data().([]float64)
		gd := grads[k].Data().([]float64)
		for i := range d {
			orig := d[i]
			d[i] = orig + h
			lp, _ := BTLoss(context.Background(), rm, pairs)
			d[i] = orig - h
			lm, _ := BTLoss(context.Background(), rm, pairs)
			d[i] = orig
			fd := (lp - lm) / (2 * h)
			if math.Abs(fd-gd[i]) > 1e-7 {
				t.Errorf("param %d[%d]: graph gradient %v, finite difference %v", k, i, gd[i], fd)
			}
			checked++
		}
	}
	if checked != g.V()+1 {
		t.Errorf("checked %d parameters, want %d", checked, g.V()+1)
	}
}

// TestBestOfNAgainstEnumeration compares BoNDistribution with the brute-force distribution of the
// best of n draws (every n-tuple enumerated, ties broken uniformly), and checks the KL bound.
func TestBestOfNAgainstEnumeration(t *testing.T) {
	p := []float64{0.4, 0.1, 0.2, 0.25, 0.05}
	r := []float64{1, 3, 2, 2, 5} // a tie between outcomes 2 and 3
	for n := 1; n <= 4; n++ {
		q, err := BoNDistribution(p, r, n)
		if err != nil {
			t.Fatal(err)
		}
		brute := make([]float64, len(p))
		idx := make([]int, n)
		var rec func(k int, prob float64)
		rec = func(k int, prob float64) {
			if k == n {
				best := math.Inf(-1)
				for _, i := range idx {
					best = math.Max(best, r[i])
				}
				var winners []int
				for _, i := range idx {
					if r[i] == best {
						winners = append(winners, i)
					}
				}
				for _, i := range winners {
					brute[i] += prob / float64(len(winners))
				}
				return
			}
			for i := range p {
				idx[k] = i
				rec(k+1, prob*p[i])
			}
		}
		rec(0, 1)
		for i := range q {
			if math.Abs(q[i]-brute[i]) > 1e-12 {
				t.Errorf("n=%d: π_bon(%d) = %v, enumeration %v", n, i, q[i], brute[i])
			}
		}
		d, err := kl.KL(q, p)
		if err != nil {
			t.Fatal(err)
		}
		if d > BoNBound(n)+1e-12 {
			t.Errorf("n=%d: KL(π_bon‖π) = %v above the bound %v", n, d, BoNBound(n))
		}
	}
	// Without ties and with many outcomes the bound is nearly attained.
	m := 2000
	pu, ru := make([]float64, m), make([]float64, m)
	for i := range pu {
		pu[i], ru[i] = 1/float64(m), float64(i)
	}
	q, err := BoNDistribution(pu, ru, 8)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := kl.KL(q, pu)
	if math.Abs(d-BoNBound(8)) > 5e-3 {
		t.Errorf("uniform over %d outcomes: KL = %v, bound %v", m, d, BoNBound(8))
	}
}
