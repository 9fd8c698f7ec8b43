package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"klppo/env"
	"klppo/internal/rundir"
	"klppo/policy"
	"klppo/ppo"

	"github.com/schollz/progressbar/v3"
)

func init() {
	register("train", "train a PPO policy (default: CartPole-v1 with kl-adaptive:0.01) and record the KL of every update", runTrain)
}

// trainFlags holds every hyper-parameter flag; values are applied only for flags that were set.
type trainFlags struct {
	fs                                                   *flag.FlagSet
	env, penalty, out, config, resume, activation, dtype string
	steps, numEnvs, numSteps, numMinibatches, epochs     int
	ckEvery                                              int
	seed                                                 uint64
	lr, gamma, lambda, entCoef, vfCoef, maxGrad, vfClip  float64
	initBeta, klHorizon, initLogStd, adamEps             float64
	betaMin, betaMax                                     float64
	clipV, annealLR, normAdv, normObs, normRew           bool
	hidden                                               widthList
	quiet, force                                         bool
}

func newTrainFlags(path string, stderr io.Writer) *trainFlags {
	f := &trainFlags{}
	fs := newFlagSet(path, "[flags]\n\nThe defaults shown are CartPole-v1's; every environment has its own (see docs/training.md, section Flags).", stderr)
	f.fs = fs
	fs.StringVar(&f.env, "env", "CartPole-v1", "environment id ("+strings.Join(env.IDs(), ", ")+")")
	fs.StringVar(&f.penalty, "penalty", "kl-adaptive:0.01", "policy objective: clip:EPS, kl-fixed:BETA, kl-adaptive:DTARG, kl-prop:DTARG or none, optionally +stop:KL")
	fs.IntVar(&f.steps, "steps", 0, "total environment steps (CleanRL --total-timesteps; default: the env's, 500000 for CartPole-v1)")
	fs.IntVar(&f.steps, "total-timesteps", 0, "alias of --steps")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed (weights, actions, minibatches, env resets)")
	fs.StringVar(&f.out, "out", "", "output directory (default runs/<env>-<penalty>-s<seed>-<UTC time>, so a re-run never collides)")
	fs.StringVar(&f.config, "config", "", "JSON or YAML config file (keys as in config.json); flags override it")
	fs.StringVar(&f.resume, "resume", "", "continue the run in DIR from its checkpoint (only --steps may change)")
	fs.BoolVar(&f.force, "force", false, "overwrite the run files in an existing --out directory")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.IntVar(&f.numEnvs, "num-envs", 0, "parallel environment copies (default 4)")
	fs.IntVar(&f.numSteps, "num-steps", 0, "steps per environment per update (default 128)")
	fs.IntVar(&f.numMinibatches, "num-minibatches", 0, "minibatches per epoch; must divide num-envs*num-steps (default 4)")
	fs.IntVar(&f.epochs, "update-epochs", 0, "epochs over each batch (default 4)")
	fs.Float64Var(&f.lr, "lr", 0, "Adam learning rate (default 2.5e-4)")
	fs.Float64Var(&f.lr, "learning-rate", 0, "alias of --lr")
	fs.Float64Var(&f.gamma, "gamma", 0, "discount γ (default 0.99)")
	fs.Float64Var(&f.lambda, "gae-lambda", 0, "GAE λ (default 0.95)")
	fs.Float64Var(&f.entCoef, "ent-coef", 0, "entropy bonus coefficient (default 0.01)")
	fs.Float64Var(&f.vfCoef, "vf-coef", 0, "value loss coefficient (default 0.5)")
	fs.Float64Var(&f.maxGrad, "max-grad-norm", 0, "global gradient-norm clip over both networks, 0 = off (default 0.5)")
	fs.Float64Var(&f.vfClip, "vf-clip", 0, "ε of the clipped value loss (default 0.2)")
	fs.BoolVar(&f.clipV, "clip-vloss", true, "clip the value loss")
	fs.BoolVar(&f.annealLR, "anneal-lr", true, "anneal the learning rate linearly to 0")
	fs.BoolVar(&f.normAdv, "norm-adv", true, "normalise advantages per minibatch")
	fs.BoolVar(&f.normObs, "norm-obs", false, "normalise observations with running statistics (default: per env)")
	fs.BoolVar(&f.normRew, "norm-reward", false, "scale rewards by the running std of the discounted return (default: per env)")
	fs.Var(&f.hidden, "hidden", "hidden layer widths of both networks (default 64,64)")
	fs.StringVar(&f.activation, "activation", "", "hidden activation: tanh or relu (default tanh)")
	fs.Float64Var(&f.initBeta, "init-beta", 0, "initial β of kl-adaptive and kl-prop (default 1)")
	fs.Float64Var(&f.betaMin, "beta-min", 0, "lower bound of the adaptive β after each update (default 1e-4)")
	fs.Float64Var(&f.betaMax, "beta-max", 0, "upper bound of the adaptive β after each update (default 1e4)")
	fs.Float64Var(&f.klHorizon, "kl-prop-horizon", 0, "horizon of the kl-prop controller in env steps (default 10000)")
	fs.Float64Var(&f.initLogStd, "init-log-std", 0, "initial log σ of Gaussian policies (default 0)")
	fs.Float64Var(&f.adamEps, "adam-eps", 0, "Adam ε (default 1e-5)")
	fs.StringVar(&f.dtype, "dtype", "", "training graph precision: float32 or float64 (default float32)")
	fs.IntVar(&f.ckEvery, "checkpoint-every", -1, "updates between checkpoints, 0 = only at the end, -1 = the config value (50)")
	return f
}

// resolve builds the config: env defaults ← --config file ← flags that were set.
func (f *trainFlags) resolve() (ppo.Config, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var cfg ppo.Config
	var err error
	switch {
	case f.config != "":
		if cfg, err = ppo.LoadConfig(f.config); err != nil {
			return cfg, usagef("--config %s: %v", f.config, err)
		}
		if set["env"] && f.env != cfg.EnvID {
			return cfg, usagef("--env %s conflicts with env_id %q in --config %s", f.env, cfg.EnvID, f.config)
		}
	default:
		if cfg, err = ppo.DefaultConfig(f.env); err != nil {
			return cfg, usagef("--env %s: %v", f.env, err)
		}
		cfg.Penalty = f.penalty
	}
	apply := map[string]func(){
		"penalty": func() { cfg.Penalty = f.penalty }, "steps": func() { cfg.TotalTimesteps = f.steps },
		"total-timesteps": func() { cfg.TotalTimesteps = f.steps }, "seed": func() { cfg.Seed = f.seed },
		"num-envs": func() { cfg.NumEnvs = f.numEnvs }, "num-steps": func() { cfg.NumSteps = f.numSteps },
		"num-minibatches": func() { cfg.NumMinibatches = f.numMinibatches }, "update-epochs": func() { cfg.UpdateEpochs = f.epochs },
		"lr": func() { cfg.LearningRate = f.lr }, "learning-rate": func() { cfg.LearningRate = f.lr },
		"gamma": func() { cfg.Gamma = f.gamma }, "gae-lambda": func() { cfg.GAELambda = f.lambda },
		"ent-coef": func() { cfg.EntCoef = f.entCoef }, "vf-coef": func() { cfg.VFCoef = f.vfCoef },
		"max-grad-norm": func() { cfg.MaxGradNorm = f.maxGrad }, "vf-clip": func() { cfg.VFClip = f.vfClip },
		"clip-vloss": func() { cfg.ClipVLoss = f.clipV }, "anneal-lr": func() { cfg.AnnealLR = f.annealLR },
		"norm-adv": func() { cfg.NormAdv = f.normAdv }, "norm-obs": func() { cfg.NormObs = f.normObs },
		"norm-reward": func() { cfg.NormReward = f.normRew }, "hidden": func() { cfg.Hidden = append([]int(nil), f.hidden...) },
		"activation": func() { cfg.Activation = f.activation }, "init-beta": func() { cfg.InitBeta = f.initBeta },
		"kl-prop-horizon": func() { cfg.KLPropHorizon = f.klHorizon },
		"beta-min":        func() { cfg.BetaMin = f.betaMin }, "beta-max": func() { cfg.BetaMax = f.betaMax }, "init-log-std": func() { cfg.InitLogStd = f.initLogStd },
		"adam-eps": func() { cfg.AdamEps = f.adamEps }, "dtype": func() { cfg.DType = f.dtype },
		"checkpoint-every": func() { cfg.CheckpointEvery = f.ckEvery },
	}
	for name, fn := range apply {
		if set[name] {
			fn()
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("invalid configuration: %v", err)
	}
	pen, err := ppo.ParsePenalty(cfg.Penalty)
	if err != nil { // Validate parsed it already
		return cfg, usagef("invalid configuration: penalty: %v", err)
	}
	cfg.Penalty = pen.String() // canonical: config.json stores what summary.json reports
	if err := cfg.CheckMemory(); err != nil {
		return cfg, usagef("invalid configuration: %v", err)
	}
	return cfg, nil
}

// refuseEmptyFlags returns a usage error naming the first string flag of fs that was given an
// empty (or blank) value: "" never silently means "the default" (omit the flag for that).
func refuseEmptyFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		if err != nil {
			return
		}
		g, ok := fl.Value.(flag.Getter)
		if !ok {
			return
		}
		if _, isString := g.Get().(string); isString && strings.TrimSpace(fl.Value.String()) == "" {
			switch {
			case fl.Name == "out" && fl.DefValue == "":
				err = usagef("--out %q: empty directory name (omit --out for the default)", fl.Value.String())
			case fl.Name == "out":
				err = usagef("--out %q: empty directory name (omit --out for the default %s)", fl.Value.String(), fl.DefValue)
			default:
				err = usagef("--%s %q: empty value (omit --%s for its default)", fl.Name, fl.Value.String(), fl.Name)
			}
		}
	})
	return err
}

// defaultOutDir is runs/<env>-<penalty>-s<seed>-<UTC time>.
func defaultOutDir(cfg ppo.Config, now time.Time) string {
	pen := strings.NewReplacer(":", "_", "+", "_").Replace(cfg.Penalty)
	return filepath.Join("runs", fmt.Sprintf("%s-%s-s%d-%s", cfg.EnvID, pen, cfg.Seed, now.UTC().Format("20060102-150405")))
}

// tuneGC makes the garbage collector run less often (GOGC=400) unless the user set GOGC, for
// every command (main calls it): gorgonia's tape machine reallocates its buffers every run, and
// collecting them at the default pace costs about a tenth of the training time.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	f := newTrainFlags("train", stderr)
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if err := refuseEmptyFlags(f.fs); err != nil {
		return err
	}
	var cfg ppo.Config
	out := f.out
	opts := ppo.Options{Force: f.force}
	if f.resume != "" {
		ok := map[string]bool{"resume": true, "steps": true, "total-timesteps": true, "quiet": true, "checkpoint-every": true}
		var bad []string
		f.fs.Visit(func(fl *flag.Flag) {
			if !ok[fl.Name] {
				bad = append(bad, "--"+fl.Name)
			}
		})
		if len(bad) > 0 {
			return usagef("--resume %q: %s cannot be combined with --resume (the run keeps its saved config; only --steps may change)", f.resume, strings.Join(bad, ", "))
		}
		c, err := ppo.ReadConfig(f.resume)
		if err != nil {
			return usagef("--resume %s: %v", f.resume, err)
		}
		// The checkpoint must be readable and agree with config.json before anything is
		// touched: a damaged one is bad input (exit 2), as for eval.
		if _, err := ppo.ReadRun(f.resume); err != nil {
			return usagef("--resume %s: %v", f.resume, err)
		}
		cfg = c
		set := map[string]bool{}
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		if set["steps"] || set["total-timesteps"] { // a given value is validated, never ignored
			cfg.TotalTimesteps = f.steps
		}
		if set["checkpoint-every"] && f.ckEvery != -1 {
			cfg.CheckpointEvery = f.ckEvery
		}
		if err := cfg.Validate(); err != nil {
			return usagef("--resume %s: %v", f.resume, err)
		}
		if err := cfg.CheckMemory(); err != nil {
			return usagef("--resume %s: %v", f.resume, err)
		}
		out, opts.Resume = f.resume, true
	} else {
		c, err := f.resolve()
		if err != nil {
			return err
		}
		cfg = c
		if out == "" {
			out = defaultOutDir(cfg, time.Now())
		}
		switch err := rundir.Check(out); {
		case err == nil, rundir.HoldsRun(err) && f.force:
		case rundir.HoldsRun(err):
			return usagef("--out %s: %v; use --resume %s to continue it or --force to overwrite its files", out, err, out)
		default:
			return usagef("--out %q: %v", out, err)
		}
		if err := rundir.Create(out); err != nil {
			return usagef("--out %q: %v", out, err)
		}
	}
	ctx, stop := interruptContext(stderr)
	defer stop()

	verb := "training"
	if opts.Resume {
		verb = "resuming"
	}
	fmt.Fprintf(stdout, "klppo train: %s %s with %s, seed %d, %d steps (%d envs × %d steps, %d minibatches × %d epochs) → %s\n",
		verb, cfg.EnvID, cfg.Penalty, cfg.Seed, cfg.TotalTimesteps, cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs, out)
	var bar *progressbar.ProgressBar
	if !f.quiet {
		bar = progressbar.NewOptions(cfg.NumUpdates()*cfg.BatchSize(),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetWidth(24),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("starting"),
			progressbar.OptionSetItsString("steps"),
		)
		opts.Hooks.OnUpdate = func(m ppo.UpdateMetrics) {
			desc := fmt.Sprintf("return %6.1f | KL %.2e", m.EpisodicReturn, m.KL)
			if m.Beta != 0 {
				desc += fmt.Sprintf(" β %.2e", m.Beta)
			}
			desc += fmt.Sprintf(" | %5.0f SPS", m.SPS)
			bar.Describe(desc)
			bar.Set(m.GlobalStep)
		}
	}
	s, err := ppo.Train(ctx, cfg, out, opts)
	if bar != nil {
		bar.Finish()
		bar.Clear()
		fmt.Fprintln(stderr)
	}
	if opts.Resume && (errors.Is(err, ppo.ErrRunFiles) || errors.Is(err, policy.ErrCorrupt) || errors.Is(err, policy.ErrMismatch)) {
		return usagef("--resume %s: %v", out, err)
	}
	if err != nil && s.Steps == 0 && s.Updates == 0 && s.Stopped == "" {
		return err // failed before training (bad directory, corrupt checkpoint, …)
	}
	fmt.Fprintf(stdout, "\n%s %d steps in %.1f s (%.0f steps/s); final return %s (mean of the last 10 episodes)",
		map[bool]string{true: "stopped after", false: "done:"}[s.Stopped != ""], s.Steps, s.WallS, s.SPS, fmtReturn(s.FinalReturn))
	if !math.IsNaN(s.SolvedThreshold) {
		if s.FirstStepReturnGE >= 0 {
			fmt.Fprintf(stdout, "; 10-episode mean first ≥ %g at step %d", s.SolvedThreshold, s.FirstStepReturnGE)
		} else {
			fmt.Fprintf(stdout, "; 10-episode mean never reached %g", s.SolvedThreshold)
		}
	}
	fmt.Fprintln(stdout)
	if ms, rerr := ppo.ReadMetrics(filepath.Join(out, ppo.MetricsFile)); rerr == nil && len(ms) > 0 {
		fmt.Fprintf(stdout, "\nHow far each update moved the policy (exact KL(π_old‖π_new), mean over the batch), per quarter of training:\n\n%s",
			ppo.FormatQuarters(ppo.Quarters(ms)))
	}
	fmt.Fprintf(stdout, "\nfiles: %s/{%s,%s,%s,%s,%s}\n", out, ppo.ConfigFile, ppo.MetricsFile, ppo.EpisodesFile, ppo.SummaryFile, ppo.CheckpointFile)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stdout, "interrupted: checkpoint written; continue with: klppo train --resume %s\n", out)
		}
		return err
	}
	return nil
}

// interruptContext is cancelled by the first SIGINT or SIGTERM: training then finishes no
// further update, writes a checkpoint and flushes its files. The signals' default action is
// restored at that moment, so a second Ctrl-C ends the process at once (the previous checkpoint
// stays valid: checkpoints are written atomically).
func interruptContext(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, stop := interruptible()
	go func() {
		<-ctx.Done()
		stop()
		if context.Cause(ctx) != context.Canceled { // a signal, not stop() at the end of the command
			fmt.Fprintln(stderr, "\nklppo: interrupt: finishing the current update and writing a checkpoint (Ctrl-C again quits at once)")
		}
	}()
	return ctx, stop
}

func fmtReturn(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}
