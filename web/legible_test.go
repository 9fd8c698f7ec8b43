package web

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// legibleJS lists what would be hard to read on a projector in the current page: text under
// 16 px, chart text cut by the chart's edge or overlapping other chart text, and an axis whose
// tick labels repeat (e.g. "0.693" six times on a tiny range).
const legibleJS = `(() => {
  const bad = [];
  const show = t => JSON.stringify(t.textContent.trim().slice(0, 60));
  // every piece of visible text, HTML or SVG, is at least 16 px on screen
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e || e.closest("title, script, style")) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    let px = parseFloat(getComputedStyle(e).fontSize);
    const svg = e.closest("svg");
    if (svg) px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    if (px < 15.9) bad.push(show(e) + " is " + px.toFixed(1) + " px");
  }
  document.querySelectorAll("svg.chart").forEach((svg, si) => {
    const name = "chart " + JSON.stringify(svg.getAttribute("aria-label") || String(si));
    const sb = svg.getBoundingClientRect();
    const texts = Array.from(svg.querySelectorAll("text")).filter(t => t.textContent.trim() !== "");
    const boxes = texts.map(t => t.getBoundingClientRect());
    texts.forEach((t, i) => {
      const b = boxes[i];
      if (b.left < sb.left - 0.5 || b.right > sb.right + 0.5 || b.top < sb.top - 0.5 || b.bottom > sb.bottom + 0.5) {
        bad.push(name + ": " + show(t) + " is cut by the chart's edge");
      }
      for (let j = 0; j < i; j++) {
        const c = boxes[j];
        const w = Math.min(b.right, c.right) - Math.max(b.left, c.left), h = Math.min(b.bottom, c.bottom) - Math.max(b.top, c.top);
        if (w > 1 && h > 1) bad.push(name + ": " + show(t) + " overlaps " + show(texts[j]));
      }
    });
    // y tick labels end at the axis, x tick labels are centred under their tick
    const axes = { y: 'text.tick[text-anchor="end"]', x: 'text.tick[text-anchor="middle"]' };
    for (const a in axes) {
      const labels = Array.from(svg.querySelectorAll(axes[a])).map(t => t.textContent);
      if (new Set(labels).size !== labels.length) bad.push(name + ": repeated " + a + " tick labels " + JSON.stringify(labels));
    }
    if (svg.querySelectorAll(axes.y).length < 2) bad.push(name + ": fewer than two y tick labels");
  });
  return bad;
})()`

// legible fails the test for every legibility problem of the page now shown.
func legible(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	var bad []string
	run(t, ctx, "legibility of "+where, chromedp.Evaluate(legibleJS, &bad))
	for _, b := range bad {
		t.Errorf("%s: %s", where, b)
	}
}

// checkTickLabels asks the page's charts.js for the tick labels of each tick sequence and checks
// that they are distinct, short, and read back as the ticks (offset + label = tick).
func checkTickLabels(t *testing.T, ctx context.Context) {
	t.Helper()
	cases := [][]float64{
		{0.69310, 0.69312, 0.69314, 0.69316, 0.69318}, // the entropy of a near-uniform 2-action policy
		{0.6931325, 0.693135, 0.6931375, 0.69314, 0.6931425, 0.693145},
		{0.6931471805, 0.6931471806, 0.6931471807, 0.6931471808},
		{-3e-5, 0, 2.5e-5, 5e-5, 7.5e-5, 1e-4}, // PPO's KL per update early in training
		{100000, 120000, 140000, 160000},
		{1.0e6, 1.0000001e6, 1.0000002e6},
		{0, 0.2, 0.4, 0.6, 0.8, 1},
		{20, 22.5, 25, 27.5, 30},
		{-0.006, -0.004, -0.002, 0, 0.002, 0.004},
		{0.30000000000000004, 0.4, 0.5},
	}
	for _, ticks := range cases {
		var got struct {
			Labels []string `json:"labels"`
			Offset *string  `json:"offset"`
		}
		js, err := jsArray(ticks)
		if err != nil {
			t.Fatal(err)
		}
		run(t, ctx, "tick labels", chromedp.Evaluate("window.klppoTickLabels("+js+")", &got))
		if len(got.Labels) != len(ticks) {
			t.Fatalf("ticks %v: labels %q", ticks, got.Labels)
		}
		off := 0.0
		if got.Offset != nil {
			if off, err = strconv.ParseFloat(*got.Offset, 64); err != nil {
				t.Fatalf("ticks %v: offset %q: %v", ticks, *got.Offset, err)
			}
		}
		step := math.Abs(ticks[1] - ticks[0])
		seen := map[string]bool{}
		for i, l := range got.Labels {
			if seen[l] {
				t.Errorf("ticks %v: label %q repeats in %q", ticks, l, got.Labels)
			}
			seen[l] = true
			if len(l) > 9 {
				t.Errorf("ticks %v: label %q is longer than 9 characters", ticks, l)
			}
			v, err := strconv.ParseFloat(l, 64)
			if err != nil {
				t.Errorf("ticks %v: label %q is not a number: %v", ticks, l, err)
				continue
			}
			if math.Abs(off+v-ticks[i]) > step*1e-3 {
				t.Errorf("ticks %v: label %q (offset %v) reads %v, want %v", ticks, l, off, off+v, ticks[i])
			}
		}
	}
}

func jsArray(xs []float64) (string, error) {
	parts := make([]string, len(xs))
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("tick %v is not finite", x)
		}
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "[" + strings.Join(parts, ",") + "]", nil
}

// checkHardCharts draws charts that provoke every layout rule of charts.js — a title, axis
// labels and categories too long for the chart, a range too tiny for plain tick labels — into
// the current page, checks that they are legible, and removes them.
func checkHardCharts(t *testing.T, ctx context.Context) {
	t.Helper()
	const draw = `(() => {
  const box = document.createElement("section");
  box.className = "charts hard";
  document.querySelector("main").appendChild(box);
  const long = "a label far too long to fit on one line of this chart, said twice: a label far too long to fit";
  window.drawCharts(box, [
    { title: "Title: " + long + " " + long, kind: "line", xlabel: long, ylabel: long,
      series: [{ name: "tiny range", x: [1, 2, 3], y: [0.6931471805, 0.6931471806, 0.6931471807] }], ymin: null, ymax: null },
    { title: "categories", kind: "bars", ylabel: "share", categories: ["/search", "/login", "/static", "/checkout", "/images", "/account", "/help", "/other"],
      series: [{ name: "a", y: [0.1, 0.2, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1] }, { name: "b", y: [0.2, 0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1] }], ymin: null, ymax: null },
  ]);
  return { tooltips: box.querySelectorAll("svg text title").length, offset: (box.querySelector("text.offset") || {}).textContent || "" };
})()`
	var got struct {
		Tooltips int    `json:"tooltips"`
		Offset   string `json:"offset"`
	}
	run(t, ctx, "draw hard charts", chromedp.Evaluate(draw, &got))
	legible(t, ctx, "hard charts")
	if got.Tooltips == 0 {
		t.Errorf("hard charts: a shortened title or label keeps no tooltip with its full text")
	}
	if !strings.Contains(got.Offset, "0.693147180") {
		t.Errorf("hard charts: the tiny-range axis shows offset %q, want 0.6931471805 + tick", got.Offset)
	}
	run(t, ctx, "remove hard charts", chromedp.Evaluate(`document.querySelector("section.hard").remove()`, nil))
}
