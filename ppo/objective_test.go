package ppo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	klc "klppo/kl"
	"klppo/nn"
	"klppo/policy"
)

// objCase is one minibatch for the objective tests.
type objCase struct {
	obs, act, oldDist, oldLogStd, oldLogP, adv []float64
}

func newTestAC(t *testing.T, discrete bool) *policy.ActorCritic {
	t.Helper()
	cfg := policy.Config{ObsDim: 3, Hidden: []int{5, 4}, Activation: "tanh", DType: "float64"}
	if discrete {
		cfg.Discrete, cfg.NumActions = true, 3
	} else {
		cfg.ActDim, cfg.InitLogStd = 2, -0.3
	}
	ac, err := policy.New(rand.New(rand.NewPCG(7, 8)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Bigger head weights than the 0.01-gain default so that the policy is far from uniform.
	for _, p := range ac.PolicyParams() {
		d := p.Data().([]float64)
		for i := range d {
			d[i] += 0.3 * math.Sin(float64(i)+1)
		}
	}
	return ac
}

// refPolicy returns log π(a|s), the distribution parameters and the entropies in plain Go.
func refPolicy(ac *policy.ActorCritic, obs, act []float64, B int) (logp, dist, ent []float64) {
	cfg := ac.Config()
	a := policy.NewActor(ac)
	d, _ := a.Dist(obs, B)
	dist = append([]float64(nil), d...)
	w := cfg.HeadWidth()
	lsm := make([]float64, w)
	for r := 0; r < B; r++ {
		if cfg.Discrete {
			if err := klc.LogSoftmaxInto(lsm, dist[r*w:(r+1)*w]); err != nil {
				panic(err)
			}
			logp = append(logp, lsm[int(act[r])])
			h := 0.0
			for _, l := range lsm {
				h -= math.Exp(l) * l
			}
			ent = append(ent, h)
		} else {
			ls := ac.LogStdValues()
			lp, h := 0.0, 0.0
			for j := 0; j < w; j++ {
				z := (act[r*w+j] - dist[r*w+j]) / math.Exp(ls[j])
				lp += -0.5*z*z - ls[j] - 0.5*math.Log(2*math.Pi)
				h += ls[j] + 0.5 + 0.5*math.Log(2*math.Pi)
			}
			logp = append(logp, lp)
			ent = append(ent, h)
		}
	}
	return
}

// refCost is the policy cost written directly from the formulas.
func refCost(ac *policy.ActorCritic, c objCase, B int, pen Penalty, beta, entCoef float64) (cost, surr, kl float64) {
	cfg := ac.Config()
	logp, dist, ent := refPolicy(ac, c.obs, c.act, B)
	w := cfg.HeadWidth()
	var h float64
	for r := 0; r < B; r++ {
		ratio := math.Exp(logp[r] - c.oldLogP[r])
		A := c.adv[r]
		if pen.Kind == PenaltyClip {
			cr := math.Max(1-pen.Value, math.Min(1+pen.Value, ratio))
			surr += math.Max(-A*ratio, -A*cr)
		} else {
			surr += -A * ratio
		}
		var d float64
		var err error
		if cfg.Discrete {
			d, err = klc.KLLogits(c.oldDist[r*w:(r+1)*w], dist[r*w:(r+1)*w])
		} else {
			d, err = klc.DiagNormal{Mu: c.oldDist[r*w : (r+1)*w], LogSigma: c.oldLogStd}.KL(klc.DiagNormal{Mu: dist[r*w : (r+1)*w], LogSigma: ac.LogStdValues()})
		}
		if err != nil {
			panic(err)
		}
		kl += d
		h += ent[r]
	}
	n := float64(B)
	surr, kl, h = surr/n, kl/n, h/n
	cost = surr - entCoef*h
	if pen.UsesBeta() {
		cost += beta * kl
	}
	return cost, surr, kl
}

// makeCase builds a minibatch whose log-ratios are logShift (so r = e^logShift) and whose
// advantages have sign advSign (0: mixed signs).
func makeCase(ac *policy.ActorCritic, B int, logShift, advSign float64, rng *rand.Rand) objCase {
	cfg := ac.Config()
	var c objCase
	w := cfg.HeadWidth()
	for r := 0; r < B; r++ {
		for j := 0; j < cfg.ObsDim; j++ {
			c.obs = append(c.obs, rng.NormFloat64())
		}
		if cfg.Discrete {
			c.act = append(c.act, float64(rng.IntN(w)))
		} else {
			for j := 0; j < w; j++ {
				c.act = append(c.act, rng.NormFloat64())
			}
		}
		A := rng.NormFloat64()
		if advSign != 0 {
			A = advSign * (0.5 + math.Abs(A))
		}
		c.adv = append(c.adv, A)
	}
	logp, dist, _ := refPolicy(ac, c.obs, c.act, B)
	for r := 0; r < B; r++ {
		c.oldLogP = append(c.oldLogP, logp[r]-logShift)
	}
	// The old distribution differs from the current one so that the KL term is not at its minimum.
	for k, d := range dist {
		c.oldDist = append(c.oldDist, d+0.4*math.Cos(float64(3*k)))
	}
	if !cfg.Discrete {
		c.oldLogStd = []float64{-0.1, -0.5}
	}
	return c
}

func TestPolicyObjectiveLossAndGradient(t *testing.T) {
	const B = 6
	for _, tc := range []struct {
		name     string
		discrete bool
		spec     string
		beta     float64
		entCoef  float64
		logShift float64 // log r of every sample
		advSign  float64
		zeroGrad bool // the whole batch is in the clipped region: no gradient
	}{
		{"clip unclipped region", true, "clip:0.2", 0, 0.01, 0, 0, false},
		{"clip clipped region (r>1+ε, A>0)", true, "clip:0.2", 0, 0, 0.5, 1, true},
		{"clip clipped region (r<1−ε, A<0)", true, "clip:0.2", 0, 0, -0.5, -1, true},
		{"clip r>1+ε with A<0 is not clipped", true, "clip:0.2", 0, 0, 0.5, -1, false},
		{"kl-fixed", true, "kl-fixed:0.7", 0.7, 0.01, 0.1, 0, false},
		{"kl-adaptive", true, "kl-adaptive:0.01", 2.5, 0, -0.05, 0, false},
		{"kl-prop", true, "kl-prop:0.01", 0.3, 0.01, 0, 0, false},
		{"none", true, "none", 0, 0.01, 0.3, 0, false},
		{"gaussian clip unclipped", false, "clip:0.2", 0, 0.01, 0.05, 0, false},
		{"gaussian clip clipped", false, "clip:0.2", 0, 0, 0.5, 1, true},
		{"gaussian kl-fixed", false, "kl-fixed:1.3", 1.3, 0.01, 0.1, 0, false},
		{"gaussian none", false, "none", 0, 0, 0.2, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ac := newTestAC(t, tc.discrete)
			pen, err := ParsePenalty(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			o, err := newPolicyObjective(ac, B, pen, tc.entCoef, KLRef{}, false, false)
			if err != nil {
				t.Fatal(err)
			}
			c := makeCase(ac, B, tc.logShift, tc.advSign, rand.New(rand.NewPCG(3, 4)))
			run := func() []float64 {
				if err := o.setInputs(policyInputs{obs: c.obs, actions: c.act, oldDist: c.oldDist, oldLogStd: c.oldLogStd, oldLogP: c.oldLogP, adv: c.adv, beta: tc.beta}); err != nil {
					t.Fatal(err)
				}
				grads, err := o.trainer.Run()
				if err != nil {
					t.Fatal(err)
				}
				var flat []float64
				for _, g := range grads {
					flat = append(flat, g.Data().([]float64)...)
				}
				return flat
			}
			grad := run()
			wantCost, wantSurr, wantKL := refCost(ac, c, B, pen, tc.beta, tc.entCoef)
			surr, _ := nn.Scalar(o.surr.v)
			ent, _ := nn.Scalar(o.ent.v)
			gotCost := surr - tc.entCoef*ent
			kl := wantKL // the clip and none objectives have no KL node
			if pen.UsesBeta() {
				kl, _ = nn.Scalar(o.klMean.v)
				gotCost += tc.beta * kl
			} else if o.klMean.v != nil {
				t.Fatalf("%s builds a mean-KL node it never uses", pen)
			}
			if math.Abs(surr-wantSurr) > 1e-10 || math.Abs(kl-wantKL) > 1e-10 || math.Abs(gotCost-wantCost) > 1e-10 {
				t.Fatalf("graph surr %v KL %v cost %v, reference %v %v %v", surr, kl, gotCost, wantSurr, wantKL, wantCost)
			}
			// Central finite differences of the reference cost over every parameter.
			maxAbs := checkGradient(t, ac, grad, func() float64 {
				cost, _, _ := refCost(ac, c, B, pen, tc.beta, tc.entCoef)
				return cost
			})
			if tc.zeroGrad && maxAbs != 0 {
				t.Fatalf("clipped region: max |gradient| = %v, want 0", maxAbs)
			}
			if !tc.zeroGrad && maxAbs < 1e-4 {
				t.Fatalf("max |gradient| = %v: the objective does not move the policy", maxAbs)
			}
		})
	}
}

func TestValueObjectiveLossAndGradient(t *testing.T) {
	const B = 5
	for _, tc := range []struct {
		name  string
		clipV bool
		shift float64 // V_old = V − shift
	}{
		{"unclipped loss", false, 0.5},
		{"clipped, inside ±c", true, 0.05},
		{"clipped, outside ±c", true, 0.5},
		{"clipped, outside −c", true, -0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ac := newTestAC(t, true)
			const vfClip, vfCoef = 0.2, 0.5
			o, err := newValueObjective(ac, B, tc.clipV, vfClip, vfCoef)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			obs := make([]float64, B*3)
			for i := range obs {
				obs[i] = rng.NormFloat64()
			}
			actor := policy.NewActor(ac)
			v0, _ := actor.Values(obs, B)
			oldV, ret := make([]float64, B), make([]float64, B)
			for i := range ret {
				oldV[i] = v0[i] - tc.shift
				ret[i] = v0[i] + rng.NormFloat64()
			}
			ref := func() float64 {
				v, _ := actor.Values(obs, B)
				s := 0.0
				for i := range v {
					l := (v[i] - ret[i]) * (v[i] - ret[i])
					if tc.clipV {
						vc := oldV[i] + math.Max(-vfClip, math.Min(vfClip, v[i]-oldV[i]))
						l = math.Max(l, (vc-ret[i])*(vc-ret[i]))
					}
					s += l
				}
				return 0.5 * s / B
			}
			if err := o.setInputs(obs, ret, oldV); err != nil {
				t.Fatal(err)
			}
			grads, err := o.trainer.Run()
			if err != nil {
				t.Fatal(err)
			}
			loss, _ := nn.Scalar(o.loss.v)
			if want := ref(); math.Abs(loss-want) > 1e-10 {
				t.Fatalf("value loss %v, reference %v", loss, want)
			}
			const h = 1e-6
			for pi, p := range ac.ValueParams() {
				d := p.Data().([]float64)
				g := grads[pi].Data().([]float64)
				for i := range d {
					old := d[i]
					d[i] = old + h
					lp := ref()
					d[i] = old - h
					lm := ref()
					d[i] = old
					fd := vfCoef * (lp - lm) / (2 * h)
					if math.Abs(g[i]-fd) > 1e-6*(1+math.Abs(fd)) {
						t.Fatalf("param %d element %d: graph %v, finite difference %v", pi, i, g[i], fd)
					}
				}
			}
		})
	}
}

// refKLTerm is the loss-side KL to π_ref of c written directly from the formulas of KLRef,
// with l = log π_θ(a|s) − log π_ref(a|s): β·avg(k) with k = l (k1), ½l² (k2), e^(−l) − 1 + l
// (k3), (π_θ/π_old)·k3 (IS) or the exact KL(π_θ(·|s)‖π_ref(·|s)); avg is the mean, or Σ w·k.
func refKLTerm(ac *policy.ActorCritic, c objCase, refLogits []float64, B int, klr KLRef, beta float64, weights []float64) float64 {
	logp, dist, _ := refPolicy(ac, c.obs, c.act, B)
	w := ac.Config().HeadWidth()
	lsm := make([]float64, w)
	var sum float64
	for r := 0; r < B; r++ {
		if err := klc.LogSoftmaxInto(lsm, refLogits[r*w:(r+1)*w]); err != nil {
			panic(err)
		}
		l := logp[r] - lsm[int(c.act[r])]
		var k float64
		switch klr.Estimator {
		case klc.K1:
			k = l
		case klc.K2:
			k = 0.5 * l * l
		case klc.K3:
			k = math.Exp(-l) - 1 + l
		case klc.Exact:
			d, err := klc.KLLogits(dist[r*w:(r+1)*w], refLogits[r*w:(r+1)*w])
			if err != nil {
				panic(err)
			}
			k = d
		}
		if klr.ImportanceWeighted {
			k *= math.Exp(logp[r] - c.oldLogP[r])
		}
		if weights != nil {
			sum += weights[r] * k
		} else {
			sum += k / float64(B)
		}
	}
	return beta * sum
}

// TestKLRefLossValueAndGradient: every loss-side placement of RLHF's KL to the reference (k1,
// k2, k3, IS-weighted k3, exact), plain and weighted, has the value of the formula and the
// gradient of its central finite differences. The advantages are 0, so the surrogate adds
// nothing and the policy's gradient is the KL term's alone.
func TestKLRefLossValueAndGradient(t *testing.T) {
	const B, beta = 6, 0.7
	for _, name := range []string{"k1-loss", "k2-loss", "k3-loss", "k3-loss-is", "exact-loss"} {
		for _, weighted := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s weighted=%v", name, weighted), func(t *testing.T) {
				klr, err := ParseKLRef(name, beta)
				if err != nil {
					t.Fatal(err)
				}
				ac := newTestAC(t, true)
				pen := Penalty{Kind: PenaltyNone}
				o, err := newPolicyObjective(ac, B, pen, 0, klr, weighted, false)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(5, 6))
				c := makeCase(ac, B, 0.1, 0, rng)
				clear(c.adv)
				refLogits := make([]float64, len(c.oldDist))
				for i := range refLogits {
					refLogits[i] = 1.5 * rng.NormFloat64()
				}
				var weights []float64
				if weighted {
					for r := 0; r < B; r++ {
						weights = append(weights, 0.05+rng.Float64())
					}
				}
				if err := o.setInputs(policyInputs{obs: c.obs, actions: c.act, oldDist: c.oldDist, oldLogP: c.oldLogP,
					adv: c.adv, refLogits: refLogits, klRefBeta: beta, weights: weights}); err != nil {
					t.Fatal(err)
				}
				grads, err := o.trainer.Run()
				if err != nil {
					t.Fatal(err)
				}
				var grad []float64
				for _, g := range grads {
					grad = append(grad, g.Data().([]float64)...)
				}
				got, err := nn.Scalar(o.klRef.v)
				if err != nil {
					t.Fatal(err)
				}
				want := refKLTerm(ac, c, refLogits, B, klr, beta, weights)
				if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) || want == 0 {
					t.Fatalf("KL term: graph %.15g, formula %.15g", got, want)
				}
				maxAbs := checkGradient(t, ac, grad, func() float64 { return refKLTerm(ac, c, refLogits, B, klr, beta, weights) })
				if maxAbs < 1e-4 {
					t.Fatalf("max |g| = %v: the KL term does not move the policy", maxAbs)
				}
			})
		}
	}
}

// TestSequenceLevelLossAndGradient: with a segment matrix, every token carries its sequence's
// ratio r_s = exp Σ_{j∈s}(log π_θ − log π_old)_j, clipped as one number: the loss is
// −Σ_i w_i·min(r_s(i)·A_i, clip(r_s(i), 1±ε)·A_i) and its gradient matches central differences,
// including a sequence pushed past 1+ε with A > 0 (no gradient through it) and a padding row
// (no segment, weight 0).
func TestSequenceLevelLossAndGradient(t *testing.T) {
	const B, eps = 7, 0.2
	seqs := [][2]int{{0, 3}, {3, 4}, {4, 6}} // rows 6 is padding
	ac := newTestAC(t, true)
	pen := Penalty{Kind: PenaltyClip, Value: eps}
	o, err := newPolicyObjective(ac, B, pen, 0, KLRef{}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	c := makeCase(ac, B, 0, 0, rng)
	logp, _, _ := refPolicy(ac, c.obs, c.act, B)
	// Sequence 0: log-ratios summing to 0.1 (inside the clip range); sequence 1: 0.5 with A > 0
	// (clipped: no gradient); sequence 2: −0.3 with A < 0 (clipped); row 6: padding.
	shifts := []float64{0.05, 0.1, -0.05, 0.5, -0.1, -0.2, 0}
	adv := []float64{0.7, 0.7, 0.7, 1.3, -0.4, -0.4, 0.9}
	weights := []float64{0.1, 0.1, 0.1, 0.3, 0.15, 0.15, 0}
	segments := make([]float64, B*B)
	for _, s := range seqs {
		for i := s[0]; i < s[1]; i++ {
			for j := s[0]; j < s[1]; j++ {
				segments[i*B+j] = 1
			}
		}
	}
	for i := range c.oldLogP {
		c.oldLogP[i] = logp[i] - shifts[i]
	}
	copy(c.adv, adv)
	ref := func() float64 {
		lp, _, _ := refPolicy(ac, c.obs, c.act, B)
		var loss float64
		for i := 0; i < B; i++ {
			var lr float64
			for j := 0; j < B; j++ {
				lr += segments[i*B+j] * (lp[j] - c.oldLogP[j])
			}
			r := math.Exp(lr)
			cr := math.Max(1-eps, math.Min(1+eps, r))
			loss -= weights[i] * math.Min(r*c.adv[i], cr*c.adv[i])
		}
		return loss
	}
	if err := o.setInputs(policyInputs{obs: c.obs, actions: c.act, oldDist: c.oldDist, oldLogP: c.oldLogP, adv: c.adv,
		weights: weights, segments: segments}); err != nil {
		t.Fatal(err)
	}
	grads, err := o.trainer.Run()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := nn.Scalar(o.surr.v)
	if want := ref(); math.Abs(got-want) > 1e-12 {
		t.Fatalf("sequence-level loss: graph %.15g, formula %.15g", got, want)
	}
	lr := nn.Float64s(o.logRatio.v, nil)
	for i, want := range []float64{0.1, 0.1, 0.1, 0.5, -0.3, -0.3, 0} {
		if math.Abs(lr[i]-want) > 1e-12 {
			t.Fatalf("row %d: log-ratio %v, want its sequence's %v", i, lr[i], want)
		}
	}
	var grad []float64
	for _, g := range grads {
		grad = append(grad, g.Data().([]float64)...)
	}
	if maxAbs := checkGradient(t, ac, grad, ref); maxAbs < 1e-4 {
		t.Fatalf("max |gradient| = %v: the unclipped sequence does not move the policy", maxAbs)
	}
}

// checkGradient compares grad, the graph's gradient over ac's policy parameters in order, with
// the central finite differences of f (relative tolerance 1e-6) and returns the largest
// |gradient|.
func checkGradient(t *testing.T, ac *policy.ActorCritic, grad []float64, f func() float64) float64 {
	t.Helper()
	const h = 1e-6
	k, maxAbs := 0, 0.0
	for _, p := range ac.PolicyParams() {
		d := p.Data().([]float64)
		for i := range d {
			old := d[i]
			d[i] = old + h
			fp := f()
			d[i] = old - h
			fm := f()
			d[i] = old
			fd := (fp - fm) / (2 * h)
			if math.Abs(grad[k]-fd) > 1e-6*(1+math.Abs(fd)) {
				t.Fatalf("gradient element %d: graph %v, finite difference %v", k, grad[k], fd)
			}
			maxAbs = math.Max(maxAbs, math.Abs(grad[k]))
			k++
		}
	}
	if k != len(grad) {
		t.Fatalf("%d gradient values, %d parameters", len(grad), k)
	}
	return maxAbs
}
