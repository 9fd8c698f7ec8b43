package rlhf

import "path/filepath"

// DPOCurves is one DPO run's evaluations with a label, for DPOCharts.
type DPOCurves struct {
	Label   string // "" leaves the run out of the legend
	Metrics []DPOMetrics
	Ref     DPOSummary // ref_gold
	Colour  int        // palette index (0: by the run's position)
}

// DPOCharts writes, against epochs, prefix-gold.png (gold reward of samples, π_ref's dashed),
// prefix-kl.png (KL(π‖π_ref) per sequence), prefix-logp.png (the mean change of ln π on the
// training pairs' chosen (solid) and rejected (dashed) completions), prefix-mass.png (exact mass
// of π off the data (solid) and on sequences only ever rejected (dashed); with a single run also
// on those only chosen and on those both chosen and rejected), prefix-inlang.png and
// prefix-acc.png (held-out implicit-reward accuracy), one colour per run.
func DPOCharts(dir, prefix string, runs []DPOCurves) error {
	type line struct {
		name   string
		get    func(DPOMetrics) float64
		dashed bool
	}
	type panel struct {
		file, title, ylabel string
		lines               []line
		ref                 func(DPOSummary) float64
	}
	panels := []panel{
		{"gold", "gold reward of samples (what the labeler wants)", "mean gold reward",
			[]line{{"", func(m DPOMetrics) float64 { return m.Gold }, false}}, func(s DPOSummary) float64 { return s.RefGold }},
		{"kl", "KL(π‖π_ref) per sequence (exact per position, on samples)", "nats per sequence",
			[]line{{"", func(m DPOMetrics) float64 { return m.KL }, false}}, nil},
		{"logp", "ln π − ln π_ref of the training pairs' completions", "nats per completion (mean)",
			[]line{{"chosen", func(m DPOMetrics) float64 { return m.ChosenChange }, false},
				{"rejected", func(m DPOMetrics) float64 { return m.RejectedChange }, true}}, nil},
		{"mass", "where π's probability is (exact)", "probability",
			[]line{{"off the data", func(m DPOMetrics) float64 { return m.MassOffData }, false},
				{"only rejected", func(m DPOMetrics) float64 { return m.MassRejected }, true}}, nil},
		{"inlang", "fraction of samples inside the language", "fraction",
			[]line{{"", func(m DPOMetrics) float64 { return m.InLanguage }, false}}, nil},
		{"acc", "implicit-reward accuracy on held-out pairs", "fraction",
			[]line{{"", func(m DPOMetrics) float64 { return m.HeldoutAcc }, false}}, nil},
	}
	if len(runs) == 1 {
		p := &panels[3]
		p.lines = append(p.lines, line{"only chosen", func(m DPOMetrics) float64 { return m.MassChosen }, false},
			line{"chosen and rejected", func(m DPOMetrics) float64 { return m.MassBoth }, false})
	}
	for _, pn := range panels {
		var ss []series
		for i, r := range runs {
			x := make([]float64, len(r.Metrics))
			for j, m := range r.Metrics {
				x[j] = m.Epoch
			}
			for k, l := range pn.lines {
				y := make([]float64, len(r.Metrics))
				for j, m := range r.Metrics {
					y[j] = l.get(m)
				}
				col := palette[(i+1)%len(palette)]
				switch {
				case len(runs) == 1:
					col = palette[(k+1)%len(palette)]
				case r.Colour > 0:
					col = palette[r.Colour%len(palette)]
				}
				name := r.Label
				switch {
				case len(runs) == 1 && l.name != "":
					name = l.name
				case l.name != "" && name != "":
					name += ": " + l.name
				}
				ss = append(ss, series{name: name, x: x, y: y, col: col, dashed: l.dashed})
			}
			if pn.ref != nil && i == 0 && len(x) > 0 {
				v := pn.ref(r.Ref)
				ss = append(ss, series{name: "π_ref", x: []float64{x[0], x[len(x)-1]}, y: []float64{v, v}, col: palette[7], dashed: true})
			}
		}
		if err := chart(filepath.Join(dir, prefix+"-"+pn.file+".png"), pn.title, "epoch", pn.ylabel, ss); err != nil {
			return err
		}
	}
	return nil
}
