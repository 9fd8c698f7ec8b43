// Package ppo trains policies with proximal policy optimisation and records, for every update,
// how far the update moved the policy (the exact KL(π_old‖π_θ)) and how the penalty
// coefficient β reacted.
//
// # One update, top-down
//
// Train runs the whole algorithm on a gym environment; one update (run.go) is
//
//	collectRollout (rollout.go)   numEnvs × numSteps transitions with π_old, V(s) alongside
//	GAE (gae.go)                  advantages and returns, bootstrapping truncated episodes
//	Learner.Learn (learner.go)    epochs × shuffled minibatches of the objective: normalise
//	                              advantages, losses and gradients, KL early stop, clip the
//	                              gradient norm, one Adam step per network
//	Learner.TrustRegionKL         the exact KL(π_old‖π_θ) the update produced
//	BetaController.Next (beta.go) the β of the next update
//
// # The learner is shared
//
// Learner is the one minibatch loop of klppo: the token-level RLHF trainers of package
// experiments/rlhf hand it a Batch of generated tokens (state = the prefix, action = the token)
// instead of environment steps, choose batch-wide advantage whitening, separate gradient
// clipping for a separate value model, and optionally a loss-side KL to a frozen reference
// (KLRef: k1, k2, k3, importance-weighted k3 or the exact full-vocabulary KL), per-sample
// loss weights (GRPO's normalisations) or a sequence-level ratio with minibatches of whole
// sequences (RLOO's one action per completion: LearnerConfig.SequenceLevel). Everything else —
// the objective, Adam, the early stop, the diagnostics — is the same code as environment PPO.
//
// # The parts
//
//   - Penalty and ParsePenalty: the objective spec ("clip:0.2", "kl-adaptive:0.01+stop:0.02").
//   - BuildPolicyLoss (surrogate.go): the policy loss of a Penalty as a gorgonia graph over
//     (B,) nodes of log π_θ, log π_old, advantages, per-sample KL(π_old‖π_θ) and a scalar β;
//     ClipFraction the fraction of ratios outside [1−ε, 1+ε].
//   - BetaController (FixedBeta, AdaptiveBeta, ProportionalBeta, BoundedBeta) and their one
//     constructor NewBetaController, with the default bounds DefaultBetaMin, DefaultBetaMax.
//   - KLRef (klref.go): where RLHF's KL(π‖π_ref) goes — in the reward or in the loss — and with
//     which estimator. It is a different KL from PPO's KL(π_old‖π_θ): π_ref never changes.
//   - GAE: generalised advantage estimation over a time-major rollout.
//
// Options.SingleThreaded keeps all of Train's work on the calling goroutine so that a sweep
// can run one run per core.
package ppo
