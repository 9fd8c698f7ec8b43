package explain

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"klppo/kl"
	"klppo/ppo"
)

// The zeros page's slope of KL(P‖Q̃ε) against ln(1/ε) is the derivative of the divergence kl
// computes (central differences), and it tends to m — the slope, not the value, is m·ln(1/ε).
func TestZerosSlope(t *testing.T) {
	for _, m := range []float64{0, 0.1, 0.5} {
		P := zerosP(m)
		klAt := func(lnInvEps float64) float64 {
			q, err := kl.Smooth(zerosQ, math.Exp(-lnInvEps))
			if err != nil {
				t.Fatal(err)
			}
			d, err := kl.KL(P, q)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		for _, eps := range []float64{0.2, 0.01, 1e-6} {
			u, h := -math.Log(eps), 1e-4
			fd := (klAt(u+h) - klAt(u-h)) / (2 * h)
			if got := smoothSlope(P, zerosQ, eps); math.Abs(got-fd) > 1e-6 {
				t.Errorf("m %v ε %v: slope %v, central difference %v", m, eps, got, fd)
			}
		}
		if got := smoothSlope(P, zerosQ, 1e-9); math.Abs(got-m) > 1e-7 {
			t.Errorf("m %v: slope at ε = 1e-9 is %v, want → m", m, got)
		}
		// The value itself is not m·ln(1/ε): at ε = 1e-6 with m = 0.1 it differs by a constant
		// that is not small.
		if m == 0.1 {
			if d := klAt(-math.Log(1e-6)) - m*math.Log(1e6); math.Abs(d) < 0.1 {
				t.Errorf("m 0.1: KL − m·ln(1/ε) = %v; the page would be right to say 'mostly m·ln(1/ε)'", d)
			}
		}
	}
}

// P(B > A) against hand values and against a numerical integral of the posteriors' densities.
func TestProbGreater(t *testing.T) {
	// Beta(2, 1) has density 2x, Beta(1, 1) CDF x: P = ∫ 2x·x dx = 2/3.
	if got := probGreater(kl.Beta{Alpha: 2, Beta: 1}, kl.Beta{Alpha: 1, Beta: 1}); math.Abs(got-2.0/3) > 1e-14 {
		t.Errorf("P(Beta(2,1) > Beta(1,1)) = %v, want 2/3", got)
	}
	if got := probGreater(kl.Beta{Alpha: 1, Beta: 1}, kl.Beta{Alpha: 2, Beta: 1}); math.Abs(got-1.0/3) > 1e-14 {
		t.Errorf("P(Beta(1,1) > Beta(2,1)) = %v, want 1/3", got)
	}
	if got := probGreater(kl.Beta{Alpha: 30, Beta: 270}, kl.Beta{Alpha: 30, Beta: 270}); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("identical posteriors: %v, want 1/2", got)
	}
	// Posteriors like the page's: ∫ f_x(u)·F_y(u) du with the midpoint rule on 200 000 cells.
	for _, c := range [][4]float64{{121, 881, 101, 901}, {13, 89, 11, 91}, {501, 4501, 520, 4482}} {
		x, y := kl.Beta{Alpha: c[0], Beta: c[1]}, kl.Beta{Alpha: c[2], Beta: c[3]}
		const n = 200000
		u := make([]float64, n)
		for i := range u {
			u[i] = (float64(i) + 0.5) / n
		}
		fx, fy := betaDensity(x, u), betaDensity(y, u)
		cdf, p := 0.0, 0.0
		for i := range u {
			p += fx[i] * (cdf + fy[i]/(2*n)) / n
			cdf += fy[i] / n
		}
		if got := probGreater(x, y); math.Abs(got-p) > 1e-6 {
			t.Errorf("P(%v > %v) = %v, integral %v", x, y, got, p)
		}
	}
}

// The PPO page: the KL is Σ π_old·ln(π_old/π_new) written out here, the ratios and the clip
// fraction follow from the probabilities, and β's next value is ppo.AdaptiveBeta's.
func TestPPOKL(t *testing.T) {
	for _, q := range []string{"", "d1=0&d2=0&d3=0&d4=0", "d1=-0.1&d2=0.15&d3=0&d4=0", "d4=2&eps=0.1", "d1=2&d2=-2&d3=2&d4=-2&target=0.001&beta=100"} {
		_, m := view(t, "ppo-kl", q)
		given, _ := ParseQuery(q)
		p, _ := Lookup("ppo-kl")
		a, err := p.Args(given)
		if err != nil {
			t.Fatal(err)
		}
		drag := []float64{a["d1"], a["d2"], a["d3"], a["d4"]}
		var zOld, zNew float64
		for i := range ppoOldLogits {
			zOld += math.Exp(ppoOldLogits[i])
			zNew += math.Exp(ppoOldLogits[i] + drag[i])
		}
		want, clip := 0.0, 0.0
		for i := range ppoOldLogits {
			po, pn := math.Exp(ppoOldLogits[i])/zOld, math.Exp(ppoOldLogits[i]+drag[i])/zNew
			want += po * math.Log(po/pn)
			if r := m["ratio_"+ppoActions[i]].V; math.Abs(r-pn/po) > 1e-12*r {
				t.Errorf("%s: r(%s) = %v, want %v", q, ppoActions[i], r, pn/po)
			}
			if r := pn / po; r < 1-a["eps"] || r > 1+a["eps"] {
				clip += po
			}
		}
		if got := m["kl_old_new"].V; math.Abs(got-want) > 1e-12 {
			t.Errorf("%s: KL(π_old‖π_new) = %v, want %v", q, got, want)
		}
		if got := m["clip_frac"].V; math.Abs(got-clip) > 1e-15 {
			t.Errorf("%s: clip fraction %v, want %v", q, got, clip)
		}
		if got, want := m["beta_next"].V, (ppo.AdaptiveBeta{Target: a["target"]}).Next(a["beta"], want, 1); got != want {
			t.Errorf("%s: β next %v, ppo.AdaptiveBeta gives %v", q, got, want)
		}
	}
	// The rule itself, on both sides of both thresholds.
	for _, target := range []float64{0.001, 0.01, 0.1} {
		for _, d := range []float64{0, target / 1.6, target / 1.4, target, target * 1.4, target * 1.6, 10} {
			if got, want := adaptiveBeta(0.5, d, target), (ppo.AdaptiveBeta{Target: target}).Next(0.5, d, 1); got != want {
				t.Errorf("d %v target %v: adaptiveBeta %v, ppo.AdaptiveBeta %v", d, target, got, want)
			}
		}
	}
	v, _ := view(t, "ppo-kl", "")
	if !strings.Contains(v.Caption, "doubles β") || !strings.Contains(v.Caption, "ratio of a2 is outside") {
		t.Errorf("default ppo-kl caption %q: want β doubling and a2 outside the band", v.Caption)
	}
}

// The rlhf page: π* maximises E_π[r] − β·KL(π‖π_ref) (no perturbation does better); with the
// reward model's error the proxy's gold peaks at an interior β and falls below it, while the
// gold's own optimum only gains as β shrinks; with no error the two are the same curve.
func TestRLHFLeash(t *testing.T) {
	obj := func(pi, r []float64, beta float64) float64 {
		d, err := kl.KL(pi, rlhfRef)
		if err != nil {
			t.Fatal(err)
		}
		return dot(pi, r) - beta*d
	}
	for _, beta := range []float64{0.01, 0.3, 5} {
		r := rlhfProxy(1.2)
		pi, _, _, err := klOptimum(rlhfRef, r, beta)
		if err != nil {
			t.Fatal(err)
		}
		best := obj(pi, r, beta)
		for i := range pi {
			for j := range pi {
				if i == j {
					continue
				}
				for _, h := range []float64{1e-3, 1e-5} {
					q := append([]float64(nil), pi...)
					move := math.Min(h, q[j])
					q[i] += move
					q[j] -= move
					if o := obj(q, r, beta); o > best+1e-15 {
						t.Errorf("β %v: moving %v from %s to %s raises the objective %v → %v", beta, move, rlhfResponses[j], rlhfResponses[i], best, o)
					}
				}
			}
		}
	}
	_, m := view(t, "rlhf", "beta=0.3&rm_error=1.2")
	bb, bg := m["best_beta"].V, m["best_gold"].V
	low, _ := leashAt(1e-3, rlhfProxy(1.2))
	high, _ := leashAt(100, rlhfProxy(1.2))
	if !(bb > 0.01 && bb < 10) || !(bg > low.goldOfProxy+0.2 && bg > high.goldOfProxy+0.05) {
		t.Errorf("proxy optimum: best β %v (gold %v); gold at β = 0.001: %v, at β = 100: %v; want an interior peak", bb, bg, low.goldOfProxy, high.goldOfProxy)
	}
	for _, b := range leashBetas {
		if pt, _ := leashAt(b, rlhfProxy(1.2)); pt.goldOfProxy > bg+1e-12 {
			t.Errorf("β %v earns gold %v > the reported best %v", b, pt.goldOfProxy, bg)
		}
	}
	prev := math.Inf(1)
	for _, b := range leashBetas { // ascending β: the gold optimum's gold never rises
		pt, _ := leashAt(b, rlhfProxy(0))
		if pt.goldOfGold > prev+1e-12 || math.Abs(pt.goldOfGold-pt.goldOfProxy) > 1e-15 {
			t.Errorf("β %v: gold of the gold optimum %v after %v; proxy optimum %v", b, pt.goldOfGold, prev, pt.goldOfProxy)
		}
		prev = pt.goldOfGold
	}
	v, _ := view(t, "rlhf", "beta=0.05&rm_error=0")
	if !strings.Contains(v.Caption, "exact") {
		t.Errorf("rm_error 0: caption %q", v.Caption)
	}
}

// The DPO page: β·ln(π*/π_ref) + β·ln Z gives back r for every response, β, and shift; a
// shift of every reward moves β·ln Z by the shift and leaves π* alone.
func TestDPOImplicitReward(t *testing.T) {
	for _, beta := range []float64{0.05, 0.5, 10} {
		var pi0 []float64
		var blz0 float64
		for _, c := range []float64{0, 0.7, -1} {
			r := rlhfProxy(dpoRMError)
			for i := range r {
				r[i] += c
			}
			pi, logPi, logZ, err := klOptimum(rlhfRef, r, beta)
			if err != nil {
				t.Fatal(err)
			}
			for i := range r {
				if back := beta*(logPi[i]-math.Log(rlhfRef[i])) + beta*logZ; math.Abs(back-r[i]) > 1e-12*(1+math.Abs(r[i])) {
					t.Errorf("β %v c %v: %s: implicit reward %v, r %v", beta, c, rlhfResponses[i], back, r[i])
				}
			}
			if pi0 == nil {
				pi0, blz0 = pi, beta*logZ
				continue
			}
			for i := range pi {
				if math.Abs(pi[i]-pi0[i]) > 1e-14 {
					t.Errorf("β %v c %v: π*(%s) %v, unshifted %v", beta, c, rlhfResponses[i], pi[i], pi0[i])
				}
			}
			if math.Abs(beta*logZ-blz0-c) > 1e-12 {
				t.Errorf("β %v c %v: β·ln Z moved by %v", beta, c, beta*logZ-blz0)
			}
		}
		_, m := view(t, "dpo", fmt.Sprintf("beta=%v", beta))
		r := rlhfProxy(dpoRMError)
		if want := (r[5] - r[0]) / beta; math.Abs(m["logratio_gap"].V-want) > 1e-12*want {
			t.Errorf("β %v: log-ratio gap %v, (r(best) − r(worst))/β = %v", beta, m["logratio_gap"].V, want)
		}
	}
}
