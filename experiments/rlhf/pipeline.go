package rlhf

import (
	"context"
	"fmt"
	"path/filepath"
)

// PrepareConfig says how to get π_ref and the reward model: trained here (and written under the
// output directory) or loaded from the directories of earlier `klppo rlhf sft` / `rm` runs.
type PrepareConfig struct {
	SFT    SFTConfig
	RM     RMConfig
	SFTDir string // load π_ref from here instead of training it
	RMDir  string // load the reward model from here instead of training it
}

// DefaultPrepareConfig is the default pipeline for a seed.
func DefaultPrepareConfig(seed uint64) PrepareConfig {
	return PrepareConfig{SFT: DefaultSFTConfig(reviewsVocab(), seed), RM: DefaultRMConfig(seed)}
}

// Prepared is the outcome of Prepare: the environment and the reports of the stages that ran
// here (nil when loaded).
type Prepared struct {
	Env Env
	SFT *SFTReport
	RM  *RMReport
}

// Prepare builds the reviews language and its gold reward, then trains (or loads) π_ref and the
// reward model. Trained stages are written to out/sft and out/rm. log (may be nil) receives one
// line per stage. A bad setting, a stage that would not fit in memory and a directory to load
// from that holds no valid model are *ConfigError values.
func Prepare(ctx context.Context, cfg PrepareConfig, out string, log func(string)) (Prepared, error) {
	var p Prepared
	say := func(format string, a ...any) {
		if log != nil {
			log(fmt.Sprintf(format, a...))
		}
	}
	if err := cfg.Validate(); err != nil {
		return p, err
	}
	if err := cfg.CheckMemory(); err != nil {
		return p, err
	}
	g, err := Reviews()
	if err != nil {
		return p, err
	}
	gold, err := NewGold(g)
	if err != nil {
		return p, err
	}
	p.Env = Env{G: g, Gold: gold, LabelNoise: cfg.RM.Temperature}
	if cfg.SFTDir != "" {
		if p.Env.Ref, err = LoadSFT(cfg.SFTDir); err != nil {
			return p, err
		}
		if p.Env.Ref.Cfg.V != g.V() {
			return p, bad("sft_dir", cfg.SFTDir, "model vocabulary %d ≠ the reviews grammar's %d", p.Env.Ref.Cfg.V, g.V())
		}
		p.Env.SFTDir = cfg.SFTDir
		say("sft: loaded π_ref from %s", cfg.SFTDir)
	} else {
		ref, rep, err := TrainSFT(ctx, g, cfg.SFT, nil)
		if err != nil {
			return p, err
		}
		dir := filepath.Join(out, "sft")
		if err := SaveSFT(dir, ref, rep, cfg.SFT); err != nil {
			return p, err
		}
		p.Env.Ref, p.Env.SFTDir, p.SFT = ref, dir, &rep
		say("sft: held-out CE %.4f nats/token = H(P) %.4f + KL(P‖π_ref) %.4f  (per sentence %.3f = %.3f + %.3f); %.1f%% of π_ref samples in the language",
			rep.CEToken, rep.HToken, rep.KLToken, rep.CESentence, rep.HSentence, rep.KLSentence, 100*rep.InLanguage)
	}
	if cfg.RMDir != "" {
		if p.Env.RM, err = LoadRM(cfg.RMDir, g.V()); err != nil {
			return p, err
		}
		p.Env.RMDir = cfg.RMDir
		say("rm: loaded the reward model from %s", cfg.RMDir)
	} else {
		rm, rep, err := TrainRM(ctx, g, p.Env.Ref, Labeler{Gold: gold, Temperature: cfg.RM.Temperature}, cfg.RM)
		if err != nil {
			return p, err
		}
		dir := filepath.Join(out, "rm")
		if err := SaveRM(dir, rm, rep, cfg.RM); err != nil {
			return p, err
		}
		p.Env.RM, p.Env.RMDir, p.RM = rm, dir, &rep
		say("rm: %d preference pairs, held-out accuracy %.1f%% (vs gold order %.1f%%), BT loss %.3f",
			cfg.RM.Pairs, 100*rep.TestAccuracy, 100*rep.GoldAccuracy, rep.TestLoss)
	}
	return p, nil
}

// checkEvery is how many iterations of a loop that prepares or measures (sampling sentences,
// building the corpus rows, labelling pairs, scoring held-out text) run between two looks at
// the context: at most a few milliseconds of work at the largest sizes Validate allows, so that
// an interrupt ends such a loop within ≈ 0.1 s, at no measurable cost.
const checkEvery = 256

// interrupted returns nil unless i is a multiple of checkEvery and ctx is done; then it returns
// ctx's error wrapped with what was interrupted and the item it was about to start (item i+1
// of n, i counted from 0), e.g. "rlhf: sft: building the corpus (sentence 12033 of 60000):
// context canceled".
func interrupted(ctx context.Context, i, n int, what, item string) error {
	if i%checkEvery != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("rlhf: %s (%s %d of %d): %w", what, item, i+1, n, err)
	}
	return nil
}
