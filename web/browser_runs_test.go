package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"klppo/experiments/rlhf"
	"klppo/internal/rundir"
	"klppo/ppo"
)

// trainTiny trains a few updates of CartPole with penalty into runs/name.
func trainTiny(t *testing.T, runs, name, penalty string, seed uint64) {
	t.Helper()
	cfg, err := ppo.DefaultConfig("CartPole-v1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Penalty, cfg.Seed = penalty, seed
	cfg.NumEnvs, cfg.NumSteps, cfg.NumMinibatches, cfg.UpdateEpochs = 2, 64, 2, 2
	cfg.TotalTimesteps = 8 * cfg.NumEnvs * cfg.NumSteps // 8 updates
	cfg.Hidden = []int{16}
	if _, err := ppo.Train(context.Background(), cfg, filepath.Join(runs, name), ppo.Options{}); err != nil {
		t.Fatal(err)
	}
}

// rlhfStoryTiny writes what `klppo rlhf` writes (sft/, rm/, no-leash/, leash/, the story charts
// and the story's kind), at a size that takes a few seconds.
func rlhfStoryTiny(t *testing.T, out string) {
	t.Helper()
	ctx := context.Background()
	if err := rundir.WriteKind(out, rundir.KindRLHFStory); err != nil {
		t.Fatal(err)
	}
	pc := rlhf.DefaultPrepareConfig(1)
	pc.SFT.Train, pc.SFT.Epochs, pc.RM.Pairs = 1000, 2, 200
	prep, err := rlhf.Prepare(ctx, pc, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var curves []rlhf.RunCurves
	for _, r := range []struct {
		dir  string
		beta float64
	}{{"no-leash", 0}, {"leash", 0.5}} {
		c := rlhf.DefaultPPOConfig(r.beta, 1)
		c.Updates, c.Batch, c.Minibatch, c.RefSamples = 5, 16, 32, 64
		dir := filepath.Join(out, r.dir)
		sum, err := rlhf.RunPPO(ctx, prep.Env, c, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := rlhf.ReadMetrics(filepath.Join(dir, rlhf.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		curves = append(curves, rlhf.RunCurves{Label: r.dir, Metrics: ms, Ref: sum})
	}
	if err := rlhf.StoryCharts(out, "story", curves, 0); err != nil {
		t.Fatal(err)
	}
}

// readColumn returns a numeric column of a CSV file.
func readColumn(t *testing.T, file, col string) []float64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	i := -1
	for j, h := range recs[0] {
		if h == col {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("%s has no column %s", file, col)
	}
	var out []float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[i], 64)
		if err != nil {
			v = math.NaN()
		}
		out = append(out, v)
	}
	return out
}

// emaGo is the smoothing the page must draw: s_t = w·s_{t−1} + (1−w)·y_t, debiased by 1 − w^n.
func emaGo(ys []float64, w float64) []float64 {
	out := make([]float64, len(ys))
	acc, n := 0.0, 0
	for i, y := range ys {
		if math.IsNaN(y) {
			out[i] = math.NaN()
			continue
		}
		acc = w*acc + (1-w)*y
		n++
		out[i] = acc / (1 - math.Pow(w, float64(n)))
	}
	return out
}

// TestBrowserRunPages: run pages of real runs (two ppo.Train runs, the RLHF story written by the
// library as `klppo rlhf` writes it) — the overlay of two runs chosen in the list, log y,
// smoothing, hover values, zoom, download links, and the RLHF run page's sample table.
func TestBrowserRunPages(t *testing.T) {
	chromiumPath(t)
	runs := t.TempDir()
	trainTiny(t, runs, "adaptive", "kl-adaptive:0.01", 1)
	trainTiny(t, runs, "clipped", "clip:0.2", 2)
	rlhfStoryTiny(t, filepath.Join(runs, "story"))
	ts, ctx := serveInBrowser(t, runs)
	waitCharts := func(n int) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`document.querySelectorAll(".run svg.chart").length >= %d`, n), nil, chromedp.WithPollingTimeout(20*time.Second))
	}

	// The list: every run with its kind, the reward model among them; tick two runs, overlay them.
	run(t, ctx, "runs list", chromedp.Navigate(ts.URL+"/runs/"), chromedp.WaitVisible(`tr[data-run="story/rm"]`))
	legible(t, ctx, "runs list")
	var kinds map[string]string
	run(t, ctx, "kinds", chromedp.Evaluate(`Object.fromEntries(Array.from(document.querySelectorAll("tr[data-run]")).map(tr => [tr.dataset.run, tr.querySelector(".badge").textContent]))`, &kinds))
	for name, want := range map[string]string{"adaptive": "train", "clipped": "train", "story": "rlhf", "story/leash": "rlhf-ppo", "story/rm": "rlhf-rm", "story/sft": "rlhf-sft"} {
		if kinds[name] != want {
			t.Errorf("runs list: %s has kind %q, want %q (all %v)", name, kinds[name], want, kinds)
		}
	}
	run(t, ctx, "overlay", chromedp.Click(`tr[data-run="adaptive"] input`, chromedp.ByQuery), chromedp.Click(`tr[data-run="clipped"] input`, chromedp.ByQuery),
		chromedp.Click(`button.overlay`, chromedp.ByQuery))
	afterNavigation(t, ctx, "overlay page", `+(document.body.dataset.overlay || 0) > 0 && document.querySelectorAll(".run svg.chart").length == +document.body.dataset.overlay`)
	var search string
	var legends [][]string
	run(t, ctx, "overlay legends", chromedp.Evaluate(`location.search`, &search),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".run figure")).map(f => Array.from(f.querySelectorAll(".legend span")).map(s => s.textContent))`, &legends))
	if search != "?run=adaptive&run=clipped" {
		t.Errorf("overlay URL %q", search)
	}
	if len(legends) < 10 {
		t.Errorf("overlay of two train runs: %d charts, want one per shared metric (≥ 10)", len(legends))
	}
	for i, l := range legends {
		if strings.Join(l, ",") != "adaptive,clipped" {
			t.Errorf("overlay chart %d: legend %q, want one curve per run", i, l)
		}
	}
	legible(t, ctx, "overlay")

	// A training run's page: the story sentence, the KL band, β on a log axis with its floor and
	// ceiling, and a finished run that does not poll.
	run(t, ctx, "train page", chromedp.Navigate(ts.URL+"/runs/view/?run=adaptive"), waitCharts(4))
	got := dataValues(t, ctx)
	if !strings.HasPrefix(got["story"], "β left its floor") {
		t.Errorf("train page: story %q", got["story"])
	}
	if !strings.Contains(got["refresh"], "not refreshing") || got["state"] != "finished" {
		t.Errorf("finished run: state %q, refresh %q", got["state"], got["refresh"])
	}
	var info struct {
		Polling string
		Band    int
		BetaLog string
		Marks   []string
	}
	run(t, ctx, "train charts", chromedp.Sleep(2500*time.Millisecond), chromedp.Evaluate(`(() => {
		const svgs = Array.from(document.querySelectorAll(".run svg.chart"));
		const kl = svgs.find(s => s.getAttribute("aria-label").startsWith("PPO's KL")), beta = svgs.find(s => s.getAttribute("aria-label").startsWith("β"));
		return { Polling: document.body.dataset.polling, Band: kl.querySelectorAll("rect.band").length, BetaLog: beta.dataset.logy,
			Marks: Array.from(svgs.flatMap(s => Array.from(s.querySelectorAll("text.mark")))).map(t => t.textContent) };
	})()`, &info))
	if info.Polling != "0" || info.Band != 1 || info.BetaLog != "1" {
		t.Errorf("train page: polling %q, %d band(s) on the KL chart, β log axis %q", info.Polling, info.Band, info.BetaLog)
	}
	for _, w := range []string{"floor 0.0001", "ceiling 10000", "d_targ 0.01"} {
		if !strings.Contains(strings.Join(info.Marks, "|"), w) {
			t.Errorf("train page: no mark %q among %q", w, info.Marks)
		}
	}
	legible(t, ctx, "train page")

	// Smoothing: the slider redraws every line chart with its EMA, which is the formula's.
	run(t, ctx, "smooth", chromedp.Evaluate(`(() => { const s = document.querySelector('input[name="smooth"]'); s.value = 0.9; s.dispatchEvent(new Event("input")); })()`, nil),
		chromedp.Poll(`Array.from(document.querySelectorAll(".run svg.chart")).every(s => s.dataset.smooth === "0.9") && document.querySelectorAll(".run path.smoothed").length >= 4`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	ret := readColumn(t, filepath.Join(runs, "adaptive", "metrics.csv"), "episodic_return")
	var jsEMA []any
	js, _ := json.Marshal(ret)
	run(t, ctx, "ema", chromedp.Evaluate(fmt.Sprintf(`klppoEMA(%s.map(v => v === null ? null : v), 0.9)`, strings.ReplaceAll(string(js), "NaN", "null")), &jsEMA))
	want := emaGo(ret, 0.9)
	for i, v := range jsEMA {
		f, ok := v.(float64)
		if (!ok && !math.IsNaN(want[i])) || (ok && math.Abs(f-want[i]) > 1e-9*math.Max(1, math.Abs(want[i]))) {
			t.Errorf("EMA[%d] = %v, want %v", i, v, want[i])
		}
	}
	var differ bool
	run(t, ctx, "smoothed path", chromedp.Evaluate(`(() => { const s = document.querySelector(".run svg.chart");
		return s.querySelector("path.raw").getAttribute("d") !== s.querySelector("path.smoothed").getAttribute("d"); })()`, &differ))
	if !differ {
		t.Error("the smoothed curve is the raw one")
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`location.search`, &search)); err != nil || !strings.Contains(search, "smooth=0.9") {
		t.Errorf("URL after smoothing: %q", search)
	}

	// Log y: every line chart gets a log axis whose ticks are 1, 2 or 5 times a power of ten.
	var ticks [][]string
	run(t, ctx, "log y", chromedp.Click(`input[name="logy"]`, chromedp.ByQuery),
		chromedp.Poll(`Array.from(document.querySelectorAll(".run svg.chart")).every(s => s.dataset.logy === "1")`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`Array.from(document.querySelectorAll(".run svg.chart")).map(s => Array.from(s.querySelectorAll('text.ytick')).map(t => t.textContent))`, &ticks))
	for i, tk := range ticks {
		for _, s := range tk {
			v, err := strconv.ParseFloat(s, 64)
			m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
			if err != nil || v <= 0 || (math.Abs(m-1) > 1e-6 && math.Abs(m-2) > 1e-6 && math.Abs(m-5) > 1e-6) {
				t.Errorf("log y: chart %d has the tick %q (ticks %q)", i, s, tk)
			}
		}
	}
	legible(t, ctx, "train page, log y")
	run(t, ctx, "linear again", chromedp.Click(`input[name="logy"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector(".run svg.chart").dataset.logy === "0"`, nil, chromedp.WithPollingTimeout(10*time.Second)))

	// Hover: the values under the cursor; zoom: drag across a chart, double-click back.
	var box []float64
	run(t, ctx, "plot box", chromedp.Evaluate(`(() => { const s = document.querySelector(".run svg.chart"); s.scrollIntoView({block: "center"});
		const f = s.querySelector("rect.frame").getBoundingClientRect(); return [f.left, f.top, f.width, f.height]; })()`, &box))
	cx, cy := box[0]+box[2]/2, box[1]+box[3]/2
	var tip string
	run(t, ctx, "hover", chromedp.MouseEvent(input.MouseMoved, cx, cy),
		chromedp.Poll(`!document.querySelector(".run .tip").hidden`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Text(".run .tip", &tip))
	if !strings.Contains(tip, "global_step = ") || !strings.Contains(tip, "return: ") {
		t.Errorf("hover shows %q", tip)
	}
	var xr []string
	run(t, ctx, "zoom", chromedp.MouseEvent(input.MousePressed, box[0]+0.3*box[2], cy, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.MouseMoved, box[0]+0.7*box[2], cy, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.MouseReleased, box[0]+0.7*box[2], cy, chromedp.ButtonLeft),
		chromedp.Poll(`!!document.querySelector(".run svg.chart").dataset.xmin`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Evaluate(`[document.querySelector(".run svg.chart").dataset.xmin, document.querySelector(".run svg.chart").dataset.xmax]`, &xr))
	steps := readColumn(t, filepath.Join(runs, "adaptive", "metrics.csv"), "global_step")
	lo, _ := strconv.ParseFloat(xr[0], 64)
	hi, _ := strconv.ParseFloat(xr[1], 64)
	if !(lo > steps[0] && hi < steps[len(steps)-1] && hi > lo) {
		t.Errorf("zoom: x range [%s, %s] of the data's [%g, %g]", xr[0], xr[1], steps[0], steps[len(steps)-1])
	}
	run(t, ctx, "zoom out", chromedp.Evaluate(`document.querySelector(".run svg.chart").dispatchEvent(new MouseEvent("dblclick", {bubbles: true}))`, nil),
		chromedp.Poll(`!document.querySelector(".run svg.chart").dataset.xmin`, nil, chromedp.WithPollingTimeout(5*time.Second)))

	// Download links: one per file of the run, each served as an attachment.
	var links [][3]string
	run(t, ctx, "downloads", chromedp.Evaluate(`Promise.all(Array.from(document.querySelectorAll("a.download")).map(a =>
		fetch(a.href).then(r => [a.getAttribute("download"), String(r.status), r.headers.get("Content-Disposition") || ""])))`, &links,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	es, err := os.ReadDir(filepath.Join(runs, "adaptive"))
	if err != nil {
		t.Fatal(err)
	}
	var files, linked []string
	locked := false
	for _, e := range es {
		if e.Name() == rundir.LockFile { // the lock the run held while it wrote: not offered
			locked = true
			continue
		}
		files = append(files, e.Name())
	}
	if !locked && goruntime.GOOS != "windows" {
		t.Errorf("the run has no %s: the hidden-lock check below checks nothing", rundir.LockFile)
	}
	for _, l := range links {
		linked = append(linked, l[0])
		if l[1] != "200" || l[2] != "attachment; filename="+l[0] {
			t.Errorf("download %s: status %s, Content-Disposition %q", l[0], l[1], l[2])
		}
	}
	sort.Strings(linked)
	if strings.Join(files, ",") != strings.Join(linked, ",") {
		t.Errorf("download links %q, files of the run %q", linked, files)
	}

	// The RLHF run page: its samples at the start, the gold peak and the end as a table.
	run(t, ctx, "rlhf page", chromedp.Navigate(ts.URL+"/runs/view/?run=story/leash"), chromedp.WaitVisible("table.samples"), waitCharts(4))
	var rows [][]string
	run(t, ctx, "samples", chromedp.Evaluate(`Array.from(document.querySelectorAll("table.samples tr")).slice(1).map(tr => Array.from(tr.cells).map(c => c.textContent))`, &rows))
	wantRows := rlhfSampleRows(t, filepath.Join(runs, "story", "leash"))
	if len(rows) != len(wantRows) || len(rows) == 0 {
		t.Fatalf("sample table has %d rows, want %d: %q", len(rows), len(wantRows), rows)
	}
	for i := range rows {
		if rows[i][0] != wantRows[i][0] || rows[i][1] != wantRows[i][1] || rows[i][2] != wantRows[i][2] {
			t.Errorf("sample row %d: %q, want %q", i, rows[i][:3], wantRows[i])
		}
	}
	var words int
	run(t, ctx, "rm words", chromedp.Evaluate(`document.querySelectorAll("table.rmwords tr").length`, &words))
	if words < 2 {
		t.Errorf("the RLHF page shows %d rows of the reward model's words", words)
	}
	legible(t, ctx, "rlhf page")
	for _, p := range []struct{ run, sel string }{{"story", "table.samples"}, {"story/sft", ".run svg.chart"}, {"story/rm", "table.rmwords"}} {
		run(t, ctx, p.run, chromedp.Navigate(ts.URL+"/runs/view/?run="+p.run), chromedp.WaitVisible(p.sel), chromedp.Sleep(300*time.Millisecond))
		legible(t, ctx, p.run+" page")
	}
}

// TestBrowserScreenshots writes the screenshots of the run pages in docs/serve from real runs:
// KLPPO_SCREENSHOT_RUNS names a runs directory holding the runs docs/serve.md lists, and
// KLPPO_SCREENSHOTS where the PNGs go. Without both it does nothing.
func TestBrowserScreenshots(t *testing.T) {
	runs, out := os.Getenv("KLPPO_SCREENSHOT_RUNS"), os.Getenv("KLPPO_SCREENSHOTS")
	if runs == "" || out == "" {
		t.Skip("set KLPPO_SCREENSHOT_RUNS and KLPPO_SCREENSHOTS to write the run pages' screenshots")
	}
	ts, ctx := serveInBrowser(t, runs)
	for _, p := range []struct{ path, shot, ready string }{
		{"runs/", "runs", ".runlist"},
		{"runs/view/?run=kl-adaptive-0.01", "run", ".run svg.chart"},
		{"runs/view/?run=kl-adaptive-0.01&run=clip-0.2", "overlay", ".run svg.chart"},
		{"runs/view/?run=rlhf", "rlhf-story", "table.samples"},
		{"runs/view/?run=rlhf/no-leash", "rlhf-run", "table.samples"},
		{"runs/view/?run=rlhf/sft", "rlhf-sft", ".run svg.chart"},
	} {
		run(t, ctx, p.path, chromedp.Navigate(ts.URL+"/"+p.path), chromedp.WaitVisible(p.ready), chromedp.Sleep(500*time.Millisecond))
		legible(t, ctx, p.path)
		screenshotTop(t, ctx, p.shot, 2400)
	}
}

// screenshotTop writes the top of the page, at most maxH pixels of it, as KLPPO_SCREENSHOTS/name.png.
func screenshotTop(t *testing.T, ctx context.Context, name string, maxH float64) {
	t.Helper()
	var height float64
	run(t, ctx, "page height", chromedp.Evaluate(`document.documentElement.scrollHeight`, &height))
	var png []byte
	run(t, ctx, "screenshot "+name, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		png, err = page.CaptureScreenshot().WithCaptureBeyondViewport(true).
			WithClip(&page.Viewport{X: 0, Y: 0, Width: 1280, Height: math.Min(height, maxH), Scale: 1}).Do(ctx)
		return err
	}))
	if err := os.WriteFile(filepath.Join(os.Getenv("KLPPO_SCREENSHOTS"), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// afterNavigation waits until cond holds in the page a click has navigated to (the old page's
// JavaScript context disappears during the navigation, so errors are retried).
func afterNavigation(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(cond, &ok)); err == nil && ok {
			return
		}
	}
	var href string
	_ = chromedp.Run(ctx, chromedp.Evaluate(`location.href`, &href))
	t.Fatalf("%s: %s did not become true (at %s)", what, cond, href)
}

// rlhfSampleRows returns (when, update, text) of the samples.jsonl lines at the first update, the
// summary's gold peak and the last update.
func rlhfSampleRows(t *testing.T, dir string) [][3]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rlhf.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum rlhf.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, rlhf.SamplesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []rlhf.Sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s rlhf.Sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	// The start, the gold peak and the end; moments on the same update share its rows.
	var order []int
	when := map[int]string{}
	for _, w := range []struct {
		u    int
		name string
	}{{all[0].Update, "start"}, {sum.PeakUpdate, "gold peak"}, {all[len(all)-1].Update, "end"}} {
		if _, ok := when[w.u]; ok {
			when[w.u] += " and " + w.name
			continue
		}
		when[w.u] = w.name
		order = append(order, w.u)
	}
	var out [][3]string
	for _, u := range order {
		for _, s := range all {
			if s.Update == u {
				out = append(out, [3]string{when[u], strconv.Itoa(s.Update), s.Text})
			}
		}
	}
	return out
}
