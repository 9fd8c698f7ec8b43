package ppo

import (
	"strings"
	"testing"
)

// TestParsePenaltySuggestsTheSpec: a spec that is a typo of a valid one names the valid one
// (klppo train --penalty clip=0.2 once answered only "unknown kind"); a spec that is nothing
// like one suggests nothing.
func TestParsePenaltySuggestsTheSpec(t *testing.T) {
	for in, want := range map[string]string{
		"clip=0.2":           `did you mean "clip:0.2"?`,
		"clip 0.2":           `did you mean "clip:0.2"?`,
		"KL_Fixed:1":         `did you mean "kl-fixed:1"?`,
		"kl_adaptive=0.01":   `did you mean "kl-adaptive:0.01"?`,
		"clip=0.2+stop:0.05": `did you mean "clip:0.2+stop:0.05"?`,
		"NONE":               `did you mean "none"?`,
	} {
		_, err := ParsePenalty(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePenalty(%q): %v, want %s", in, err, want)
		}
	}
	for _, in := range []string{"trust-region:0.2", "clip=2", "bogus"} {
		if _, err := ParsePenalty(in); err == nil || strings.Contains(err.Error(), "did you mean") {
			t.Errorf("ParsePenalty(%q): %v, want no suggestion", in, err)
		}
	}
}
