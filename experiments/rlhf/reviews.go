package rlhf

import "fmt"

// The reviews language: one or two clauses "the NOUN was [not] [very|really] ADJ", joined by
// "and" or "but", ended by ".". Examples:
//
//	the food was good .
//	the staff was not very friendly but the view was lovely .
//
// Every word a clause needs is spelled out below; the gold reward (gold.go) alone knows which
// adjectives are positive.
var (
	reviewNouns    = []string{"food", "service", "staff", "room", "view", "price"}
	reviewPositive = []string{"good", "great", "friendly", "clean", "lovely"}
	reviewNegative = []string{"bad", "awful", "rude", "dirty", "slow"}
	reviewNeutral  = []string{"ok"}
)

// Clause probabilities of the reviews grammar.
const (
	pNot       = 0.15 // "was not …"
	pVery      = 0.15 // "was very ADJ" (also "not very ADJ" with pNotVery)
	pReally    = 0.10 // "was really ADJ"
	pNotVery   = 0.20 // after "not": "very" before the adjective
	pPositive  = 0.45 // adjective polarity after "was"/"not" (the rest: pNegative, pNeutral)
	pNeutral   = 0.10 // "ok" (not after an intensifier)
	pAnd       = 0.25 // after the first clause: "and" a second clause
	pBut       = 0.15 // after the first clause: "but" a second clause (the rest: ".")
	maxClauses = 2
)

// reviewFunctionWords are the words of every clause besides nouns and adjectives ("." first).
var reviewFunctionWords = []string{".", "the", "was", "not", "very", "really", "and", "but"}

// reviewsVocab is the size of the reviews vocabulary.
func reviewsVocab() int {
	return len(reviewFunctionWords) + len(reviewNouns) + len(reviewPositive) + len(reviewNegative) + len(reviewNeutral)
}

// Reviews returns the built-in grammar of short restaurant/hotel reviews: 25 words, 1–2 clauses,
// sentences of 5 to 14 tokens ("." included).
func Reviews() (*Grammar, error) {
	words := append([]string(nil), reviewFunctionWords...)
	words = append(words, reviewNouns...)
	words = append(words, reviewPositive...)
	words = append(words, reviewNegative...)
	words = append(words, reviewNeutral...)
	idx := map[string]int{}
	for i, w := range words {
		idx[w] = i
	}
	var states [][]Edge
	newState := func() int { states = append(states, nil); return len(states) - 1 }
	add := func(s int, w string, p float64, next int) {
		states[s] = append(states[s], Edge{Word: idx[w], Prob: p, Next: next})
	}
	adjectives := func(s, next int, withNeutral bool) {
		pos, neg := pPositive, 1-pPositive-pNeutral
		if withNeutral {
			add(s, "ok", pNeutral, next)
		} else {
			pos, neg = 0.5, 0.5
		}
		for _, w := range reviewPositive {
			add(s, w, pos/float64(len(reviewPositive)), next)
		}
		for _, w := range reviewNegative {
			add(s, w, neg/float64(len(reviewNegative)), next)
		}
	}
	// clause builds "the NOUN was [not] [very|really] ADJ" from state start; returns the state
	// after the adjective.
	clause := func(start int) int {
		noun, was, after, not, intens, end := newState(), newState(), newState(), newState(), newState(), newState()
		add(start, "the", 1, noun)
		for _, w := range reviewNouns {
			add(noun, w, 1/float64(len(reviewNouns)), was)
		}
		add(was, "was", 1, after)
		add(after, "not", pNot, not)
		add(after, "very", pVery, intens)
		add(after, "really", pReally, intens)
		pAdj := 1 - pNot - pVery - pReally
		// The plain adjectives after "was" share pAdj; scale adjectives() output by pAdj.
		first := len(states[after])
		adjectives(after, end, true)
		for i := first; i < len(states[after]); i++ {
			states[after][i].Prob *= pAdj
		}
		add(not, "very", pNotVery, intens)
		first = len(states[not])
		adjectives(not, end, true)
		for i := first; i < len(states[not]); i++ {
			states[not][i].Prob *= 1 - pNotVery
		}
		adjectives(intens, end, false)
		return end
	}
	start := newState()
	end1 := clause(start)
	second := newState()
	end2 := clause(second)
	add(end1, ".", 1-pAnd-pBut, -1)
	add(end1, "and", pAnd, second)
	add(end1, "but", pBut, second)
	add(end2, ".", 1, -1)
	g, err := NewGrammar(words, states)
	if err != nil {
		return nil, fmt.Errorf("rlhf: built-in reviews grammar: %w", err)
	}
	return g, nil
}
