package kl_test

import (
	"fmt"
	"math"

	"klppo/kl"
)

// The explainer's biased coin: coding flips of a 70/30 coin with a code built for a fair coin
// costs 0.118709 extra bits per flip.
func ExampleKL() {
	p := []float64{0.7, 0.3} // the real coin
	q := []float64{0.5, 0.5} // the model: a fair coin
	d, err := kl.KL(p, q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("KL(P‖Q) = %.7f nats = %.6f bits\n", d, kl.ToBits(d))
	r, _ := kl.ReverseKL(p, q)
	fmt.Printf("KL(Q‖P) = %.7f nats\n", r)
	// Output:
	// KL(P‖Q) = 0.0822829 nats = 0.118709 bits
	// KL(Q‖P) = 0.0871767 nats
}

// Q gives probability 0 to an outcome P can produce: the divergence is +Inf, not NaN and not a
// silently smoothed number. Smooth gives a finite value when that is what you want.
func ExampleSmooth() {
	p := []float64{0.5, 0.5, 0}
	q := []float64{1, 0, 0}
	d, _ := kl.KL(p, q)
	fmt.Println("KL(P‖Q) =", d)
	r, _ := kl.KL(q, p)
	fmt.Printf("KL(Q‖P) = %.6f (= ln 2)\n", r)
	qs, _ := kl.Smooth(q, 1e-3)
	d, _ = kl.KL(p, qs)
	fmt.Printf("KL(P‖smoothed Q) = %.4f\n", d)
	// Output:
	// KL(P‖Q) = +Inf
	// KL(Q‖P) = 0.693147 (= ln 2)
	// KL(P‖smoothed Q) = 2.7632
}

// A policy's action probabilities from its logits: softmax computed through the stable
// log-softmax, with a masked action (−Inf) at exactly 0.
func ExampleSoftmax() {
	p, err := kl.Softmax([]float64{0, math.Log(3), math.Inf(-1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.6f %.6f %v\n", p[0], p[1], p[2])
	// Output:
	// 0.250000 0.750000 0
}

// Logits far beyond exp's range are handled in log space.
func ExampleKLLogits() {
	d, err := kl.KLLogits([]float64{800, 0, -800}, []float64{0, 900, 1})
	fmt.Println(d, err)
	// Output:
	// 900 <nil>
}

// The mean KL over rows of logits (old policy vs new policy at three states), with one scratch
// buffer of twice the row width for all rows.
func ExampleKLLogitsBuf() {
	oldLogits := [][]float64{{0, 0}, {1, -1}, {2, 0}}
	newLogits := [][]float64{{0.1, 0}, {1, -1}, {0, 2}}
	buf := make([]float64, 2*2)
	var sum float64
	for i := range oldLogits {
		d, err := kl.KLLogitsBuf(buf, oldLogits[i], newLogits[i])
		if err != nil {
			fmt.Println(err)
			return
		}
		sum += d
	}
	fmt.Printf("mean KL(π_old‖π_θ) = %.6f nats\n", sum/3)
	// Output:
	// mean KL(π_old‖π_θ) = 0.508146 nats
}

// Jensen-Shannon is symmetric and never exceeds ln 2 nats = 1 bit.
func ExampleJS() {
	a, _ := kl.JS([]float64{1, 0}, []float64{0, 1})
	b, _ := kl.JS([]float64{0.7, 0.3}, []float64{0.5, 0.5})
	c, _ := kl.JS([]float64{0.5, 0.5}, []float64{0.7, 0.3})
	fmt.Printf("disjoint: %.6f bits\ncoin: %.8f = %.8f nats\n", kl.ToBits(a), b, c)
	// Output:
	// disjoint: 1.000000 bits
	// coin: 0.02100593 = 0.02100593 nats
}

// Two normal peaks of equal width six standard deviations apart: KL = 6²/2 both ways. Different
// widths make the divergence asymmetric.
func ExampleNormal_KL() {
	p, q := kl.Normal{Mu: -3, Sigma: 1}, kl.Normal{Mu: 3, Sigma: 1}
	pq, _ := p.KL(q)
	qp, _ := q.KL(p)
	fmt.Println(pq, qp)
	narrow, wide := kl.Normal{Mu: 0, Sigma: 1}, kl.Normal{Mu: 0, Sigma: 3}
	nw, _ := narrow.KL(wide)
	wn, _ := wide.KL(narrow)
	fmt.Printf("narrow‖wide %.4f, wide‖narrow %.4f\n", nw, wn)
	_, err := kl.Normal{Mu: 0, Sigma: 0}.KL(q)
	fmt.Println(err)
	// Output:
	// 18 18
	// narrow‖wide 0.6542, wide‖narrow 2.9014
	// kl: sigma_p = 0: must be finite and > 0
}

// The VAE prior term from an encoder's mean and log-variance.
func ExampleVAEPriorKL() {
	d, _ := kl.VAEPriorKL([]float64{0, 1}, []float64{0, 0})
	fmt.Println(d)
	// Output:
	// 0.5
}

// PPO's approx_kl: log-ratios ln π_new(a|s) − ln π_old(a|s) of actions sampled from π_old.
func ExampleEstimate() {
	logRatio := []float64{0.1, -0.2, 0.05, 0.0}
	for _, e := range []kl.Estimator{kl.K1, kl.K2, kl.K3} {
		v, _ := kl.Estimate(e, logRatio)
		fmt.Printf("%v %.6f\n", e, v)
	}
	// Output:
	// k1 0.012500
	// k2 0.006563
	// k3 0.006293
}

// A diagonal Gaussian given by log σ (a policy head's usual output) against N(0, I): the first
// dimension matches, the second has μ = 1, σ = e⁻¹, so KL = 1 + e⁻²/2 and the reverse e² − 3/2.
func ExampleDiagNormal_KL() {
	p := kl.DiagNormal{Mu: []float64{0, 1}, LogSigma: []float64{0, -1}}
	q := kl.DiagNormal{Mu: []float64{0, 0}, Sigma: []float64{1, 1}}
	pq, _ := p.KL(q)
	qp, _ := q.KL(p)
	fmt.Printf("%.6f %.6f\n", pq, qp)
	// Output:
	// 1.067668 5.889056
}

// A coin that always lands heads against a fair coin: ln 2 one way, +Inf the other (the fair
// coin produces tails, which P rules out).
func ExampleBernoulli_KL() {
	always, fair := kl.Bernoulli{P: 1}, kl.Bernoulli{P: 0.5}
	a, _ := always.KL(fair)
	b, _ := fair.KL(always)
	fmt.Printf("%.6f %v\n", a, b)
	// Output:
	// 0.693147 +Inf
}

// A distribution as a user types it: weights with a zero, smoothed so that a KL against it is
// finite; the vector itself could come from a file through ReadVector.
func ExampleCategoricalSpec_Resolve() {
	w, err := kl.ParseVector("3 1 0")
	if err != nil {
		fmt.Println(err)
		return
	}
	logQ, q, err := kl.CategoricalSpec{Name: "q", Probs: w, Smooth: 0.5}.Resolve()
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := kl.KLLogits([]float64{0, 0, 0}, logQ)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Q = %.4f, KL(uniform‖Q) = %.4f nats\n", q, v)
	// Output:
	// Q = [0.6364 0.2727 0.0909], KL(uniform‖Q) = 0.2844 nats
}
