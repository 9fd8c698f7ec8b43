package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"klppo/experiments/datasets"
	"klppo/experiments/distill"
	"klppo/internal/memlimit"
	"klppo/internal/rundir"
	"klppo/nn"
)

func init() {
	register("distill", "distil a glyph classifier into a small student (α·T²·KL + (1−α)·CE) and compare with a label-only one", runDistill)
}

func runDistill(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("distill", "[--teacher-hidden 256,256] [--student-hidden 16] [--temperature T] [--alpha A] [--epochs N] [--transfer train|fresh] [--transfer-size N] [--omit-class K | --curve-sizes N,N,…] [--seed S] [--out DIR]", stderr)
	def := distill.DefaultConfig()
	teacherHidden := widthList(def.TeacherHidden)
	fs.Var(&teacherHidden, "teacher-hidden", fmt.Sprintf("teacher hidden widths, comma-separated, each 1 to %d", distill.MaxWidth))
	studentHidden := widthList(def.StudentHidden)
	fs.Var(&studentHidden, "student-hidden", fmt.Sprintf("student hidden widths, comma-separated, each 1 to %d", distill.MaxWidth))
	temp := fs.Float64("temperature", def.Temperature, fmt.Sprintf("softmax temperature T of the distillation term, %g to %g", distill.MinTemperature, distill.MaxTemperature))
	alpha := fs.Float64("alpha", def.Alpha, "weight α in [0, 1] of the distillation term (1−α weights the label cross-entropy)")
	epochs := fs.Int("epochs", def.Epochs, fmt.Sprintf("student epochs (both students), 1 to %d", distill.MaxEpochs))
	teacherEpochs := fs.Int("teacher-epochs", def.TeacherEpochs, fmt.Sprintf("teacher epochs, 1 to %d (ignored with --teacher)", distill.MaxEpochs))
	teacherFile := fs.String("teacher", "", "load the teacher from this file (written as teacher.klnn by an earlier run) instead of training it")
	act := fs.String("activation", "relu", "hidden activation of the networks trained here: relu or tanh")
	lr := fs.Float64("lr", def.LR, "Adam learning rate")
	batch := fs.Int("batch", def.Batch, "minibatch size")
	seed := fs.Uint64("seed", 1, "random seed (data, weights, batch order)")
	glyphDef := datasets.DefaultGlyphConfig()
	nTrain := fs.Int("train-size", glyphDef.Train, fmt.Sprintf("training glyphs, 1 to %d", distill.MaxExamples))
	nTest := fs.Int("test-size", glyphDef.Test, fmt.Sprintf("test glyphs, 1 to %d", distill.MaxExamples))
	transferFrom := fs.String("transfer", "train", "students' transfer set: train (the teacher's own training images) or fresh (new glyphs from the generator that the teacher never saw; as many as --train-size unless --transfer-size asks for more)")
	nTransfer := fs.Int("transfer-size", 0, fmt.Sprintf("use the first N examples of the transfer set, at most %d (0 = all of it)", distill.MaxExamples))
	var curveSizes widthList
	fs.Var(&curveSizes, "curve-sizes", "comma-separated transfer-set sizes: run once per size (same step budget as --epochs over the largest) and write curve.csv and curve.png")
	omit := fs.Int("omit-class", distill.NoOmit, "leave this digit out of the students' transfer set and correct the distilled student's bias for it (-1 = none)")
	out := fs.String("out", "runs/distill", "output directory for metrics.csv, accuracy.png and teacher.klnn")
	quiet := fs.Bool("quiet", false, "no progress bar and no per-epoch lines")
	force := fs.Bool("force", false, "write into an --out directory that already holds a run (overwrites its files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := refuseEmptyFlags(fs); err != nil {
		return err
	}
	if err := guardOut("--out", *out, *force); err != nil {
		return err
	}
	switch {
	case !(*temp >= distill.MinTemperature && *temp <= distill.MaxTemperature):
		return usagef("--temperature %v: want %g to %g (T² of the loss overflows float32 past 1.8e19)", *temp, distill.MinTemperature, distill.MaxTemperature)
	case !(*alpha >= 0 && *alpha <= 1):
		return usagef("--alpha %v: want a number in [0, 1]", *alpha)
	case *epochs <= 0 || *epochs > distill.MaxEpochs:
		return usagef("--epochs %d: want 1 to %d", *epochs, distill.MaxEpochs)
	case *teacherFile == "" && (*teacherEpochs <= 0 || *teacherEpochs > distill.MaxEpochs):
		return usagef("--teacher-epochs %d: want 1 to %d", *teacherEpochs, distill.MaxEpochs)
	case !(*lr > 0) || *lr > 10:
		return usagef("--lr %v: want a number in (0, 10]", *lr)
	case *batch <= 0:
		return usagef("--batch %d: want a positive integer", *batch)
	case *nTrain <= 0 || *nTrain > distill.MaxExamples:
		return usagef("--train-size %d: want 1 to %d glyphs", *nTrain, distill.MaxExamples)
	case *nTest <= 0 || *nTest > distill.MaxExamples:
		return usagef("--test-size %d: want 1 to %d glyphs", *nTest, distill.MaxExamples)
	case *nTransfer < 0 || *nTransfer > distill.MaxExamples:
		return usagef("--transfer-size %d: want 0 (all) to %d", *nTransfer, distill.MaxExamples)
	case *omit < distill.NoOmit || *omit > 9:
		return usagef("--omit-class %d: want a digit 0 to 9, or -1 for none", *omit)
	case *transferFrom != "train" && *transferFrom != "fresh":
		return usagef("--transfer %q: want train or fresh", *transferFrom)
	case len(curveSizes) > 0 && *omit != distill.NoOmit:
		return usagef("--curve-sizes %s with --omit-class %d: run the curve without --omit-class", curveSizes.String(), *omit)
	case len(curveSizes) > 0 && *nTransfer != 0:
		return usagef("--curve-sizes %s with --transfer-size %d: the curve sets the sizes itself", curveSizes.String(), *nTransfer)
	case *out == "":
		return usagef("--out %q: want a directory", *out)
	}
	for _, h := range []struct {
		name string
		w    widthList
	}{{"--teacher-hidden", teacherHidden}, {"--student-hidden", studentHidden}} {
		for _, v := range h.w {
			if v > distill.MaxWidth {
				return usagef("%s %s: widths must be 1 to %d", h.name, h.w.String(), distill.MaxWidth)
			}
		}
	}
	for _, n := range curveSizes {
		if n > distill.MaxExamples {
			return usagef("--curve-sizes %s: %d is more than %d examples", curveSizes.String(), n, distill.MaxExamples)
		}
	}
	activation, err := nn.ParseActivation(*act)
	if err != nil {
		return usagef("--activation %q: want relu or tanh", *act)
	}
	gc := glyphDef
	gc.Train, gc.Test, gc.Seed = *nTrain, *nTest, *seed
	if *transferFrom == "fresh" {
		// The fresh pool has as many glyphs as the training set unless asked for more.
		gc.Transfer = max(*nTrain, *nTransfer)
		for _, n := range curveSizes {
			gc.Transfer = max(gc.Transfer, n)
		}
	}
	sizeCfg := def
	sizeCfg.TeacherHidden, sizeCfg.StudentHidden, sizeCfg.Batch, sizeCfg.Epochs, sizeCfg.TeacherEpochs = teacherHidden, studentHidden, *batch, *epochs, *teacherEpochs
	if err := memlimit.Check(sizeCfg.MemoryEstimate(gc.Size*gc.Size, 10, *nTrain, *nTest, gc.Transfer)); err != nil {
		return usagef("--teacher-hidden %s, --student-hidden %s, --train-size %d, --test-size %d, --transfer-size %d, --batch %d: the run %v; lower them",
			teacherHidden.String(), studentHidden.String(), *nTrain, *nTest, gc.Transfer, *batch, err)
	}
	data, err := datasets.Glyphs(gc)
	if err != nil {
		return err
	}
	if *batch > data.Train.N {
		return usagef("--batch %d: larger than the training set (%d examples)", *batch, data.Train.N)
	}
	pool := data.Train
	if *transferFrom == "fresh" {
		pool = data.Transfer
	}
	for _, n := range curveSizes {
		if n < *batch || n > pool.N {
			return usagef("--curve-sizes %s: %d is outside %d (--batch) to %d (the %s transfer pool)", curveSizes.String(), n, *batch, pool.N, *transferFrom)
		}
	}
	transfer := pool
	if *nTransfer > 0 {
		if *nTransfer > pool.N {
			return usagef("--transfer-size %d: larger than the %s transfer pool (%d examples)", *nTransfer, *transferFrom, pool.N)
		}
		if transfer, err = pool.Head(*nTransfer); err != nil {
			return err
		}
	}
	transferN := transfer.N
	if *omit != distill.NoOmit {
		for _, y := range transfer.Y {
			if y == *omit {
				transferN--
			}
		}
	}
	if len(curveSizes) == 0 && *batch > transferN {
		return usagef("--batch %d: larger than the transfer set (%d examples)", *batch, transferN)
	}
	cfg := def
	cfg.TeacherHidden, cfg.StudentHidden, cfg.Activation = teacherHidden, studentHidden, activation
	cfg.Temperature, cfg.Alpha, cfg.Epochs, cfg.TeacherEpochs = *temp, *alpha, *epochs, *teacherEpochs
	cfg.LR, cfg.Batch, cfg.Seed, cfg.Transfer, cfg.OmitClass = *lr, *batch, *seed, transfer, *omit
	teacherPath := filepath.Join(*out, distill.TeacherFile)
	cfg.OnTeacher = func(t *nn.MLP) error { // saved at once: a student's failure must not lose it
		if err := distill.SaveTeacher(teacherPath, t); err != nil {
			return err
		}
		if !*quiet {
			fmt.Fprintf(stdout, "teacher trained and saved to %s\n", teacherPath)
		}
		return nil
	}
	if *teacherFile != "" {
		t, err := distill.LoadTeacher(*teacherFile)
		if err != nil {
			return usagef("--teacher %q: %v", *teacherFile, err)
		}
		if t.In() != data.Train.Dim || t.Out() != data.Train.Classes {
			return usagef("--teacher %q: the network maps %d → %d, the glyphs need %d → %d", *teacherFile, t.In(), t.Out(), data.Train.Dim, data.Train.Classes)
		}
		cfg.Teacher = t
		sizes := t.Sizes()
		cfg.TeacherHidden = sizes[1 : len(sizes)-1]
	}
	// Every setting is checked: now the run directory is made.
	if err := rundir.Create(*out); err != nil {
		return usagef("--out %q: %v", *out, err)
	}
	total := 2 * *epochs * (transferN / *batch)
	if len(curveSizes) > 0 {
		total = 0
		for _, n := range curveSizes {
			total += 2 * distill.CurveEpochs(*epochs, *batch, slices.Max(curveSizes), n) * (n / *batch)
		}
	}
	if cfg.Teacher == nil {
		total += *teacherEpochs * (data.Train.N / *batch)
	}
	bar := newStepBar(stderr, total, "distill", *quiet)
	if bar != nil {
		cfg.OnStep = func() { bar.Add(1) }
	}
	if !*quiet {
		src := fmt.Sprintf("teacher %v trained %d epochs", teacherHidden.String(), cfg.TeacherEpochs)
		if cfg.Teacher != nil {
			src = "teacher loaded from " + *teacherFile
		}
		fmt.Fprintf(stdout, "distill on glyphs (%d train, %d test): %s; students %v, T=%g, α=%g, %d epochs, lr %g, batch %d, seed %d\n",
			data.Train.N, data.Test.N, src, studentHidden.String(), cfg.Temperature, cfg.Alpha, cfg.Epochs, cfg.LR, cfg.Batch, cfg.Seed)
		what := fmt.Sprintf("%d of the teacher's training glyphs", transfer.N)
		if *transferFrom == "fresh" {
			what = fmt.Sprintf("%d fresh glyphs the teacher never saw", transfer.N)
		}
		if len(curveSizes) > 0 {
			what = fmt.Sprintf("the first %s of the %s pool", curveSizes.String(), *transferFrom)
		}
		if *omit != distill.NoOmit {
			what += fmt.Sprintf(", without their %d examples of digit %d", transfer.N-transferN, *omit)
		}
		fmt.Fprintf(stdout, "transfer set (the students' inputs): %s\n", what)
		fmt.Fprintf(stdout, "%-9s %5s %8s %8s %8s %9s %8s %10s\n", "model", "epoch", "loss", "CE", "KL_T", "train acc", "test acc", "test KL_T")
		cfg.OnEpoch = func(e distill.EpochMetrics) {
			bar.Clear()
			fmt.Fprintf(stdout, "%-9s %5d %8.4f %8.4f %8.4f %9.4f %8.4f %10.4f\n", e.Model, e.Epoch, e.Loss, e.TrainCE, e.TrainKL,
				e.TrainAcc, e.TestAcc, e.TestKL)
		}
	}
	if len(curveSizes) > 0 {
		return runDistillCurve(data, pool, cfg, curveSizes, *out, bar, stdout)
	}
	res, err := distillRun(data, cfg)
	bar.Finish()
	if err != nil {
		return keptTeacher(err, cfg.Teacher == nil, teacherPath)
	}
	files, err := distill.WriteOutputs(*out, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%-34s %10s %22s\n", "model (test split)", "accuracy", "KL(teacher_T‖model_T)")
	fmt.Fprintf(stdout, "%-34s %10.4f %22s\n", fmt.Sprintf("teacher %s", fmtWidths(cfg.TeacherHidden)), res.TeacherAcc, "—")
	distilledName := "distilled student " + studentHidden.String()
	if res.Omitted != nil {
		distilledName += " (corrected)"
	}
	fmt.Fprintf(stdout, "%-34s %10.4f %22.4f\n", distilledName, res.DistilledAcc, res.DistilledKL)
	fmt.Fprintf(stdout, "%-34s %10.4f %22.4f\n", "label-only student "+studentHidden.String(), res.LabelsAcc, res.LabelsKL)
	fmt.Fprintf(stdout, "distillation − label-only: %+.4f accuracy (%+.1f test examples)\n", res.DistilledAcc-res.LabelsAcc,
		(res.DistilledAcc-res.LabelsAcc)*float64(data.Test.N))
	fmt.Fprintf(stdout, "teacher on its training set: accuracy %.4f, mean entropy of softmax(t/T) %.4f nats\n", res.TeacherTrainAcc, res.TrainEntropy)
	fmt.Fprintf(stdout, "teacher on the transfer set (%d examples): accuracy %.4f, mean entropy of softmax(t/T) %.4f nats (uniform: %.4f)\n",
		res.TransferN, res.TeacherTransferAcc, res.TransferEntropy, math.Log(float64(data.Train.Classes)))
	if o := res.Omitted; o != nil {
		fmt.Fprintf(stdout, "\nclass %d, never in the transfer set: mean probability of %d on the transfer set: teacher %.4f, distilled student %.4f\n",
			o.Class, o.Class, o.TeacherRate, o.StudentRawRate)
		fmt.Fprintf(stdout, "bias correction: class-%d output bias of the distilled student %+.4f (so that its mean probability matches the teacher's)\n", o.Class, o.Shift)
		fmt.Fprintf(stdout, "%-40s %12s %10s\n", fmt.Sprintf("test accuracy on digit %d / all digits", o.Class), "digit "+strconv.Itoa(o.Class), "all")
		fmt.Fprintf(stdout, "%-40s %12.4f %10.4f\n", "teacher", o.Teacher, res.TeacherAcc)
		fmt.Fprintf(stdout, "%-40s %12.4f %10.4f\n", "distilled student, before correction", o.DistilledRaw, o.DistilledAccRaw)
		fmt.Fprintf(stdout, "%-40s %12.4f %10.4f\n", "distilled student, bias corrected", o.Distilled, res.DistilledAcc)
		fmt.Fprintf(stdout, "%-40s %12.4f %10.4f\n", "label-only student", o.Labels, res.LabelsAcc)
	}
	fmt.Fprintf(stdout, "wrote %v\n", files)
	return nil
}

// keptTeacher adds to err where the teacher trained by this run is kept, when it was saved
// before the failure (see distill.Config.OnTeacher).
func keptTeacher(err error, trainedHere bool, path string) error {
	if !trainedHere {
		return err
	}
	if _, serr := os.Stat(path); serr != nil {
		return err
	}
	return fmt.Errorf("%w\nthe trained teacher is kept in %s (reuse it with --teacher %s)", err, path, path)
}

func fmtWidths(w []int) string {
	l := widthList(w)
	return l.String()
}

// runDistillCurve is `klppo distill --curve-sizes`: one experiment per transfer-set size.
func runDistillCurve(data *datasets.Split, pool *datasets.Set, cfg distill.Config, sizes widthList, out string,
	bar *progress, stdout io.Writer) error {
	cfg.OnEpoch = nil
	pts, teacher, err := distill.Curve(data, pool, cfg, sizes)
	bar.Finish()
	if err != nil {
		return keptTeacher(err, cfg.Teacher == nil, filepath.Join(out, distill.TeacherFile))
	}
	title := fmt.Sprintf("students %s, T=%g, α=%g, seed %d", fmtWidths(cfg.StudentHidden), cfg.Temperature, cfg.Alpha, cfg.Seed)
	files, err := distill.WriteCurve(out, pts, title)
	if err != nil {
		return err
	}
	tf := filepath.Join(out, distill.TeacherFile)
	if err := distill.SaveTeacher(tf, teacher); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%8s %7s %8s %10s %8s %8s %13s %16s\n", "transfer", "epochs", "teacher", "distilled", "labels", "gain",
		"teacher acc", "teacher H(p_T)")
	fmt.Fprintf(stdout, "%8s %7s %8s %10s %8s %8s %13s %16s\n", "size", "", "test", "test", "test", "", "on transfer", "on transfer")
	for _, p := range pts {
		fmt.Fprintf(stdout, "%8d %7d %8.4f %10.4f %8.4f %+8.4f %13.4f %16.4f\n", p.Size, p.Epochs, p.TeacherAcc, p.DistilledAcc,
			p.LabelsAcc, p.DistilledAcc-p.LabelsAcc, p.TeacherTransferAcc, p.TransferEntropy)
	}
	fmt.Fprintf(stdout, "wrote %v\n", append(files, tf))
	return nil
}

// distillRun is distill.Run; tests replace it to make a student fail after the teacher.
var distillRun = distill.Run
