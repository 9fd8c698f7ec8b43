package env

import (
	"math"
	"strings"
	"testing"

	"klppo/internal/golden"
)

// goldenTol is the acceptance tolerance of the issue: 1e-5·max(1, |ref|).
const goldenTol = 1e-5

// loadGolden reads the in-repo copy env/testdata/classic_control.json (golden.Read checks it
// against ../shared/golden/classic_control.json when that exists and refuses a copy that
// differs); it fails, never skips, when the copy is missing, differs or does not parse.
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

// goldenEnvs are the environments the reference file must cover.
var goldenEnvs = []string{"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"}

func TestGoldenClassicControl(t *testing.T) {
	f := loadGolden(t)
	results := f.Replay()
	seen := map[string]ReplayResult{}
	for _, r := range results {
		seen[r.Env] = r
		t.Logf("%-26s cases %d steps %3d  max obs dev %.3g  max reward dev %.3g", r.Env, r.Cases, r.Steps, r.MaxObsDev, r.MaxRewardDev)
		if !r.OK(goldenTol) {
			t.Errorf("%s: obs dev %g, reward dev %g (tolerance %g), terminated mismatches %d, errors %v",
				r.Env, r.MaxObsDev, r.MaxRewardDev, goldenTol, r.TerminatedMismatches, r.Errors)
		}
	}
	for _, id := range goldenEnvs {
		if r, ok := seen[id]; !ok || r.Steps == 0 {
			t.Errorf("no replayed reference step for %s", id)
		}
	}
}

// TestGoldenCopyMatchesShared reports whether the in-repo copy could be checked against
// ../shared/golden/classic_control.json: it fails if they differ and is skipped (visibly, with
// the reason) when the shared directory is absent beside this checkout. (The copy is also the
// file embedded for `klppo env check`, so this checks the embedded data too.)
func TestGoldenCopyMatchesShared(t *testing.T) {
	shared, err := golden.Shared("classic_control.json")
	if err != nil {
		t.Fatal(err)
	}
	if shared == "" {
		t.Skip("../shared/golden/classic_control.json is absent beside this checkout: env/testdata/classic_control.json is used unchecked")
	}
	data, _, err := golden.Read("classic_control.json", "env/testdata/classic_control.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(EmbeddedGolden()) {
		t.Fatal("the embedded copy differs from env/testdata/classic_control.json: rebuild")
	}
	t.Logf("env/testdata/classic_control.json equals %s", shared)
}

// TestGoldenReplayDetectsDeviations perturbs the reference data in the ways a wrong step
// function would show up — an observation off by 1e-4, a reward off by 1e-3, a flipped
// termination flag, an unknown environment id — and checks that Replay reports each one for
// the right environment, so TestGoldenClassicControl can fail.
func TestGoldenReplayDetectsDeviations(t *testing.T) {
	perturb := []struct {
		name  string
		edit  func(c *GoldenCase)
		fails func(r ReplayResult) bool
	}{
		{"observation", func(c *GoldenCase) { c.Steps[0].Obs[0] += 1e-4 * (1 + math.Abs(c.Steps[0].Obs[0])) },
			func(r ReplayResult) bool { return r.MaxObsDev > goldenTol }},
		{"reward", func(c *GoldenCase) { c.Steps[0].Reward += 1e-3 * (1 + math.Abs(c.Steps[0].Reward)) },
			func(r ReplayResult) bool { return r.MaxRewardDev > goldenTol }},
		{"terminated", func(c *GoldenCase) { c.Steps[len(c.Steps)-1].Terminated = !c.Steps[len(c.Steps)-1].Terminated },
			func(r ReplayResult) bool { return r.TerminatedMismatches > 0 || len(r.Errors) > 0 }},
		{"environment id", func(c *GoldenCase) { c.Env = "NoSuchEnv-v0" },
			func(r ReplayResult) bool {
				return len(r.Errors) > 0 && strings.Contains(strings.Join(r.Errors, " "), "NoSuchEnv")
			}},
	}
	for _, id := range goldenEnvs {
		for _, p := range perturb {
			f := loadGolden(t)
			k := -1
			for i, c := range f.Cases {
				if c.Env == id && len(c.Steps) > 0 {
					k = i
					break
				}
			}
			if k < 0 {
				t.Fatalf("no reference case with steps for %s", id)
			}
			p.edit(&f.Cases[k])
			want := f.Cases[k].Env
			caught := false
			for _, r := range f.Replay() {
				if r.Env == want {
					caught = !r.OK(goldenTol) && p.fails(r)
				}
			}
			if !caught {
				t.Errorf("%s: a perturbed %s in case %d went unnoticed by Replay", id, p.name, k)
			}
		}
	}
}
