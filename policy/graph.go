package policy

import (
	"fmt"

	kl "klppo/kl/klgraph"
	"klppo/nn"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PolicyGraph is a gorgonia graph of the policy for minibatches of exactly B states, built once
// and reused. Its input nodes are set with SetInputs; its output nodes are per-state (B,)
// vectors from which a caller builds a scalar loss in the same graph:
//
//	LogP    = log π_θ(a|s) of the given actions (categorical: Σ_k onehot_k·logsoftmax_k, a one-hot
//	          mask rather than ByIndices, whose gradient is wrong in gorgonia v0.9.18;
//	          Gaussian: Σ_d −½((a−μ)/σ)² − log σ − ½ log 2π)
//	Entropy = H[π_θ(·|s)] (categorical: −Σ p log p; Gaussian: Σ_d log σ + ½(1 + log 2π))
//	KL      = KL(π_old(·|s) ‖ π_θ(·|s)), exact, from kl.CategoricalKLNode(oldLogits, logits) or
//	          kl.DiagNormalKLNode(oldμ, oldLogσ, μ, logσ) with the old parameters as inputs.
type PolicyGraph struct {
	G          *G.ExprGraph
	B          int
	Learnables G.Nodes // in ActorCritic.PolicyParams order
	LogP       *G.Node
	Entropy    *G.Node
	KL         *G.Node

	ac                      *ActorCritic
	obs, act, oldDist, old  *G.Node // old = old log-std (B, D), Gaussian only
	obsT, actT, distT, oldT *tensor.Dense
}

// ValueGraph is a gorgonia graph of the value network for minibatches of exactly B states;
// Value is the (B,) output.
type ValueGraph struct {
	G          *G.ExprGraph
	B          int
	Learnables G.Nodes
	Value      *G.Node

	ac   *ActorCritic
	obs  *G.Node
	obsT *tensor.Dense
}

func scalarLike(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// NewPolicyGraph builds the policy graph for minibatches of B states.
func (ac *ActorCritic) NewPolicyGraph(B int) (*PolicyGraph, error) {
	if B <= 0 {
		return nil, fmt.Errorf("policy: NewPolicyGraph: batch %d must be > 0", B)
	}
	cfg := ac.cfg
	dt := cfg.dtype()
	w := cfg.HeadWidth()
	g := G.NewGraph()
	pg := &PolicyGraph{G: g, B: B, ac: ac}
	pg.obsT = denseFrom(dt, []int{B, cfg.ObsDim}, nil)
	pg.actT = denseFrom(dt, []int{B, w}, nil)
	pg.distT = denseFrom(dt, []int{B, w}, nil)
	pg.obs = G.NewMatrix(g, dt, G.WithShape(B, cfg.ObsDim), G.WithName("obs"))
	pg.act = G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("act"))
	pg.oldDist = G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("old_dist"))
	head, err := ac.Pi.Graph(g, pg.obs)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	learn, err := ac.Pi.Learnables(g)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	wrap := func(step string, err error) error { return fmt.Errorf("policy: policy graph: %s: %w", step, err) }
	if cfg.Discrete {
		lsm, err := kl.LogSoftmaxNode(head)
		if err != nil {
			return nil, wrap("log-softmax", err)
		}
		sel, err := G.HadamardProd(lsm, pg.act)
		if err != nil {
			return nil, wrap("one-hot mask", err)
		}
		if pg.LogP, err = G.Sum(sel, 1); err != nil {
			return nil, wrap("log p", err)
		}
		p, err := G.Exp(lsm)
		if err != nil {
			return nil, wrap("p", err)
		}
		plp, err := G.HadamardProd(p, lsm)
		if err != nil {
			return nil, wrap("p log p", err)
		}
		s, err := G.Sum(plp, 1)
		if err != nil {
			return nil, wrap("Σ p log p", err)
		}
		if pg.Entropy, err = G.Neg(s); err != nil {
			return nil, wrap("entropy", err)
		}
		if pg.KL, err = kl.CategoricalKLNode(pg.oldDist, head); err != nil {
			return nil, wrap("KL", err)
		}
	} else {
		ls, err := nn.Bind(g, "pi.log_std", ac.LogStd)
		if err != nil {
			return nil, wrap("log-std", err)
		}
		learn = append(learn, ls)
		pg.oldT = denseFrom(dt, []int{B, w}, nil)
		pg.old = G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("old_log_std"))
		zeros := G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("zeros_bd"), G.WithValue(denseFrom(dt, []int{B, w}, nil)))
		lsB, err := G.BroadcastAdd(zeros, ls, nil, []byte{0}) // (B, D)
		if err != nil {
			return nil, wrap("broadcast log-std", err)
		}
		diff, err := G.Sub(pg.act, head)
		if err != nil {
			return nil, wrap("a − μ", err)
		}
		negLs, err := G.Neg(lsB)
		if err != nil {
			return nil, wrap("−log σ", err)
		}
		inv, err := G.Exp(negLs)
		if err != nil {
			return nil, wrap("1/σ", err)
		}
		z, err := G.HadamardProd(diff, inv)
		if err != nil {
			return nil, wrap("z", err)
		}
		z2, err := G.Square(z)
		if err != nil {
			return nil, wrap("z²", err)
		}
		hz2, err := G.Mul(scalarLike(dt, -0.5), z2)
		if err != nil {
			return nil, wrap("−½z²", err)
		}
		t1, err := G.Sub(hz2, lsB)
		if err != nil {
			return nil, wrap("−½z² − log σ", err)
		}
		t2, err := G.Sub(t1, scalarLike(dt, halfLog2Pi))
		if err != nil {
			return nil, wrap("− ½ log 2π", err)
		}
		if pg.LogP, err = G.Sum(t2, 1); err != nil {
			return nil, wrap("log p", err)
		}
		e1, err := G.Add(lsB, scalarLike(dt, 0.5+halfLog2Pi))
		if err != nil {
			return nil, wrap("entropy terms", err)
		}
		if pg.Entropy, err = G.Sum(e1, 1); err != nil {
			return nil, wrap("entropy", err)
		}
		if pg.KL, err = kl.DiagNormalKLNode(pg.oldDist, pg.old, head, lsB); err != nil {
			return nil, wrap("KL", err)
		}
	}
	pg.Learnables = learn
	return pg, nil
}

// SetInputs fills the graph's inputs for the next run. obs is B×ObsDim; actions is B×ActionWidth
// (the action index, turned into a one-hot row, or the Gaussian sample); oldDist is B×HeadWidth
// (the old logits or means); oldLogStd is the old log-std vector (ActDim, Gaussian only).
func (pg *PolicyGraph) SetInputs(obs, actions, oldDist, oldLogStd []float64) error {
	cfg := pg.ac.cfg
	B, w := pg.B, cfg.HeadWidth()
	if len(obs) != B*cfg.ObsDim || len(actions) != B*cfg.ActionWidth() || len(oldDist) != B*w {
		return fmt.Errorf("policy: SetInputs: got %d obs, %d action, %d dist values for batch %d", len(obs), len(actions), len(oldDist), B)
	}
	fill(pg.obsT, obs)
	fill(pg.distT, oldDist)
	if cfg.Discrete {
		switch d := pg.actT.Data().(type) {
		case []float32:
			clear(d)
			for r, a := range actions {
				k := int(a)
				if k < 0 || k >= w || float64(k) != a {
					return fmt.Errorf("policy: SetInputs: action[%d] = %v is not in [0, %d)", r, a, w)
				}
				d[r*w+k] = 1
			}
		case []float64:
			clear(d)
			for r, a := range actions {
				k := int(a)
				if k < 0 || k >= w || float64(k) != a {
					return fmt.Errorf("policy: SetInputs: action[%d] = %v is not in [0, %d)", r, a, w)
				}
				d[r*w+k] = 1
			}
		}
	} else {
		fill(pg.actT, actions)
		if len(oldLogStd) != w {
			return fmt.Errorf("policy: SetInputs: old log-std has %d values, want %d", len(oldLogStd), w)
		}
		for r := 0; r < B; r++ {
			switch d := pg.oldT.Data().(type) {
			case []float32:
				for j, v := range oldLogStd {
					d[r*w+j] = float32(v)
				}
			case []float64:
				copy(d[r*w:(r+1)*w], oldLogStd)
			}
		}
		if err := G.Let(pg.old, pg.oldT); err != nil {
			return fmt.Errorf("policy: SetInputs: %w", err)
		}
	}
	for _, p := range []struct {
		n *G.Node
		t *tensor.Dense
	}{{pg.obs, pg.obsT}, {pg.act, pg.actT}, {pg.oldDist, pg.distT}} {
		if err := G.Let(p.n, p.t); err != nil {
			return fmt.Errorf("policy: SetInputs: %w", err)
		}
	}
	return nil
}

// NewValueGraph builds the value graph for minibatches of B states.
func (ac *ActorCritic) NewValueGraph(B int) (*ValueGraph, error) {
	if B <= 0 {
		return nil, fmt.Errorf("policy: NewValueGraph: batch %d must be > 0", B)
	}
	cfg := ac.cfg
	dt := cfg.dtype()
	g := G.NewGraph()
	vg := &ValueGraph{G: g, B: B, ac: ac}
	vg.obsT = denseFrom(dt, []int{B, cfg.ObsDim}, nil)
	vg.obs = G.NewMatrix(g, dt, G.WithShape(B, cfg.ObsDim), G.WithName("obs"))
	out, err := ac.V.Graph(g, vg.obs)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if vg.Value, err = G.Reshape(out, tensor.Shape{B}); err != nil {
		return nil, fmt.Errorf("policy: value graph: reshape: %w", err)
	}
	if vg.Learnables, err = ac.V.Learnables(g); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return vg, nil
}

// SetInputs fills the value graph's observation input (B×ObsDim).
func (vg *ValueGraph) SetInputs(obs []float64) error {
	if len(obs) != vg.B*vg.ac.cfg.ObsDim {
		return fmt.Errorf("policy: value SetInputs: got %d obs values for batch %d", len(obs), vg.B)
	}
	fill(vg.obsT, obs)
	if err := G.Let(vg.obs, vg.obsT); err != nil {
		return fmt.Errorf("policy: value SetInputs: %w", err)
	}
	return nil
}

// Dtype is the graphs' element type.
func (ac *ActorCritic) Dtype() tensor.Dtype { return ac.cfg.dtype() }

// NewInput adds a (B,) vector input node named name to g in the actor-critic's dtype with a
// backing tensor, returning both; fill the tensor with Fill and Let it before each run.
func (ac *ActorCritic) NewInput(g *G.ExprGraph, name string, B int) (*G.Node, *tensor.Dense) {
	dt := ac.cfg.dtype()
	return G.NewVector(g, dt, G.WithShape(B), G.WithName(name)), denseFrom(dt, []int{B}, nil)
}

// Fill copies v into t, converting to t's element type.
func Fill(t *tensor.Dense, v []float64) { fill(t, v) }

// Scalar returns a constant node with value v in the actor-critic's dtype.
func (ac *ActorCritic) Scalar(v float64) *G.Node { return scalarLike(ac.cfg.dtype(), v) }

// ValueOf returns a node value read with gorgonia.Read as float64 elements appended to dst[:0].
func ValueOf(v G.Value, dst []float64) []float64 {
	dst = dst[:0]
	switch x := v.Data().(type) {
	case float32:
		return append(dst, float64(x))
	case float64:
		return append(dst, x)
	case []float32:
		for _, e := range x {
			dst = append(dst, float64(e))
		}
	case []float64:
		dst = append(dst, x...)
	}
	return dst
}
