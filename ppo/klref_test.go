package ppo

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"klppo/kl"
)

func mustKLRef(t *testing.T, name string, beta float64) KLRef {
	t.Helper()
	c, err := ParseKLRef(name, beta)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != name {
		t.Fatalf("ParseKLRef(%q).Name() = %q", name, c.Name())
	}
	return c
}

func TestParseKLRefErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		beta float64
		want string
	}{
		{"k4-loss", 0.1, "k4"},
		{"k1-reward-is", 0.1, "importance weighting"},
		{"exact-loss-is", 0.1, "importance weighting"},
		{"k1-penalty", 0.1, "penalty"},
		{"k1", 0.1, "ESTIMATOR-PLACEMENT"},
		{"k1-loss", -1, "beta"},
		{"k1-loss", math.NaN(), "beta"},
	} {
		if _, err := ParseKLRef(tc.name, tc.beta); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseKLRef(%q, %g) = %v, want an error mentioning %q", tc.name, tc.beta, err, tc.want)
		}
	}
}

// TestKLRefTokenDerivatives checks each sampled loss term's dLogPi against a central difference
// of its value in LogPi (LogOld held fixed, as sg(π_old)), and the reward placements' values.
func TestKLRefTokenDerivatives(t *testing.T) {
	const beta, h = 0.3, 1e-6
	tok := KLRefToken{LogPi: -1.1, LogRef: -2.0, LogOld: -1.1}
	for _, name := range []string{"k1-loss", "k2-loss", "k3-loss", "k1-loss-is", "k2-loss-is", "k3-loss-is"} {
		c := mustKLRef(t, name, beta)
		v, d, err := c.LossTerm(tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		up, dn := tok, tok
		up.LogPi += h
		dn.LogPi -= h
		vu, _, err1 := c.LossTerm(up, nil)
		vd, _, err2 := c.LossTerm(dn, nil)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if fd := (vu - vd) / (2 * h); math.Abs(d-fd) > 1e-7 {
			t.Errorf("%s: dLogPi = %.10g, central difference %.10g", name, d, fd)
		}
		k, _ := c.Estimator.RLHF(tok.LogPi, tok.LogRef)
		if math.Abs(v-beta*k) > 1e-15 { // on-policy: w = 1 in value
			t.Errorf("%s: value %g, want β·k = %g", name, v, beta*k)
		}
		if p, err := c.RewardPenalty(tok); err != nil || p != 0 {
			t.Errorf("%s: RewardPenalty = %g, %v; want 0 for a loss placement", name, p, err)
		}
	}
	l := tok.LogPi - tok.LogRef
	for name, want := range map[string]float64{"k1-reward": l, "k2-reward": l * l / 2, "k3-reward": math.Exp(-l) - 1 + l} {
		c := mustKLRef(t, name, beta)
		p, err := c.RewardPenalty(tok)
		if err != nil || math.Abs(p-beta*want) > 1e-15 {
			t.Errorf("%s: RewardPenalty = %g, %v; want %g", name, p, err, beta*want)
		}
		if v, d, err := c.LossTerm(tok, nil); err != nil || v != 0 || d != 0 {
			t.Errorf("%s: LossTerm = %g, %g, %v; want zeros for a reward placement", name, v, d, err)
		}
	}
}

// TestExactLossTerm checks the exact placement: value = β·KL over the row and dRow = ∂value/∂logits
// by central differences through log-softmax.
func TestExactLossTerm(t *testing.T) {
	const beta, h = 0.5, 1e-6
	z := []float64{0.3, -1, 2, 0.1}
	ref := []float64{-0.5, 0.4, 0.2, 1}
	row := func(z []float64) []float64 {
		lp, err := kl.LogSoftmax(z)
		if err != nil {
			t.Fatal(err)
		}
		return lp
	}
	c := mustKLRef(t, "exact-loss", beta)
	tok := KLRefToken{LogPiRow: row(z), LogRefRow: row(ref)}
	dRow := make([]float64, len(z))
	v, d, err := c.LossTerm(tok, dRow)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kl.KLLogits(z, ref)
	if err != nil {
		t.Fatal(err)
	}
	if d != 0 || math.Abs(v-beta*want) > 1e-14 {
		t.Errorf("exact-loss: value %g dLogPi %g, want %g and 0", v, d, beta*want)
	}
	for i := range z {
		zu, zd := append([]float64{}, z...), append([]float64{}, z...)
		zu[i] += h
		zd[i] -= h
		ku, err1 := kl.KLLogits(zu, ref)
		kd, err2 := kl.KLLogits(zd, ref)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if fd := beta * (ku - kd) / (2 * h); math.Abs(dRow[i]-fd) > 1e-8 {
			t.Errorf("exact-loss dRow[%d] = %.10g, central difference %.10g", i, dRow[i], fd)
		}
	}
	if _, _, err := c.LossTerm(tok, make([]float64, 2)); err == nil {
		t.Error("exact-loss with a short dRow: want an error")
	}
	r := mustKLRef(t, "exact-reward", beta)
	if p, err := r.RewardPenalty(tok); err != nil || math.Abs(p-beta*want) > 1e-14 {
		t.Errorf("exact-reward: RewardPenalty %g, %v; want %g", p, err, beta*want)
	}
	if _, err := mustKLRef(t, "k1-loss", beta).KL(KLRefToken{LogPi: math.NaN()}); err == nil {
		t.Error("NaN log_pi: want an error")
	}
}

// TestKLRefExpectedGradients enumerates a 4-armed softmax policy (x ~ π, ∇log π(x) = e_x − π)
// and checks the expected-gradient table of KLRef's doc comment.
func TestKLRefExpectedGradients(t *testing.T) {
	const beta = 0.7
	theta, thetaRef := []float64{0.5, -0.3, 1.2, 0}, []float64{-1, 0.8, 0.1, 0.4}
	lp, err1 := kl.LogSoftmax(theta)
	lr, err2 := kl.LogSoftmax(thetaRef)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	n := len(theta)
	pi, piRef := make([]float64, n), make([]float64, n)
	var klRev float64
	for i := range pi {
		pi[i], piRef[i] = math.Exp(lp[i]), math.Exp(lr[i])
		klRev += pi[i] * (lp[i] - lr[i])
	}
	gradRev, gradFwd := make([]float64, n), make([]float64, n)
	for i := range pi {
		gradRev[i] = pi[i] * (lp[i] - lr[i] - klRev)
		gradFwd[i] = pi[i] - piRef[i]
	}
	// expected returns E_x~π[∇ of the maximised KL surrogate] (no task reward).
	expected := func(c KLRef) []float64 {
		g := make([]float64, n)
		dRow := make([]float64, n)
		for x := range pi {
			tok := KLRefToken{LogPi: lp[x], LogRef: lr[x], LogOld: lp[x], LogPiRow: lp, LogRefRow: lr}
			pen, err := c.RewardPenalty(tok)
			if err != nil {
				t.Fatal(err)
			}
			_, d, err := c.LossTerm(tok, dRow)
			if err != nil {
				t.Fatal(err)
			}
			for i := range g {
				score := -pi[i]
				if i == x {
					score++
				}
				g[i] += pi[x] * ((-pen-d)*score - dRow[i])
			}
		}
		return g
	}
	for name, want := range map[string]func(i int) float64{
		"k1-reward":  func(i int) float64 { return -beta * gradRev[i] },
		"k2-loss":    func(i int) float64 { return -beta * gradRev[i] },
		"k3-loss-is": func(i int) float64 { return -beta * gradRev[i] },
		"exact-loss": func(i int) float64 { return -beta * gradRev[i] },
		"k3-loss":    func(i int) float64 { return -beta * gradFwd[i] },
		"k1-loss":    func(i int) float64 { return 0 },
		"k3-reward":  func(i int) float64 { return -beta * (gradRev[i] - gradFwd[i]) },
	} {
		g := expected(mustKLRef(t, name, beta))
		for i := range g {
			if math.Abs(g[i]-want(i)) > 1e-12 {
				t.Errorf("%s: expected gradient %v, component %d want %g", name, g, i, want(i))
				break
			}
		}
	}
}

// A token-level RLHF trainer's use of KLRef for one generated token: k1 in the reward shapes
// the token's reward; k3 in the loss (GRPO) adds a term and a gradient coefficient on log π(x).
func ExampleKLRef() {
	tok := KLRefToken{LogPi: -1.2, LogRef: -1.5, LogOld: -1.2} // log π(x|s), log π_ref(x|s), log π_old(x|s)
	inReward, err := ParseKLRef("k1-reward", 0.05)
	if err != nil {
		fmt.Println(err)
		return
	}
	pen, err := inReward.RewardPenalty(tok)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: reward r_t − %.4f\n", inReward.Name(), pen)
	for _, name := range []string{"k3-loss", "k3-loss-is"} {
		inLoss, err := ParseKLRef(name, 0.05)
		if err != nil {
			fmt.Println(err)
			return
		}
		v, d, err := inLoss.LossTerm(tok, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: loss + %.5f, ∂/∂log π(x) = %.5f\n", name, v, d)
	}
	// Output:
	// k1-reward: reward r_t − 0.0150
	// k3-loss: loss + 0.00204, ∂/∂log π(x) = 0.01296
	// k3-loss-is: loss + 0.00204, ∂/∂log π(x) = 0.01500
}
