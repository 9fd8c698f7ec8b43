package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBareKlppoPrintsHelp: klppo without arguments lists the commands and exits 2, writing no
// file (it used to start a 500k-step training run into runs/).
func TestBareKlppoPrintsHelp(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	code := run(nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "commands:") || !strings.Contains(errb.String(), "klppo train") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 and the commands on stderr", code, out.String(), errb.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}

// TestVersion: klppo version names the module version, the VCS revision when the build recorded
// one, and the Go version.
func TestVersion(t *testing.T) {
	saved := buildInfo
	defer func() { buildInfo = saved }()
	buildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "klppo", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3badb76abc"}, {Key: "vcs.modified", Value: "true"},
				{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"}}}, true
	}
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"klppo (devel) revision 3badb76abc (modified) committed 2025-01-02T03:04:05Z", "go1.26.8"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version %q lacks %q", out.String(), want)
		}
	}
	buildInfo = func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{GoVersion: "go1.26.8"}, true }
	out.Reset()
	run([]string{"version"}, &out, &errb)
	if !strings.Contains(out.String(), "no VCS revision") {
		t.Errorf("without a revision: %q", out.String())
	}
}

// TestProgressWithoutATerminal: progress written anywhere but a terminal is a few plain lines
// (one per tenth of the work at most), never carriage-return frames.
func TestProgressWithoutATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false, 1000, "work")
	for i := 0; i < 1000; i++ {
		p.Describe("step")
		p.Add(1)
	}
	p.Finish()
	s := b.String()
	if strings.ContainsRune(s, '\r') || strings.Count(s, "\n") != 10 || !strings.Contains(s, "work: 100% (1000/1000)") {
		t.Errorf("%q", s)
	}
	if newProgress(&b, true, 10, "quiet") != nil {
		t.Error("quiet progress is not nil")
	}
	var none *progress // --quiet: every method is a no-op
	none.Add(1)
	none.Set(2)
	none.Describe("x")
	none.Clear()
	none.Finish()
	// a whole command: train's progress into a redirected stderr
	b.Reset()
	var out bytes.Buffer
	if code := run([]string{"train", "--steps", "2048", "--out", filepath.Join(t.TempDir(), "r")}, &out, &b); code != 0 {
		t.Fatalf("train: exit %d: %s", code, b.String())
	}
	if strings.ContainsRune(b.String(), '\r') || strings.Count(b.String(), "\n") > 12 {
		t.Errorf("train's stderr: %q", b.String())
	}
}

// TestSecondSignalStops: after a first SIGINT cancels interruptible's context, a second SIGINT
// ends the process even when the command never looks at the context (the notify context used to
// swallow every further signal: `rlhf sft --corpus 2000000` ignored Ctrl-C). The command runs in
// a child process: this test binary re-run with KLPPO_TEST_SIGNAL_CHILD set.
func TestSecondSignalStops(t *testing.T) {
	if os.Getenv("KLPPO_TEST_SIGNAL_CHILD") != "" {
		ctx, stop := interruptible()
		defer stop()
		os.Stdout.WriteString("ready\n")
		<-ctx.Done()
		os.Stdout.WriteString("cancelled\n")
		time.Sleep(time.Minute) // busy elsewhere, never looking at ctx again
		os.Stdout.WriteString("survived\n")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSecondSignalStops$")
	cmd.Env = append(os.Environ(), "KLPPO_TEST_SIGNAL_CHILD=1")
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wait := func(s string) {
		for !strings.Contains(out.String(), s) {
			if ctx.Err() != nil {
				t.Fatalf("child never printed %q: %q", s, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("ready")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	wait("cancelled") // the default action is back before the context is cancelled: no pause needed
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ctx.Err() != nil || strings.Contains(out.String(), "survived") {
		t.Fatalf("after the second SIGINT: %v (timeout: %v), output %q; want the child killed by the signal", err, ctx.Err(), out.String())
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !(ws.Signaled() && ws.Signal() == syscall.SIGINT || ws.Exited() && ws.ExitStatus() == 130) {
		t.Errorf("child ended with %v, want killed by SIGINT or exit status 130", ee)
	}
}

// TestSecondSignalStopsWhenIgnoredAtStart: a process started with SIGINT ignored (a background
// job of a shell script) still stops at the second SIGINT, with status 130: the signal's
// original disposition, ignore, is not restored in its place.
func TestSecondSignalStopsWhenIgnoredAtStart(t *testing.T) {
	if os.Getenv("KLPPO_TEST_SIGNAL_CHILD") != "" {
		return // the child of TestSecondSignalStops runs under that name only
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// sh -c 'trap "" INT; exec …': the child starts with SIGINT ignored
	cmd := exec.CommandContext(ctx, "sh", "-c", `trap "" INT; exec "$0" -test.run='^TestSecondSignalStops$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "KLPPO_TEST_SIGNAL_CHILD=1")
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ready", "cancelled"} {
		for !strings.Contains(out.String(), want) {
			if ctx.Err() != nil {
				t.Fatalf("child never printed %q: %q", want, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ctx.Err() != nil || ee.ExitCode() != 130 {
		t.Fatalf("after the second SIGINT: %v (timeout: %v), output %q; want exit status 130", err, ctx.Err(), out.String())
	}
}
