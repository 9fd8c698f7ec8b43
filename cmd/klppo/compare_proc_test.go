package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"klppo/nn"
	"klppo/ppo"
)

// TestMain lets this test binary act as klppo for child processes: `klppo compare --processes`
// starts `<this executable> train …`, whatever the executable is called (here klppo.test).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "train" {
		if log := os.Getenv("KLPPO_TEST_CHILD_LOG"); log != "" { // tell the test a child ran, and how
			f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				os.Exit(3)
			}
			fmt.Fprintf(f, "GOMAXPROCS=%s\n", os.Getenv("GOMAXPROCS"))
			if err := f.Close(); err != nil {
				os.Exit(3)
			}
		}
		nn.UseFastBLAS() // as main does
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// stripWall drops the wall-clock columns wall_s and sps (3 and 4) of a metrics.csv.
func stripWall(b []byte) string {
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		c := strings.Split(line, ",")
		rows = append(rows, strings.Join(append(c[:2:2], c[4:]...), ","))
	}
	return strings.Join(rows, "\n")
}

// A run trained in a child process of this executable (not named klppo) writes the same files as
// ppo.Train in this process (apart from the wall-clock columns), single-threaded or not.
func TestChildTrainerMatchesInProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(exe) == "klppo" {
		t.Fatalf("the test binary is called klppo: the test would not show that the name does not matter")
	}
	tmp := t.TempDir()
	cfg, err := ppo.DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TotalTimesteps = 4096
	cfg.Seed = 7
	cfg.Penalty = "clip:0.2"
	nn.UseFastBLAS() // as klppo's main does in the child and in a real `klppo compare`
	ctx := context.Background()
	for _, single := range []bool{true, false} {
		dir := filepath.Join(tmp, map[bool]string{true: "single", false: "two-core"}[single])
		childDir, localDir := filepath.Join(dir, "child"), filepath.Join(dir, "local")
		got, err := childTrainer(exe)(ctx, cfg, childDir, ppo.Options{SingleThreaded: single})
		if err != nil {
			t.Fatalf("child run: %v", err)
		}
		want, err := ppo.Train(ctx, cfg, localDir, ppo.Options{SingleThreaded: single})
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
		a, b := stripWall(readFile(t, filepath.Join(childDir, ppo.MetricsFile))), stripWall(readFile(t, filepath.Join(localDir, ppo.MetricsFile)))
		if a != b || len(a) == 0 {
			t.Errorf("metrics.csv differs between the child and the in-process run:\n%s\n---\n%s", a, b)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, ".klppo-config-*")); len(m) > 0 {
			t.Errorf("temporary config files left behind: %v", m)
		}
	}
}

// `klppo compare --processes` trains every run in a child process of this executable (the runs
// the sweep puts side by side with GOMAXPROCS=1) and writes the same run files and table as the
// default in-process sweep, which starts no child.
func TestCompareProcessesMatchesInProcess(t *testing.T) {
	tmp := t.TempDir()
	childLog := filepath.Join(tmp, "children.log")
	t.Setenv("KLPPO_TEST_CHILD_LOG", childLog)
	outs := map[bool]string{false: filepath.Join(tmp, "inproc"), true: filepath.Join(tmp, "procs")}
	for _, procs := range []bool{false, true} {
		args := []string{"compare", "--env", "CartPole-v1", "--penalties", "clip:0.2,kl-fixed:1", "--seeds", "2", "--steps", "2048",
			"--random-episodes", "5", "--parallel", "2", "--quiet", "--out", outs[procs]}
		if procs {
			args = append(args, "--processes")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		children := ""
		if b, err := os.ReadFile(childLog); err == nil {
			children = string(b)
		}
		// 4 runs, 2 at a time: the first 3 start while ≥ 2 wait and are single-threaded
		want := map[bool]string{false: "", true: "GOMAXPROCS=1\nGOMAXPROCS=1\nGOMAXPROCS=1\nGOMAXPROCS=\n"}[procs]
		if sorted := sortLines(children); sorted != sortLines(want) {
			t.Fatalf("processes=%v: the children started were\n%q\nwant\n%q", procs, children, want)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(outs[false], "*", "seed-*"))
	if len(runs) != 4 {
		t.Fatalf("in-process sweep: %d run folders, want 4", len(runs))
	}
	for _, r := range runs {
		rel, _ := filepath.Rel(outs[false], r)
		for _, f := range []string{ppo.ConfigFile, ppo.EpisodesFile} {
			if !bytes.Equal(readFile(t, filepath.Join(r, f)), readFile(t, filepath.Join(outs[true], rel, f))) {
				t.Errorf("%s/%s differs between --processes and in-process", rel, f)
			}
		}
		if stripWall(readFile(t, filepath.Join(r, ppo.MetricsFile))) != stripWall(readFile(t, filepath.Join(outs[true], rel, ppo.MetricsFile))) {
			t.Errorf("%s/metrics.csv differs between --processes and in-process", rel)
		}
	}
	if !bytes.Equal(readFile(t, filepath.Join(outs[false], "table.md")), readFile(t, filepath.Join(outs[true], "table.md"))) {
		t.Errorf("table.md differs between --processes and in-process")
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

func sortLines(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}
