// Package distill trains a teacher classifier on the built-in glyphs and distils it into a
// student with Hinton et al.'s loss
//
//	α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(labels, softmax(s)),
//
// built from kl/klgraph's graph nodes (loss.go), next to a label-only student that shares the
// student's initial weights, batches and budget, so that only the targets differ.
//
// The students train on a transfer set (Config.Transfer; by default the teacher's own training
// set). What the teacher's soft targets carry on it is measured, not assumed: Result reports the
// mean entropy of softmax(t/T) there (MeanEntropy), zero for one-hot targets. Curve repeats the
// comparison over transfer-set sizes. With Config.OmitClass the transfer set has no example of
// one class; the distilled student can still learn it from the probabilities the teacher gives
// it on other classes, and BiasShift corrects the student's too-low bias for it using only the
// transfer set and the teacher.
package distill
