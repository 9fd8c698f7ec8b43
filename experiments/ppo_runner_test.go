package experiments

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tinySweep is a real-PPO sweep small enough for a unit test: 2 settings × 2 seeds × 4 updates of 128 steps.
func tinySweep() Sweep {
	return Sweep{Name: "tiny", Env: "CartPole-v1", Penalties: []string{"clip:0.2", "kl-adaptive:0.01"}, Seeds: SeedRange(2), Steps: 512,
		Overrides: map[string]any{"num_envs": 2, "num_steps": 64, "num_minibatches": 2, "update_epochs": 2, "hidden": []int{16, 16}}}
}

// csvWithout reads a CSV file and blanks the named columns (wall-clock ones).
func csvWithout(t *testing.T, path string, drop ...string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: %d rows, want a header and data", path, len(rows))
	}
	for _, name := range drop {
		for j, h := range rows[0] {
			if h == name {
				for i := 1; i < len(rows); i++ {
					rows[i][j] = ""
				}
			}
		}
	}
	return rows
}

func jsonWithout(t *testing.T, path string, drop ...string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range drop {
		delete(m, d)
	}
	return m
}

// samePPOFiles compares every per-run file of two sweeps apart from the wall-clock columns.
func samePPOFiles(t *testing.T, a, b string, s Sweep) {
	t.Helper()
	for _, p := range s.Penalties {
		for _, seed := range s.Seeds {
			da, db := filepath.Join(a, RunDir(p, seed)), filepath.Join(b, RunDir(p, seed))
			if x, y := csvWithout(t, filepath.Join(da, "metrics.csv"), "wall_s", "sps"), csvWithout(t, filepath.Join(db, "metrics.csv"), "wall_s", "sps"); !reflect.DeepEqual(x, y) {
				t.Fatalf("%s seed %d: metrics.csv differs", p, seed)
			}
			if x, y := csvWithout(t, filepath.Join(da, "episodes.csv")), csvWithout(t, filepath.Join(db, "episodes.csv")); !reflect.DeepEqual(x, y) {
				t.Fatalf("%s seed %d: episodes.csv differs", p, seed)
			}
			for _, f := range []string{"config.json", "summary.json"} {
				if x, y := jsonWithout(t, filepath.Join(da, f), "wall_s", "sps"), jsonWithout(t, filepath.Join(db, f), "wall_s", "sps"); !reflect.DeepEqual(x, y) {
					t.Fatalf("%s seed %d: %s differs:\n%v\n%v", p, seed, f, x, y)
				}
			}
		}
	}
}

func TestParallelEqualsSerialPPO(t *testing.T) {
	s := tinySweep()
	serial, par := t.TempDir(), t.TempDir()
	// --parallel 2 over 4 runs: the first 3 start single-threaded, the last one not
	for _, c := range []struct {
		dir string
		p   int
	}{{serial, 1}, {par, 2}} {
		res, err := Run(context.Background(), s, Options{OutDir: c.dir, Parallel: c.p, Runner: PPORunner{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Runs {
			if r.Status != StatusOK || r.Episodes == 0 || math.IsNaN(r.KLMean) {
				t.Fatalf("parallel %d: run %+v", c.p, r)
			}
		}
	}
	samePPOFiles(t, serial, par, s)
	// the table depends only on the per-run files
	a, _ := os.ReadFile(filepath.Join(serial, TableFile))
	b, _ := os.ReadFile(filepath.Join(par, TableFile))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatalf("table.md differs:\n%s\n%s", a, b)
	}
}

func TestInterruptedPPOSweepResumesToTheSameFiles(t *testing.T) {
	s := tinySweep()
	ref := t.TempDir()
	if _, err := Run(context.Background(), s, Options{OutDir: ref, Parallel: 2, Runner: PPORunner{}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Run(ctx, s, Options{OutDir: dir, Parallel: 1, Runner: PPORunner{}, OnProgress: func(done, _ int64) {
		if done >= 512+256 { // half-way through the second run
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: %v", err)
	}
	var statuses []string
	for _, r := range readRuns(t, dir) {
		statuses = append(statuses, r.Status)
	}
	if !strings.Contains(strings.Join(statuses, ","), StatusInterrupted) {
		t.Fatalf("no run recorded as interrupted: %v", statuses)
	}
	if _, err := Run(context.Background(), s, Options{OutDir: dir, Parallel: 2, Resume: true, Runner: PPORunner{}}); err != nil {
		t.Fatal(err)
	}
	samePPOFiles(t, ref, dir, s)
}

// The columns the sweep reads must exist in ppo's metrics.csv header.
func TestMetricsColumnsExist(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(context.Background(), Sweep{Env: "CartPole-v1", Penalties: []string{"kl-fixed:1"}, Seeds: []uint64{3}, Steps: 128,
		Overrides: map[string]any{"num_envs": 1, "num_steps": 128, "num_minibatches": 2, "update_epochs": 1}}, Options{OutDir: dir, Runner: PPORunner{}}); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCurves(filepath.Join(dir, RunDir("kl-fixed:1", 3)), 128)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.KL) != 1 || c.Beta[0] != 1 || len(c.EpisodeReturns) == 0 {
		t.Fatalf("curves %+v: want one update with β = 1 and some episodes", c)
	}
}

func TestMergedShardsEqualOneMachinePPO(t *testing.T) {
	s := tinySweep()
	one, root := t.TempDir(), t.TempDir()
	if _, err := Run(context.Background(), s, Options{OutDir: one, Parallel: 1, Runner: PPORunner{}}); err != nil {
		t.Fatal(err)
	}
	shards := []string{filepath.Join(root, "s1"), filepath.Join(root, "s2"), filepath.Join(root, "s3")}
	for i, dir := range shards {
		if _, err := Run(context.Background(), s, Options{OutDir: dir, Parallel: 2, Runner: PPORunner{}, Shard: Shard{i + 1, 3}}); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(root, "merged")
	if _, err := Merge(context.Background(), shards, Options{OutDir: merged}); err != nil {
		t.Fatal(err)
	}
	samePPOFiles(t, one, merged, s)
	for _, f := range []string{SweepFile, TableFile, ReturnsPlot, KLPlot, BetaPlot} {
		a, err1 := os.ReadFile(filepath.Join(one, f))
		b, err2 := os.ReadFile(filepath.Join(merged, f))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between one machine and the merged shards (%v, %v)", f, err1, err2)
		}
	}
	if x, y := csvWithout(t, filepath.Join(one, RunsFile), "wall_s"), csvWithout(t, filepath.Join(merged, RunsFile), "wall_s"); !reflect.DeepEqual(x, y) {
		t.Fatalf("runs.csv differs:\n%v\n%v", x, y)
	}
}

// BenchmarkSweepSchedule times a small real sweep with the Table 1 hyperparameters (4 settings × 1
// seed × 4096 steps) trained one run at a time (two-core trainer) and two at a time (mostly
// single-threaded runs side by side): go test ./experiments -run XXX -bench SweepSchedule.
// On a machine with two free cores the second should take about half the time of the first.
func BenchmarkSweepSchedule(b *testing.B) {
	d, err := Lookup("table1-cartpole")
	if err != nil {
		b.Fatal(err)
	}
	d.Penalties = d.Penalties[:4]
	s, err := FromDefinition(d, 1, 4096)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []int{1, 2} {
		b.Run(fmt.Sprintf("parallel=%d", p), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), s, Options{OutDir: b.TempDir(), Parallel: p, Runner: PPORunner{}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(s.TotalSteps())*float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}
