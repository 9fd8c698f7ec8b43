package experiments

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// fakeRunner is a deterministic stand-in for ppo.Train: every update is fakeBatch env steps and
// finishes one episode whose return depends only on (penalty, seed, update), so runs interrupted
// and resumed write the same files as uninterrupted ones.
type fakeRunner struct {
	mu    sync.Mutex
	calls []fakeCall
	// single[i] is RunOptions.SingleThreaded of calls[i].
	single []bool
	// failSeed makes the runs of that seed whose penalty starts with failPrefix return an error.
	failPrefix string
	failSeed   uint64
}

type fakeCall struct {
	Penalty       string
	Seed          uint64
	Resume, Force bool
}

const fakeBatch = 100

const fakeMetricsHeader = "update,global_step,wall_s,sps,episodic_return,kl,approx_kl_k1,approx_kl_k3,beta,clipfrac,entropy,policy_loss,value_loss,explained_variance,lr,epochs"

// fakeReturn is the return of the episode finished by update u (0-based).
func fakeReturn(penalty string, seed uint64, u int) float64 {
	base := 0.0
	for _, c := range penalty {
		base += float64(c)
	}
	return math.Mod(base, 50) + float64(seed) + float64(u)
}

func (f *fakeRunner) Prepare(spec RunSpec) (RunSpec, error) {
	if strings.HasPrefix(spec.Penalty, "bad") {
		return spec, fmt.Errorf("penalty %q: unknown kind", spec.Penalty)
	}
	spec.Penalty = strings.ReplaceAll(spec.Penalty, " ", "")
	return spec, nil
}

func (f *fakeRunner) Run(ctx context.Context, spec RunSpec, dir string, opts RunOptions) (RunOutcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{spec.Penalty, spec.Seed, opts.Resume, opts.Force})
	f.single = append(f.single, opts.SingleThreaded)
	f.mu.Unlock()
	if f.failPrefix != "" && strings.HasPrefix(spec.Penalty, f.failPrefix) && spec.Seed == f.failSeed {
		if err := os.MkdirAll(dir, 0o755); err != nil { // like ppo.Train, it wrote its folder first
			return RunOutcome{}, err
		}
		return RunOutcome{}, errors.New("fake: diverged (NaN in policy loss)")
	}
	done := 0
	if opts.Resume {
		n, err := countLines(filepath.Join(dir, "metrics.csv"))
		if err != nil {
			return RunOutcome{}, fmt.Errorf("fake resume: %w", err)
		}
		done = n - 1
	} else {
		if _, err := os.Stat(dir); err == nil && !opts.Force {
			return RunOutcome{}, fmt.Errorf("fake: %s exists", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return RunOutcome{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return RunOutcome{}, err
		}
		if err := writeFakeConfig(dir, spec); err != nil {
			return RunOutcome{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, "metrics.csv"), []byte(fakeMetricsHeader+"\n"), 0o644); err != nil {
			return RunOutcome{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, "episodes.csv"), []byte("global_step,return,length\n"), 0o644); err != nil {
			return RunOutcome{}, err
		}
	}
	mf, err := os.OpenFile(filepath.Join(dir, "metrics.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return RunOutcome{}, err
	}
	defer mf.Close()
	ef, err := os.OpenFile(filepath.Join(dir, "episodes.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return RunOutcome{}, err
	}
	defer ef.Close()
	updates := spec.Steps / fakeBatch
	for u := done; u < updates; u++ {
		if err := ctx.Err(); err != nil {
			return RunOutcome{Steps: u * fakeBatch, Stopped: "interrupted"}, fmt.Errorf("fake: %w", err)
		}
		step := (u + 1) * fakeBatch
		ret := fakeReturn(spec.Penalty, spec.Seed, u)
		kl := 0.001 * float64(u+1) * float64(spec.Seed)
		beta := 0.0
		if strings.HasPrefix(spec.Penalty, "kl-") {
			beta = math.Pow(2, float64(u%3))
		}
		fmt.Fprintf(mf, "%d,%d,0.1,1000,%g,%g,0,0,%g,0.25,0.6,0,0,0,0.00025,4\n", u+1, step, ret, kl, beta)
		fmt.Fprintf(ef, "%d,%g,%d\n", step, ret, 10)
		if opts.OnUpdate != nil {
			opts.OnUpdate(step)
		}
	}
	return RunOutcome{Steps: updates * fakeBatch}, nil
}

// writeFakeConfig writes a config.json with the fields of a run that a sweep sets, as
// ppo.Train's config.json holds them.
func writeFakeConfig(dir string, spec RunSpec) error {
	cfg := map[string]any{"env_id": spec.Env, "penalty": spec.Penalty, "seed": spec.Seed, "total_timesteps": spec.Steps}
	for k, v := range spec.Overrides {
		cfg[k] = v
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
}

func (f *fakeRunner) callsFor(penalty string, seed uint64) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Penalty == penalty && c.Seed == seed {
			out = append(out, c)
		}
	}
	return out
}

func countLines(p string) (int, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// fixedBaseline is a Baseline func that returns a known random return and threshold.
func fixedBaseline(random, threshold float64) func(context.Context, string, int, uint64) (Baseline, error) {
	return func(_ context.Context, _ string, episodes int, seed uint64) (Baseline, error) {
		return Baseline{RandomReturn: random, RandomEpisodes: episodes, RandomSeed: seed, SolvedThreshold: threshold}, nil
	}
}
