// Package ppo trains policies with proximal policy optimisation and records, for every update,
// how far the update moved the policy (the exact KL(π_old‖π_θ)) and how the penalty
// coefficient β reacted.
//
// # Reusable parts
//
// The pieces of PPO that do not depend on the gym rollout can be used by another trainer (for
// example a token-level PPO over a vocabulary):
//
//   - Penalty and ParsePenalty: the objective spec ("clip:0.2", "kl-adaptive:0.01+stop:0.02").
//   - BuildPolicyLoss: the policy loss of a Penalty as a gorgonia graph over (B,) nodes of
//     log π_θ, log π_old, advantages, per-sample KL(π_old‖π_θ) and a scalar β;
//     Penalty.SampleLoss is the same loss and its derivatives for one sample in plain Go;
//     ClipFraction the fraction of ratios outside [1−ε, 1+ε].
//   - BetaController (FixedBeta, AdaptiveBeta, ProportionalBeta, BoundedBeta) and
//     Penalty.BetaController: the rules that adapt β between updates.
//   - GAE: generalised advantage estimation over a time-major rollout.
//
// Train runs the whole algorithm on a gym environment: collect a rollout, compute advantages,
// run epochs of minibatch steps, adapt β. Options.SingleThreaded keeps all of its work on the
// calling goroutine so that a sweep can run one run per core.
package ppo
