package main

import (
	"fmt"
	"io"
	"math"

	"klppo/experiments/datasets"
	"klppo/experiments/distill"
	"klppo/nn"
)

func init() {
	register("distill", "distil a glyph classifier into a small student (α·T²·KL + (1−α)·CE) and compare with a label-only one", runDistill)
}

func runDistill(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("distill", "[--teacher-hidden 256,256] [--student-hidden 16] [--temperature T] [--alpha A] [--epochs N] [--seed S] [--out DIR]", stderr)
	def := distill.DefaultConfig()
	teacherHidden := widthList(def.TeacherHidden)
	fs.Var(&teacherHidden, "teacher-hidden", "teacher hidden widths, comma-separated")
	studentHidden := widthList(def.StudentHidden)
	fs.Var(&studentHidden, "student-hidden", "student hidden widths, comma-separated")
	temp := fs.Float64("temperature", def.Temperature, "softmax temperature T of the distillation term")
	alpha := fs.Float64("alpha", def.Alpha, "weight α in [0, 1] of the distillation term (1−α weights the label cross-entropy)")
	epochs := fs.Int("epochs", def.Epochs, "student epochs (both students)")
	teacherEpochs := fs.Int("teacher-epochs", def.TeacherEpochs, "teacher epochs (ignored with --teacher)")
	teacherFile := fs.String("teacher", "", "load the teacher from this file (written as teacher.klnn by an earlier run) instead of training it")
	act := fs.String("activation", "relu", "hidden activation of the networks trained here: relu or tanh")
	lr := fs.Float64("lr", def.LR, "Adam learning rate")
	batch := fs.Int("batch", def.Batch, "minibatch size")
	seed := fs.Uint64("seed", 1, "random seed (data, weights, batch order)")
	nTrain := fs.Int("train-size", 0, "training glyphs (0 = default 5000)")
	nTest := fs.Int("test-size", 0, "test glyphs (0 = default 1000)")
	out := fs.String("out", "runs/distill", "output directory for metrics.csv, accuracy.png and teacher.klnn")
	quiet := fs.Bool("quiet", false, "no progress bar and no per-epoch lines")
	force := fs.Bool("force", false, "write into an --out directory that already holds a run (overwrites its files)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := guardOut("--out", *out, *force); err != nil {
		return err
	}
	switch {
	case !(*temp > 0) || math.IsInf(*temp, 0):
		return usagef("--temperature %v: want a number > 0", *temp)
	case !(*alpha >= 0 && *alpha <= 1):
		return usagef("--alpha %v: want a number in [0, 1]", *alpha)
	case *epochs <= 0:
		return usagef("--epochs %d: want a positive integer", *epochs)
	case *teacherFile == "" && *teacherEpochs <= 0:
		return usagef("--teacher-epochs %d: want a positive integer", *teacherEpochs)
	case !(*lr > 0) || *lr > 10:
		return usagef("--lr %v: want a number in (0, 10]", *lr)
	case *batch <= 0:
		return usagef("--batch %d: want a positive integer", *batch)
	case *nTrain < 0:
		return usagef("--train-size %d: want ≥ 0", *nTrain)
	case *nTest < 0:
		return usagef("--test-size %d: want ≥ 0", *nTest)
	case *out == "":
		return usagef("--out %q: want a directory", *out)
	}
	activation, err := nn.ParseActivation(*act)
	if err != nil {
		return usagef("--activation %q: want relu or tanh", *act)
	}
	gc := datasets.DefaultGlyphConfig()
	gc.Train, gc.Test, gc.Seed = *nTrain, *nTest, *seed
	data, err := datasets.Glyphs(gc)
	if err != nil {
		return err
	}
	if *batch > data.Train.N {
		return usagef("--batch %d: larger than the training set (%d examples)", *batch, data.Train.N)
	}
	cfg := def
	cfg.TeacherHidden, cfg.StudentHidden, cfg.Activation = teacherHidden, studentHidden, activation
	cfg.Temperature, cfg.Alpha, cfg.Epochs, cfg.TeacherEpochs = *temp, *alpha, *epochs, *teacherEpochs
	cfg.LR, cfg.Batch, cfg.Seed = *lr, *batch, *seed
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
	steps := data.Train.N / *batch
	total := 2 * *epochs * steps
	if cfg.Teacher == nil {
		total += *teacherEpochs * steps
	}
	bar := newStepBar(stderr, total, "distill", *quiet)
	if bar != nil {
		cfg.OnStep = func() { _ = bar.Add(1) }
	}
	if !*quiet {
		src := fmt.Sprintf("teacher %v trained %d epochs", teacherHidden.String(), cfg.TeacherEpochs)
		if cfg.Teacher != nil {
			src = "teacher loaded from " + *teacherFile
		}
		fmt.Fprintf(stdout, "distill on glyphs (%d train, %d test): %s; students %v, T=%g, α=%g, %d epochs, lr %g, batch %d, seed %d\n",
			data.Train.N, data.Test.N, src, studentHidden.String(), cfg.Temperature, cfg.Alpha, cfg.Epochs, cfg.LR, cfg.Batch, cfg.Seed)
		fmt.Fprintf(stdout, "%-9s %5s %8s %8s %8s %9s %8s %10s\n", "model", "epoch", "loss", "CE", "KL_T", "train acc", "test acc", "test KL_T")
		cfg.OnEpoch = func(e distill.EpochMetrics) {
			if bar != nil {
				_ = bar.Clear()
			}
			fmt.Fprintf(stdout, "%-9s %5d %8.4f %8.4f %8.4f %9.4f %8.4f %10.4f\n", e.Model, e.Epoch, e.Loss, e.TrainCE, e.TrainKL,
				e.TrainAcc, e.TestAcc, e.TestKL)
		}
	}
	res, err := distill.Run(data, cfg)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	files, err := distill.WriteOutputs(*out, res)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%-28s %10s %22s\n", "model (test split)", "accuracy", "KL(teacher_T‖model_T)")
	fmt.Fprintf(stdout, "%-28s %10.4f %22s\n", fmt.Sprintf("teacher %s", fmtWidths(cfg.TeacherHidden)), res.TeacherAcc, "—")
	fmt.Fprintf(stdout, "%-28s %10.4f %22.4f\n", "distilled student "+studentHidden.String(), res.DistilledAcc, res.DistilledKL)
	fmt.Fprintf(stdout, "%-28s %10.4f %22.4f\n", "label-only student "+studentHidden.String(), res.LabelsAcc, res.LabelsKL)
	fmt.Fprintf(stdout, "distillation − label-only: %+.4f accuracy (%+.1f test examples)\n", res.DistilledAcc-res.LabelsAcc,
		(res.DistilledAcc-res.LabelsAcc)*float64(data.Test.N))
	fmt.Fprintf(stdout, "wrote %v\n", files)
	return nil
}

func fmtWidths(w []int) string {
	l := widthList(w)
	return l.String()
}
