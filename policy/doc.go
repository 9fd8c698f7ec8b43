// Package policy provides the actor-critic networks PPO trains (separate policy and value MLPs with a categorical or state-independent diagonal-Gaussian head), their fast plain-Go acting pass, their gorgonia training graphs and a checksummed checkpoint format.
package policy
