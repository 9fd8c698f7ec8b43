package ppo

import (
	"fmt"

	"klppo/kl"
	"klppo/kl/klgraph"
	"klppo/nn"
	"klppo/policy"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// nodeValue receives a node's value after each run (gorgonia.Read); v is nil for a node the
// objective does not have.
type nodeValue struct{ v G.Value }

// policyObjective is the learner's policy loss graph for one minibatch size, built once:
//
//	cost = BuildPolicyLoss(pen) − ent_coef·avg(H[π_θ]) + β_ref·avg(k_ref)
//
// where avg is the mean over the minibatch, or the weighted sum Σ w_i·x_i of a weighted
// learner, and k_ref is the loss-side estimate of RLHF's KL(π_θ‖π_ref) (klRefLossNode; absent
// unless the KL to the reference is placed in the loss). Both β are inputs (present only when
// used), changed between updates without rebuilding the graph.
type policyObjective struct {
	pg      *policy.PolicyGraph
	trainer *nn.Trainer

	oldLogP, adv, beta *G.Node
	oldLogPT, advT     *tensor.Dense
	weights            *G.Node // nil unless weighted
	weightsT           *tensor.Dense
	segments           *G.Node // nil unless sequence-level
	segmentsT          *tensor.Dense
	// the KL to π_ref in the loss (nil when absent): its β, π_ref's log-probability of each
	// taken action (sampled estimators) or π_ref's logits (exact)
	klRefTerm, klRefBeta, refLogP, refLogits *G.Node
	refLogPT, refLogitsT                     *tensor.Dense
	refLogPs, refRow                         []float64
	// read back after each run: the surrogate part of the loss (without β·KL), the mean
	// entropy, the mean KL(π_old‖π_θ) (only with a kl-* objective or an early stop), the KL
	// term to π_ref and the per-sample log-ratio
	surr, ent, klMean, klRef, logRatio nodeValue
}

func newPolicyObjective(ac *policy.ActorCritic, size int, pen Penalty, entCoef float64, klRef KLRef, weighted, sequences bool) (*policyObjective, error) {
	pg, err := ac.NewPolicyGraph(size)
	if err != nil {
		return nil, err
	}
	o := &policyObjective{pg: pg}
	b := nn.NewBuilder(pg.G, ac.Dtype())
	o.oldLogP, o.oldLogPT = b.Vector("old_logp", size)
	o.adv, o.advT = b.Vector("adv", size)
	in := PolicyLossInputs{LogP: pg.LogP, OldLogP: o.oldLogP, Adv: o.adv}
	if pen.UsesBeta() {
		o.beta = b.ScalarInput("beta")
		in.Beta = o.beta
	}
	if pen.UsesBeta() || pen.StopKL > 0 {
		in.KL = pg.KL
	}
	if weighted {
		o.weights, o.weightsT = b.Vector("weights", size)
		in.Weights = o.weights
	}
	if sequences {
		o.segmentsT = nn.NewDense(ac.Dtype(), []int{size, size}, nil)
		o.segments = G.NewMatrix(pg.G, ac.Dtype(), G.WithShape(size, size), G.WithName("segments"))
		in.Segments = o.segments
	}
	loss := BuildPolicyLoss(b, pen, in)
	entropy := average(b, pg.Entropy, in.Weights)
	cost := loss.Loss
	if entCoef != 0 {
		cost = b.Sub(cost, b.Mul(b.Scalar(entCoef), entropy))
	}
	if klRef.In == KLInLoss {
		o.klRefBeta = b.ScalarInput("kl_ref_beta")
		var k *G.Node
		if klRef.Estimator == kl.Exact {
			dt := ac.Dtype()
			w := ac.Config().HeadWidth()
			o.refLogitsT = nn.NewDense(dt, []int{size, w}, nil)
			o.refLogits = G.NewMatrix(pg.G, dt, G.WithShape(size, w), G.WithName("ref_logits"))
			if k, err = klgraph.CategoricalKLNode(pg.Head, o.refLogits); err != nil {
				return nil, fmt.Errorf("ppo: policy objective: KL to the reference: %w", err)
			}
		} else {
			o.refLogP, o.refLogPT = b.Vector("ref_logp", size)
			k = klRefLossNode(b, klRef, pg.LogP, o.refLogP, o.oldLogP)
		}
		o.klRefTerm = b.Mul(o.klRefBeta, average(b, k, in.Weights))
		cost = b.Add(cost, o.klRefTerm)
	}
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("ppo: policy objective: %w", err)
	}
	G.Read(loss.SurrogateLoss, &o.surr.v)
	G.Read(entropy, &o.ent.v)
	if loss.KLMean != nil {
		G.Read(loss.KLMean, &o.klMean.v)
	}
	if o.klRefTerm != nil {
		G.Read(o.klRefTerm, &o.klRef.v)
	}
	G.Read(loss.LogRatio, &o.logRatio.v)
	if o.trainer, err = nn.NewTrainer(pg.G, cost, pg.Learnables); err != nil {
		return nil, fmt.Errorf("ppo: policy objective: %w", err)
	}
	return o, nil
}

// klRefLossNode is the per-sample loss-side estimate of RLHF's KL(π_θ‖π_ref) from the taken
// action, with l = log π_θ(a|s) − log π_ref(a|s) (ppo.KLRef's notation):
//
//	k1: l,   k2: ½l²,   k3: e^(−l) − 1 + l,   and with ImportanceWeighted each times
//	w = π_θ(a|s)/π_old(a|s) = exp(log π_θ − log π_old) (which is 1 on-policy, not in gradient).
//
// Differentiated through log π_θ with the action held fixed, the expected gradients are those
// KLRef documents (k2, IS·k3 follow ∇KL(π‖π_ref); plain k3 follows the forward KL(π_ref‖π);
// k1 has none).
func klRefLossNode(b *nn.Builder, c KLRef, logP, refLogP, oldLogP *G.Node) *G.Node {
	l := b.Sub(logP, refLogP)
	var k *G.Node
	switch c.Estimator {
	case kl.K1:
		k = l
	case kl.K2:
		k = b.Mul(b.Scalar(0.5), b.Square(l))
	case kl.K3:
		k = b.Add(b.Sub(b.Exp(b.Neg(l)), b.Scalar(1)), l)
	}
	if c.ImportanceWeighted {
		k = b.HadamardProd(b.Exp(b.Sub(logP, oldLogP)), k)
	}
	return k
}

// average is the mean of the (B,) node x, or Σ w_i·x_i when the weights w are given.
func average(b *nn.Builder, x, w *G.Node) *G.Node {
	if w == nil {
		return b.Mean(x)
	}
	return b.Sum(b.HadamardProd(x, w))
}

// policyInputs are one minibatch's inputs of the policy objective.
type policyInputs struct {
	obs, actions, oldDist, oldLogStd, oldLogP, adv []float64
	beta                                           float64 // of the kl-* objectives
	refLogits                                      []float64
	klRefBeta                                      float64
	weights                                        []float64
	segments                                       []float64 // (B, B) row-major, sequence-level only
}

// setInputs sets the minibatch and both β.
func (o *policyObjective) setInputs(in policyInputs) error {
	if err := o.pg.SetInputs(in.obs, in.actions, in.oldDist, in.oldLogStd); err != nil {
		return err
	}
	if err := nn.SetVector(o.oldLogP, o.oldLogPT, in.oldLogP); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := nn.SetVector(o.adv, o.advT, in.adv); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if o.beta != nil {
		if err := nn.SetScalar(o.beta, in.beta); err != nil {
			return fmt.Errorf("ppo: β: %w", err)
		}
	}
	if o.weights != nil {
		if err := nn.SetVector(o.weights, o.weightsT, in.weights); err != nil {
			return fmt.Errorf("ppo: weights: %w", err)
		}
	}
	if o.segments != nil {
		if err := nn.SetVector(o.segments, o.segmentsT, in.segments); err != nil {
			return fmt.Errorf("ppo: segments: %w", err)
		}
	}
	if o.klRefTerm == nil {
		return nil
	}
	if err := nn.SetScalar(o.klRefBeta, in.klRefBeta); err != nil {
		return fmt.Errorf("ppo: KL to the reference: β: %w", err)
	}
	if o.refLogits != nil {
		if err := nn.SetVector(o.refLogits, o.refLogitsT, in.refLogits); err != nil {
			return fmt.Errorf("ppo: reference logits: %w", err)
		}
		return nil
	}
	// log π_ref(a|s) of each taken action, from π_ref's logits.
	w := len(in.refLogits) / len(in.oldLogP)
	o.refLogPs = o.refLogPs[:0]
	if len(o.refRow) != w {
		o.refRow = make([]float64, w)
	}
	for i, a := range in.actions {
		if err := kl.LogSoftmaxInto(o.refRow, in.refLogits[i*w:(i+1)*w]); err != nil {
			return fmt.Errorf("ppo: reference log-probabilities of sample %d: %w", i, err)
		}
		o.refLogPs = append(o.refLogPs, o.refRow[int(a)])
	}
	if err := nn.SetVector(o.refLogP, o.refLogPT, o.refLogPs); err != nil {
		return fmt.Errorf("ppo: reference log-probabilities: %w", err)
	}
	return nil
}

// valueObjective is the value loss graph for one minibatch size:
//
//	unclipped:  L_v = ½·mean((V − R)²)
//	clipped:    L_v = ½·mean(max((V − R)², (V_old + clip(V − V_old, −c, c) − R)²))
//	cost      = vf_coef·L_v
type valueObjective struct {
	vg      *policy.ValueGraph
	trainer *nn.Trainer

	ret, oldV   *G.Node
	retT, oldVT *tensor.Dense
	loss        nodeValue // L_v
}

func newValueObjective(ac *policy.ActorCritic, size int, clipV bool, vfClip, vfCoef float64) (*valueObjective, error) {
	vg, err := ac.NewValueGraph(size)
	if err != nil {
		return nil, err
	}
	o := &valueObjective{vg: vg}
	b := nn.NewBuilder(vg.G, ac.Dtype())
	o.ret, o.retT = b.Vector("returns", size)
	o.oldV, o.oldVT = b.Vector("old_values", size)
	sqErr := b.Square(b.Sub(vg.Value, o.ret))
	if clipV {
		clipped := b.Add(o.oldV, b.Clip(b.Sub(vg.Value, o.oldV), -vfClip, vfClip))
		sqErr = b.Max(sqErr, b.Square(b.Sub(clipped, o.ret)))
	}
	loss := b.Mul(b.Scalar(0.5), b.Mean(sqErr))
	cost := b.Mul(b.Scalar(vfCoef), loss)
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("ppo: value objective: %w", err)
	}
	G.Read(loss, &o.loss.v)
	if o.trainer, err = nn.NewTrainer(vg.G, cost, vg.Learnables); err != nil {
		return nil, fmt.Errorf("ppo: value objective: %w", err)
	}
	return o, nil
}

func (o *valueObjective) setInputs(obs, ret, oldV []float64) error {
	if err := o.vg.SetInputs(obs); err != nil {
		return err
	}
	if err := nn.SetVector(o.ret, o.retT, ret); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := nn.SetVector(o.oldV, o.oldVT, oldV); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}
