package distill

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"klppo/kl/klgraph"
	"klppo/nn"
)

func constant(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// lossGraph is a classifier's training graph for one batch size, built once.
//
// For a batch of B rows with student logits s = net(x), teacher logits t (an input) and
// one-hot labels y,
//
//	KL_T  = mean_b KL(softmax(t_b/T) ‖ softmax(s_b/T))      (klgraph.CategoricalKLNode)
//	CE    = −mean_b Σ_k y_bk · log softmax(s_b)_k            (klgraph.LogSoftmaxNode, one-hot mask)
//	loss  = α·T²·KL_T + (1−α)·CE.
//
// The T² factor keeps the soft-target gradients on the scale of the hard-label ones when T
// changes (Hinton et al. 2015). With α = 0 the loss is the plain cross-entropy of a
// label-only classifier (KL_T is still computed, for logging).
type lossGraph struct {
	net         *nn.MLP
	batch, k    int
	g           *G.ExprGraph
	x, t, y     *G.Node
	xT, tT, yT  *tensor.Dense
	loss        *G.Node
	lossV       G.Value
	klV, ceV    G.Value
	learnables  G.Nodes
	temp, alpha float64
	hasTeacher  bool
	logitsV     G.Value // the batch's logits, for the training accuracy
}

func buildLoss(net *nn.MLP, batch int, temp, alpha float64, withTeacher bool) (*lossGraph, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("distill: batch = %d, want > 0", batch)
	}
	if !(temp > 0) || math.IsInf(temp, 0) {
		return nil, fmt.Errorf("distill: temperature = %v, want a finite value > 0", temp)
	}
	if !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("distill: alpha = %v, want a value in [0, 1]", alpha)
	}
	dt, K := net.Dtype(), net.Out()
	lg := &lossGraph{net: net, batch: batch, k: K, g: G.NewGraph(), temp: temp, alpha: alpha, hasTeacher: withTeacher}
	g := lg.g
	wrap := func(what string, err error) error { return fmt.Errorf("distill: building %s: %w", what, err) }
	lg.x = G.NewMatrix(g, dt, G.WithShape(batch, net.In()), G.WithName("x"))
	lg.y = G.NewMatrix(g, dt, G.WithShape(batch, K), G.WithName("onehot"))
	lg.xT = tensor.New(tensor.Of(dt), tensor.WithShape(batch, net.In()))
	lg.yT = tensor.New(tensor.Of(dt), tensor.WithShape(batch, K))
	s, err := net.Graph(g, lg.x)
	if err != nil {
		return nil, wrap("student", err)
	}
	logp, err := klgraph.LogSoftmaxNode(s)
	if err != nil {
		return nil, wrap("log-softmax", err)
	}
	masked, err := G.HadamardProd(logp, lg.y)
	if err != nil {
		return nil, wrap("one-hot mask", err)
	}
	ll, err := G.Sum(masked, 1)
	if err != nil {
		return nil, wrap("log-likelihood", err)
	}
	meanLL, err := G.Mean(ll)
	if err != nil {
		return nil, wrap("mean log-likelihood", err)
	}
	ce, err := G.Neg(meanLL)
	if err != nil {
		return nil, wrap("cross-entropy", err)
	}
	loss := ce
	if withTeacher {
		lg.t = G.NewMatrix(g, dt, G.WithShape(batch, K), G.WithName("teacher_logits"))
		lg.tT = tensor.New(tensor.Of(dt), tensor.WithShape(batch, K))
		inv := constant(dt, 1/temp)
		tScaled, err := G.HadamardProd(lg.t, inv)
		if err != nil {
			return nil, wrap("t/T", err)
		}
		sScaled, err := G.HadamardProd(s, inv)
		if err != nil {
			return nil, wrap("s/T", err)
		}
		klB, err := klgraph.CategoricalKLNode(tScaled, sScaled)
		if err != nil {
			return nil, wrap("KL(teacher‖student)", err)
		}
		klMean, err := G.Mean(klB)
		if err != nil {
			return nil, wrap("mean KL", err)
		}
		soft, err := G.HadamardProd(klMean, constant(dt, alpha*temp*temp))
		if err != nil {
			return nil, wrap("α·T²·KL", err)
		}
		hard, err := G.HadamardProd(ce, constant(dt, 1-alpha))
		if err != nil {
			return nil, wrap("(1−α)·CE", err)
		}
		if loss, err = G.Add(soft, hard); err != nil {
			return nil, wrap("loss", err)
		}
		G.Read(klMean, &lg.klV)
	}
	lg.loss = loss
	G.Read(loss, &lg.lossV)
	G.Read(ce, &lg.ceV)
	G.Read(s, &lg.logitsV)
	if lg.learnables, err = net.Learnables(g); err != nil {
		return nil, err
	}
	return lg, nil
}

func fill(t *tensor.Dense, src []float64) {
	switch d := t.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(src[i])
		}
	case []float64:
		copy(d, src)
	}
}

// setInputs lets a batch in: x (B×In), one-hot labels (B×K) and, for a distillation graph,
// the teacher's logits (B×K).
func (lg *lossGraph) setInputs(x, onehot, teacher []float64) error {
	fill(lg.xT, x)
	fill(lg.yT, onehot)
	if err := G.Let(lg.x, lg.xT); err != nil {
		return fmt.Errorf("distill: let x: %w", err)
	}
	if err := G.Let(lg.y, lg.yT); err != nil {
		return fmt.Errorf("distill: let labels: %w", err)
	}
	if lg.hasTeacher {
		fill(lg.tT, teacher)
		if err := G.Let(lg.t, lg.tT); err != nil {
			return fmt.Errorf("distill: let teacher logits: %w", err)
		}
	}
	return nil
}
