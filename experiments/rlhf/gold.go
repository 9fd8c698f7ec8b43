package rlhf

import "fmt"

// Gold is the labeler's true preference — what people want — for the reviews language: the
// sentiment of a grammatical review, and the worst score for anything outside the language.
// Only Gold knows which adjectives are positive; the reward model must learn it from
// preference pairs.
//
// A clause "the N was [not] [very|really] ADJ" scores
//
//	c = pol(ADJ) · (1 if intensified, else 0.6) · (−0.5 if "not", else 1),
//
// with pol = +1 for good/great/friendly/clean/lovely, −1 for bad/awful/rude/dirty/slow, 0 for ok.
// A sentence scores c₁ alone, (c₁ + c₂)/2 with "and", and (c₁ + 2c₂)/3 with "but" (the clause
// after "but" counts double). Scores lie in [−1, 1]; text outside the language scores
// OutOfLanguage = −1, as bad as the worst review.
type Gold struct {
	g                           *Grammar
	polarity                    []float64 // per token
	not, very, really, and, but int
}

// OutOfLanguage is the gold reward of any token sequence that is not a sentence of the language.
const OutOfLanguage = -1.0

// NewGold returns the gold reward for the reviews grammar g (as made by Reviews).
func NewGold(g *Grammar) (*Gold, error) {
	gd := &Gold{g: g, polarity: make([]float64, g.V())}
	for _, w := range reviewPositive {
		t, err := g.Token(w)
		if err != nil {
			return nil, fmt.Errorf("rlhf: gold: %w", err)
		}
		gd.polarity[t] = 1
	}
	for _, w := range reviewNegative {
		t, err := g.Token(w)
		if err != nil {
			return nil, fmt.Errorf("rlhf: gold: %w", err)
		}
		gd.polarity[t] = -1
	}
	for _, p := range []struct {
		w   string
		dst *int
	}{{"not", &gd.not}, {"very", &gd.very}, {"really", &gd.really}, {"and", &gd.and}, {"but", &gd.but}} {
		t, err := g.Token(p.w)
		if err != nil {
			return nil, fmt.Errorf("rlhf: gold: %w", err)
		}
		*p.dst = t
	}
	return gd, nil
}

// Score returns the gold reward of the token sequence x.
func (gd *Gold) Score(x []int) float64 {
	if !gd.g.Accepts(x) {
		return OutOfLanguage
	}
	var clauses []float64
	conj := -1
	start := 0
	for i, t := range x {
		if t == gd.and || t == gd.but || t == End {
			clauses = append(clauses, gd.clause(x[start:i]))
			if t != End {
				conj = t
			}
			start = i + 1
		}
	}
	switch {
	case len(clauses) == 1:
		return clauses[0]
	case conj == gd.but:
		return (clauses[0] + 2*clauses[1]) / 3
	default:
		return (clauses[0] + clauses[1]) / 2
	}
}

// clause scores one grammatical clause "the N was [not] [very|really] ADJ".
func (gd *Gold) clause(c []int) float64 {
	adj := c[len(c)-1]
	v := gd.polarity[adj] * 0.6
	for _, t := range c {
		switch t {
		case gd.very, gd.really:
			v = gd.polarity[adj]
		}
	}
	for _, t := range c {
		if t == gd.not {
			v *= -0.5
		}
	}
	return v
}
