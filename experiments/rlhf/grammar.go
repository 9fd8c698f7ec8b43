package rlhf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// End is the token that ends every sentence of the language (the word "."). It is token 0 of
// every Grammar's vocabulary.
const End = 0

// Edge is one transition of a Grammar: from its state the grammar emits Word with probability
// Prob and moves to state Next (Next < 0 only for the End word: the sentence is over).
type Edge struct {
	Word int
	Prob float64
	Next int
}

// Grammar is a probabilistic deterministic finite automaton over a vocabulary: the language
// model P whose samples the SFT model imitates and whose sentences the gold reward scores.
//
// From state s (0 is the start) the grammar emits word w with probability P(w | s) and moves to
// the unique next state δ(s, w); a sentence ends when End is emitted. Because every (state,
// word) pair has at most one edge, a string has at most one path, so
//
//	P(x₁…x_n) = Π_t P(x_t | s_{t−1}),  s_t = δ(s_{t−1}, x_t),
//
// membership in the language is decided by running the automaton, and the entropy of P is
// exact by dynamic programming over the acyclic state graph (see Entropy).
type Grammar struct {
	Words  []string // the vocabulary; Words[End] = "."
	States [][]Edge // outgoing edges of each state; their probabilities sum to 1
	index  map[string]int
}

// NewGrammar checks and returns a grammar: Words[0] must be ".", every state's probabilities
// must be positive and sum to 1 (within 1e-12), words must be in range and unique per state,
// End must be the only edge with Next < 0, and the state graph must be acyclic (so sentences
// have a bounded length).
func NewGrammar(words []string, states [][]Edge) (*Grammar, error) {
	if len(words) < 2 || words[End] != "." {
		return nil, fmt.Errorf("rlhf: grammar: words[0] must be \".\" and there must be ≥ 2 words, got %q", words)
	}
	g := &Grammar{Words: words, States: states, index: make(map[string]int, len(words))}
	for i, w := range words {
		if _, dup := g.index[w]; dup || w == "" {
			return nil, fmt.Errorf("rlhf: grammar: word %d %q is empty or repeated", i, w)
		}
		g.index[w] = i
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("rlhf: grammar: no states")
	}
	for s, edges := range states {
		var sum float64
		seen := map[int]bool{}
		if len(edges) == 0 {
			return nil, fmt.Errorf("rlhf: grammar: state %d has no edges", s)
		}
		for _, e := range edges {
			switch {
			case e.Word < 0 || e.Word >= len(words):
				return nil, fmt.Errorf("rlhf: grammar: state %d: word %d out of range", s, e.Word)
			case seen[e.Word]:
				return nil, fmt.Errorf("rlhf: grammar: state %d: word %q on two edges (not deterministic)", s, words[e.Word])
			case !(e.Prob > 0):
				return nil, fmt.Errorf("rlhf: grammar: state %d: word %q has probability %v, want > 0", s, words[e.Word], e.Prob)
			case (e.Word == End) != (e.Next < 0):
				return nil, fmt.Errorf("rlhf: grammar: state %d: word %q: only \".\" ends a sentence (Next < 0)", s, words[e.Word])
			case e.Next >= len(states):
				return nil, fmt.Errorf("rlhf: grammar: state %d: next state %d out of range", s, e.Next)
			}
			seen[e.Word] = true
			sum += e.Prob
		}
		if math.Abs(sum-1) > 1e-12 {
			return nil, fmt.Errorf("rlhf: grammar: state %d: probabilities sum to %v, want 1", s, sum)
		}
	}
	if _, err := g.order(); err != nil {
		return nil, err
	}
	return g, nil
}

// order returns the states in reverse topological order (successors first) or an error for a cycle.
func (g *Grammar) order() ([]int, error) {
	const (
		white = iota
		grey
		black
	)
	colour := make([]int, len(g.States))
	var out []int
	var visit func(s int) error
	visit = func(s int) error {
		switch colour[s] {
		case grey:
			return fmt.Errorf("rlhf: grammar: state %d is on a cycle", s)
		case black:
			return nil
		}
		colour[s] = grey
		for _, e := range g.States[s] {
			if e.Next >= 0 {
				if err := visit(e.Next); err != nil {
					return err
				}
			}
		}
		colour[s] = black
		out = append(out, s)
		return nil
	}
	for s := range g.States {
		if err := visit(s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// V is the vocabulary size.
func (g *Grammar) V() int { return len(g.Words) }

// Token returns the index of word w, or an error naming it.
func (g *Grammar) Token(w string) (int, error) {
	i, ok := g.index[w]
	if !ok {
		return 0, fmt.Errorf("rlhf: unknown word %q", w)
	}
	return i, nil
}

// Parse turns a space-separated sentence into tokens.
func (g *Grammar) Parse(s string) ([]int, error) {
	var out []int
	for _, w := range strings.Fields(s) {
		t, err := g.Token(w)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Text renders tokens as words separated by spaces.
func (g *Grammar) Text(tokens []int) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		if t >= 0 && t < len(g.Words) {
			b.WriteString(g.Words[t])
		} else {
			fmt.Fprintf(&b, "<%d>", t)
		}
	}
	return b.String()
}

// step returns the edge for word w from state s, or false.
func (g *Grammar) step(s, w int) (Edge, bool) {
	for _, e := range g.States[s] {
		if e.Word == w {
			return e, true
		}
	}
	return Edge{}, false
}

// Path runs the automaton over x and returns the states it enters before each token
// (states[t] is the state in which x[t] is emitted) and whether x is a complete sentence
// of the language (accepted, ending with End and nothing after it).
func (g *Grammar) Path(x []int) (states []int, ok bool) {
	s := 0
	for t, w := range x {
		states = append(states, s)
		e, found := g.step(s, w)
		if !found {
			return states, false
		}
		if e.Next < 0 {
			return states, t == len(x)-1
		}
		s = e.Next
	}
	return states, false // ran out of tokens before End
}

// Accepts reports whether x is a sentence of the language.
func (g *Grammar) Accepts(x []int) bool {
	_, ok := g.Path(x)
	return ok
}

// LogProb returns ln P(x), −Inf when x is not a sentence of the language.
func (g *Grammar) LogProb(x []int) float64 {
	s, lp := 0, 0.0
	for t, w := range x {
		e, found := g.step(s, w)
		if !found {
			return math.Inf(-1)
		}
		lp += math.Log(e.Prob)
		if e.Next < 0 {
			if t != len(x)-1 {
				return math.Inf(-1)
			}
			return lp
		}
		s = e.Next
	}
	return math.Inf(-1)
}

// Sample draws one sentence from P (one rng.Float64 per token, inverse CDF).
func (g *Grammar) Sample(rng *rand.Rand) []int {
	var x []int
	s := 0
	for {
		u := rng.Float64()
		edges := g.States[s]
		e := edges[len(edges)-1]
		for _, c := range edges {
			if u < c.Prob {
				e = c
				break
			}
			u -= c.Prob
		}
		x = append(x, e.Word)
		if e.Next < 0 {
			return x
		}
		s = e.Next
	}
}

// Entropy returns the exact entropy of P in nats per sentence,
//
//	H(P) = −Σ_x P(x) ln P(x) = h(0),   h(s) = Σ_e P(e|s)·(−ln P(e|s) + h(next_e)),  h(end) = 0,
//
// (the chain rule over the automaton's choices), and the expected sentence length in tokens,
// ℓ(s) = Σ_e P(e|s)·(1 + ℓ(next_e)), End included. H/ℓ is the entropy per token.
func (g *Grammar) Entropy() (perSentence, meanLen float64) {
	order, err := g.order()
	if err != nil { // NewGrammar rejected cycles; a hand-built literal is checked here too
		return math.NaN(), math.NaN()
	}
	h := make([]float64, len(g.States))
	l := make([]float64, len(g.States))
	for _, s := range order {
		for _, e := range g.States[s] {
			var hn, ln float64
			if e.Next >= 0 {
				hn, ln = h[e.Next], l[e.Next]
			}
			h[s] += e.Prob * (-math.Log(e.Prob) + hn)
			l[s] += e.Prob * (1 + ln)
		}
	}
	return h[0], l[0]
}

// MaxLen is the length of the longest sentence, End included.
func (g *Grammar) MaxLen() int {
	order, err := g.order()
	if err != nil {
		return 0
	}
	m := make([]int, len(g.States))
	for _, s := range order {
		for _, e := range g.States[s] {
			n := 1
			if e.Next >= 0 {
				n += m[e.Next]
			}
			m[s] = max(m[s], n)
		}
	}
	return m[0]
}

// Enumerate calls f for every sentence of the language with its probability, depth first. The
// slice passed to f is reused. Use it on small grammars (the default one has ≈ 10⁵ sentences).
func (g *Grammar) Enumerate(f func(x []int, p float64)) {
	var x []int
	var walk func(s int, p float64)
	walk = func(s int, p float64) {
		for _, e := range g.States[s] {
			x = append(x, e.Word)
			if e.Next < 0 {
				f(x, p*e.Prob)
			} else {
				walk(e.Next, p*e.Prob)
			}
			x = x[:len(x)-1]
		}
	}
	walk(0, 1)
}
