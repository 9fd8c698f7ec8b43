package estimators

import (
	"fmt"

	"klppo/internal/memlimit"
)

// Bounds of the sample counts, refused before anything is allocated: a Monte Carlo estimate
// draws Samples values, Schulman's table holds two float64 per draw, and MonteCarlo keeps
// Trials estimates of every estimator's value and of every configuration's gradient
// (MonteCarloBytes, at most MaxMonteCarloBytes).
const (
	MaxSamples         = 10_000_000
	MaxTableSamples    = 10_000_000
	MinTableSamples    = 100
	MaxTrials          = 1_000_000
	MaxMonteCarloBytes = 1 << 30
)

// MonteCarloBytes is the memory MonteCarlo keeps for trials trials over arms arms: one float64
// per trial for each of the three value estimators and, for each configuration, one per arm.
func MonteCarloBytes(trials, arms int) int64 {
	return 8 * int64(trials) * int64(3+len(Configs)*arms)
}

// CheckSizes validates the sample counts of an invocation over arms arms (samples = 0 skips the
// Monte Carlo, and then trials is not used) and compares their memory with the machine
// (internal/memlimit). Errors are *InputError values naming "samples", "trials" or
// "table_samples".
func CheckSizes(samples, trials, tableSamples, arms int) error {
	switch {
	case samples < 0 || samples > MaxSamples:
		return &InputError{"samples", fmt.Sprintf("%d: must be in [0, %d]", samples, MaxSamples)}
	case samples > 0 && (trials < 2 || trials > MaxTrials):
		return &InputError{"trials", fmt.Sprintf("%d: must be in [2, %d]", trials, MaxTrials)}
	case tableSamples < MinTableSamples || tableSamples > MaxTableSamples:
		return &InputError{"table_samples", fmt.Sprintf("%d: must be in [%d, %d]", tableSamples, MinTableSamples, MaxTableSamples)}
	}
	if samples > 0 {
		if b := MonteCarloBytes(trials, arms); b > MaxMonteCarloBytes {
			return &InputError{"trials", fmt.Sprintf("%d: %d trials × %d arms need %s for the Monte Carlo estimates (at most %s)",
				trials, trials, arms, memlimit.GiB(b), memlimit.GiB(MaxMonteCarloBytes))}
		}
	}
	need := 16*int64(tableSamples) + 64<<20
	if samples > 0 {
		need += MonteCarloBytes(trials, arms)
	}
	if err := memlimit.Check(need); err != nil {
		field, v := "table_samples", tableSamples
		if samples > 0 && MonteCarloBytes(trials, arms) > 16*int64(tableSamples) {
			field, v = "trials", trials
		}
		return &InputError{field, fmt.Sprintf("%d: the run %v", v, err)}
	}
	return nil
}
