package ppo

import (
	"math"
	"math/rand/v2"
	"testing"

	"klppo/nn"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBuildPolicyLossMatchesSampleLoss builds the loss over free (B,) log-prob and KL nodes (as
// a token-level trainer would) and checks its value and its gradients with respect to logp and
// KL against the mean of the plain-Go sampleLoss, in the clipped and unclipped regions.
func TestBuildPolicyLossMatchesSampleLoss(t *testing.T) {
	const B = 8
	rng := rand.New(rand.NewPCG(5, 6))
	oldLogP := make([]float64, B)
	logp := make([]float64, B)
	adv := make([]float64, B)
	kl := make([]float64, B)
	for i := range B {
		oldLogP[i] = -1 - rng.Float64()
		logp[i] = oldLogP[i] + 0.6*(rng.Float64()-0.5) // ratios in [0.74, 1.35]: both regions
		adv[i] = rng.NormFloat64()
		kl[i] = 0.05 * rng.Float64()
	}
	const beta = 0.7
	for _, spec := range []string{"clip:0.1", "kl-fixed:0.7", "kl-adaptive:0.01", "none"} {
		t.Run(spec, func(t *testing.T) {
			pen, err := ParsePenalty(spec)
			if err != nil {
				t.Fatal(err)
			}
			g := G.NewGraph()
			vec := func(name string, v []float64) *G.Node {
				return G.NewVector(g, tensor.Float64, G.WithShape(B), G.WithName(name),
					G.WithValue(tensor.New(tensor.WithShape(B), tensor.WithBacking(append([]float64(nil), v...)))))
			}
			lp, klNode := vec("logp", logp), vec("kl", kl)
			b := nn.NewBuilder(g, tensor.Float64)
			in := PolicyLossInputs{LogP: lp, OldLogP: vec("old", oldLogP), Adv: vec("adv", adv), KL: klNode,
				Beta: G.NewScalar(g, tensor.Float64, G.WithName("beta"), G.WithValue(beta))}
			loss := BuildPolicyLoss(b, pen, in)
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			wrt := []*G.Node{lp}
			if pen.UsesBeta() {
				wrt = append(wrt, klNode) // without a KL term the loss does not depend on KL
			}
			if _, err := G.Grad(loss.Loss, wrt...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			got, err := nn.Scalar(loss.Loss.Value())
			if err != nil {
				t.Fatal(err)
			}
			gLogP, err := lp.Grad()
			if err != nil {
				t.Fatal(err)
			}
			gKL := make([]float64, B)
			if pen.UsesBeta() {
				v, err := klNode.Grad()
				if err != nil {
					t.Fatal(err)
				}
				gKL = v.Data().([]float64)
			}
			want := 0.0
			clipped := 0
			for i := range B {
				l, dl, dk := sampleLoss(pen, logp[i], oldLogP[i], adv[i], kl[i], beta)
				want += l / B
				if dl == 0 {
					clipped++
				}
				if g := gLogP.Data().([]float64)[i]; math.Abs(g-dl/B) > 1e-12 {
					t.Errorf("sample %d: ∂L/∂logp graph %v, sampleLoss %v", i, g, dl/B)
				}
				if g := gKL[i]; math.Abs(g-dk/B) > 1e-12 {
					t.Errorf("sample %d: ∂L/∂KL graph %v, sampleLoss %v", i, g, dk/B)
				}
			}
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("loss: graph %v, mean sampleLoss %v", got, want)
			}
			if pen.Kind == PenaltyClip && (clipped == 0 || clipped == B) {
				t.Fatalf("%d of %d samples clipped: the case does not cover both regions", clipped, B)
			}
		})
	}
}

// TestSampleLossByHand checks sampleLoss against values worked out by hand.
func TestSampleLossByHand(t *testing.T) {
	clip, _ := ParsePenalty("clip:0.2")
	fixed, _ := ParsePenalty("kl-fixed:2")
	none, _ := ParsePenalty("none")
	ln := math.Log
	for _, tc := range []struct {
		name                     string
		pen                      Penalty
		logp, old, adv, kl, beta float64
		loss, dLogP, dKL         float64
	}{
		{"clip, r=1.5, A=2: clipped at 1.2", clip, ln(1.5), 0, 2, 0, 0, -2.4, 0, 0},
		{"clip, r=1.5, A=−2: not clipped", clip, ln(1.5), 0, -2, 0, 0, 3, 3, 0},
		{"clip, r=0.5, A=−1: clipped at 0.8", clip, ln(0.5), 0, -1, 0, 0, 0.8, 0, 0},
		{"clip, r=1.1, A=1: inside", clip, ln(1.1), 0, 1, 0, 0, -1.1, -1.1, 0},
		{"kl-fixed, r=2, A=1, KL=0.5, β=2", fixed, ln(2), 0, 1, 0.5, 2, -2 + 1, -2, 2},
		{"none, r=0.5, A=4", none, 0, ln(2), 4, 9, 9, -2, -2, 0},
	} {
		l, dl, dk := sampleLoss(tc.pen, tc.logp, tc.old, tc.adv, tc.kl, tc.beta)
		if math.Abs(l-tc.loss) > 1e-12 || math.Abs(dl-tc.dLogP) > 1e-12 || dk != tc.dKL {
			t.Errorf("%s: sampleLoss = (%v, %v, %v), want (%v, %v, %v)", tc.name, l, dl, dk, tc.loss, tc.dLogP, tc.dKL)
		}
	}
}

func TestClipFraction(t *testing.T) {
	lr := []float64{0, math.Log(1.25), math.Log(0.75), math.Log(1.1)}
	if got := ClipFraction(lr, 0.2); got != 0.5 {
		t.Fatalf("ClipFraction = %v, want 0.5", got)
	}
	if got := ClipFraction(nil, 0.2); !math.IsNaN(got) {
		t.Fatalf("ClipFraction(nil) = %v, want NaN", got)
	}
}

func TestBoundedBeta(t *testing.T) {
	rule := BoundedBeta{Rule: AdaptiveBeta{Target: 0.01}, Min: 0.1, Max: 4}
	for _, tc := range []struct{ beta, d, want float64 }{
		{0.15, 0.0001, 0.1}, // halved to 0.075, floored at 0.1
		{3, 1, 4},           // doubled to 6, capped at 4
		{1, 0.01, 1},        // on target
	} {
		if got := rule.Next(tc.beta, tc.d, 1); got != tc.want {
			t.Errorf("Next(%v, %v) = %v, want %v", tc.beta, tc.d, got, tc.want)
		}
	}
	if got := (ProportionalBeta{Target: 0.01, Horizon: 100}).Next(1, math.Inf(1), 10); got != 1 {
		t.Errorf("ProportionalBeta with d = +Inf moved β to %v", got)
	}
	p, _ := ParsePenalty("kl-fixed:3")
	if c := mustController(t, p, 1, 0, 1); c != (FixedBeta{}) {
		t.Errorf("kl-fixed controller is %T, want FixedBeta (β outside [beta_min, beta_max] stays as given)", c)
	}
}

// sampleLoss is BuildPolicyLoss for one sample in plain Go, written from the formulas (the
// reference of the graph tests): the mean of loss over a minibatch
// is the graph's Loss, and dLogP and dKL are the derivatives of loss with respect to logp and
// kl. With r = exp(logp − oldLogp):
//
//	clip:  loss = −min(r·A, clip(r, 1−ε, 1+ε)·A);  dLogP = −r·A when the unclipped term is the
//	       minimum (ties included), else 0;  dKL = 0
//	kl-*:  loss = −r·A + β·kl;  dLogP = −r·A;  dKL = β
//	none:  loss = −r·A;  dLogP = −r·A;  dKL = 0
func sampleLoss(p Penalty, logp, oldLogp, adv, kl, beta float64) (loss, dLogP, dKL float64) {
	r := math.Exp(logp - oldLogp)
	ra := r * adv
	switch {
	case p.Kind == PenaltyClip:
		ca := math.Max(1-p.Value, math.Min(1+p.Value, r)) * adv
		if ra <= ca {
			return -ra, -ra, 0
		}
		return -ca, 0, 0
	case p.UsesBeta():
		return -ra + beta*kl, -ra, beta
	default:
		return -ra, -ra, 0
	}
}
