package main

import (
	"path/filepath"
	"testing"

	"klppo/internal/rundir"
)

// TestEveryCommandStatesItsKind runs every command that writes a run directory, at a tiny size,
// and reads back the kind each directory states (rundir.KindFile). The runs viewer draws a run
// from this kind alone.
func TestEveryCommandStatesItsKind(t *testing.T) {
	dir := t.TempDir()
	p := func(elem ...string) string { return filepath.Join(append([]string{dir}, elem...)...) }
	rlhfPPO := []string{"--updates", "2", "--batch", "16", "--minibatch", "32"}
	cmds := []struct {
		args []string
		want map[string]rundir.Kind // directory → kind it must state
	}{
		{[]string{"train", "--steps", "256", "--num-steps", "64", "--out", p("train"), "--quiet"},
			map[string]rundir.Kind{p("train"): rundir.KindTrain}},
		// The config.json of a run is an input again: the kind lives in run.json, not in it.
		{[]string{"train", "--config", p("train", "config.json"), "--steps", "256", "--out", p("again"), "--quiet"},
			map[string]rundir.Kind{p("again"): rundir.KindTrain}},
		{[]string{"vae", "--dataset", "ring", "--epochs", "1", "--train-size", "64", "--test-size", "32", "--hidden", "8",
			"--batch", "32", "--quiet", "--out", p("vae")}, map[string]rundir.Kind{p("vae"): rundir.KindVAE}},
		{[]string{"distill", "--teacher-hidden", "16", "--teacher-epochs", "1", "--train-size", "200", "--test-size", "50",
			"--student-hidden", "8", "--epochs", "1", "--batch", "50", "--quiet", "--out", p("distill")},
			map[string]rundir.Kind{p("distill"): rundir.KindDistill}},
		{append([]string{"rlhf", "sft", "--out", p("sft")}, tinyRLHF...), map[string]rundir.Kind{p("sft"): rundir.KindRLHFSFT}},
		{append([]string{"rlhf", "rm", "--sft", p("sft"), "--out", p("rmrun")}, tinyRLHF...),
			map[string]rundir.Kind{p("rmrun", "rm"): rundir.KindRLHFRM}},
		{append([]string{"rlhf", "bon", "--sft", p("sft"), "--rm", p("rmrun", "rm"), "--n", "1,2", "--pool", "100", "--out", p("bon")}, tinyRLHF...),
			map[string]rundir.Kind{p("bon"): rundir.KindRLHFBoN}},
		{append(append([]string{"rlhf", "ppo", "--out", p("ppo")}, rlhfPPO...), tinyRLHF...),
			map[string]rundir.Kind{p("ppo"): rundir.KindRLHFPPO, p("ppo", "sft"): rundir.KindRLHFSFT, p("ppo", "rm"): rundir.KindRLHFRM}},
		{append(append([]string{"rlhf", "--out", p("story")}, rlhfPPO...), tinyRLHF...),
			map[string]rundir.Kind{p("story"): rundir.KindRLHFStory, p("story", "leash"): rundir.KindRLHFPPO,
				p("story", "no-leash"): rundir.KindRLHFPPO, p("story", "sft"): rundir.KindRLHFSFT, p("story", "rm"): rundir.KindRLHFRM}},
		{append(append([]string{"rlhf", "sweep", "--betas", "0", "--seeds", "1", "--pool", "100", "--out", p("sweep")}, rlhfPPO...), tinyRLHF...),
			map[string]rundir.Kind{p("sweep"): rundir.KindRLHFSweep, p("sweep", "seed-1", "beta-0"): rundir.KindRLHFPPO}},
		{append([]string{"rlhf", "grpo", "--out", p("grpo"), "--updates", "2", "--prompts", "2", "--group", "4", "--minibatch", "32"}, tinyRLHF...),
			map[string]rundir.Kind{p("grpo"): rundir.KindRLHFGRPO}},
		{append([]string{"rlhf", "rloo", "--out", p("rloo"), "--updates", "2", "--prompts", "2", "--k", "2", "--minibatch", "32"}, tinyRLHF...),
			map[string]rundir.Kind{p("rloo"): rundir.KindRLHFRLOO}},
		{append([]string{"rlhf", "leash", "--methods", "rloo", "--rewards", "rm", "--betas", "0", "--seeds", "1", "--updates", "1",
			"--bon-n", "1", "--bon-pool", "4", "--bon-prompts", "1", "--out", p("leash")}, tinyRLHF...),
			map[string]rundir.Kind{p("leash"): rundir.KindRLHFLeash, p("leash", "seed-1", "rloo-rm-beta-0"): rundir.KindRLHFRLOO,
				p("leash", "seed-1", "sft"): rundir.KindRLHFSFT}},
		{[]string{"rlhf", "estimators", "--optimise", "--max-iter", "300", "--samples", "0", "--table-samples", "1000", "--out", p("est")},
			map[string]rundir.Kind{p("est"): rundir.KindEstimators}},
	}
	for _, c := range cmds {
		if code, _, stderr := runCmd(c.args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		for d, want := range c.want {
			if got, err := rundir.ReadKind(d); err != nil || got != want {
				t.Errorf("%v: %s states kind %q (%v), want %q", c.args[:2], d, got, err, want)
			}
		}
	}
	// compare and compare merge (with the fake runner of compare_test.go)
	withCompareFake(t, &compareFake{})
	common := []string{"compare", "--env", "CartPole-v1", "--penalties", "clip:0.2,none", "--seeds", "1", "--steps", "1024", "--quiet"}
	for _, c := range [][]string{
		append(common, "--out", p("cmp")),
		append(common, "--shard", "1/2", "--out", p("s1")),
		append(common, "--shard", "2/2", "--out", p("s2")),
		{"compare", "merge", "--out", p("merged"), p("s1"), p("s2")},
	} {
		if code, _, stderr := runCmd(c...); code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, stderr)
		}
	}
	for _, d := range []string{"cmp", "s1", "s2", "merged"} {
		if got, err := rundir.ReadKind(p(d)); err != nil || got != rundir.KindCompare {
			t.Errorf("%s states kind %q (%v), want compare", d, got, err)
		}
	}
}
