package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchTrainPrintsOnlyMeasurements: the output holds the measured runs and their median,
// and no figure of another tool (those live in docs/performance.md with date and command).
func TestBenchTrainPrintsOnlyMeasurements(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "train", "--steps", "1024", "--repeat", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	// CleanRL's hyperparameters, whatever klppo train's defaults are: the figure stays comparable.
	for _, want := range []string{"run 1: 1024 steps", "median:", "preset cleanrl", "(4 envs × 128 steps, 4 minibatches × 4 epochs, float32)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"CleanRL", "reference", "torch"} {
		if strings.Contains(out, bad) {
			t.Errorf("output mentions %q, which it did not measure:\n%s", bad, out)
		}
	}
}
