package web

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"klppo/kl"
	"klppo/web/explain"
	"klppo/web/internal/fitcheck"
)

// The explainer's edge states in Chromium: +Inf shown as such (no JSON error, no stuck loader),
// the asymmetry page's KL(Q‖P) minimum equal to a brute-force grid minimum, every slider at its
// minimum and its maximum, PPO's KL against kl, and "1 bit" in the singular.
func TestBrowserExplainerEdges(t *testing.T) {
	ts, ctx := serveInBrowser(t, t.TempDir())

	// state reads what the page shows after loading path: the data-values, whether an error or
	// the loader is still on the page, and the caption.
	type shown struct {
		Values  map[string]string `json:"values"`
		Error   string            `json:"error"`
		Loading bool              `json:"loading"`
		Caption string            `json:"caption"`
	}
	const read = `({
		values: Object.fromEntries(Array.from(document.querySelectorAll("[data-value]")).map(e => [e.dataset.value, e.textContent])),
		error: (document.querySelector(".values .error") || {}).textContent || "",
		loading: !!document.querySelector(".values .loading"),
		caption: document.querySelector(".caption").textContent,
	})`
	load := func(t *testing.T, path string) shown {
		t.Helper()
		var s shown
		run(t, ctx, path, chromedp.Navigate(ts.URL+"/explain/"+path), waitUpdates(1), chromedp.Evaluate(read, &s))
		return s
	}

	t.Run("coin-q-0", func(t *testing.T) {
		s := load(t, "coin/?p=0.7&q=0")
		if s.Error != "" || s.Loading {
			t.Fatalf("coin q = 0: error %q, loader still shown %v", s.Error, s.Loading)
		}
		if s.Values["kl_pq"] != "+Inf" || s.Values["surprise_q_heads"] != "+Inf" {
			t.Errorf("coin q = 0: kl_pq %q, −ln Q(heads) %q; want +Inf", s.Values["kl_pq"], s.Values["surprise_q_heads"])
		}
		want, err := kl.Bernoulli{P: 0}.KL(kl.Bernoulli{P: 0.7}) // KL(Q‖P) = ln(1/0.3)
		if err != nil {
			t.Fatal(err)
		}
		if s.Values["kl_qp"] != explain.Format(want) {
			t.Errorf("coin q = 0: kl_qp %q, kl says %q", s.Values["kl_qp"], explain.Format(want))
		}
		if !strings.Contains(s.Caption, "KL(P‖Q) = +Inf") {
			t.Errorf("coin q = 0: caption %q", s.Caption)
		}
		// A value no slider can reach is an error naming it, and the loader goes away.
		s = load(t, "coin/?p=1.5")
		if s.Error != "explain coin: p = 1.5: must be in [0, 1]" || s.Loading {
			t.Errorf("coin p = 1.5: error %q, loader %v", s.Error, s.Loading)
		}
	})

	t.Run("asymmetry-global-minimum", func(t *testing.T) {
		for _, sep := range []float64{3, 4, 4.5, 5, 6, 8} {
			s := load(t, fmt.Sprintf("asymmetry/?sep=%v&width=1&w=0.5", sep))
			got, err := strconv.ParseFloat(s.Values["kl_qp"], 64)
			if err != nil {
				t.Fatalf("sep %v: kl_qp %q: %v", sep, s.Values["kl_qp"], err)
			}
			x, lp, err := explain.AsymmetryTarget(sep, 1, 0.5)
			if err != nil {
				t.Fatal(err)
			}
			grid := fitcheck.ReverseKL(x, lp, fitcheck.BimodalGrid(sep, 1, 0.5))
			// The page shows 6 significant digits: never above the grid's best beyond that
			// rounding, and within 1e-3 of it.
			if got > grid.KL*(1+1e-6) || got < grid.KL-1e-3 {
				t.Errorf("sep %v: the page's min KL(Q‖P) is %v, the brute-force grid's %v (μ %v, σ %v)", sep, got, grid.KL, grid.Mu, grid.Sigma)
			}
			if seeks := strings.Contains(s.Caption, "Q seeks the"); seeks != (sep >= 6) || (s.Values["mu_seek"] == "0") == seeks {
				t.Errorf("sep %v: μ of the seeking fit %s, caption %q", sep, s.Values["mu_seek"], s.Caption)
			}
			t.Logf("sep %v: page %s, brute-force grid %.6f at μ %.2f σ %.3f", sep, s.Values["kl_qp"], grid.KL, grid.Mu, grid.Sigma)
		}
	})

	t.Run("every-slider-at-its-ends", func(t *testing.T) {
		for i := range explain.Pages {
			p := &explain.Pages[i]
			run(t, ctx, p.Slug, chromedp.Navigate(ts.URL+"/explain/"+p.Slug+"/"), waitUpdates(1))
			n := 1
			for _, pr := range p.Params {
				for _, end := range []string{"min", "max"} {
					js := fmt.Sprintf(`(() => { const s = document.querySelector('input[name=%q]');
						s.value = s.%s; s.dispatchEvent(new Event("input")); return location.search; })()`, pr.Name, end)
					var search string
					n++
					run(t, ctx, p.Slug+" "+pr.Name+" "+end, chromedp.Evaluate(js, &search), waitUpdates(n))
					var s shown
					run(t, ctx, "read", chromedp.Evaluate(read, &s))
					if s.Error != "" {
						t.Errorf("%s%s: %s", p.Slug, search, s.Error)
						continue
					}
					wantView(t, s.Values, p, strings.TrimPrefix(search, "?"))
				}
			}
			legible(t, ctx, p.Slug+" at its sliders' ends")
		}
	})

	t.Run("ppo-kl", func(t *testing.T) {
		s := load(t, "ppo-kl/?d1=0&d2=0&d3=0&d4=2&eps=0.2&target=0.01&beta=1")
		want, err := kl.KLLogits([]float64{1, 0.3, -0.2, -1}, []float64{1, 0.3, -0.2, 1})
		if err != nil {
			t.Fatal(err)
		}
		if s.Values["kl_old_new"] != explain.Format(want) || s.Values["beta_next"] != "2" {
			t.Errorf("ppo-kl: KL %q (kl.KLLogits %q), β next %q (want 2: %v > 1.5·0.01)", s.Values["kl_old_new"], explain.Format(want), s.Values["beta_next"], want)
		}
		if !strings.Contains(s.Caption, "doubles β") || !strings.Contains(s.Caption, "a4") {
			t.Errorf("ppo-kl: caption %q", s.Caption)
		}
	})

	t.Run("one-bit", func(t *testing.T) {
		load(t, "zeros/")
		var bits string
		run(t, ctx, "bits", chromedp.Evaluate(`document.querySelector('[data-value="ln2"]').parentElement.querySelector(".bits").textContent`, &bits))
		if bits != " = 1 bit" {
			t.Errorf("zeros: ln 2 nats reads %q, want \" = 1 bit\"", bits)
		}
	})
}
