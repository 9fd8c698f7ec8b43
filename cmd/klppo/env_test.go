package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"klppo/env"
)

func envRunCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEnvList(t *testing.T) {
	code, out, errs := envRunCLI("env", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range env.Specs() {
		if !strings.Contains(out, s.ID) {
			t.Errorf("list lacks %s", s.ID)
		}
	}
	for _, want := range []string{"Discrete(2)", "475", "-110", "999", "Box(-2, 2, (1,))"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
}

func TestEnvCheckDefaultAndEmbedded(t *testing.T) {
	code, out, errs := envRunCLI("env", "check")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "all 5 environments match") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	// Away from the repository the embedded copy is used, and says so.
	t.Chdir(t.TempDir())
	code, out, errs = envRunCLI("env", "check")
	if code != 0 || !strings.Contains(out, "embedded copy") {
		t.Fatalf("exit %d, output:\n%s%s", code, out, errs)
	}
}

func TestEnvCheckDetectsDeviation(t *testing.T) {
	g, err := env.ParseGolden(env.EmbeddedGolden())
	if err != nil {
		t.Fatal(err)
	}
	// Perturb one Acrobot observation by 1e-4 (ten times the tolerance).
	for i, c := range g.Cases {
		if c.Env == "Acrobot-v1" {
			g.Cases[i].Steps[3].Obs[4] += 1e-4
			break
		}
	}
	data, _ := json.Marshal(g)
	file := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := envRunCLI("env", "check", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Acrobot-v1") && !strings.HasSuffix(strings.TrimSpace(line), "FAIL") {
			t.Fatalf("Acrobot line not marked FAIL: %q", line)
		}
		if strings.HasPrefix(line, "CartPole-v1") && !strings.HasSuffix(strings.TrimSpace(line), "ok") {
			t.Fatalf("CartPole line not ok: %q", line)
		}
	}
	// The same file passes with a looser tolerance given after the file name.
	if code, out, errs := envRunCLI("env", "check", file, "-tol", "1e-3"); code != 0 {
		t.Fatalf("with -tol 1e-3: exit %d\n%s%s", code, out, errs)
	}
}

func TestEnvBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"env", "bench", "-env", "Nope-v0"},
		{"env", "bench", "-seconds", "0"},
		{"env", "bench", "-n", "0"},
		{"env", "check", "-tol", "-1"},
		{"env", "check", "a.json", "b.json"},
		{"env", "list", "extra"},
	} {
		code, _, errs := envRunCLI(args...)
		if code != 2 || errs == "" {
			t.Errorf("%v: exit %d (stderr %q), want 2 with a message", args, code, errs)
		}
	}
	if code, _, _ := envRunCLI("env", "check", filepath.Join(t.TempDir(), "missing.json")); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

func TestEnvBench(t *testing.T) {
	code, out, errs := envRunCLI("env", "bench", "-env", "Bandit-v0", "-seconds", "0.05", "-rounds", "1", "-n", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Bandit-v0") || !strings.Contains(out, "median env-steps/s") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}
