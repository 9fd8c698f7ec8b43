package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func vaeRunCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVAEBadFlags(t *testing.T) {
	noOutputDirs(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"vae", "--dataset", "mnist"}, `--dataset "mnist"`},
		{[]string{"vae", "--latent", "0"}, "--latent 0"},
		{[]string{"vae", "--beta", "-1"}, "--beta -1"},
		{[]string{"vae", "--beta", "1e7"}, "--beta 1e+07: want 0 to 1e+06"}, // it said "want a number ≥ 0"
		{[]string{"vae", "--free-bits", "2e6"}, "--free-bits 2e+06: want 0 to 1e+06"},
		{[]string{"vae", "--warmup", "-2"}, "--warmup -2"},
		{[]string{"vae", "--free-bits", "NaN"}, "--free-bits NaN"},
		{[]string{"vae", "--lr", "0"}, "--lr 0"},
		{[]string{"vae", "--batch", "0"}, "--batch 0"},
		{[]string{"vae", "--epochs", "-3"}, "--epochs -3"},
		{[]string{"vae", "--hidden", "64,x"}, "-hidden"},
		{[]string{"vae", "--activation", "gelu"}, `--activation "gelu"`},
		{[]string{"vae", "--max-shift", "9"}, "--max-shift 9"},
		{[]string{"vae", "--obs-std", "0"}, "--obs-std 0"},
		{[]string{"vae", "--train-size", "100", "--batch", "500"}, "--batch 500"},
		{[]string{"vae", "extra"}, `"extra"`},
	}
	for _, tc := range tests {
		code, _, stderr := vaeRunCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestVAEHelp(t *testing.T) {
	code, _, stderr := vaeRunCLI("vae", "-h")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"-dataset", "-latent", "-beta", "-warmup", "-free-bits", "-hidden", "-lr", "-batch", "-epochs", "-seed", "-out", "-quiet"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("help lacks %s:\n%s", f, stderr)
		}
	}
}

// vaeMetricsWithoutTime reads metrics.csv and drops the wall-time column.
func vaeMetricsWithoutTime(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "seconds" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no seconds column in %v", rows[0])
	}
	for i := range rows {
		rows[i] = append(append([]string(nil), rows[i][:col]...), rows[i][col+1:]...)
	}
	return rows
}

func TestVAESmokeDeterministic(t *testing.T) {
	for _, ds := range []string{"glyphs", "ring"} {
		var runs [][][]string
		for i := 0; i < 2; i++ {
			dir := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := vaeRunCLI("vae", "--dataset", ds, "--epochs", "2", "--train-size", "256",
				"--test-size", "64", "--hidden", "16", "--batch", "32", "--warmup", "1", "--free-bits", "0.1",
				"--seed", "3", "--quiet", "--out", dir)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", ds, code, stderr)
			}
			if !strings.Contains(stdout, "final test: ELBO") || stderr != "" {
				t.Fatalf("%s: stdout %q stderr %q", ds, stdout, stderr)
			}
			for _, f := range []string{"metrics.csv", "samples.png", "kl.png", "latent.png"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %s: %v", ds, f, err)
				}
			}
			rows := vaeMetricsWithoutTime(t, filepath.Join(dir, "metrics.csv"))
			if len(rows) != 3 {
				t.Fatalf("%s: %d rows", ds, len(rows))
			}
			runs = append(runs, rows)
		}
		if a, b := runs[0], runs[1]; len(a) != len(b) || strings.Join(a[2], ",") != strings.Join(b[2], ",") {
			t.Errorf("%s: same seed, different metrics:\n%v\n%v", ds, a, b)
		}
	}
}

// TestVAEBoundsAndDefaults: sizes have upper bounds (memory follows them), 0 is not a hidden
// "default", "" is not a value, and the float flags stop where training would overflow; every
// refusal exits 2 naming the flag and its value, before any data is generated.
func TestVAEBoundsAndDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // a regression must not write runs/vae here
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--latent", "100000"}, "--latent 100000"},
		{[]string{"--hidden", "100000,100000"}, "--hidden 100000,100000"},
		{[]string{"--train-size", "1000000000"}, "--train-size 1000000000"},
		{[]string{"--test-size", "1000000000"}, "--test-size 1000000000"},
		{[]string{"--train-size", "0"}, "--train-size 0"},
		{[]string{"--test-size", "0"}, "--test-size 0"},
		{[]string{"--dataset", "ring", "--train-size", "0"}, "--train-size 0"},
		{[]string{"--dataset", "ring", "--obs-std", "1e-30"}, "--obs-std 1e-30"},
		{[]string{"--epochs", "1000000000"}, "--epochs 1000000000"},
		{[]string{"--warmup", "1000000000"}, "--warmup 1000000000"},
		{[]string{"--dataset", ""}, `--dataset ""`},
		{[]string{"--activation", ""}, `--activation ""`},
	} {
		args := append([]string{"vae", "--quiet"}, tc.args...)
		code, _, stderr := runCmd(args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat("runs"); !os.IsNotExist(err) {
		t.Errorf("a refused vae created runs/: %v", err)
	}
}

// TestVAEMemoryCheck: sizes within the bounds whose estimated memory exceeds what the process
// may use are refused naming the size flags (they used to end in Go's "fatal error: out of
// memory").
func TestVAEMemoryCheck(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	code, _, stderr := runCmd("vae", "--quiet", "--out", filepath.Join(t.TempDir(), "v"), "--hidden", "4096,4096", "--train-size", "1000000")
	if code != 2 || !strings.Contains(stderr, "--hidden 4096,4096") || !strings.Contains(stderr, "--train-size 1000000") || !strings.Contains(stderr, "GOMEMLIMIT") {
		t.Errorf("vae needing more than GOMEMLIMIT: exit %d, stderr %q; want 2 naming the size flags and the limit", code, stderr)
	}
}

// noOutputDirs runs the test in an empty working directory and fails it if the test leaves
// anything there: a command refused for a bad flag must not have made its default output
// directory (runs/…) first.
func noOutputDirs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Cleanup(func() {
		if es, err := os.ReadDir(dir); err != nil || len(es) > 0 {
			t.Errorf("the refused commands left %d entries in the working directory (%v), e.g. %v", len(es), err, es)
		}
	})
}
