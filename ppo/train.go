package ppo

import (
	"context"
	"errors"
	"fmt"

	"klppo/env"
)

// Hooks are optional callbacks run on the training goroutine.
type Hooks struct {
	OnUpdate  func(m UpdateMetrics)                    // after each update (progress bars, logging)
	OnEpisode func(globalStep int, ep env.EpisodeStat) // after each finished episode
}

// Options control where and how a run is written.
type Options struct {
	Resume bool // continue the run in outDir from its checkpoint
	Force  bool // overwrite an existing outDir
	Hooks  Hooks
}

// Train runs PPO, writing config.json, metrics.csv, episodes.csv, summary.json and a checkpoint
// into outDir. It honours ctx cancellation (writes a checkpoint, flushes files, returns ctx.Err()
// wrapped). It is safe to call concurrently from several goroutines (no shared mutable state).
func Train(ctx context.Context, cfg Config, outDir string, opts Options) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("ppo: invalid config: %w", err)
	}
	return Summary{}, errors.New("ppo: Train is not implemented yet")
}
