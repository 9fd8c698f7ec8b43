package ppo

import (
	"fmt"

	"klppo/nn"
	"klppo/policy"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// policyObjective is the policy loss graph for one minibatch size, built once:
//
//	r        = exp(log π_θ(a|s) − log π_old(a|s))
//	clip:      L_pg = mean(max(−A·r, −A·clip(r, 1−ε, 1+ε)))
//	kl-*:      L_pg = −mean(A·r) + β·mean(KL(π_old‖π_θ))
//	none:      L_pg = −mean(A·r)
//	cost     = L_pg − ent_coef·mean(H[π_θ])
//
// β is an input (changed between updates without rebuilding the graph).
type policyObjective struct {
	pg      *policy.PolicyGraph
	trainer *nn.Trainer
	B       int

	oldLogP, adv       *G.Node
	oldLogPT, advT     *tensor.Dense
	beta               *G.Node
	surr, ent, klMean  G.Value // read back: surrogate part of L_pg (without β·KL), mean entropy, mean KL
	logRatio, klPerRow G.Value
}

func newPolicyObjective(ac *policy.ActorCritic, B int, pen Penalty, entCoef float64) (*policyObjective, error) {
	pg, err := ac.NewPolicyGraph(B)
	if err != nil {
		return nil, err
	}
	g := pg.G
	o := &policyObjective{pg: pg, B: B}
	o.oldLogP, o.oldLogPT = ac.NewInput(g, "old_logp", B)
	o.adv, o.advT = ac.NewInput(g, "adv", B)
	dt := ac.Dtype()
	o.beta = G.NewScalar(g, dt, G.WithName("beta"))
	wrap := func(step string, err error) (*policyObjective, error) {
		return nil, fmt.Errorf("ppo: policy objective: %s: %w", step, err)
	}
	lr, err := G.Sub(pg.LogP, o.oldLogP)
	if err != nil {
		return wrap("log ratio", err)
	}
	ratio, err := G.Exp(lr)
	if err != nil {
		return wrap("ratio", err)
	}
	ra, err := G.HadamardProd(ratio, o.adv)
	if err != nil {
		return wrap("r·A", err)
	}
	var surr *G.Node // the loss −E[surrogate], before any KL term
	if pen.Kind == PenaltyClip {
		lo := constVec(dt, B, 1-pen.Value)
		hi := constVec(dt, B, 1+pen.Value)
		c1, err := G.MaxBetween(ratio, lo)
		if err != nil {
			return wrap("max(r, 1−ε)", err)
		}
		cr, err := G.MinBetween(c1, hi)
		if err != nil {
			return wrap("clip(r)", err)
		}
		cra, err := G.HadamardProd(cr, o.adv)
		if err != nil {
			return wrap("clip(r)·A", err)
		}
		mn, err := G.MinBetween(ra, cra)
		if err != nil {
			return wrap("min(r·A, clip(r)·A)", err)
		}
		m, err := G.Mean(mn)
		if err != nil {
			return wrap("mean", err)
		}
		if surr, err = G.Neg(m); err != nil {
			return wrap("−mean", err)
		}
	} else {
		m, err := G.Mean(ra)
		if err != nil {
			return wrap("mean r·A", err)
		}
		if surr, err = G.Neg(m); err != nil {
			return wrap("−mean r·A", err)
		}
	}
	klMean, err := G.Mean(pg.KL)
	if err != nil {
		return wrap("mean KL", err)
	}
	entMean, err := G.Mean(pg.Entropy)
	if err != nil {
		return wrap("mean entropy", err)
	}
	cost := surr
	if pen.UsesBeta() {
		bk, err := G.Mul(o.beta, klMean)
		if err != nil {
			return wrap("β·KL", err)
		}
		if cost, err = G.Add(cost, bk); err != nil {
			return wrap("+β·KL", err)
		}
	}
	if entCoef != 0 {
		ce, err := G.Mul(ac.Scalar(entCoef), entMean)
		if err != nil {
			return wrap("ent_coef·H", err)
		}
		if cost, err = G.Sub(cost, ce); err != nil {
			return wrap("−ent_coef·H", err)
		}
	}
	G.Read(surr, &o.surr)
	G.Read(entMean, &o.ent)
	G.Read(klMean, &o.klMean)
	G.Read(lr, &o.logRatio)
	G.Read(pg.KL, &o.klPerRow)
	if o.trainer, err = nn.NewTrainer(g, cost, pg.Learnables); err != nil {
		return wrap("trainer", err)
	}
	return o, nil
}

// setInputs sets the minibatch and β.
func (o *policyObjective) setInputs(obs, act, oldDist, oldLogStd, oldLogP, adv []float64, beta float64) error {
	if err := o.pg.SetInputs(obs, act, oldDist, oldLogStd); err != nil {
		return err
	}
	policy.Fill(o.oldLogPT, oldLogP)
	policy.Fill(o.advT, adv)
	if err := G.Let(o.oldLogP, o.oldLogPT); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := G.Let(o.adv, o.advT); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	var bv G.Value
	if o.pg.G == nil {
		return fmt.Errorf("ppo: nil graph")
	}
	if o.beta.Dtype() == tensor.Float32 {
		bv = G.NewF32(float32(beta))
	} else {
		bv = G.NewF64(beta)
	}
	if err := G.Let(o.beta, bv); err != nil {
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

func newValueObjective(ac *policy.ActorCritic, B int, clipV bool, vfClip, vfCoef float64) (*valueObjective, error) {
	vg, err := ac.NewValueGraph(B)
	if err != nil {
		return nil, err
	}
	g := vg.G
	o := &valueObjective{vg: vg}
	dt := ac.Dtype()
	o.ret, o.retT = ac.NewInput(g, "returns", B)
	o.oldV, o.oldVT = ac.NewInput(g, "old_values", B)
	wrap := func(step string, err error) (*valueObjective, error) {
		return nil, fmt.Errorf("ppo: value objective: %s: %w", step, err)
	}
	d, err := G.Sub(vg.Value, o.ret)
	if err != nil {
		return wrap("V − R", err)
	}
	sq, err := G.Square(d)
	if err != nil {
		return wrap("(V − R)²", err)
	}
	if clipV {
		dv, err := G.Sub(vg.Value, o.oldV)
		if err != nil {
			return wrap("V − V_old", err)
		}
		c1, err := G.MaxBetween(dv, constVec(dt, B, -vfClip))
		if err != nil {
			return wrap("clip low", err)
		}
		c2, err := G.MinBetween(c1, constVec(dt, B, vfClip))
		if err != nil {
			return wrap("clip high", err)
		}
		vc, err := G.Add(o.oldV, c2)
		if err != nil {
			return wrap("V_clipped", err)
		}
		dc, err := G.Sub(vc, o.ret)
		if err != nil {
			return wrap("V_clipped − R", err)
		}
		sqc, err := G.Square(dc)
		if err != nil {
			return wrap("(V_clipped − R)²", err)
		}
		if sq, err = G.MaxBetween(sq, sqc); err != nil {
			return wrap("max", err)
		}
	}
	m, err := G.Mean(sq)
	if err != nil {
		return wrap("mean", err)
	}
	loss, err := G.Mul(ac.Scalar(0.5), m)
	if err != nil {
		return wrap("½·mean", err)
	}
	cost, err := G.Mul(ac.Scalar(vfCoef), loss)
	if err != nil {
		return wrap("vf_coef·L_v", err)
	}
	G.Read(loss, &o.loss)
	if o.trainer, err = nn.NewTrainer(g, cost, vg.Learnables); err != nil {
		return wrap("trainer", err)
	}
	return o, nil
}

func (o *valueObjective) setInputs(obs, ret, oldV []float64) error {
	if err := o.vg.SetInputs(obs); err != nil {
		return err
	}
	policy.Fill(o.retT, ret)
	policy.Fill(o.oldVT, oldV)
	if err := G.Let(o.ret, o.retT); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	if err := G.Let(o.oldV, o.oldVT); err != nil {
		return fmt.Errorf("ppo: %w", err)
	}
	return nil
}

// constVec is a (B,) constant filled with v.
func constVec(dt tensor.Dtype, B int, v float64) *G.Node {
	var t *tensor.Dense
	if dt == tensor.Float32 {
		d := make([]float32, B)
		for i := range d {
			d[i] = float32(v)
		}
		t = tensor.New(tensor.WithShape(B), tensor.WithBacking(d))
	} else {
		d := make([]float64, B)
		for i := range d {
			d[i] = v
		}
		t = tensor.New(tensor.WithShape(B), tensor.WithBacking(d))
	}
	return G.NewConstant(t)
}
