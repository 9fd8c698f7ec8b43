// Package kl computes Kullback-Leibler divergences and their relatives (Jensen-Shannon, entropy,
// cross-entropy, Monte Carlo estimators) exactly at the edges, over slices, tensors and closed forms.
package kl
