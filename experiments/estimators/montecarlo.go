package estimators

import (
	"fmt"
	"math"

	"klppo/experiments"
	"klppo/internal/rng"
	"klppo/kl"
	"klppo/ppo"
)

// ValueStats is the spread, over trials, of one estimator's N-sample mean as an estimate of
// KL(π‖π_ref).
type ValueStats struct {
	Estimator string  // "k1", "k2", "k3"
	Mean      float64 // mean over trials of the N-sample estimate
	SE        float64 // standard error of Mean
	Bias      float64 // Mean − KL(π‖π_ref)
	Std       float64 // standard deviation of the N-sample estimate over trials
	BiasRel   float64 // Bias / KL
	StdRel    float64 // Std / KL
	NegFrac   float64 // fraction of trials whose N-sample estimate is < 0
}

// GradStats is the spread, over trials, of one configuration's N-sample gradient.
type GradStats struct {
	Config   string
	Mean     []float64 // mean over trials of the N-sample gradient
	SE       []float64 // its standard error per component
	MaxZ     float64   // max_i |Mean_i − exact expected gradient_i| / SE_i: small when unbiased for its own expectation
	BiasRel  float64   // ‖Mean − ∇J‖ / ‖∇J‖: the systematic error against the true gradient
	StdRel   float64   // √(E‖g − Mean‖²) / ‖∇J‖: the noise of one N-sample gradient
	Expected []float64 // the configuration's exact expected gradient (Analyse)
}

// MonteCarloResult holds MonteCarlo's measurements.
type MonteCarloResult struct {
	Samples, Trials int
	Values          []ValueStats
	Grads           []GradStats
}

// MonteCarlo draws Trials independent batches of Samples x ~ π and measures each estimator's
// value (mean over the batch) and each configuration's gradient (mean of sampleGrad over the
// batch) against the exact values from ex (Analyse(p); computed here when nil). Seeded: the
// same seed gives the same numbers.
func MonteCarlo(p Problem, ex *Exact, samples, trials int, seed uint64) (*MonteCarloResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if ex == nil {
		var err error
		if ex, err = Analyse(p); err != nil {
			return nil, err
		}
	}
	if samples < 1 || trials < 2 {
		return nil, fmt.Errorf("estimators: monte carlo: samples = %d must be ≥ 1 and trials = %d ≥ 2", samples, trials)
	}
	s, err := newState(p.Logits, p.RefLogits, p.Reward)
	if err != nil {
		return nil, err
	}
	n := len(s.pi)
	ests := []kl.Estimator{kl.K1, kl.K2, kl.K3}
	cfgs := make([]ppo.KLRef, len(Configs))
	for i, name := range Configs {
		if cfgs[i], err = ppo.ParseKLRef(name, p.Beta); err != nil {
			return nil, err
		}
	}
	vals := make([][]float64, len(ests)) // [estimator][trial]
	for i := range vals {
		vals[i] = make([]float64, trials)
	}
	grads := make([][][]float64, len(cfgs)) // [config][component][trial]
	for i := range grads {
		grads[i] = make([][]float64, n)
		for j := range grads[i] {
			grads[i][j] = make([]float64, trials)
		}
	}
	draws := rng.New(seed, 0x6b6c)
	xs := make([]int, samples)
	gx, dRow := make([]float64, n), make([]float64, n)
	for t := range trials {
		for i := range xs {
			xs[i] = sampleIndex(draws, s.pi)
		}
		for ei, e := range ests {
			var sum float64
			for _, x := range xs {
				v, _ := e.RLHF(s.lp[x], s.lr[x])
				sum += v
			}
			vals[ei][t] = sum / float64(samples)
		}
		for ci, c := range cfgs {
			for _, x := range xs {
				if err := s.sampleGrad(c, x, gx, dRow); err != nil {
					return nil, err
				}
				for j := range gx {
					grads[ci][j][t] += gx[j] / float64(samples)
				}
			}
		}
	}
	res := &MonteCarloResult{Samples: samples, Trials: trials}
	sd := func(m experiments.MeanSE) float64 { return m.SE * math.Sqrt(float64(m.N)) }
	for ei, e := range ests {
		m := experiments.NewMeanSE(vals[ei])
		var neg int
		for _, v := range vals[ei] {
			if v < 0 {
				neg++
			}
		}
		vs := ValueStats{Estimator: e.String(), Mean: m.Mean, SE: m.SE, Bias: m.Mean - s.klRev, Std: sd(m),
			NegFrac: float64(neg) / float64(trials)}
		vs.BiasRel, vs.StdRel = vs.Bias/s.klRev, vs.Std/s.klRev
		res.Values = append(res.Values, vs)
	}
	gTrue := norm(ex.GradTrue)
	for ci, c := range cfgs {
		gs := GradStats{Config: c.Name(), Mean: make([]float64, n), SE: make([]float64, n), Expected: ex.Configs[ci].Grad}
		var v2 float64
		for j := range n {
			m := experiments.NewMeanSE(grads[ci][j])
			gs.Mean[j], gs.SE[j] = m.Mean, m.SE
			v2 += sd(m) * sd(m)
			if m.SE > 0 {
				gs.MaxZ = math.Max(gs.MaxZ, math.Abs(m.Mean-gs.Expected[j])/m.SE)
			}
		}
		gs.BiasRel = dist(gs.Mean, ex.GradTrue) / gTrue
		gs.StdRel = math.Sqrt(v2) / gTrue
		res.Grads = append(res.Grads, gs)
	}
	return res, nil
}
