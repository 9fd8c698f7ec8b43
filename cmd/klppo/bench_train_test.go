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
	// Also for Pendulum-v1, whose defaults are not CleanRL's: the preset is what is timed.
	stdout.Reset()
	if code := run([]string{"bench", "train", "--env", "Pendulum-v1", "--steps", "2048", "--repeat", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("Pendulum-v1: exit %d: %s", code, stderr.String())
	}
	if want := "preset cleanrl, kl-adaptive:0.01, 2048 steps (1 envs × 2048 steps, 32 minibatches × 10 epochs"; !strings.Contains(stdout.String(), want) {
		t.Errorf("bench train --env Pendulum-v1 does not time CleanRL's settings (%q):\n%s", want, stdout.String())
	}
	if code := run([]string{"bench", "train", "--preset", "sb3"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `--preset "sb3"`) {
		t.Errorf("--preset sb3: exit %d, %s", code, stderr.String())
	}
	for _, bad := range []string{"CleanRL", "reference", "torch"} {
		if strings.Contains(out, bad) {
			t.Errorf("output mentions %q, which it did not measure:\n%s", bad, out)
		}
	}
}
