package rlhf

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// emptyDir fails the test when dir holds anything.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		t.Errorf("%s holds %s after a refused run", dir, e.Name())
	}
}

// TestDPOConfigBounds: every size of a DPO run is bounded above (they had only lower bounds),
// the error names the field and the value, and RunDPO and the drift refuse before writing.
func TestDPOConfigBounds(t *testing.T) {
	for _, c := range []struct {
		field string
		value int
		edit  func(*DPOConfig)
	}{
		{"dpo.batch", MaxPairs + 1, func(c *DPOConfig) { c.Batch = MaxPairs + 1 }},
		{"dpo.eval_samples", MaxBatch + 1, func(c *DPOConfig) { c.EvalSamples = MaxBatch + 1 }},
		{"dpo.ref_samples", MaxRefSamples + 1, func(c *DPOConfig) { c.RefSamples = MaxRefSamples + 1 }},
		{"dpo.epochs", MaxTrainEpoch + 1, func(c *DPOConfig) { c.Epochs = MaxTrainEpoch + 1 }},
		{"dpo.evals_per_epoch", MaxUpdates + 1, func(c *DPOConfig) { c.EvalsPerEpoch = MaxUpdates + 1 }},
		{"dpo.evals_per_epoch", MaxUpdates/2 + 1, func(c *DPOConfig) { c.Epochs, c.EvalsPerEpoch = 2, MaxUpdates/2+1 }},
	} {
		cfg := DefaultDPOConfig(LossDPO, 0.1, 1)
		c.edit(&cfg)
		err := cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), fmt.Sprintf("%s = %d", c.field, c.value)) {
			t.Errorf("%s = %d: %v, want a ConfigError naming the field and the value", c.field, c.value, err)
		}
		dir := t.TempDir()
		if _, err := RunDPO(context.Background(), Env{}, DefaultRMConfig(1), cfg, dir, nil); !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("RunDPO with %s = %d: %v", c.field, c.value, err)
		}
		emptyDir(t, dir)
		d := DefaultDriftConfig()
		d.DPO = cfg
		if _, _, err := Drift(context.Background(), d, dir, nil, DPOGridOptions{}); !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("Drift with %s = %d: %v", c.field, c.value, err)
		}
		emptyDir(t, dir)
	}
	d := DefaultDriftConfig()
	d.Parallel = MaxParallel + 1
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("parallel = %d", MaxParallel+1)) {
		t.Errorf("parallel %d: %v", MaxParallel+1, err)
	}
}

// TestDPOMemoryIsCheckedBeforeWriting: a DPO run, a drift or a grid whose estimate exceeds the
// memory the process may use (GOMEMLIMIT of 2 GiB here) is refused before anything is written,
// naming the size that costs most; the defaults fit.
func TestDPOMemoryIsCheckedBeforeWriting(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(2 << 30))
	g, gold := reviews(t)
	m := DefaultModelConfig(g.V())
	ref, err := NewModel(rand.New(rand.NewPCG(1, 2)), m)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{G: g, Gold: gold, Ref: ref}
	prefs := DefaultRMConfig(1)
	if err := DefaultDPOConfig(LossDPO, 0.1, 1).CheckMemory(m, prefs); err != nil {
		t.Errorf("default DPO: %v", err)
	}
	if err := DefaultDriftConfig().CheckMemory(); err != nil {
		t.Errorf("default drift: %v", err)
	}
	for _, c := range []struct {
		field string
		edit  func(*DPOConfig, *RMConfig)
	}{
		{"rm.pairs", func(c *DPOConfig, p *RMConfig) { p.Pairs = 2_000_000 }},
		{"dpo.batch", func(c *DPOConfig, p *RMConfig) { c.Batch, p.Pairs = 20_000, 20_000 }},
		{"dpo.eval_samples", func(c *DPOConfig, p *RMConfig) { c.EvalSamples = MaxBatch }},
	} {
		cfg := DefaultDPOConfig(LossDPO, 0.1, 1)
		p := prefs
		c.edit(&cfg, &p)
		if err := errors.Join(cfg.Validate(), p.Validate()); err != nil {
			t.Fatalf("%s: %v (the case must pass the bounds)", c.field, err)
		}
		var ce *ConfigError
		dir := t.TempDir()
		_, err := RunDPO(context.Background(), env, p, cfg, dir, nil)
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), "GOMEMLIMIT") {
			t.Errorf("%s: %v, want a ConfigError naming it and the limit", c.field, err)
		}
		emptyDir(t, dir)
		d := DefaultDriftConfig()
		d.DPO, d.Prepare.RM.Pairs = cfg, p.Pairs
		if _, _, err := Drift(context.Background(), d, dir, nil, DPOGridOptions{}); !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("drift, %s: %v", c.field, err)
		}
		emptyDir(t, dir)
	}
	// Parallel runs at once: each fits, 200 of them do not.
	d := DefaultDriftConfig()
	d.Parallel = 200
	d.Arms = nil
	for i := range 200 {
		d.Arms = append(d.Arms, DPOArm{LossDPO, 0.01 * float64(i+1), LogpSum})
	}
	var ce *ConfigError
	if err := d.CheckMemory(); !errors.As(err, &ce) || ce.Field != "parallel" {
		t.Errorf("200 runs at once: %v", err)
	}
}

// TestDPOMemoryEstimateCoversTheData: the estimate grows with each size it depends on, and its
// part for the pairs is at least what the indexed pairs of a real run hold (the scorer's
// observations, log-softmax, terms; the sequences; π_ref's log-probabilities).
func TestDPOMemoryEstimateCoversTheData(t *testing.T) {
	g, gold := reviews(t)
	m := DefaultModelConfig(g.V())
	ref, err := NewModel(rand.New(rand.NewPCG(1, 2)), m)
	if err != nil {
		t.Fatal(err)
	}
	cfg, prefs := DefaultDPOConfig(LossDPO, 0.1, 1), DefaultRMConfig(1)
	prefs.Pairs, prefs.TestPairs = 400, 100
	train, test, err := SamplePairs(context.Background(), ref, Labeler{Gold: gold, Temperature: prefs.Temperature}, prefs)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newPrefData(context.Background(), ref, g, gold, train, test)
	if err != nil {
		t.Fatal(err)
	}
	s := d.scorer
	live := int64(len(s.obs)+len(s.lsm)+len(d.refLogp)+len(s.start))*8 + int64(len(s.node)+len(s.tok))*4
	for _, x := range d.seqs {
		live += int64(len(x))*8 + 24
	}
	parts := cfg.dpoParts(m, prefs)
	if parts[0].field != "rm.pairs" || parts[0].bytes < live {
		t.Errorf("the pairs' part %s: %d bytes, below the %d the indexed pairs hold", parts[0].field, parts[0].bytes, live)
	}
	base := cfg.MemoryEstimate(m, prefs)
	for name, edit := range map[string]func(*DPOConfig, *RMConfig){
		"pairs":        func(c *DPOConfig, p *RMConfig) { p.Pairs *= 2 },
		"test_pairs":   func(c *DPOConfig, p *RMConfig) { p.TestPairs *= 2 },
		"batch":        func(c *DPOConfig, p *RMConfig) { c.Batch *= 2 },
		"eval_samples": func(c *DPOConfig, p *RMConfig) { c.EvalSamples *= 2 },
		"ref_samples":  func(c *DPOConfig, p *RMConfig) { c.RefSamples *= 2 },
		"epochs":       func(c *DPOConfig, p *RMConfig) { c.Epochs *= 2 },
	} {
		c, p := cfg, prefs
		edit(&c, &p)
		if e := c.MemoryEstimate(m, p); e <= base {
			t.Errorf("doubling %s: estimate %d, not above %d", name, e, base)
		}
	}
}

// TestDPOSetupLoopsLookAtTheContext: the loops that prepare a DPO run (indexing the pairs,
// their flags and gold order, the scorer's trie and observations, π's log-probabilities, the
// exact language mass) stop with the context's error at their first item, and run through
// without a cancel.
func TestDPOSetupLoopsLookAtTheContext(t *testing.T) {
	g, gold := reviews(t)
	m := DefaultModelConfig(g.V())
	ref, err := NewModel(rand.New(rand.NewPCG(1, 2)), m)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	pairs := make([]Pair, 300)
	for i := range pairs {
		pairs[i] = Pair{Chosen: g.Sample(r), Rejected: g.Sample(r)}
	}
	d, err := newPrefData(context.Background(), ref, g, gold, pairs[:250], pairs[250:])
	if err != nil {
		t.Fatal(err)
	}
	n, nodes := len(d.seqs), d.scorer.nodes
	for _, c := range []struct {
		name string
		want *regexp.Regexp
		run  func(ctx context.Context) error
	}{
		{"newPrefData", regexp.MustCompile(`^rlhf: dpo: indexing the training pairs \(pair 1 of 250\)`), func(ctx context.Context) error {
			_, err := newPrefData(ctx, ref, g, gold, pairs[:250], pairs[250:])
			return err
		}},
		{"finish", regexp.MustCompile(fmt.Sprintf(`^rlhf: dpo: the language's sequences \(sequence 1 of %d\)`, n)), func(ctx context.Context) error {
			dd := &prefData{seqs: d.seqs, train: d.train, test: d.test}
			return dd.finish(ctx, ref, g, gold)
		}},
		{"NewSequenceScorer", regexp.MustCompile(fmt.Sprintf(`^rlhf: sequence scorer: building the trie \(sequence 1 of %d\)`, n)), func(ctx context.Context) error {
			_, err := NewSequenceScorer(ctx, m, d.seqs)
			return err
		}},
		{"LogProbs", regexp.MustCompile(fmt.Sprintf(`^rlhf: sequence log-probabilities \(node 1 of %d\)`, nodes)), func(ctx context.Context) error {
			_, err := d.scorer.LogProbs(ctx, ref)
			return err
		}},
		{"ExactLanguageMass", regexp.MustCompile(`^rlhf: language mass \(prefix 1 of 1 of length 0\)`), func(ctx context.Context) error {
			_, err := ExactLanguageMass(ctx, g, ref, gold.Score)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(cancelled())
			if !errors.Is(err, context.Canceled) || !c.want.MatchString(err.Error()) {
				t.Errorf("cancelled: %v; want context.Canceled after %q", err, c.want)
			}
			if err := c.run(context.Background()); err != nil {
				t.Errorf("not cancelled: %v", err)
			}
		})
	}
}
