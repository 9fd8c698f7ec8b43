// Package rlhf is the InstructGPT loop in miniature — a language with a known distribution, a
// labeler who knows what is good, a supervised reference model π_ref, a reward model learned
// from preferences, and PPO (or GRPO, or RLOO) on tokens held to π_ref by a KL leash — small
// enough to run in a minute on a laptop and exact enough that every KL is known.
//
// # The language and the labeler
//
// Reviews is a probabilistic finite automaton over 25 words ("the food was very good and the
// staff was friendly ."). Because it is deterministic, P(x) is a product of edge probabilities,
// membership is decidable (Grammar.Accepts) and the entropy H(P) is exact (Grammar.Entropy, a
// dynamic programme over the acyclic state graph). Gold is what the labeler wants: the
// sentiment of a grammatical review in [−1, 1], and −1 for anything outside the language.
//
// # SFT: cross-entropy = entropy + KL
//
// TrainSFT fits π_ref (Model: the policy package's actor-critic over a hand-made observation of
// the prefix — the last 3 tokens, the position and the set of words used so far) by minimising
// the cross-entropy CE = E_P[−ln π_ref(x)] on a sampled corpus. Since CE = H(P) + KL(P‖π_ref)
// and H(P) is known exactly, the held-out CE measures the forward (mode-covering) KL the SFT
// model still has to the language: SFTReport.
//
// # Preferences and the reward model
//
// A Labeler compares two π_ref samples with Bradley–Terry noise, P(a ≻ b) = σ((gold(a) −
// gold(b))/τ). RewardModel is linear in the bag of words and is trained with the Bradley–Terry
// loss −ln σ(r(chosen) − r(rejected)) (TrainRM). It never sees word order and only ever saw
// reference-like text — which is what makes it exploitable.
//
// # PPO on tokens and the KL leash
//
// Trainer runs PPO with one step per generated token. The reward of token t is the reward
// model's score on the last token minus β·k_t, where k_t estimates KL(π(·|x_<t)‖π_ref(·|x_<t))
// (ppo.KLRef: k1, k2, k3 or the exact full-vocabulary KL, in the reward or in the loss — the same
// code as `klppo rlhf estimators`). PPO's own objective (ppo.BuildPolicyLoss, the clipped ratio
// to π_old — a different KL, the trust region of one update), GAE (ppo.GAE) and the β
// controllers (ppo.FixedBeta, ppo.ProportionalBeta, ppo.AdaptiveBeta) come from package ppo.
//
// Every update logs the exact sequence KL(π‖π_ref) — the sum over positions of the full-
// vocabulary KL along the sampled sequences, whose expectation is the sequence-level KL by the
// chain rule (SequenceKL; checked against enumeration in the tests) — next to the k1 and k3
// sums, the proxy and gold rewards, the entropy and the fraction of samples still in the
// language. Without the leash the policy climbs the proxy far above π_ref while gold peaks and
// falls to −1 ("the service was great great great …"); with it gold stays up and the text stays
// in the language.
//
// # DPO and IPO: the leash without a sample
//
// RunDPO trains π from π_ref offline on the reward model's own preference pairs (SamplePairs;
// label noise 0 labels them by the gold order), with no reward model and no sampling. With
// Δ(y) = ln π(y) − ln π_ref(y) of a whole completion and the margin h = Δ(chosen) − Δ(rejected),
// DPO minimises −ln σ(β·h): the Bradley–Terry likelihood of the implicit reward β·Δ(y), whose
// minimiser is the optimum π* ∝ π_ref·exp(r/β) of E_π[r] − β·KL(π‖π_ref) — β is the KL
// coefficient, yet the KL is never computed. IPO minimises (h − 1/(2τ))² instead, pulling each
// margin to a finite target. Every evaluation measures what training never looks at: the
// sequence KL(π‖π_ref) and the rewards on samples (as PPO's metrics), the implicit-reward
// accuracy on held-out pairs, the log-probability change of chosen and of rejected completions
// (likelihood displacement when both fall), and where π's probability is — exactly, on the
// pairs' sequences by role, off the data, and on the language (ExactLanguageMass walks the
// automaton once per prefix instead of sampling).
//
// # Prompts, GRPO, RLOO: do we still need the leash?
//
// Group methods need several completions of one prompt. Prompts are the opening words of
// reviews drawn from P (Prompts: a sentence cut after k of its tokens, so every prompt has
// grammatical completions); a hashed fifth of the prompt space is held out and only ever used to
// evaluate. GRPO (GroupAdvantages: (r − mean)/std within a prompt's group, the std switchable as
// Dr. GRPO; LossType.Weights: TRL's grpo, dr_grpo and dapo normalisations; β·k3 in the loss) and
// RLOO (LeaveOneOut: the mean of the other completions as the baseline; k1 summed over the
// completion in the reward; the completion as one action, ppo.LearnerConfig.SequenceLevel) run
// on the same ppo.Learner as PPO, without a value model (GroupTrainer). Every online method
// maximises a Reward — the reward model (rm, hackable) or the gold reward (gold, verifiable) —
// and writes the same run files through one machinery (RunPPO, RunGRPO, RunRLOO), ending with an
// evaluation on held-out prompts and a count of distinct completions (Evaluate). Leash runs the
// methods × both rewards × β × seeds, with PromptedBestOfN as the reference that trains nothing,
// as a resumable run directory (leash.json).
//
// # Best-of-n and the frontier
//
// BestOfN ranks n π_ref samples by the reward model, exactly on the empirical distribution of a
// large pool (BoNDistribution: π_bon(y) = F(y)ⁿ − F(y⁻)ⁿ), with KL ≤ ln n − (n−1)/n (BoNBound).
// Sweep runs a β grid × seeds plus best-of-n and fits Gao et al.'s laws R(d) = d(α − β ln d)
// (RL) and R(d) = d(α − β d) (best-of-n) in d = √KL (FitGao).
package rlhf
