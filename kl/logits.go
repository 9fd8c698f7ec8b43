package kl

import "math"

// validateLogits checks that x is a non-empty logit vector: no NaN, no +Inf, and not every
// element −Inf. A −Inf logit is allowed and means probability 0 (a masked outcome).
func validateLogits[F Float](name string, x []F) error {
	if len(x) == 0 {
		return aggErr(name, "len", 0, "must be ≥ 1")
	}
	finite := false
	for i, v := range x {
		f := float64(v)
		switch {
		case math.IsNaN(f) || math.IsInf(f, 1):
			return argErr(name, i, f, "logit must be finite or −Inf")
		case !math.IsInf(f, -1):
			finite = true
		}
	}
	if !finite {
		return argErr(name, 0, math.Inf(-1), "every logit is −Inf (no outcome has probability > 0)")
	}
	return nil
}

// logSoftmaxInto writes the log-probabilities of logits x into dst (len(dst) == len(x)):
//
//	log softmax(x)ᵢ = xᵢ − m − ln Σⱼ exp(xⱼ − m),  m = maxⱼ xⱼ,
//
// so no exponential overflows whatever the logits' magnitude. x must be valid (validateLogits).
func logSoftmaxInto[F Float](dst []float64, x []F) {
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v)) // math.Max's value (NaN, ±0 and ±Inf alike), inlined
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	for i, v := range x {
		dst[i] = float64(v) - lse
	}
}

// LogSoftmax returns the log-probabilities of logits x, computed with the row maximum subtracted
// (stable for any finite logits; −Inf logits give −Inf). NaN or +Inf logits, or all −Inf, are an
// error naming "logits". It is the package's one log-softmax: every ...Logits function, and
// LogSoftmaxInto, go through it; klgraph.LogSoftmaxNode is the same formula as a graph node.
func LogSoftmax[F Float](x []F) ([]float64, error) {
	out := make([]float64, len(x))
	if err := LogSoftmaxInto(out, x); err != nil {
		return nil, err
	}
	return out, nil
}

// LogSoftmaxInto is LogSoftmax writing into dst, which must have len(x) elements: it allocates
// nothing, for hot loops such as sampling actions from a policy's logits. The same checks as
// LogSoftmax apply, plus the length of dst (an *ArgError naming "dst").
func LogSoftmaxInto[F Float](dst []float64, x []F) error {
	if len(dst) != len(x) {
		return lengthErr("logits", len(x), "dst", len(dst))
	}
	if err := validateLogits("logits", x); err != nil {
		return err
	}
	logSoftmaxInto(dst, x)
	return nil
}

// Softmax returns the probabilities of logits x,
//
//	softmax(x)ᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m),  m = maxⱼ xⱼ,
//
// the exponential of LogSoftmax, computed with the maximum subtracted so that nothing overflows
// ([800, 0, −800] gives [1, 0, 0]: e⁻⁸⁰⁰ underflows) and divided rather than exponentiated from
// the log-probabilities, so that equal logits give exactly 1/K. A −Inf logit gives exactly 0.
// The same checks as LogSoftmax apply (errors name "logits"). It is the package's one softmax,
// for callers that need probabilities (a policy sampling an action, an explainer drawing a
// distribution).
func Softmax[F Float](x []F) ([]float64, error) {
	out := make([]float64, len(x))
	if err := SoftmaxInto(out, x); err != nil {
		return nil, err
	}
	return out, nil
}

// SoftmaxInto is Softmax writing into dst, which must have len(x) elements; it allocates
// nothing. A dst of another length is an *ArgError naming "dst".
func SoftmaxInto[F Float](dst []float64, x []F) error {
	if len(dst) != len(x) {
		return lengthErr("logits", len(x), "dst", len(dst))
	}
	if err := validateLogits("logits", x); err != nil {
		return err
	}
	m := math.Inf(-1)
	for _, v := range x {
		m = max(m, float64(v)) // math.Max's value (NaN, ±0 and ±Inf alike), inlined
	}
	var s float64
	for i, v := range x {
		dst[i] = math.Exp(float64(v) - m)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
	return nil
}

// klTermLog is klTerm from log-probabilities: p ln(p/q) − p + q with p = e^lp, q = e^lq.
// With d = lp − lq it is q·((d−1)e^d + 1), summed near d = 0 as q·Σₖ₌₂ (k−1)dᵏ/k!. It stays
// exact when p or q underflow (lp = 0, lq = −900 gives 900 − 1 + e⁻⁹⁰⁰).
func klTermLog(lp, lq float64) float64 {
	switch {
	case math.IsInf(lp, -1):
		return math.Exp(lq)
	case math.IsInf(lq, -1):
		return math.Inf(1)
	}
	d := lp - lq
	q := math.Exp(lq)
	if math.Abs(d) < 0.1 {
		pow := d * d
		sum := pow / 2 // k = 2: (k−1)/k! = 1/2
		fact := 2.0
		for k := 3.0; k < 25; k++ {
			pow *= d
			fact *= k
			t := (k - 1) * pow / fact
			sum += t
			if math.Abs(t) < 1e-18*sum {
				break
			}
		}
		return q * sum
	}
	p := math.Exp(lp)
	return p*d - p + q
}

// logitPair validates two logit vectors and returns their log-softmaxes, stored in buf when
// it has room for both (cap(buf) ≥ 2·len(pl)), in a new slice otherwise.
func logitPair[F Float](buf []float64, pl, ql []F) (lp, lq []float64, err error) {
	if len(pl) != len(ql) {
		return nil, nil, lengthErr("p_logits", len(pl), "q_logits", len(ql))
	}
	if err := validateLogits("p_logits", pl); err != nil {
		return nil, nil, err
	}
	if err := validateLogits("q_logits", ql); err != nil {
		return nil, nil, err
	}
	if cap(buf) < 2*len(pl) {
		buf = make([]float64, 2*len(pl))
	}
	lp, lq = buf[:len(pl)], buf[len(pl):2*len(pl)]
	logSoftmaxInto(lp, pl)
	logSoftmaxInto(lq, ql)
	return lp, lq, nil
}

func klLogSum(lp, lq []float64) float64 {
	var s float64
	for i := range lp {
		s += klTermLog(lp[i], lq[i])
	}
	return s
}

// KLLogits returns KL(P‖Q) in nats for P = softmax(pLogits), Q = softmax(qLogits), computed
// from stable log-softmaxes: logits [800, 0, −800] against [0, 900, 1] give exactly 900, where
// exponentiating first would give NaN. A −Inf logit is a zero probability (so a −Inf in qLogits
// where pLogits is finite gives +Inf). Errors name "p_logits" and "q_logits".
func KLLogits[F Float](pLogits, qLogits []F) (float64, error) {
	return KLLogitsBuf(nil, pLogits, qLogits)
}

// KLLogitsBuf is KLLogits with caller-owned scratch: when cap(buf) ≥ 2·len(pLogits) the two
// log-softmaxes are written into buf and nothing is allocated (a smaller buf, nil included,
// is replaced by a new one). It is for hot loops that take the KL of many rows of the same
// width, such as a PPO trainer's exact KL(π_old‖π_θ) over every state of a rollout; the result
// is exactly KLLogits's. buf's contents are overwritten; one buf serves one goroutine at a time.
func KLLogitsBuf[F Float](buf []float64, pLogits, qLogits []F) (float64, error) {
	lp, lq, err := logitPair(buf, pLogits, qLogits)
	if err != nil {
		return 0, err
	}
	return klLogSum(lp, lq), nil
}

// KLLogProbs returns KL(P‖Q) in nats from log-probability vectors lp = ln P and lq = ln Q (for
// instance rows written by LogSoftmaxInto), without normalising them again: the sum of
// KLLogits's exact terms. It is for hot loops that already hold both distributions' log-
// probabilities, such as an RLHF trainer measuring KL(π(·|s)‖π_ref(·|s)) at every generated
// token. A −Inf entry is a zero probability. Errors name "lp" and "lq" (lengths, NaN, +Inf).
func KLLogProbs(lp, lq []float64) (float64, error) {
	if len(lp) != len(lq) {
		return 0, lengthErr("lp", len(lp), "lq", len(lq))
	}
	for _, a := range []struct {
		name string
		v    []float64
	}{{"lp", lp}, {"lq", lq}} {
		for i, x := range a.v {
			if math.IsNaN(x) || math.IsInf(x, 1) {
				return 0, argErr(a.name, i, x, "log-probability must be finite or −Inf")
			}
		}
	}
	return klLogSum(lp, lq), nil
}

// EntropyLogProbs returns H(P) = −Σ pᵢ ln pᵢ from the log-probabilities lp = ln P, without
// normalising them again (EntropyLogits is the same from logits). Errors name "lp".
func EntropyLogProbs(lp []float64) (float64, error) {
	var s float64
	for i, l := range lp {
		if math.IsNaN(l) || math.IsInf(l, 1) {
			return 0, argErr("lp", i, l, "log-probability must be finite or −Inf")
		}
		if p := math.Exp(l); p > 0 {
			s -= p * l
		}
	}
	return s, nil
}

// ReverseKLLogits returns KL(Q‖P) for P = softmax(pLogits), Q = softmax(qLogits).
func ReverseKLLogits[F Float](pLogits, qLogits []F) (float64, error) {
	lp, lq, err := logitPair(nil, pLogits, qLogits)
	if err != nil {
		return 0, err
	}
	return klLogSum(lq, lp), nil
}

// JSLogits returns the Jensen-Shannon divergence of softmax(pLogits) and softmax(qLogits).
func JSLogits[F Float](pLogits, qLogits []F) (float64, error) {
	lp, lq, err := logitPair(nil, pLogits, qLogits)
	if err != nil {
		return 0, err
	}
	var s float64
	for i := range lp {
		s += jsTerm(math.Exp(lp[i]), math.Exp(lq[i]))
	}
	return math.Min(s, math.Ln2), nil
}

// EntropyLogits returns H(P) = −Σ pᵢ ln pᵢ for P = softmax(logits); errors name "p_logits".
func EntropyLogits[F Float](logits []F) (float64, error) {
	if err := validateLogits("p_logits", logits); err != nil {
		return 0, err
	}
	lp := make([]float64, len(logits))
	logSoftmaxInto(lp, logits)
	return EntropyLogProbs(lp)
}

// CrossEntropyLogits returns H(P,Q) = −Σ pᵢ ln qᵢ for P = softmax(pLogits), Q = softmax(qLogits).
func CrossEntropyLogits[F Float](pLogits, qLogits []F) (float64, error) {
	lp, lq, err := logitPair(nil, pLogits, qLogits)
	if err != nil {
		return 0, err
	}
	var s float64
	for i := range lp {
		p := math.Exp(lp[i])
		if p == 0 {
			continue
		}
		if math.IsInf(lq[i], -1) {
			return math.Inf(1), nil
		}
		s -= p * lq[i]
	}
	return s, nil
}

// Sigmoid is σ(x) = 1/(1 + e^(−x)), the probability of a Bernoulli variable with logit x (and
// the Bradley–Terry probability that an item with score difference x wins), computed without
// overflow for any x: e^x/(1 + e^x) for x < 0.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus is ln(1 + e^x) = −ln σ(−x), the negative log-likelihood of a Bernoulli "0" with
// logit −x (a Bradley–Terry or DPO loss term is Softplus(−margin)), computed without overflow:
// x + ln(1 + e^(−x)) for x > 0. It is ≥ max(x, 0) and within ln 2 of it.
func Softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
