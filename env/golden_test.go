package env

import (
	"os"
	"path/filepath"
	"testing"

	"klppo/internal/golden"
)

// goldenTol is the acceptance tolerance of the issue: 1e-5·max(1, |ref|).
const goldenTol = 1e-5

// loadGolden reads ../shared/golden/classic_control.json relative to the repository root, or the
// testdata copy when the shared file is absent; it fails when both are absent.
func loadGolden(t *testing.T) *GoldenFile {
	t.Helper()
	data, p, err := golden.Read("classic_control.json", "env/testdata/classic_control.json")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseGolden(data)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	t.Logf("reference trajectories: %s (%d cases)", p, len(f.Cases))
	return f
}

func TestGoldenClassicControl(t *testing.T) {
	f := loadGolden(t)
	results := f.Replay()
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Env] = true
		t.Logf("%-26s cases %d steps %3d  max obs dev %.3g  max reward dev %.3g", r.Env, r.Cases, r.Steps, r.MaxObsDev, r.MaxRewardDev)
		if !r.OK(goldenTol) {
			t.Errorf("%s: obs dev %g, reward dev %g, terminated mismatches %d, errors %v",
				r.Env, r.MaxObsDev, r.MaxRewardDev, r.TerminatedMismatches, r.Errors)
		}
	}
	for _, id := range []string{"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"} {
		if !seen[id] {
			t.Errorf("no reference case for %s", id)
		}
	}
}

// The embedded copy must be the same data as the testdata file it is built from.
func TestEmbeddedGoldenMatchesTestdata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "classic_control.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(EmbeddedGolden()) {
		t.Fatal("embedded golden copy differs from testdata/classic_control.json")
	}
}
