package env

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
)

//go:embed testdata/classic_control.json
var embeddedGolden []byte

// EmbeddedGolden returns the copy of classic_control.json (Gymnasium 0.29.1 reference
// trajectories) built into the package.
func EmbeddedGolden() []byte { return append([]byte(nil), embeddedGolden...) }

// GoldenFile is a set of reference trajectories (the format of classic_control.json).
type GoldenFile struct {
	Source string       `json:"source"`
	Cases  []GoldenCase `json:"cases"`
}

// GoldenCase sets an environment's internal State and records the result of each Step.
type GoldenCase struct {
	Env   string       `json:"env"`
	State []float64    `json:"state"`
	Steps []GoldenStep `json:"steps"`
}

// GoldenStep is one recorded step; Action is a Discrete index or a Box vector in the file.
type GoldenStep struct {
	Action     GoldenAction `json:"action"`
	Obs        []float64    `json:"obs"`
	Reward     float64      `json:"reward"`
	Terminated bool         `json:"terminated"`
}

// GoldenAction is an action read from either a JSON number or a JSON array of numbers.
type GoldenAction []float64

// UnmarshalJSON accepts 1 or [0.5, …].
func (a *GoldenAction) UnmarshalJSON(b []byte) error {
	var x float64
	if err := json.Unmarshal(b, &x); err == nil {
		*a = GoldenAction{x}
		return nil
	}
	var v []float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("env: golden action %s is neither a number nor a list of numbers", b)
	}
	*a = v
	return nil
}

// ParseGolden decodes a reference-trajectory file.
func ParseGolden(data []byte) (*GoldenFile, error) {
	var f GoldenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("env: parse golden file: %w", err)
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("env: golden file has no cases")
	}
	return &f, nil
}

// ReplayResult summarises the replay of every case of one environment id. Deviations are scaled:
// |got − ref| / max(1, |ref|).
type ReplayResult struct {
	Env                  string
	Cases, Steps         int
	MaxObsDev            float64
	MaxRewardDev         float64
	TerminatedMismatches int
	Errors               []string // cases that could not be replayed (unknown id, bad state, step error)
}

// MaxDev is the larger of the observation and reward deviations.
func (r ReplayResult) MaxDev() float64 { return math.Max(r.MaxObsDev, r.MaxRewardDev) }

// OK reports whether every step matched: deviations ≤ tol, no termination mismatch, no error.
func (r ReplayResult) OK(tol float64) bool {
	return r.MaxDev() <= tol && r.TerminatedMismatches == 0 && len(r.Errors) == 0
}

func scaledDev(got, ref float64) float64 {
	if math.IsNaN(got) != math.IsNaN(ref) {
		return math.Inf(1)
	}
	return math.Abs(got-ref) / math.Max(1, math.Abs(ref))
}

// Replay replays every case on a fresh unwrapped environment (no time limit): SetState, then
// the recorded actions through StepRaw when available (Gymnasium clips out-of-range Box actions
// inside the dynamics; the reference files contain such actions), comparing obs, reward and
// terminated. Results come one per environment id, in order of first appearance.
func (f *GoldenFile) Replay() []ReplayResult {
	var out []ReplayResult
	index := map[string]int{}
	for ci, c := range f.Cases {
		k, ok := index[c.Env]
		if !ok {
			k = len(out)
			index[c.Env] = k
			out = append(out, ReplayResult{Env: c.Env})
		}
		res := &out[k]
		res.Cases++
		if err := replayCase(c, res); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("case %d: %v", ci, err))
		}
	}
	return out
}

func replayCase(c GoldenCase, res *ReplayResult) error {
	spec, err := Lookup(c.Env)
	if err != nil {
		return err
	}
	e := spec.New()
	ss, ok := e.(StateSetter)
	if !ok {
		return fmt.Errorf("%s cannot set its state", c.Env)
	}
	if err := ss.SetState(c.State); err != nil {
		return err
	}
	step := e.Step
	if rs, ok := e.(RawStepper); ok {
		step = rs.StepRaw
	}
	for si, s := range c.Steps {
		r, err := step(s.Action)
		if err != nil {
			return fmt.Errorf("step %d: %w", si, err)
		}
		res.Steps++
		if len(r.Obs) != len(s.Obs) {
			return fmt.Errorf("step %d: obs has length %d, reference %d", si, len(r.Obs), len(s.Obs))
		}
		for i := range s.Obs {
			res.MaxObsDev = math.Max(res.MaxObsDev, scaledDev(r.Obs[i], s.Obs[i]))
		}
		res.MaxRewardDev = math.Max(res.MaxRewardDev, scaledDev(r.Reward, s.Reward))
		if r.Terminated != s.Terminated {
			res.TerminatedMismatches++
		}
		if r.Terminated && si+1 < len(c.Steps) {
			return fmt.Errorf("step %d: terminated, but the reference continues for %d steps", si, len(c.Steps)-si-1)
		}
	}
	return nil
}
