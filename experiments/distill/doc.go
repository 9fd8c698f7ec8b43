// Package distill trains a teacher classifier on the built-in glyphs and distils it into a small student with Hinton et al.'s loss α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE, built from kl's graph operations.
package distill
