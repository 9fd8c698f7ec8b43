package rlhf

import (
	"context"
	"fmt"
	"math/rand/v2"

	"klppo/kl"
	"klppo/policy"
	"klppo/ppo"
)

// rollout is one batch of completions sampled from π_old, in the form the learner takes: every
// generated token is one sample (state = the prefix, action = the token), the tokens of each
// sequence contiguous and in order. Prompt tokens, when a sequence has a prompt, are part of the
// state only.
type rollout struct {
	seqs   [][]int // prompt + completion of each sequence
	prompt []int   // prompt length of each sequence
	start  []int   // first token row of sequence i is start[i], its last start[i+1]−1
	batch  ppo.Batch

	reward     []float64 // per token: the shaped reward (score on the last token, minus β·k)
	terminated []bool    // per token: the last token of its sequence
	// per sequence: reward-model and gold scores, the exact Σ_t KL(π‖π_ref), the k1 and k3 sums
	proxy, gold, kl, k1, k3 []float64
	inLang                  []bool
	entropy                 float64 // mean exact entropy of π(·|prefix) per token

	// scratch
	rowPi, rowRef, zeros []float64
	tokEnt               []float64 // per token: the entropy of π(·|s)
	truncated            []bool
}

// resize returns s with length n, reallocated only when its capacity is short; the contents
// are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// zeroed is resize with every element set to its zero value.
func zeroed[T any](s []T, n int) []T {
	s = resize(s, n)
	clear(s)
	return s
}

// generator samples completions from a policy and records π_ref's logits at every position.
// Its rollout and scratch are reused from one generate call to the next: a rollout is valid
// until the generator's next call.
type generator struct {
	r          rollout
	cfg        ModelConfig
	actor, ref *policy.Actor
	value      *policy.Actor // π's value net, on a workspace of its own
	critic     bool          // record V(s) too
	obs        []float64
	rows       [][]int // token rows of each sequence, in generation order (scratch)
	tmpObs     []float64
	tmpAct     []float64
	tmpLogP    []float64
	tmpLogits  []float64
	tmpRef     []float64
	tmpValue   []float64
}

func newGenerator(cfg ModelConfig, pi, ref *Model, critic bool) *generator {
	return &generator{cfg: cfg, actor: policy.NewActor(pi.AC), ref: policy.NewActor(ref.AC), value: policy.NewActor(pi.AC),
		critic: critic}
}

// generate samples one completion for each prompt (nil prompts: from the start), all advanced
// together one position at a time, and returns the rollout with its batch filled: states,
// actions, π_old's logits and log-probabilities, π_ref's logits and, with a critic, V(s).
func (g *generator) generate(ctx context.Context, prompts [][]int, rng *rand.Rand) (*rollout, error) {
	cfg := g.cfg
	N, D, V := len(prompts), cfg.ObsDim(), cfg.V
	r := &g.r
	r.seqs, r.prompt = resize(r.seqs, N), resize(r.prompt, N)
	for i, p := range prompts {
		r.seqs[i] = append(make([]int, 0, cfg.MaxLen), p...) // new: callers keep the texts
		r.prompt[i] = len(p)
	}
	for len(g.rows) < N {
		g.rows = append(g.rows, nil)
	}
	g.rows = g.rows[:N]
	for i := range g.rows {
		g.rows[i] = g.rows[i][:0]
	}
	g.tmpObs, g.tmpAct, g.tmpLogP, g.tmpLogits, g.tmpRef, g.tmpValue = g.tmpObs[:0], g.tmpAct[:0], g.tmpLogP[:0], g.tmpLogits[:0], g.tmpRef[:0], g.tmpValue[:0]
	active := make([]int, 0, N)
	if len(g.obs) < N*D {
		g.obs = make([]float64, N*D)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rlhf: rollout: %w", err)
		}
		active = active[:0]
		for i, x := range r.seqs {
			if !cfg.Done(x) {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			break
		}
		n := len(active)
		obs := g.obs[:n*D]
		for k, i := range active {
			cfg.Obs(obs[k*D:(k+1)*D], r.seqs[i])
		}
		// π_ref's pass and V's need only the observations: they run on another goroutine while π
		// samples (each actor has its own workspace; no weights change during a rollout).
		var refD, values []float64
		var refErr, valErr error
		refDone := make(chan struct{})
		go func() {
			defer close(refDone)
			if refD, refErr = g.ref.Dist(obs, n); refErr == nil && g.critic {
				values, valErr = g.value.Values(obs, n)
			}
		}()
		act, err := g.actor.Act(obs, n, rng, false, false)
		<-refDone
		if err == nil {
			err = valErr
		}
		if err != nil {
			return nil, fmt.Errorf("rlhf: rollout: %w", err)
		}
		if refErr != nil {
			return nil, fmt.Errorf("rlhf: reference: %w", refErr)
		}
		row := len(g.tmpAct)
		g.tmpObs = append(g.tmpObs, obs...)
		g.tmpAct = append(g.tmpAct, act.Actions...)
		g.tmpLogP = append(g.tmpLogP, act.LogP...)
		g.tmpLogits = append(g.tmpLogits, act.Dist...)
		g.tmpValue = append(g.tmpValue, values...)
		g.tmpRef = append(g.tmpRef, refD...)
		for k, i := range active {
			g.rows[i] = append(g.rows[i], row+k)
			r.seqs[i] = append(r.seqs[i], int(act.Actions[k]))
		}
	}
	// Reorder the token rows sequence by sequence.
	T := len(g.tmpAct)
	b := &r.batch
	b.N = T
	b.Obs, b.Actions, b.LogProbs = b.Obs[:0], b.Actions[:0], b.LogProbs[:0]
	b.Dist, b.RefLogits, b.Values = b.Dist[:0], b.RefLogits[:0], b.Values[:0]
	r.start = r.start[:0]
	for _, rows := range g.rows {
		r.start = append(r.start, len(b.Actions))
		for _, k := range rows {
			b.Obs = append(b.Obs, g.tmpObs[k*D:(k+1)*D]...)
			b.Actions = append(b.Actions, g.tmpAct[k])
			b.LogProbs = append(b.LogProbs, g.tmpLogP[k])
			b.Dist = append(b.Dist, g.tmpLogits[k*V:(k+1)*V]...)
			b.RefLogits = append(b.RefLogits, g.tmpRef[k*V:(k+1)*V]...)
			if g.critic {
				b.Values = append(b.Values, g.tmpValue[k])
			}
		}
	}
	r.start = append(r.start, T)
	return r, nil
}

// score sets the reward-model and gold scores and the in-language flags of the sequences.
func (r *rollout) score(rm *RewardModel, gold *Gold, g *Grammar) error {
	proxy, err := rm.Scores(r.seqs)
	if err != nil {
		return err
	}
	r.proxy = proxy
	r.gold, r.inLang = make([]float64, len(r.seqs)), make([]bool, len(r.seqs))
	for i, x := range r.seqs {
		r.gold[i] = gold.Score(x)
		r.inLang[i] = g.Accepts(x)
	}
	return nil
}

// klRewards measures, token by token, the exact KL(π(·|s)‖π_ref(·|s)) (full vocabulary), the k1
// and k3 estimates at the sampled token and the entropy of π(·|s), sums them per sequence, and
// sets the shaped per-token rewards
//
//	r_t = score·[t is the last token] − β·k_t   (KL in the reward, klr's estimator)
//	r_t = score·[t is the last token]           (KL in the loss, or β = 0)
//
// where score is the sequence's seqScore (the reward-model score or the gold reward).
func (r *rollout) klRewards(klr ppo.KLRef, beta float64, seqScore []float64) error {
	N, V := len(r.seqs), len(r.batch.Dist)/max(1, r.batch.N)
	T := r.batch.N
	r.kl, r.k1, r.k3 = zeroed(r.kl, N), zeroed(r.k1, N), zeroed(r.k3, N)
	r.reward, r.terminated = resize(r.reward, T), resize(r.terminated, T)
	r.tokEnt = resize(r.tokEnt, T)
	r.rowPi, r.rowRef = resize(r.rowPi, 2*V), resize(r.rowRef, 2*V)
	klr.Beta = beta
	// Two goroutines take a half of the sequences each (every value they write belongs to one
	// sequence or one token); the entropies are summed afterwards in token order.
	half := N / 2
	var errLo error
	done := make(chan struct{})
	go func() {
		defer close(done)
		errLo = r.klRewardsOf(0, half, klr, seqScore, r.rowPi[:V], r.rowRef[:V])
	}()
	errHi := r.klRewardsOf(half, N, klr, seqScore, r.rowPi[V:], r.rowRef[V:])
	<-done
	if errLo != nil {
		return errLo
	}
	if errHi != nil {
		return errHi
	}
	var entSum float64
	for _, h := range r.tokEnt[:T] {
		entSum += h
	}
	r.entropy = entSum / float64(T)
	return nil
}

// klRewardsOf is klRewards for sequences lo … hi−1 with the scratch rows rowPi and rowRef (len V).
func (r *rollout) klRewardsOf(lo, hi int, klr ppo.KLRef, seqScore []float64, rowPi, rowRef []float64) error {
	V := len(rowPi)
	for i := lo; i < hi; i++ {
		for t := r.start[i]; t < r.start[i+1]; t++ {
			if err := logSoftmaxPair(rowPi, r.batch.Dist[t*V:(t+1)*V], rowRef, r.batch.RefLogits[t*V:(t+1)*V]); err != nil {
				return err
			}
			a := int(r.batch.Actions[t])
			exact, k1, k3, err := tokenKL(rowPi, rowRef, a)
			if err != nil {
				return err
			}
			h, err := kl.EntropyLogProbs(rowPi)
			if err != nil {
				return fmt.Errorf("rlhf: entropy: %w", err)
			}
			r.tokEnt[t] = h
			r.kl[i], r.k1[i], r.k3[i] = r.kl[i]+exact, r.k1[i]+k1, r.k3[i]+k3
			last := t == r.start[i+1]-1
			score := 0.0
			if last {
				score = seqScore[i]
			}
			r.terminated[t] = last
			if r.reward[t], err = TokenReward(klr, ppo.KLRefToken{LogPi: rowPi[a], LogRef: rowRef[a], LogOld: rowPi[a],
				LogPiRow: rowPi, LogRefRow: rowRef}, score); err != nil {
				return err
			}
		}
	}
	return nil
}

// gae sets the batch's advantages and returns by GAE (γ, λ) along each sequence, whose last token
// is terminal (ppo.GAE with one environment).
func (r *rollout) gae(gamma, lambda float64) error {
	T := r.batch.N
	b := &r.batch
	b.Advantages, b.Returns = resize(b.Advantages, T), resize(b.Returns, T)
	r.zeros, r.truncated = zeroed(r.zeros, T), zeroed(r.truncated, T)
	zeros, truncated := r.zeros, r.truncated
	for i := range r.seqs {
		lo, hi := r.start[i], r.start[i+1]
		if err := ppo.GAE(r.reward[lo:hi], b.Values[lo:hi], r.terminated[lo:hi], truncated[lo:hi], zeros[lo:hi], []float64{0},
			1, gamma, lambda, b.Advantages[lo:hi], b.Returns[lo:hi]); err != nil {
			return fmt.Errorf("rlhf: %w", err)
		}
	}
	return nil
}

// TokenReward is the reward of one generated token: the reward-model score (non-zero on the
// last token only) minus the KL penalty when the KL is placed in the reward,
//
//	r_t = score_t − β·k_t   (k_t from klr's estimator: k1 = l, k2 = ½l², k3 = e^(−l) − 1 + l with
//	                         l = ln π(x_t) − ln π_ref(x_t), or the exact KL over the vocabulary)
//
// and r_t = score_t when klr places the KL in the loss.
func TokenReward(klr ppo.KLRef, tok ppo.KLRefToken, score float64) (float64, error) {
	pen, err := klr.RewardPenalty(tok)
	if err != nil {
		return 0, fmt.Errorf("rlhf: KL reward: %w", err)
	}
	return score - pen, nil
}

// SequenceKL returns, along the sequence x, the sums over positions of the exact per-position
// KL(π(·|x_<t)‖π_ref(·|x_<t)) (full vocabulary) and of the k1 and k3 estimates at the sampled
// tokens. For x ~ π the expectation of the exact sum is the sequence-level KL(π‖π_ref) =
// E_π[ln π(x) − ln π_ref(x)] (the chain rule of KL), and so is that of the k1 sum.
func SequenceKL(pi, ref *Model, x []int) (exact, k1, k3 float64, err error) {
	_, lgP, err := pi.LogProbs(x)
	if err != nil {
		return 0, 0, 0, err
	}
	_, lgR, err := ref.LogProbs(x)
	if err != nil {
		return 0, 0, 0, err
	}
	V := pi.Cfg.V
	rowPi, rowRef := make([]float64, V), make([]float64, V)
	for t, a := range x {
		if err := logSoftmaxPair(rowPi, lgP[t*V:(t+1)*V], rowRef, lgR[t*V:(t+1)*V]); err != nil {
			return 0, 0, 0, err
		}
		d, e1, e3, err := tokenKL(rowPi, rowRef, a)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("rlhf: sequence KL at position %d: %w", t, err)
		}
		exact, k1, k3 = exact+d, k1+e1, k3+e3
	}
	return exact, k1, k3, nil
}

// logSoftmaxPair writes the log-probabilities of the logits of π and π_ref at one position.
func logSoftmaxPair(dstPi, logitsPi, dstRef, logitsRef []float64) error {
	if err := kl.LogSoftmaxInto(dstPi, logitsPi); err != nil {
		return fmt.Errorf("rlhf: π's log-probabilities: %w", err)
	}
	if err := kl.LogSoftmaxInto(dstRef, logitsRef); err != nil {
		return fmt.Errorf("rlhf: π_ref's log-probabilities: %w", err)
	}
	return nil
}

// tokenKL returns, at one position with log-probability rows logPi = ln π(·|s) and
// logRef = ln π_ref(·|s) and sampled token a, the exact KL(π(·|s)‖π_ref(·|s)) (kl.KLLogProbs)
// and Schulman's k1 and k3 of the token (kl.Estimator with ℓ = ln π_ref(a) − ln π(a), the
// log-ratio of P = π_ref to the sampling distribution Q = π).
func tokenKL(logPi, logRef []float64, a int) (exact, k1, k3 float64, err error) {
	if exact, err = kl.KLLogProbs(logPi, logRef); err != nil {
		return 0, 0, 0, fmt.Errorf("rlhf: exact token KL: %w", err)
	}
	l := logRef[a] - logPi[a]
	return exact, kl.K1.Sample(l), kl.K3.Sample(l), nil
}
