// Package estimators is an exact lab for RLHF's KL leash: where the KL(π‖π_ref) penalty goes
// (reward or loss) and which estimator (k1, k2, k3, exact) is used, on one categorical
// decision small enough to enumerate (a bandit, or one token position).
//
// The problem: policy π = softmax(θ), frozen reference π_ref = softmax(θ_ref), reward vector r,
// coefficient β > 0, and the regularised objective
//
//	J(θ) = E_π[r] − β·KL(π‖π_ref).
//
// For a sample x ~ π, the log-ratio is l(x) = log π(x) − log π_ref(x) and Schulman's estimators
// of KL(π‖π_ref) are k1 = l, k2 = ½l², k3 = e^(−l) − 1 + l (their values come from kl.Estimator,
// their placements from ppo.KLRef). Each configuration (Configs) is a per-sample surrogate whose
// gradient an RLHF library follows:
//
//	kN-reward:  (r(x) − β·sg(kN(x)))·log π(x)          KL estimate subtracted from the reward
//	kN-loss:    r(x)·log π(x) − β·kN(x)               KL estimate differentiated in the loss
//	k3-loss-is: r(x)·log π(x) − β·(π(x)/sg π(x))·k3(x) importance-weighted k3 (DeepSeek-V3.2, TRL)
//	exact-loss: r(x)·log π(x) − β·KL(π‖π_ref)          closed form over the support
//
// Because the support is enumerated, the expected gradient of every surrogate at θ (on-policy,
// sg π = π) is exact (Analyse). With ∇log π(x) = e_x − π for a softmax:
//
//	∇E_π[r]        = π ⊙ (r − E_π[r])
//	∇KL(π‖π_ref)   = π ⊙ (l − KL(π‖π_ref))         (reverse KL: what RLHF means)
//	∇KL(π_ref‖π)   = π − π_ref                       (forward KL)
//
// and the configurations follow (E_π[k3·∇log π] = ∇KL(π‖π_ref) − ∇KL(π_ref‖π) because
// E_π[(π_ref/π)·∇log π] = Σ π_ref·(e_x − π) = π_ref − π):
//
//	k1-reward, k2-loss, k3-loss-is, exact-loss:  ∇E[r] − β·∇KL(π‖π_ref) = ∇J
//	k3-loss:    ∇E[r] − β·∇KL(π_ref‖π)     (E_π[(1 − π_ref/π)·∇log π] = π − π_ref)
//	k1-loss:    ∇E[r]                       (E_π[∇log π] = 0: no leash)
//	k3-reward:  ∇E[r] − β·(∇KL(π‖π_ref) − ∇KL(π_ref‖π))
//	k2-reward:  ∇E[r] − β·π ⊙ (½l² − E_π[½l²])   (no KL's gradient)
//
// Gradient ascent with these expected gradients (Optimise) therefore stops at different places:
// the correct ones at π* ∝ π_ref·exp(r/β) (ReverseOptimum), k3-loss at the forward-KL optimum
// π(x) = β·π_ref(x)/(λ − r(x)) with λ > max r fixing the sum (ForwardOptimum), k1-loss nowhere
// (it climbs to the greedy arm, KL → −log π_ref(best)). k3-reward climbs
// E_π[r] − β·KL(π‖π_ref) + β·KL(π_ref‖π), which is unbounded above: on the default problem it
// drives all arms but one to probability 0 (Run.Diverged). k2-reward ends on the boundary.
//
// MonteCarlo measures the same things from samples (bias and spread of the value of each
// estimator, and of each configuration's gradient), and SchulmanTable reproduces the Gaussian
// table of J. Schulman's "Approximating KL divergence" (2020) next to its closed forms
// (kl.Estimator.ShiftedNormalMoments). The command is `klppo rlhf estimators`; the write-up is
// docs/rlhf-estimators.md.
package estimators
