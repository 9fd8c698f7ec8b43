package explain

import (
	"fmt"

	"klppo/kl"
)

var anomalyPage = Page{
	Slug: "anomaly", Title: "Anomaly detection in a traffic stream",
	Summary: "Histograms of a request stream, each compared with the baseline by KL; a burst crosses the threshold.",
	Intro: `<p>A web server sees requests to eight kinds of page. Every window of w requests gives a histogram P<sub>t</sub>; the baseline Q is the long-run mix. KL(P<sub>t</sub>‖Q) measures how surprising the window is under the baseline. It is finite because the baseline gives every kind some probability (the other direction, KL(Q‖P<sub>t</sub>), would be +∞ whenever a window happens to miss a kind).</p>
<p>A burst of logins (windows 60–70, shaded) shifts the mix. Even normal windows have KL &gt; 0 from sampling noise alone — about (K−1)/(2w) nats for K kinds — so the threshold must sit above that floor: larger windows lower the floor but react later.</p>`,
	Params: []Param{
		{Name: "burst", Label: "burst: share of extra logins", Min: 0, Max: 0.6, Step: 0.01, Default: 0.2},
		{Name: "threshold", Label: "alarm threshold (nats)", Min: 0.005, Max: 0.5, Step: 0.01, Default: 0.06, Log: true},
		{Name: "w", Label: "window size (requests)", Min: 50, Max: 1000, Step: 50, Default: 200, Int: true},
		{Name: "seed", Label: "seed", Min: 1, Max: 50, Step: 1, Default: 1, Int: true},
	},
	Examples: []Example{
		{Text: "a subtle burst in small windows", Query: "burst=0.08&w=100&threshold=0.06"},
		{Text: "the same burst in large windows", Query: "burst=0.08&w=1000&threshold=0.015"},
	},
	Compute: anomaly,
}

var trafficKinds = []string{"/", "/login", "/api", "/img", "/search", "/cart", "/static", "other"}
var trafficBase = []float64{0.2, 0.05, 0.25, 0.15, 0.1, 0.05, 0.15, 0.05}

const (
	trafficWindows     = 100
	burstFrom, burstTo = 60, 70
	trafficLogin       = 1 // index of /login in trafficKinds
)

func anomaly(a Args) (View, error) {
	burst, thr, w := a["burst"], a["threshold"], int(a["w"])
	burstMix := make([]float64, len(trafficBase))
	for i, v := range trafficBase {
		burstMix[i] = (1 - burst) * v
	}
	burstMix[trafficLogin] += burst
	r := newRand(a["seed"])
	ts, kls := make([]float64, trafficWindows), make([]float64, trafficWindows)
	var worst []float64
	worstT, alarms, falseAlarms, quietMax, first := 0, 0, 0, 0.0, -1
	for t := range trafficWindows {
		mix := trafficBase
		inBurst := t >= burstFrom && t < burstTo
		if inBurst {
			mix = burstMix
		}
		counts := make([]float64, len(mix))
		for range w {
			counts[draw(r, mix)]++
		}
		hist, err := kl.Normalize(counts)
		if err != nil {
			return View{}, err
		}
		d, err := kl.KL(hist, trafficBase)
		if err != nil {
			return View{}, err
		}
		ts[t], kls[t] = float64(t), d
		if d > thr {
			alarms++
			if !inBurst {
				falseAlarms++
			} else if first < 0 {
				first = t
			}
		}
		if !inBurst && d > quietMax {
			quietMax = d
		}
		if worst == nil || d > kls[worstT] {
			worst, worstT = hist, t
		}
	}
	detected := "the burst is not detected"
	if first >= 0 {
		detected = fmt.Sprintf("the burst is detected at window %d", first)
	}
	return View{
		Values: []Value{
			Nats("kl_max", "largest KL(window‖baseline)", kls[worstT]),
			Nats("kl_quiet_max", "largest KL outside the burst", quietMax),
			Nats("noise_floor", "expected KL from sampling noise ≈ (K−1)/(2w)", float64(len(trafficBase)-1)/(2*float64(w))),
			Plain("alarms", "windows above the threshold", float64(alarms), ""),
			Plain("false_alarms", "false alarms", float64(falseAlarms), ""),
		},
		Charts: []Chart{
			{Title: "KL(window‖baseline) over time", Kind: "line", XLabel: "window", YLabel: "nats", LogY: true,
				Series: []Series{{Name: "KL(Pₜ‖Q)", X: ts, Y: kls, Style: "steps"}},
				HLines: []Mark{{At: thr, Label: "threshold"}}, Bands: []Band{{From: burstFrom, To: burstTo, Label: "burst"}}, YMin: Auto, YMax: Auto},
			{Title: fmt.Sprintf("Most surprising window (%d) and the baseline", worstT), Kind: "bars", YLabel: "share of requests",
				Categories: trafficKinds, Series: []Series{{Name: "baseline Q", Y: trafficBase}, {Name: fmt.Sprintf("window %d", worstT), Y: worst}}, YMin: 0, YMax: Auto},
		},
		Caption: fmt.Sprintf("With %d requests per window the noise floor is about %s nats; %s (%d false alarms).", w, Format(float64(len(trafficBase)-1)/(2*float64(w))), detected, falseAlarms),
		Command: fmt.Sprintf("klppo kl categorical --p %s --q %s", list(worst), list(trafficBase)),
	}, nil
}
