package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"klppo/kl"
	"klppo/ppo"
	"klppo/web/explain"
)

// The browser tests (TestBrowser*) drive a real headless Chromium (Debian's `chromium`). On a
// machine without one they are skipped, and the package says so in one line; with
// KLPPO_REQUIRE_BROWSER=1 (set by .ci/run, which installs Chromium) a missing browser fails them.
// A browser that is found but cannot start is always a failure. KLPPO_CHROMIUM=PATH picks the
// browser binary; KLPPO_SCREENSHOTS=DIR also writes a PNG of every page into DIR (docs/serve holds
// the committed ones).

// chromium is the browser binary ("" when none was found): $KLPPO_CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome, google-chrome-stable on the PATH.
var chromium = func() string {
	if p := os.Getenv("KLPPO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}()

// requireBrowser is set by KLPPO_REQUIRE_BROWSER=1: a missing browser fails the browser tests.
var requireBrowser = os.Getenv("KLPPO_REQUIRE_BROWSER") == "1"

const noBrowser = "klppo/web: the browser tests (TestBrowser*) did not run: no Chromium found. " +
	"Install it (apt-get install chromium) or set KLPPO_CHROMIUM=/path/to/chromium; KLPPO_REQUIRE_BROWSER=1 makes this a failure."

// sayNoBrowser says once, in one line, that the browser tests are skipped. `go test ./...` shows
// nothing of a package that passes, so the line goes to the terminal (/dev/tty) when there is
// one, else to stdout (seen with -v, or when the package fails).
var sayNoBrowser = sync.OnceFunc(func() {
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, noBrowser)
		tty.Close()
		return
	}
	fmt.Println(noBrowser)
})

// chromiumPath returns the browser, or skips the test (fails it with KLPPO_REQUIRE_BROWSER=1)
// when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if chromium == "" {
		if requireBrowser {
			t.Fatalf("no Chromium found and KLPPO_REQUIRE_BROWSER=1: install it (apt-get install chromium) or set KLPPO_CHROMIUM")
		}
		sayNoBrowser()
		t.Skip("no Chromium found (set KLPPO_CHROMIUM, or KLPPO_REQUIRE_BROWSER=1 to fail instead)")
	}
	return chromium
}

// browser starts headless Chromium and returns a tab context.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("headless", "new"),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("force-device-scale-factor", "1"),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	var consoleErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			consoleErrors = append(consoleErrors, e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				for _, a := range e.Args {
					consoleErrors = append(consoleErrors, string(a.Value))
				}
			}
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		cancelC()
		cancelA()
		t.Fatalf("headless Chromium did not start: %v", err)
	}
	t.Cleanup(func() {
		cancelC()
		cancelA()
		if len(consoleErrors) > 0 {
			t.Errorf("JavaScript errors in the browser: %q", consoleErrors)
		}
	})
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// dataValues returns the text of every element carrying data-value.
func dataValues(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	var m map[string]string
	run(t, ctx, "read data-value", chromedp.Evaluate(`Object.fromEntries(Array.from(document.querySelectorAll("[data-value]")).map(e => [e.dataset.value, e.textContent]))`, &m))
	return m
}

// wantView checks that the page shows exactly the values the Go page computes for query.
func wantView(t *testing.T, got map[string]string, p *explain.Page, query string) explain.View {
	t.Helper()
	given, err := explain.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Run(given)
	if err != nil {
		t.Fatalf("%s?%s: %v", p.Slug, query, err)
	}
	for _, val := range v.Values {
		if got[val.Name] != val.Text {
			t.Errorf("%s?%s: data-value %s = %q, Go computes %q", p.Slug, query, val.Name, got[val.Name], val.Text)
		}
	}
	return v
}

// waitUpdates waits until the page has computed n views (body[data-updates] ≥ n).
func waitUpdates(n int) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`+(document.body.dataset.updates || 0) >= %d`, n), nil, chromedp.WithPollingTimeout(20*time.Second))
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("KLPPO_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	run(t, ctx, "screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// formatter returns a function that formats kl's (value, error) as a page shows it.
func formatter(t *testing.T) func(float64, error) string {
	return func(v float64, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return explain.Format(v)
	}
}

func TestBrowserExplainers(t *testing.T) {
	chromiumPath(t)
	ts, ctx := serveInBrowser(t, t.TempDir())

	run(t, ctx, "index", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(".cards"))
	legible(t, ctx, "index")
	screenshot(t, ctx, "index")

	var timings []float64
	for i := range explain.Pages {
		p := &explain.Pages[i]
		t.Run(p.Slug, func(t *testing.T) {
			run(t, ctx, "load", chromedp.Navigate(ts.URL+"/explain/"+p.Slug+"/"), waitUpdates(1))
			wantView(t, dataValues(t, ctx), p, "")
			legible(t, ctx, p.Slug)
			if i == 0 {
				checkTickLabels(t, ctx)
				checkHardCharts(t, ctx)
			}
			screenshot(t, ctx, p.Slug)
			// Move every slider to a quarter and three quarters of its range, one at a time; the
			// URL follows, and the numbers are Go's for that URL.
			n := 1
			for _, pr := range p.Params {
				for _, frac := range []float64{0.25, 0.75} {
					js := fmt.Sprintf(`(() => { const s = document.querySelector('input[name=%q]');
						s.value = +s.min + %v * (s.max - s.min); s.dispatchEvent(new Event("input")); return location.search; })()`, pr.Name, frac)
					var search string
					n++
					run(t, ctx, "move "+pr.Name, chromedp.Evaluate(js, &search), waitUpdates(n))
					wantView(t, dataValues(t, ctx), p, strings.TrimPrefix(search, "?"))
					legible(t, ctx, p.Slug+search)
				}
			}
			var tm []map[string]float64
			run(t, ctx, "timings", chromedp.Sleep(50*time.Millisecond), chromedp.Evaluate(`window.klppoTimings`, &tm))
			var page []float64
			for _, x := range tm[1:] { // the first update includes the wasm start-up
				page = append(page, x["total"])
			}
			timings = append(timings, page...)
			sort.Float64s(page)
			t.Logf("%s: %d slider updates: median %.1f ms, slowest %.1f ms (compute in wasm + redraw)", p.Slug, len(page), page[len(page)/2], page[len(page)-1])
		})
	}
	sort.Float64s(timings)
	if len(timings) > 0 {
		t.Logf("slider update (compute in wasm + redraw), %d updates over all pages: median %.1f ms, p90 %.1f ms, max %.1f ms",
			len(timings), timings[len(timings)/2], timings[len(timings)*9/10], timings[len(timings)-1])
	}

	t.Run("real-mouse-and-links", func(t *testing.T) {
		fmtKL := formatter(t)
		coin, _ := explain.Lookup("coin")
		run(t, ctx, "coin", chromedp.Navigate(ts.URL+"/explain/coin/"), waitUpdates(1))
		// A real mouse click at 90% of the P(heads) slider's width.
		var box []float64
		run(t, ctx, "slider box", chromedp.Evaluate(`(() => { const s = document.querySelector('input[name="p"]'); s.scrollIntoView({block: "center"});
			const r = s.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`, &box))
		run(t, ctx, "click slider", chromedp.MouseClickXY(box[0]+0.9*box[2], box[1]+box[3]/2), waitUpdates(2))
		var search string
		run(t, ctx, "url", chromedp.Evaluate(`location.search`, &search))
		if q, err := url.ParseQuery(strings.TrimPrefix(search, "?")); err != nil || q.Get("p") == "0.7" {
			t.Errorf("after clicking the P(heads) slider at 90%% the URL is %q", search)
		}
		wantView(t, dataValues(t, ctx), coin, strings.TrimPrefix(search, "?"))
		// Follow the first example link: a URL with query parameters.
		run(t, ctx, "follow example", chromedp.Evaluate(`document.querySelector("a.example").click()`, nil))
		followed := false
		for deadline := time.Now().Add(20 * time.Second); !followed && time.Now().Before(deadline); {
			// The old page's JavaScript context disappears during the navigation: retry.
			var ok bool
			err := chromedp.Run(ctx, chromedp.Evaluate(`location.search.includes("p=0.99") && +(document.body.dataset.updates || 0) >= 1`, &ok))
			followed = err == nil && ok
			time.Sleep(50 * time.Millisecond)
		}
		if !followed {
			var href string
			_ = chromedp.Run(ctx, chromedp.Evaluate(`location.href + " updates=" + document.body.dataset.updates`, &href))
			t.Fatalf("the example link p=0.99&q=0.5 did not load: at %s", href)
		}
		got := dataValues(t, ctx)
		if want := fmtKL(kl.Bernoulli{P: 0.99}.KL(kl.Bernoulli{P: 0.5})); got["kl_pq"] != want {
			t.Errorf("coin p=0.99 q=0.5: kl_pq = %q, kl.Bernoulli says %q", got["kl_pq"], want)
		}
		if want := fmtKL(kl.Bernoulli{P: 0.5}.KL(kl.Bernoulli{P: 0.99})); got["kl_qp"] != want {
			t.Errorf("coin p=0.99 q=0.5: kl_qp = %q, kl.Bernoulli says %q", got["kl_qp"], want)
		}
		// The link, without the trailing slash (the server redirects and keeps the query).
		run(t, ctx, "peaks link", chromedp.Navigate(ts.URL+"/explain/peaks?mu_p=-3&sigma_p=1&mu_q=3&sigma_q=1"), waitUpdates(1))
		got = dataValues(t, ctx)
		if want := fmtKL(kl.Normal{Mu: -3, Sigma: 1}.KL(kl.Normal{Mu: 3, Sigma: 1})); got["kl_pq"] != want || want != "18" {
			t.Errorf("peaks: kl_pq = %q, kl.Normal says %q (18)", got["kl_pq"], want)
		}
		// More pages against package kl directly.
		checks := []struct {
			path, name string
			want       func() (float64, error)
		}{
			{"vae?mu=1&sigma=0.5", "kl_prior", func() (float64, error) {
				return kl.VAEPriorKL([]float64{1}, []float64{2 * math.Log(0.5)})
			}},
			{"zeros?m=0.1&eps=0.01", "kl_pq", func() (float64, error) { return math.Inf(1), nil }},
			{"zeros?m=0&eps=0.01", "js", func() (float64, error) {
				return kl.JS([]float64{0.5, 0.3, 0.2, 0, 0}, []float64{0.35, 0.35, 0.3, 0, 0})
			}},
			{"cross-entropy?t=1&lambda=0", "kl_pq", func() (float64, error) { return 0, nil }},
			{"cross-entropy?t=1&lambda=0", "h_p", func() (float64, error) {
				return kl.Entropy([]float64{0.4, 0.3, 0.13, 0.13, 0.02, 0.02})
			}},
			{"gan?mu_g=2&sigma_g=0.7", "kl_pg", func() (float64, error) {
				return kl.Normal{Mu: 0, Sigma: 1}.KL(kl.Normal{Mu: 2, Sigma: 0.7})
			}},
		}
		for _, c := range checks {
			run(t, ctx, c.path, chromedp.Navigate(ts.URL+"/explain/"+c.path), waitUpdates(1))
			if got, want := dataValues(t, ctx)[c.name], fmtKL(c.want()); got != want {
				t.Errorf("%s: %s = %q, kl says %q", c.path, c.name, got, want)
			}
		}
	})
}

// The static export works from a plain file server (no klppo), and the page weight is measured.
func TestBrowserExport(t *testing.T) {
	chromiumPath(t)
	dir := t.TempDir()
	if err := Export(dir, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer ts.Close()
	ctx := browser(t)
	fmtKL := formatter(t)
	run(t, ctx, "exported coin", chromedp.Navigate(ts.URL+"/explain/coin/?p=0.7&q=0.5"), waitUpdates(1))
	got := dataValues(t, ctx)
	if want := fmtKL(kl.Bernoulli{P: 0.7}.KL(kl.Bernoulli{P: 0.5})); got["kl_pq"] != want {
		t.Errorf("exported coin: kl_pq = %q, want %q", got["kl_pq"], want)
	}
	var weight float64
	run(t, ctx, "weight", chromedp.Evaluate(`performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).reduce((s, e) => s + e.decodedBodySize, 0)`, &weight))
	t.Logf("page weight of /explain/coin/ (HTML + CSS + JS + wasm, uncompressed): %.0f bytes (%.2f MB)", weight, weight/1e6)
	if weight > 4e6 || weight < 1e5 {
		t.Errorf("page weight %.0f bytes: want ≤ 4 MB (and the wasm loaded)", weight)
	}
	// The runs page of a static copy explains that runs need the server.
	var msg string
	run(t, ctx, "exported runs", chromedp.Navigate(ts.URL+"/runs/"), chromedp.WaitVisible(".runs .error"), chromedp.Text(".runs .error", &msg))
	if !strings.Contains(msg, "klppo serve") || !strings.Contains(msg, "--runs") {
		t.Errorf("exported runs page says %q", msg)
	}

	// With --runs, the copy holds a snapshot of the runs: the list, the pages and the files.
	withRuns := filepath.Join(t.TempDir(), "site")
	if err := Export(withRuns, ExportOptions{Runs: fixtureRuns(t)}); err != nil {
		t.Fatal(err)
	}
	ts2 := httptest.NewServer(http.FileServer(http.Dir(withRuns)))
	defer ts2.Close()
	var n int
	run(t, ctx, "exported runs list", chromedp.Navigate(ts2.URL+"/runs/"), chromedp.WaitVisible(`tr[data-run="story/rm"]`),
		chromedp.Evaluate(`document.querySelectorAll("tr[data-run]").length`, &n))
	if n != 16 {
		t.Errorf("the exported list shows %d runs, want 16", n)
	}
	var rows int
	var fetched []string
	run(t, ctx, "exported rlhf page", chromedp.Navigate(ts2.URL+"/runs/view/?run=story/leash"), chromedp.WaitVisible("table.samples"),
		chromedp.Evaluate(`document.querySelectorAll("table.samples tr").length - 1`, &rows),
		chromedp.Evaluate(`Promise.all(Array.from(document.querySelectorAll("a.download")).map(a => fetch(a.href).then(r => a.getAttribute("download") + " " + r.status)))`, &fetched,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if got := dataValues(t, ctx); rows != 6 || !strings.Contains(got["refresh"], "static snapshot") {
		t.Errorf("exported RLHF page: %d sample rows, %q", rows, got["refresh"])
	}
	if len(fetched) < 5 {
		t.Errorf("exported RLHF page links %q", fetched)
	}
	for _, f := range fetched {
		if !strings.HasSuffix(f, " 200") {
			t.Errorf("exported download %s", f)
		}
	}
	legible(t, ctx, "exported rlhf page")
	// A leash experiment's page shows its table (leash.csv); a GRPO run's page is an RLHF run's.
	var heads []string
	run(t, ctx, "exported leash page", chromedp.Navigate(ts2.URL+"/runs/view/?run=lsh"),
		chromedp.Poll(`Array.from(document.querySelectorAll("h2")).some(h => h.textContent.startsWith("leash.csv"))`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`Array.from(document.querySelectorAll("h2")).map(h => h.textContent)`, &heads))
	if !slices.Contains(heads, "leash.csv: one row per run") {
		t.Errorf("exported leash page: headings %q", heads)
	}
	run(t, ctx, "exported grpo page", chromedp.Navigate(ts2.URL+"/runs/view/?run=grpo1"), chromedp.WaitVisible("table.samples"))
}

// A run page opened while ppo.Train writes the run shows the first update, then refreshes by
// itself to the finished run.
func TestBrowserLiveRun(t *testing.T) {
	chromiumPath(t)
	t.Chdir(t.TempDir())
	runs := "runs" // relative, as `klppo serve` is usually started
	ts, ctx := serveInBrowser(t, runs)

	cfg, err := ppo.DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 64, 2, 2
	cfg.TotalTimesteps = 4 * cfg.NumEnvs * cfg.NumSteps // 4 updates
	cfg.Hidden = []int{16}
	firstDone, resume := make(chan struct{}), make(chan struct{})
	updates := 0
	hooks := ppo.Hooks{OnUpdate: func(ppo.UpdateMetrics) {
		updates++
		if updates == 1 {
			close(firstDone)
			<-resume // hold the run after its first update until the page has shown it
		}
	}}
	trainErr := make(chan error, 1)
	go func() {
		_, err := ppo.Train(context.Background(), cfg, filepath.Join(runs, "live-cartpole"), ppo.Options{Hooks: hooks})
		trainErr <- err
	}()
	select {
	case <-firstDone:
	case err := <-trainErr:
		t.Fatalf("training ended before its first update: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("no first update after 2 minutes")
	}
	run(t, ctx, "runs list", chromedp.Navigate(ts.URL+"/runs/"), chromedp.WaitVisible(`a[href*="live-cartpole"]`))
	legible(t, ctx, "runs list")
	run(t, ctx, "run page", chromedp.Navigate(ts.URL+"/runs/view/?run=live-cartpole"),
		chromedp.Poll(`document.body.dataset.rows === "1"`, nil, chromedp.WithPollingTimeout(20*time.Second)))
	if got := dataValues(t, ctx); !strings.Contains(got["refresh"], "refreshes every 2 s") || got["state"] == "finished" {
		t.Errorf("a run being written: state %q, %q", got["state"], got["refresh"])
	}
	close(resume)
	if err := <-trainErr; err != nil {
		t.Fatalf("training: %v", err)
	}
	// Finished (summary.json written after the last row): the page says so and stops polling.
	run(t, ctx, "refreshed run page", chromedp.Poll(`document.body.dataset.rows === "4" && document.body.dataset.polling === "0"`, nil, chromedp.WithPollingTimeout(20*time.Second)))
	if got := dataValues(t, ctx); strings.Contains(got["refresh"], "refreshes") || got["state"] != "finished" {
		t.Errorf("a finished run: state %q, %q", got["state"], got["refresh"])
	}
	var charts int
	run(t, ctx, "charts", chromedp.Poll(`document.querySelectorAll(".run svg.chart").length >= 4`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelectorAll(".run svg.chart").length`, &charts))
	if charts < 4 {
		t.Errorf("run page draws %d charts, want return, KL, β, clip fraction and more", charts)
	}
	legible(t, ctx, "run page")
	// Long floats (sps = 416.4184036263133) are shown to six significant digits, the full value
	// in the cell's title.
	var cells [][2]string
	run(t, ctx, "summary cells", chromedp.Evaluate(`Array.from(document.querySelectorAll(".run table.config td[title]:not(.word)")).map(td => [td.textContent, td.title])`, &cells))
	if len(cells) == 0 {
		t.Errorf("run page: no table cell keeps a long number in its title (sps, wall_s)")
	}
	for _, c := range cells {
		short, errS := strconv.ParseFloat(c[0], 64)
		full, errF := strconv.ParseFloat(c[1], 64)
		digits := len(strings.TrimLeft(strings.NewReplacer(".", "", "-", "").Replace(c[0]), "0"))
		if errS != nil || errF != nil || digits > 6 || math.Abs(short-full) > 1e-5*math.Abs(full) {
			t.Errorf("run page: cell shows %q for %q, want the number to six significant digits", c[0], c[1])
		}
	}

	// A comparison (files as klppo compare writes them) shows its settings side by side and one
	// curve per run.
	for name, text := range map[string]string{
		"cmp/run.json":                    `{"kind": "compare"}`,
		"cmp/clip_0.2/seed-1/run.json":    `{"kind": "train"}`,
		"cmp/none/seed-1/run.json":        `{"kind": "train"}`,
		"rl/run.json":                     `{"kind": "rlhf-ppo"}`,
		"cmp/sweep.json":                  `{"env_id": "CartPole-v1", "penalties": ["clip:0.2", "none"]}`,
		"cmp/runs.csv":                    "setting,seed,status,final_return\nclip_0.2,1,done,480\nnone,1,done,120\n",
		"cmp/clip_0.2/seed-1/metrics.csv": "update,global_step,episodic_return,kl,beta,clipfrac\n1,128,20,0.01,0,0.1\n2,256,40,0.02,0,0.2\n",
		"cmp/none/seed-1/metrics.csv":     "update,global_step,episodic_return,kl,beta,clipfrac\n1,128,22,0.05,0,0\n2,256,30,0.09,0,0\n",
		"rl/metrics.csv":                  "update,proxy_reward,gold_reward,kl,kl_k1,kl_k3,beta,ppo_kl,clipfrac\n1,0.1,0.1,0.01,0.01,0.01,0.1,0.002,0.1\n2,0.3,0.2,0.05,0.05,0.04,0.1,0.003,0.2\n",
	} {
		p := filepath.Join(runs, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var table string
	run(t, ctx, "compare page", chromedp.Navigate(ts.URL+"/runs/view/?run=cmp"), chromedp.WaitVisible("table.csv"), chromedp.Text("table.csv", &table),
		chromedp.Poll(`document.querySelectorAll(".run svg.chart").length >= 4`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelectorAll(".run svg.chart").length`, &charts))
	if !strings.Contains(table, "clip_0.2") || !strings.Contains(table, "none") || charts != 4 {
		t.Errorf("compare page: table %q, %d charts (want both settings and 4 charts)", table, charts)
	}
	legible(t, ctx, "compare page")
	// An RLHF run: its leash KL(π‖π_ref) and PPO's KL(π_old‖π_θ) are two different charts.
	var titles []string
	run(t, ctx, "rlhf page", chromedp.Navigate(ts.URL+"/runs/view/?run=rl"), chromedp.WaitVisible(".run svg.chart"),
		chromedp.Evaluate(`document.querySelector("details.more").open = true`, nil),
		chromedp.Poll(`document.querySelectorAll("details.more svg.chart").length > 0`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".run svg.chart .ctitle")).map(e => e.textContent)`, &titles))
	legible(t, ctx, "rlhf run page")
	leash, trust := -1, -1
	for i, ti := range titles {
		if strings.Contains(ti, "KL(π‖π_ref)") {
			leash = i
		}
		if strings.Contains(ti, "KL(π_old‖π_θ)") {
			trust = i
		}
	}
	if leash < 0 || trust < 0 || leash == trust {
		t.Errorf("rlhf run page charts %q: want KL(π‖π_ref) and PPO's KL(π_old‖π_θ) on separate charts", titles)
	}
}

// serveInBrowser serves the runs directory runs on a test server and opens a browser; both
// close when the test ends.
func serveInBrowser(t *testing.T, runs string) (*httptest.Server, context.Context) {
	t.Helper()
	srv, err := NewServer(runs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, browser(t)
}
