package explain

import (
	"fmt"

	"klppo/kl"
)

var distillationPage = Page{
	Slug: "distillation", Title: "Distillation: temperature and T²·KL",
	Summary: "A student matching a teacher's softened outputs: KL at temperature T, scaled by T².",
	Intro: `<p>In knowledge distillation the student learns from the teacher's whole output distribution, not just its top class. Both logit vectors are divided by a temperature T before the softmax: a large T softens the teacher's distribution and reveals its "dark knowledge" — which wrong classes it thinks are close.</p>
<p>The loss is KL(teacher_T‖student_T), the mode-covering direction (the student must cover every class the teacher deems possible). Its gradients shrink like 1/T², so Hinton et al. multiply it by T²: the second chart shows KL falling with T while T²·KL stays of the same order.</p>`,
	Params: []Param{
		{Name: "t", Label: "temperature T", Min: 0.5, Max: 10, Step: 0.1, Default: 4},
	},
	Examples: []Example{
		{Text: "T = 1 (plain softmax)", Query: "t=1"},
		{Text: "very soft targets", Query: "t=10"},
	},
	AtScale: []Scale{{Command: "klppo distill", Shows: "distils a glyph classifier with α·T²·KL + (1−α)·CE and compares the student with a label-only one", Doc: "docs/distillation.md"}},
	Compute: distillation,
}

var distillClasses = []string{"cat", "dog", "fox", "car", "cup"}
var teacherLogits = []float64{6, 3.5, 2.5, 0, -1}
var studentLogits = []float64{5, 1.5, 3.5, 0.5, 0.5}

func distillation(a Args) (View, error) {
	t := a["t"]
	klAt := func(t float64) (float64, []float64, []float64, error) {
		zt, zs := scaled(teacherLogits, t), scaled(studentLogits, t)
		pt, err := kl.Softmax(zt)
		if err != nil {
			return 0, nil, nil, err
		}
		ps, err := kl.Softmax(zs)
		if err != nil {
			return 0, nil, nil, err
		}
		d, err := kl.KLLogits(zt, zs)
		return d, pt, ps, err
	}
	d, pt, ps, err := klAt(t)
	if err != nil {
		return View{}, err
	}
	d1, _, _, err := klAt(1)
	if err != nil {
		return View{}, err
	}
	ts := linspace(0.5, 10, 96)
	k, k2 := make([]float64, len(ts)), make([]float64, len(ts))
	for i, ti := range ts {
		v, _, _, err := klAt(ti)
		if err != nil {
			return View{}, err
		}
		k[i], k2[i] = v, ti*ti*v
	}
	return View{
		Values: []Value{Nats("kl_t", "KL(teacher_T‖student_T)", d), Nats("t2_kl", "T²·KL: the distillation loss", t*t*d),
			Nats("kl_1", "KL at T = 1", d1)},
		Charts: []Chart{
			{Title: fmt.Sprintf("Soft targets at T = %s", Format(t)), Kind: "bars", YLabel: "probability", Categories: distillClasses,
				Series: []Series{{Name: "teacher", Y: pt}, {Name: "student", Y: ps}}, YMin: 0, YMax: 1},
			{Title: "KL shrinks with T; T²·KL keeps its scale", Kind: "line", XLabel: "temperature T", YLabel: "nats",
				Series: []Series{{Name: "KL(teacher_T‖student_T)", X: ts, Y: k}, {Name: "T²·KL", X: ts, Y: k2, Style: "dash"}},
				VLines: []Mark{{At: t, Label: "T"}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("At T = %s the soft targets differ by %s nats; the loss T²·KL = %s. klppo distill trains a student this way.", Format(t), Format(d), Format(t*t*d)),
		Command: fmt.Sprintf("klppo kl categorical --p-logits %s --q-logits %s", list(scaled(teacherLogits, t)), list(scaled(studentLogits, t))),
	}, nil
}

// scaled returns z/T, the logits at temperature T.
func scaled(z []float64, t float64) []float64 {
	s := make([]float64, len(z))
	for i, v := range z {
		s[i] = v / t
	}
	return s
}
