package policy

import (
	"fmt"

	"klppo/kl/klgraph"
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
//	KL      = KL(π_old(·|s) ‖ π_θ(·|s)), exact, from klgraph.CategoricalKLNode(oldLogits, logits) or
//	          klgraph.DiagNormalKLNode(oldμ, oldLogσ, μ, logσ) with the old parameters as inputs.
type PolicyGraph struct {
	G          *G.ExprGraph
	B          int
	Learnables G.Nodes // in ActorCritic.PolicyParams order
	Head       *G.Node // (B, HeadWidth): the logits (categorical) or the means (Gaussian)
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
	pg.obsT = nn.NewDense(dt, []int{B, cfg.ObsDim}, nil)
	pg.actT = nn.NewDense(dt, []int{B, w}, nil)
	pg.distT = nn.NewDense(dt, []int{B, w}, nil)
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
	b := nn.NewBuilder(g, dt)
	if cfg.Discrete {
		logProbs, err := klgraph.LogSoftmaxNode(head)
		if err != nil {
			return nil, wrap("log-softmax", err)
		}
		pg.LogP = b.Sum(b.HadamardProd(logProbs, pg.act), 1) // the one-hot mask picks log π(a|s)
		if pg.Entropy, err = klgraph.CategoricalEntropyNode(head); err != nil {
			return nil, wrap("entropy", err)
		}
		if pg.KL, err = klgraph.CategoricalKLNode(pg.oldDist, head); err != nil {
			return nil, wrap("KL", err)
		}
	} else {
		ls, err := nn.Bind(g, "pi.log_std", ac.LogStd)
		if err != nil {
			return nil, wrap("log-std", err)
		}
		learn = append(learn, ls)
		pg.oldT = nn.NewDense(dt, []int{B, w}, nil)
		pg.old = G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("old_log_std"))
		zeros := G.NewMatrix(g, dt, G.WithShape(B, w), G.WithName("zeros_bd"), G.WithValue(nn.NewDense(dt, []int{B, w}, nil)))
		logStd, err := G.BroadcastAdd(zeros, ls, nil, []byte{0}) // log σ repeated for each row: (B, D)
		if err != nil {
			return nil, wrap("broadcast log-std", err)
		}
		// log N(a; μ, σ²) = Σ_d −½ z² − log σ − ½ log 2π,  z = (a − μ)/σ
		z := b.HadamardProd(b.Sub(pg.act, head), b.Exp(b.Neg(logStd)))
		pg.LogP = b.Sum(b.Sub(b.Sub(b.Mul(b.Scalar(-0.5), b.Square(z)), logStd), b.Scalar(halfLog2Pi)), 1)
		// H[N(μ, σ²)] = Σ_d log σ + ½(1 + log 2π)
		pg.Entropy = b.Sum(b.Add(logStd, b.Scalar(0.5+halfLog2Pi)), 1)
		if pg.KL, err = klgraph.DiagNormalKLNode(pg.oldDist, pg.old, head, logStd); err != nil {
			return nil, wrap("KL", err)
		}
	}
	if err := b.Err(); err != nil {
		return nil, wrap("log-density and entropy", err)
	}
	pg.Learnables, pg.Head = learn, head
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
	if err := nn.CopyInto(pg.obsT, obs); err != nil {
		return fmt.Errorf("policy: SetInputs: obs: %w", err)
	}
	if err := nn.CopyInto(pg.distT, oldDist); err != nil {
		return fmt.Errorf("policy: SetInputs: old dist: %w", err)
	}
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
		if err := nn.CopyInto(pg.actT, actions); err != nil {
			return fmt.Errorf("policy: SetInputs: actions: %w", err)
		}
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
	vg.obsT = nn.NewDense(dt, []int{B, cfg.ObsDim}, nil)
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
	if err := nn.CopyInto(vg.obsT, obs); err != nil {
		return fmt.Errorf("policy: value SetInputs: %w", err)
	}
	if err := G.Let(vg.obs, vg.obsT); err != nil {
		return fmt.Errorf("policy: value SetInputs: %w", err)
	}
	return nil
}

// Dtype is the graphs' element type.
func (ac *ActorCritic) Dtype() tensor.Dtype { return ac.cfg.dtype() }
