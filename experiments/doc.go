// Package experiments runs named, reproducible penalty comparisons (the PPO paper's Table 1 on toy environments): sweeps of (penalty setting, seed) runs in parallel, their results table with normalised scores, and charts of return, KL and β.
package experiments
