package ppo

import (
	"fmt"

	"klppo/nn"
	"klppo/policy"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// policyObjective is the trainer's policy loss graph for one minibatch size, built once:
//
//	cost = BuildPolicyLoss(pen) − ent_coef·mean(H[π_θ])
//
// β is an input (changed between updates without rebuilding the graph).
type policyObjective struct {
	pg      *policy.PolicyGraph
	trainer *nn.Trainer

	oldLogP, adv, beta *G.Node
	oldLogPT, advT     *tensor.Dense
	// read back after each run: the surrogate part of the loss (without β·KL), the mean
	// entropy, the mean KL(π_old‖π_θ) and the per-sample log-ratio
	surr, ent, klMean, logRatio G.Value
}

func newPolicyObjective(ac *policy.ActorCritic, size int, pen Penalty, entCoef float64) (*policyObjective, error) {
	pg, err := ac.NewPolicyGraph(size)
	if err != nil {
		return nil, err
	}
	o := &policyObjective{pg: pg}
	b := nn.NewBuilder(pg.G, ac.Dtype())
	o.oldLogP, o.oldLogPT = b.Vector("old_logp", size)
	o.adv, o.advT = b.Vector("adv", size)
	o.beta = b.ScalarInput("beta")
	loss := BuildPolicyLoss(b, pen, PolicyLossInputs{LogP: pg.LogP, OldLogP: o.oldLogP, Adv: o.adv, KL: pg.KL, Beta: o.beta})
	entropy := b.Mean(pg.Entropy)
	cost := loss.Loss
	if entCoef != 0 {
		cost = b.Sub(cost, b.Mul(b.Scalar(entCoef), entropy))
	}
	if err := b.Err(); err != nil {
		return nil, fmt.Errorf("ppo: policy objective: %w", err)
	}
	G.Read(loss.SurrogateLoss, &o.surr)
	G.Read(entropy, &o.ent)
	G.Read(loss.KLMean, &o.klMean)
	G.Read(loss.LogRatio, &o.logRatio)
	if o.trainer, err = nn.NewTrainer(pg.G, cost, pg.Learnables); err != nil {
		return nil, fmt.Errorf("ppo: policy objective: %w", err)
	}
	return o, nil
}

// setInputs sets the minibatch and β.
func (o *policyObjective) setInputs(obs, act, oldDist, oldLogStd, oldLogP, adv []float64, beta float64) error {
	if err := o.pg.SetInputs(obs, act, oldDist, oldLogStd); err != nil {
		return err
	}
	if err := nn.SetVector(o.oldLogP, o.oldLogPT, oldLogP); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := nn.SetVector(o.adv, o.advT, adv); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := nn.SetScalar(o.beta, beta); err != nil {
		return fmt.Errorf("ppo: β: %w", err)
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
	loss        G.Value // L_v
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
	G.Read(loss, &o.loss)
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
