// Package ppo trains policies with proximal policy optimisation and records, for every update, how far the update moved the policy (the exact KL(π_old‖π_θ)) and how the penalty coefficient β reacted.
package ppo
