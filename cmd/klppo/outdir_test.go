package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"klppo/experiments"
	"klppo/experiments/distill"
	"klppo/experiments/rlhf"
	"klppo/experiments/vae"
	"klppo/internal/rundir"
	"klppo/ppo"
)

// TestRunMarkersCoverEveryRunFile: rundir.Markers must name the files by which each command's run
// directory is recognised, so that no command overwrites another's run.
func TestRunMarkersCoverEveryRunFile(t *testing.T) {
	for _, f := range []string{ppo.ConfigFile, ppo.MetricsFile, ppo.EpisodesFile, ppo.SummaryFile, ppo.CheckpointFile,
		experiments.SweepFile, experiments.RunsFile, vae.MetricsFile, distill.MetricsFile, distill.TeacherFile,
		rlhf.ConfigFile, rlhf.MetricsFile, rlhf.SummaryFile, rlhf.SFTModelFile, rlhf.RMModelFile, rlhf.LeashFile} {
		if !slices.Contains(rundir.Markers, f) {
			t.Errorf("rundir.Markers lacks %s", f)
		}
	}
}

// fakeTrainRun makes a folder that looks like a finished `klppo train` run and returns it with
// the content of its metrics.csv.
func fakeTrainRun(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "train-run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const metrics = "update,global_step\n1,128\n"
	for name, content := range map[string]string{ppo.MetricsFile: metrics, ppo.ConfigFile: "{}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, metrics
}

func TestOutGuardRefusesAnotherRun(t *testing.T) {
	withCompareFake(t, &compareFake{})
	run, metrics := fakeTrainRun(t)
	cases := [][]string{
		{"vae", "--epochs", "1", "--quiet", "--out", run},
		{"distill", "--epochs", "1", "--quiet", "--out", run},
		{"compare", "--env", "CartPole-v1", "--penalties", "clip:0.2", "--seeds", "1", "--steps", "512", "--quiet", "--out", run},
	}
	for _, args := range cases {
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, "--out "+run) || !strings.Contains(stderr, "already holds a run") || !strings.Contains(stderr, "--force") {
			t.Errorf("%s into a training run: exit %d, stderr %q; want 2 naming --out %s and --force", args[0], code, stderr, run)
		}
		if b, err := os.ReadFile(filepath.Join(run, ppo.MetricsFile)); err != nil || string(b) != metrics {
			t.Fatalf("%s changed the training run's metrics.csv: %q, %v", args[0], b, err)
		}
	}
	for _, cmd := range []string{"vae", "distill", "compare"} {
		args := []string{cmd, "--out", ""}
		if cmd == "compare" {
			args = append(args, "--experiment", "table1-cartpole")
		}
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, `--out ""`) {
			t.Errorf(`%s --out "": exit %d, stderr %q; want 2 naming --out ""`, cmd, code, stderr)
		}
	}
}

func TestOutGuardForce(t *testing.T) {
	run, _ := fakeTrainRun(t)
	code, _, stderr := runCmd("vae", "--dataset", "ring", "--epochs", "1", "--train-size", "64", "--test-size", "32",
		"--hidden", "8", "--batch", "32", "--quiet", "--out", run, "--force")
	if code != 0 {
		t.Fatalf("vae --force: exit %d: %s", code, stderr)
	}
	// a second vae run into the first one's folder is refused too: any run counts
	code, _, stderr = runCmd("vae", "--dataset", "ring", "--epochs", "1", "--quiet", "--out", run)
	if code != 2 || !strings.Contains(stderr, "already holds a run") {
		t.Fatalf("vae into a vae run: exit %d, stderr %q; want 2", code, stderr)
	}
}

// TestLockedOutExits2: a run into a directory another klppo is writing (here: this process holds
// its lock, as a second process's run would) fails with exit status 2 and the message, and
// writes nothing there.
func TestLockedOutExits2(t *testing.T) {
	switch runtime.GOOS {
	case "windows", "aix", "js", "wasip1", "plan9":
		t.Skipf("rundir.Lock is a no-op on %s", runtime.GOOS)
	}
	out := t.TempDir()
	unlock, err := rundir.Lock(out)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"train", "--steps", "512", "--num-steps", "64", "--out", out, "--quiet"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "is writing "+out) || !strings.Contains(stderr.String(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("train into a locked --out: exit %d, stderr %q; want 2 and the holder named", code, stderr.String())
	}
	if es, err := os.ReadDir(out); err != nil || len(es) != 1 || es[0].Name() != rundir.LockFile {
		t.Errorf("the locked directory now holds %v (%v), want only %s", es, err, rundir.LockFile)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}
