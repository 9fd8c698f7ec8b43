package distill

import (
	"fmt"
	"math"

	"klppo/experiments/datasets"
	"klppo/kl"
	"klppo/nn"
)

// MeanClassProb returns the mean over the rows of logits (N×k) of softmax(z_i + shift·e_c)_c,
// the probability of class c after shift is added to its logit (computed with kl.LogSoftmaxInto).
// It is the expected fraction of rows on which a classifier sampling from its softmax
// predicts c.
func MeanClassProb(logits []float64, k, c int, shift float64) (float64, error) {
	if k < 2 || c < 0 || c >= k || len(logits)%k != 0 || len(logits) == 0 {
		return 0, fmt.Errorf("distill: MeanClassProb: %d logits, %d classes, class %d", len(logits), k, c)
	}
	row, lp := make([]float64, k), make([]float64, k)
	var sum float64
	n := len(logits) / k
	for i := 0; i < n; i++ {
		copy(row, logits[i*k:(i+1)*k])
		row[c] += shift
		if err := kl.LogSoftmaxInto(lp, row); err != nil {
			return 0, fmt.Errorf("distill: MeanClassProb row %d: %w", i, err)
		}
		sum += math.Exp(lp[c])
	}
	return sum / float64(n), nil
}

// BiasShift is the bias-correction rule of the missing-class experiment. It returns the δ
// that, added to class c's logit on every row of the student's logits s (N×k), makes the
// student predict c as often as the teacher does on the same rows, "as often" meaning the
// mean softmax probability (the expected frequency of c):
//
//	(1/N) Σ_i softmax(s_i + δ·e_c)_c = (1/N) Σ_i softmax(t_i)_c.
//
// The left side increases strictly from 0 to 1 with δ, so δ is unique; it is found by
// bisection to 1e-9. Adding δ to the student's output bias of class c applies it. The rows
// are the transfer set, where neither network saw class c as a label: the teacher's
// probabilities of c there (a 3 in an 8, say) are all the student was told about c.
func BiasShift(s, t []float64, k, c int) (float64, error) {
	if len(s) != len(t) {
		return 0, fmt.Errorf("distill: BiasShift: %d student and %d teacher logits", len(s), len(t))
	}
	target, err := MeanClassProb(t, k, c, 0)
	if err != nil {
		return 0, err
	}
	if !(target > 0 && target < 1) {
		return 0, fmt.Errorf("distill: BiasShift: the teacher's mean probability of class %d is %v, want one in (0, 1)", c, target)
	}
	gap := func(d float64) (float64, error) {
		p, err := MeanClassProb(s, k, c, d)
		return p - target, err
	}
	lo, hi := -1.0, 1.0
	for {
		g, err := gap(lo)
		if err != nil {
			return 0, err
		}
		if g < 0 {
			break
		}
		if lo < -1e6 {
			return 0, fmt.Errorf("distill: BiasShift: no shift above -1e6 brings class %d down to %v", c, target)
		}
		lo *= 2
	}
	for {
		g, err := gap(hi)
		if err != nil {
			return 0, err
		}
		if g > 0 {
			break
		}
		if hi > 1e6 {
			return 0, fmt.Errorf("distill: BiasShift: no shift below 1e6 brings class %d up to %v", c, target)
		}
		hi *= 2
	}
	for hi-lo > 1e-9 {
		mid := (lo + hi) / 2
		g, err := gap(mid)
		if err != nil {
			return 0, err
		}
		if g < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2, nil
}

// addOutputBias adds shift to class c's bias in net's output layer (its last parameter).
func addOutputBias(net *nn.MLP, c int, shift float64) error {
	ps := net.Params()
	b := ps[len(ps)-1]
	switch d := b.Data().(type) {
	case []float32:
		d[c] += float32(shift)
	case []float64:
		d[c] += shift
	default:
		return fmt.Errorf("distill: output bias of dtype %v", b.Dtype())
	}
	return nil
}

// correctOmitted applies BiasShift to the distilled student on the transfer set and records
// the omitted class's test accuracies before and after.
func (r *Result) correctOmitted(transfer *datasets.Set, teacherTransfer []float64, test *datasets.Set) error {
	c, K := r.Config.OmitClass, transfer.Classes
	sTransfer, err := Logits(r.Distilled, transfer)
	if err != nil {
		return err
	}
	o := &Omitted{Class: c, DistilledAccRaw: r.DistilledAcc, Teacher: r.ClassAcc.Teacher[c],
		DistilledRaw: r.ClassAcc.DistilledRaw[c], Labels: r.ClassAcc.Labels[c]}
	if o.TeacherRate, err = MeanClassProb(teacherTransfer, K, c, 0); err != nil {
		return err
	}
	if o.StudentRawRate, err = MeanClassProb(sTransfer, K, c, 0); err != nil {
		return err
	}
	if o.Shift, err = BiasShift(sTransfer, teacherTransfer, K, c); err != nil {
		return err
	}
	if err := addOutputBias(r.Distilled, c, o.Shift); err != nil {
		return err
	}
	sl, err := Logits(r.Distilled, test)
	if err != nil {
		return err
	}
	r.DistilledAcc = Accuracy(sl, test.Y, K)
	r.ClassAcc.Distilled = ClassAccuracy(sl, test.Y, K)
	o.Distilled = r.ClassAcc.Distilled[c]
	r.Omitted = o
	return nil
}
