package ppo

import (
	"errors"
	"fmt"
	"math"

	"klppo/kl"
	"klppo/nn"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// minibatch is the scratch of one minibatch, gathered from the rollout buffer.
type minibatch struct {
	rows       []int // rollout rows of this minibatch
	order      []int // permutation of all rollout rows, reshuffled every epoch
	obs        []float64
	actions    []float64
	dist       []float64
	logProbs   []float64
	advantages []float64
	returns    []float64
	values     []float64
	logRatio   []float64 // read back after the forward pass
}

func newMinibatch(size, obsDim, actionWidth, headWidth int) minibatch {
	return minibatch{
		obs: make([]float64, size*obsDim), actions: make([]float64, size*actionWidth),
		dist: make([]float64, size*headWidth), logProbs: make([]float64, size), advantages: make([]float64, size),
		returns: make([]float64, size), values: make([]float64, size), logRatio: make([]float64, 0, size),
	}
}

// learn runs the epochs of minibatch steps of one update with learning rate lr (CleanRL
// ppo.py's "Optimizing the policy and value network" loop): shuffle, and for each minibatch
// compute both losses and their gradients, stop early if the minibatch's KL exceeds the stop
// KL, clip the global gradient norm and take an Adam step.
func (t *trainer) learn(lr float64, oldLogStd []float64) (updateStats, error) {
	var stats updateStats
	mb := &t.batch
	mb.order = mb.order[:0]
	for i := 0; i < t.batchSize; i++ {
		mb.order = append(mb.order, i)
	}
	for epoch := 0; epoch < t.cfg.UpdateEpochs; epoch++ {
		t.shuffleRNG.Shuffle(len(mb.order), func(i, j int) { mb.order[i], mb.order[j] = mb.order[j], mb.order[i] })
		stepped := false
		for start := 0; start+t.minibatchSize <= t.batchSize; start += t.minibatchSize {
			t.gatherMinibatch(mb.order[start : start+t.minibatchSize])
			if t.cfg.NormAdv {
				normalizeAdv(mb.advantages)
			}
			grads, err := t.lossesAndGradients(oldLogStd)
			if err != nil {
				return stats, err
			}
			losses, err := t.readLosses()
			if err != nil {
				return stats, err
			}
			if t.penalty.StopKL > 0 && losses.kl > t.penalty.StopKL {
				stats.stop(stepped)
				return stats, nil
			}
			scale, err := t.clipScale(grads)
			if err != nil {
				return stats, err
			}
			if err := t.adamSteps(lr, scale, grads); err != nil {
				return stats, err
			}
			stepped = true
			if err := stats.add(losses, mb.logRatio, t.clipFracThreshold()); err != nil {
				return stats, err
			}
		}
		if stepped {
			stats.epochs++
		}
	}
	return stats, nil
}

// gatherMinibatch copies the rollout rows into the minibatch scratch.
func (t *trainer) gatherMinibatch(rows []int) {
	r, mb := &t.rollout, &t.batch
	obsDim := t.obsDim
	actionWidth, headWidth := len(r.actions)/t.batchSize, len(r.dist)/t.batchSize
	mb.rows = rows
	for j, k := range rows {
		copy(mb.obs[j*obsDim:(j+1)*obsDim], r.obs[k*obsDim:(k+1)*obsDim])
		copy(mb.actions[j*actionWidth:(j+1)*actionWidth], r.actions[k*actionWidth:(k+1)*actionWidth])
		copy(mb.dist[j*headWidth:(j+1)*headWidth], r.dist[k*headWidth:(k+1)*headWidth])
		mb.logProbs[j], mb.advantages[j], mb.returns[j], mb.values[j] = r.logProbs[k], r.advantages[k], r.returns[k], r.values[k]
	}
}

// gradients are both networks' gradients of one minibatch; the tensors belong to the graphs.
type gradients struct {
	policy, value []*tensor.Dense
	policySumSq   float64 // Σg² over the policy's gradients (nn.SumSquares), the first part of the global norm
}

// lossesAndGradients runs the policy and value graphs on the minibatch (on both cores unless
// single-threaded) and returns their gradients. The policy's core also sums the squares of its
// gradients, the first part of the global norm, while the value graph may still run.
func (t *trainer) lossesAndGradients(oldLogStd []float64) (gradients, error) {
	var g gradients
	mb := &t.batch
	if err := t.policyLoss.setInputs(mb.obs, mb.actions, mb.dist, oldLogStd, mb.logProbs, mb.advantages, t.beta); err != nil {
		return g, err
	}
	if err := t.valueLoss.setInputs(mb.obs, mb.returns, mb.values); err != nil {
		return g, err
	}
	err := t.both(func() (err error) {
		if g.policy, err = t.policyLoss.trainer.Run(); err != nil {
			return err
		}
		g.policySumSq, err = nn.SumSquares(0, g.policy)
		return err
	}, func() (err error) {
		g.value, err = t.valueLoss.trainer.Run()
		return err
	})
	return g, err
}

// clipScale is the factor by which global-norm clipping (nn.ClipGradNorm's rule with
// max_grad_norm, over both networks) scales every gradient: the value network's squares are
// summed on from the policy's, so the norm is bit for bit the one of a single ClipGradNorm call
// over the policy's and then the value network's gradients.
func (t *trainer) clipScale(g gradients) (float64, error) {
	sumSq, err := nn.SumSquares(g.policySumSq, g.value)
	if err != nil {
		return 0, err
	}
	scale, err := nn.ClipScale(math.Sqrt(sumSq), t.maxGradNorm())
	if errors.Is(err, nn.ErrNonFinite) {
		return 0, fmt.Errorf("%w in the gradients: %v", errNonFinite, err)
	}
	return scale, err
}

// adamSteps scales each network's gradients by the clip factor and applies one Adam step (the
// two networks on both cores unless single-threaded).
func (t *trainer) adamSteps(lr, scale float64, g gradients) error {
	step := func(adam *nn.Adam, grads []*tensor.Dense) error {
		if err := nn.ScaleGrads(grads, scale); err != nil {
			return err
		}
		return adam.Step(lr, grads)
	}
	return t.both(
		func() error { return step(t.policyAdam, g.policy) },
		func() error { return step(t.valueAdam, g.value) })
}

// maxGradNorm is max_grad_norm, +Inf (measure only) when it is 0 (disabled).
func (t *trainer) maxGradNorm() float64 {
	if t.cfg.MaxGradNorm == 0 {
		return math.Inf(1)
	}
	return t.cfg.MaxGradNorm
}

// clipFracThreshold is the |r − 1| above which a sample counts in clipfrac: the clip ε of a
// clip objective, Config.ClipFracThreshold for the others.
func (t *trainer) clipFracThreshold() float64 {
	if t.penalty.Kind == PenaltyClip {
		return t.penalty.Value
	}
	return t.cfg.ClipFracThreshold
}

// minibatchLosses are the scalars read back after a minibatch's forward pass.
type minibatchLosses struct {
	kl, surrogate, entropy, value float64
}

// readLosses reads the minibatch's losses and log-ratios back from the graphs; a non-finite
// value is errNonFinite.
func (t *trainer) readLosses() (minibatchLosses, error) {
	var l minibatchLosses
	for _, r := range []struct {
		name string
		dst  *float64
		from G.Value
	}{
		{"KL", &l.kl, t.policyLoss.klMean}, {"policy loss", &l.surrogate, t.policyLoss.surr},
		{"entropy", &l.entropy, t.policyLoss.ent}, {"value loss", &l.value, t.valueLoss.loss},
	} {
		x, err := nn.Scalar(r.from)
		if err != nil {
			return l, fmt.Errorf("ppo: read %s: %w", r.name, err)
		}
		*r.dst = x
	}
	t.batch.logRatio = nn.Float64s(t.policyLoss.logRatio, t.batch.logRatio)
	for _, x := range []float64{l.kl, l.surrogate, l.entropy, l.value} {
		if !finite(x) {
			return l, fmt.Errorf("%w in the losses (policy loss %v, value loss %v, entropy %v, KL %v)", errNonFinite, l.surrogate, l.value, l.entropy, l.kl)
		}
	}
	return l, nil
}

// updateStats accumulates the per-minibatch diagnostics of one update.
type updateStats struct {
	steps                                int // minibatch steps taken
	k1, k3, clipFrac, entropy, surrogate float64
	valueLoss, kl                        float64
	epochs                               int
	stopped                              bool
}

// stop records the early stop; the current epoch counts if it took a step.
func (s *updateStats) stop(steppedThisEpoch bool) {
	s.stopped = true
	if steppedThisEpoch {
		s.epochs++
	}
}

// add accumulates one minibatch step: its losses, Schulman's k1 and k3 estimates of
// KL(π_old‖π_θ) from the log-ratios (kl.Estimate), and the clip fraction.
func (s *updateStats) add(l minibatchLosses, logRatio []float64, clipThreshold float64) error {
	k1, err := kl.Estimate(kl.K1, logRatio)
	if err != nil {
		return fmt.Errorf("%w: k1: %v", errNonFinite, err)
	}
	k3, err := kl.Estimate(kl.K3, logRatio)
	if err != nil {
		return fmt.Errorf("%w: k3: %v", errNonFinite, err)
	}
	s.k1 += k1
	s.k3 += k3
	s.clipFrac += ClipFraction(logRatio, clipThreshold)
	s.entropy += l.entropy
	s.surrogate += l.surrogate
	s.valueLoss += l.value
	s.kl += l.kl
	s.steps++
	return nil
}

// metrics returns the averages over the minibatch steps (NaN when none was taken) and Epochs.
func (s *updateStats) metrics() UpdateMetrics {
	m := UpdateMetrics{Epochs: s.epochs}
	n := float64(s.steps)
	if s.steps == 0 {
		n = math.NaN()
	}
	m.ApproxKLK1, m.ApproxKLK3, m.ClipFrac = s.k1/n, s.k3/n, s.clipFrac/n
	m.Entropy, m.PolicyLoss, m.ValueLoss = s.entropy/n, s.surrogate/n, s.valueLoss/n
	return m
}

// normalizeAdv sets a ← (a − mean)/(std + 1e-8) with the unbiased std (as torch's .std()).
func normalizeAdv(a []float64) {
	n := float64(len(a))
	m := 0.0
	for _, x := range a {
		m += x
	}
	m /= n
	v := 0.0
	for _, x := range a {
		v += (x - m) * (x - m)
	}
	sd := math.Sqrt(v / (n - 1))
	for i := range a {
		a[i] = (a[i] - m) / (sd + 1e-8)
	}
}
