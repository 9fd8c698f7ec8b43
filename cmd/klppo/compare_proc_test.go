package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"klppo/nn"
	"klppo/ppo"
)

// A run trained in a child klppo process writes the same files as ppo.Train in this process
// (apart from the wall-clock columns), so a sweep may use either.
func TestChildTrainerMatchesInProcess(t *testing.T) {
	if got := klppoExecutable(); got != "" {
		t.Fatalf("klppoExecutable() = %q in a test binary, want \"\" (sweeps in tests must train in-process)", got)
	}
	tmp := t.TempDir()
	exe := filepath.Join(tmp, "klppo")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg, err := ppo.DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TotalTimesteps = 4096
	cfg.Seed = 7
	cfg.Penalty = "clip:0.2"
	nn.UseFastBLAS() // as klppo's main does in the child and in a real `klppo compare`
	ctx := context.Background()
	childDir, localDir := filepath.Join(tmp, "child"), filepath.Join(tmp, "local")
	got, err := childTrainer(exe)(ctx, cfg, childDir, ppo.Options{SingleThreaded: true})
	if err != nil {
		t.Fatalf("child run: %v", err)
	}
	want, err := ppo.Train(ctx, cfg, localDir, ppo.Options{SingleThreaded: true})
	if err != nil {
		t.Fatalf("in-process run: %v", err)
	}
	if got.Steps != want.Steps || got.Updates != want.Updates || got.FinalReturn != want.FinalReturn || got.Episodes != want.Episodes {
		t.Errorf("summary: child %+v, in-process %+v", got, want)
	}
	for _, f := range []string{ppo.ConfigFile, ppo.EpisodesFile} {
		a, b := readFile(t, filepath.Join(childDir, f)), readFile(t, filepath.Join(localDir, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the child and the in-process run", f)
		}
	}
	// metrics.csv without wall_s and sps (columns 3 and 4)
	strip := func(b []byte) string {
		var rows []string
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			c := strings.Split(line, ",")
			rows = append(rows, strings.Join(append(c[:2:2], c[4:]...), ","))
		}
		return strings.Join(rows, "\n")
	}
	a, b := strip(readFile(t, filepath.Join(childDir, ppo.MetricsFile))), strip(readFile(t, filepath.Join(localDir, ppo.MetricsFile)))
	if a != b || len(a) == 0 {
		t.Errorf("metrics.csv differs between the child and the in-process run:\n%s\n---\n%s", a, b)
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, ".klppo-config-*")); len(m) > 0 {
		t.Errorf("temporary config files left behind: %v", m)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
