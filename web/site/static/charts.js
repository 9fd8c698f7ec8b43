// charts.js: small hand-written SVG charts for klppo serve (no libraries).
// drawChart(container, spec) draws spec = {title, kind: "line"|"bars"|"stacked", xlabel, ylabel,
// categories, series: [{name, x, y, style}], hlines, vlines, bands, points, logx, logy, ymin, ymax}.
// Values are numbers or null (a gap). Colours are high-contrast and distinguishable in grey.
// Line charts also take (the runs pages use them):
//   ybands: [{from, to, label}]  horizontal shaded bands (a target band of the KL)
//   smooth: w in [0, 1)          each series is drawn faint and, over it, its exponential moving
//                                average with weight w (as TensorBoard's smoothing slider)
//   xmin, xmax                   the visible x range (zoom); y follows the visible points
//   robust: true                 a few spikes far above the rest are left above the chart (and
//                                counted in a note) instead of flattening it
//   note                         a sentence under the chart
//   interactive: true            hover shows the values under the cursor; dragging across the
//                                plot zooms into that x range, a double click zooms out
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#0b4f9c", "#c2410c", "#15803d", "#7e22ce", "#111111", "#b91c1c", "#0e7490", "#a16207"];
  // Outer margins around the plot area; the left one grows with the tick labels and the y label.
  const M = { l: 78, r: 20, t: 44, b: 62 };
  const TICK_GAP = 8, LINE = 22; // px between tick labels and the frame; px per y-label line

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, attrs) {
    const t = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    t.textContent = s;
    return t;
  }
  // Tick labels. Every label of an axis is printed to the resolution of the tick step, so two
  // ticks never share a label: 0.6931325, 0.693135, … rather than "0.693" six times. When the
  // values need more than MAXSIG significant digits (a tiny range far from zero) the ticks are
  // offsets from the first one, which is printed once above the axis ("y = 0.6931471805 + tick").
  const MAXSIG = 7;
  function stripExp(s) { return s.replace(/\.?0+e/, "e").replace("e+", "e"); }
  function plain(v) { // one number on its own: up to 6 significant digits
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return stripExp(v.toExponential(5));
    return String(+v.toPrecision(6));
  }
  // decimals returns p such that every tick is a whole multiple of 10^-p.
  function decimals(ticks) {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : (Math.abs(ticks[0]) || 1);
    let p = -Math.floor(Math.log10(step) + 1e-9);
    for (let k = 0; k < 4; k++, p++) {
      const sc = Math.pow(10, p);
      if (ticks.every(t => Math.abs(t * sc - Math.round(t * sc)) < 1e-3 + Math.abs(t * sc) * 1e-12)) break;
    }
    return p;
  }
  function atResolution(v, p) { // v printed exactly to 10^-p
    if (v === 0 || Math.abs(v) < Math.pow(10, -p) / 2) return "0";
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) {
      const d = Math.max(0, Math.min(20, Math.floor(Math.log10(a) + 1e-12) + p));
      return stripExp(v.toExponential(d));
    }
    return String(+v.toFixed(Math.max(0, Math.min(20, p))));
  }
  function tickLabels(ticks, log) {
    if (log || ticks.length < 2) return { labels: ticks.map(plain), offset: null };
    const p = decimals(ticks);
    const maxAbs = Math.max.apply(null, ticks.map(Math.abs));
    const sig = maxAbs > 0 ? Math.floor(Math.log10(maxAbs) + 1e-12) + p + 1 : 1;
    if (sig <= MAXSIG) return { labels: ticks.map(t => atResolution(t, p)), offset: null };
    const off = ticks[0];
    const a = Math.abs(off);
    const offText = a >= 1e5 || a < 1e-3 ? stripExp(off.toExponential(Math.min(20, sig - 1))) : String(+off.toFixed(Math.min(20, Math.max(0, p))));
    return { labels: ticks.map(t => atResolution(t - off, p)), offset: offText };
  }
  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    const span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => span / s <= n) || 10 * mag;
    const out = [];
    const k0 = Math.ceil(lo / step - 1e-9);
    for (let k = k0; k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : k * step);
    return out;
  }
  // logTicks: the powers of ten in [lo, hi]; with fewer than two, also 2× and 5×; with still
  // fewer, evenly spaced ticks.
  function logTicks(lo, hi) {
    if (!(lo > 0) || !isFinite(lo) || !isFinite(hi)) return { ticks: niceTicks(lo, hi, 4), log: false };
    for (const ms of [[1], [1, 2, 5]]) {
      const out = [];
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        ms.forEach(m => {
          const v = +(m * Math.pow(10, e)).toPrecision(12);
          if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
        });
      }
      if (out.length >= 2) return { ticks: out, log: true };
    }
    return { ticks: niceTicks(lo, hi, 4).filter(v => v > 0), log: false };
  }
  function finite(v) { return v !== null && v !== undefined && isFinite(v); }

  // axisTicks returns the tick values of [lo, hi] and their labels.
  function axisTicks(lo, hi, log) {
    if (log) {
      const lt = logTicks(lo, hi);
      const f = tickLabels(lt.ticks, lt.log);
      return { ticks: lt.ticks, labels: f.labels, offset: f.offset };
    }
    const ticks = niceTicks(lo, hi, 6);
    const f = tickLabels(ticks, false);
    return { ticks, labels: f.labels, offset: f.offset };
  }
  // mapping returns a function data → pixel.
  function mapping(lo, hi, p0, p1, log) {
    if (log) {
      const a = Math.log10(lo), b = Math.log10(hi);
      return v => p0 + (Math.log10(v) - a) / (b - a || 1) * (p1 - p0);
    }
    return v => p0 + (v - lo) / (hi - lo || 1) * (p1 - p0);
  }

  // width measures a text element with a canvas: no page layout is forced, so drawing stays
  // fast. The font is the one app.css gives the element's class (read once per class), or the
  // element's own font-size when fitText changed it.
  let measure = null;
  const fonts = {};
  function width(t) {
    if (!measure) measure = document.createElement("canvas").getContext("2d");
    const host = t.closest ? (t.closest("text") || t) : t;
    const key = host.getAttribute("class") || "";
    if (!fonts[key]) {
      const cs = getComputedStyle(host);
      fonts[key] = { weight: cs.fontWeight, size: parseFloat(cs.fontSize) || 16, family: cs.fontFamily };
    }
    const f = fonts[key];
    const size = parseFloat(t.style.fontSize || host.style.fontSize) || f.size;
    measure.font = `${f.weight} ${size}px ${f.family}`;
    const shown = Array.from(t.childNodes).filter(n => n.nodeName !== "title").map(n => n.textContent).join("");
    return measure.measureText(shown).width;
  }
  // fitText keeps a single-line text within maxW: it steps the font down to 16 px and then
  // shortens it with "…"; the full text stays available as a tooltip.
  function fitText(t, maxW) {
    const full = t.textContent;
    width(t); // caches the class's font
    const host = t.closest("text") || t;
    let fs = parseFloat(t.style.fontSize) || fonts[host.getAttribute("class") || ""].size;
    while (width(t) > maxW && fs > 16) { fs = Math.max(16, fs - 1); t.style.fontSize = fs + "px"; }
    if (width(t) <= maxW) return;
    let n = full.length;
    while (n > 1 && width(t) > maxW) { n--; t.textContent = full.slice(0, n).trimEnd() + "…"; }
    el("title", {}, t).textContent = full;
  }
  // splitLines breaks s at spaces into at most two lines of which the longer is shortest.
  function splitLines(s) {
    let best = [s], bestLen = s.length;
    for (let i = s.indexOf(" "); i > 0; i = s.indexOf(" ", i + 1)) {
      const a = s.slice(0, i), b = s.slice(i + 1), m = Math.max(a.length, b.length);
      if (m < bestLen) { best = [a, b]; bestLen = m; }
    }
    return best;
  }

  function figure(container) {
    const fig = document.createElement("figure");
    fig.className = "figure";
    container.appendChild(fig);
    return fig;
  }

  // ema is the exponential moving average with weight w, debiased at the start (so that the first
  // value is the first point, not w times it), skipping gaps: s_t = w·s_{t−1} + (1−w)·y_t, shown as
  // s_t/(1 − w^n) after n points.
  function ema(ys, w) {
    let acc = 0, n = 0;
    return ys.map(v => {
      if (!finite(v)) return null;
      acc = w * acc + (1 - w) * v;
      n++;
      return w > 0 ? acc / (1 - Math.pow(w, n)) : v;
    });
  }

  // drawCharts places one figure per spec first and then draws each, so that every SVG's
  // coordinate system is its final on-screen size: text renders at its CSS pixel size
  // (16 px and up) whatever the layout.
  function drawCharts(container, specs) {
    const figs = specs.map(() => figure(container));
    specs.forEach((spec, i) => drawChart(container, spec, figs[i]));
  }

  function drawChart(container, spec, fig) {
    fig = fig || figure(container);
    const W = Math.max(420, Math.round(fig.clientWidth || 760)), H = Math.round(Math.min(440, Math.max(320, W * 0.52)));
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": spec.title || "chart" });
    fig.appendChild(svg); // in the page from the start, so that text can be measured
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    const title = text(svg, 12, 28, spec.title || "", { class: "ctitle" });
    fitText(title, W - 24);
    const bars = spec.kind === "bars" || spec.kind === "stacked";
    const smooth = !bars && finite(spec.smooth) && spec.smooth > 0 ? Math.min(spec.smooth, 0.999) : 0;
    // Each series keeps its points (raw) and the values drawn bold (sy: smoothed, or raw).
    const series = (spec.series || []).map(se => Object.assign({}, se, { sy: smooth && se.style !== "dash" ? ema(se.y, smooth) : se.y }));
    const zoomed = !bars && (finite(spec.xmin) || finite(spec.xmax));
    const inX = (se, i) => !zoomed || !se.x || ((!finite(spec.xmin) || se.x[i] >= spec.xmin) && (!finite(spec.xmax) || se.x[i] <= spec.xmax));
    const notes = [];
    // y range
    let ys = [];
    if (spec.kind === "stacked") {
      (spec.categories || []).forEach((_, i) => ys.push(series.reduce((s, se) => s + (finite(se.y[i]) ? se.y[i] : 0), 0)));
    } else {
      series.forEach(se => [se.y, se.sy].forEach(arr => arr.forEach((v, i) => { if (finite(v) && (!spec.logx || !se.x || se.x[i] > 0) && inX(se, i)) ys.push(v); })));
    }
    if (spec.logy) {
      const n = ys.filter(v => v <= 0).length;
      if (n > 0 && !bars) notes.push(`${n} value${n > 1 ? "s" : ""} ≤ 0 not drawn on the log axis`);
    }
    (spec.hlines || []).forEach(h => ys.push(h.at));
    (spec.ybands || []).forEach(b => { ys.push(b.from); ys.push(b.to); });
    (spec.points || []).forEach(p => { if (!spec.logx || p.X > 0) ys.push(p.Y); });
    if (spec.logy) ys = ys.filter(v => v > 0);
    let yhiData = null;
    if (spec.robust && !spec.logy && ys.length >= 10) {
      // Spikes: the top of the chart is set by the 98th percentile when the maximum lies far
      // above it (one k3 estimate of 1500 among values near 1 would flatten everything else).
      const sorted = ys.slice().sort((a, b) => a - b);
      const lo = sorted[0], q = sorted[Math.floor(0.98 * (sorted.length - 1))], top = sorted[sorted.length - 1];
      if (q > lo && top - lo > 4 * (q - lo)) {
        yhiData = q + 0.25 * (q - lo);
        const above = sorted.filter(v => v > yhiData).length;
        notes.push(`${above} value${above > 1 ? "s" : ""} above the top of the chart (largest ${plain(top)}); log y shows ${above > 1 ? "them" : "it"}`);
      }
    }
    let ylo = finite(spec.ymin) ? spec.ymin : Math.min.apply(null, ys.length ? ys : [0]);
    let yhi = finite(spec.ymax) ? spec.ymax : (yhiData !== null ? yhiData : Math.max.apply(null, ys.length ? ys : [1]));
    if (bars && !finite(spec.ymin)) ylo = Math.min(0, ylo);
    if (!spec.logy && !finite(spec.ymax) && yhi > ylo) yhi += (yhi - ylo) * 0.06;
    if (!spec.logy && !finite(spec.ymin) && !bars && ylo < yhi && ylo !== 0) ylo -= (yhi - ylo) * 0.04;
    if (spec.logy) {
      ylo = Math.max(ylo, yhi * 1e-8);
      if (!(yhi > ylo)) yhi = ylo * 10;
      if (!finite(spec.ymax)) yhi *= Math.pow(yhi / ylo, 0.06); // headroom above the highest point
    }
    if (!(yhi > ylo)) { yhi = ylo + (Math.abs(ylo) || 1); }
    const YT = axisTicks(ylo, yhi, spec.logy);
    // x range
    let XT = null, xlo, xhi;
    if (!bars) {
      const xs = [];
      series.forEach(se => (se.x || []).forEach(v => { if (finite(v) && (!spec.logx || v > 0)) xs.push(v); }));
      (spec.points || []).forEach(p => { if (finite(p.X) && (!spec.logx || p.X > 0)) xs.push(p.X); });
      xlo = Math.min.apply(null, xs.length ? xs : [0]);
      xhi = Math.max.apply(null, xs.length ? xs : [1]);
      if (finite(spec.xmin)) xlo = spec.xmin;
      if (finite(spec.xmax)) xhi = spec.xmax;
      if (!(xhi > xlo)) xhi = xlo + 1;
      XT = axisTicks(xlo, xhi, spec.logx);
    }
    // Measure the text around the plot, then place the plot so that nothing overlaps or is cut.
    const yTexts = YT.labels.map(s => text(svg, 0, 0, s, { class: "tick ytick", "text-anchor": "end" }));
    const tickW = Math.max(0, ...yTexts.map(width));
    const top = M.t + (YT.offset !== null ? LINE : 0);
    // Category labels too wide for their bar group alternate between two rows.
    const cats = bars ? (spec.categories || []) : [];
    let stagger = false;
    if (cats.length > 1) {
      const probe = text(svg, 0, 0, "", { class: "tick xtick" });
      const catW = Math.max(...cats.map(c => { probe.textContent = c; return width(probe); }));
      probe.remove();
      stagger = catW > (W - Math.max(M.l, 10 + LINE + 2 * TICK_GAP + tickW) - M.r) / cats.length - 4;
    }
    const ph = H - top - M.b - (stagger ? LINE : 0);
    let ylines = [];
    if (spec.ylabel) {
      const probe = text(svg, 0, 0, spec.ylabel, { class: "axis" });
      ylines = width(probe) <= ph - 8 ? [spec.ylabel] : splitLines(spec.ylabel);
      probe.remove();
    }
    const l = Math.max(M.l, 10 + ylines.length * LINE + TICK_GAP + tickW + TICK_GAP);
    const xTexts = XT ? XT.labels.map(s => text(svg, 0, 0, s, { class: "tick xtick", "text-anchor": "middle" })) : [];
    const r = Math.max(M.r, xTexts.length ? width(xTexts[xTexts.length - 1]) / 2 + 6 : 0);
    const pw = W - l - r;
    const Yf = mapping(ylo, yhi, top + ph, top, spec.logy);
    const grid = el("g", { class: "grid" }, svg);
    YT.ticks.forEach((t, i) => {
      const y = Yf(t);
      el("line", { x1: l, x2: l + pw, y1: y, y2: y }, grid);
      yTexts[i].setAttribute("x", l - TICK_GAP);
      yTexts[i].setAttribute("y", y + 6);
    });
    if (YT.offset !== null) text(svg, l, top - 8, "y = " + YT.offset + " + tick", { class: "tick offset" });
    const clipId = "c" + Math.random().toString(36).slice(2);
    const cp = el("clipPath", { id: clipId }, el("defs", {}, svg));
    el("rect", { x: l, y: top, width: pw, height: ph }, cp);
    const plot = el("g", { "clip-path": `url(#${clipId})` }, svg);
    const marks = []; // labels drawn on the plot, added last so that they sit on top of the lines
    // mark places a label gap px right of x (or centred on x), or left of x if it would leave the plot.
    const mark = (x, y, s, anchor, gap) => marks.push({ x, y, s, anchor, gap: gap || 0 });
    if (!bars) {
      const X = mapping(xlo, xhi, l, l + pw, spec.logx);
      XT.ticks.forEach((t, i) => {
        const x = X(t);
        el("line", { x1: x, x2: x, y1: top, y2: top + ph }, grid);
        xTexts[i].setAttribute("x", x);
        xTexts[i].setAttribute("y", top + ph + 27);
      });
      thin(xTexts);
      (spec.bands || []).forEach(b => {
        const x0 = X(b.From), x1 = X(b.To);
        el("rect", { x: Math.min(x0, x1), y: top, width: Math.abs(x1 - x0), height: ph, class: "band" }, plot);
        mark((x0 + x1) / 2, top + 20, b.Label || "", "middle");
      });
      (spec.ybands || []).forEach(b => {
        if (spec.logy && !(b.from > 0)) return;
        const y0 = Yf(b.from), y1 = Yf(b.to);
        el("rect", { x: l, y: Math.min(y0, y1), width: pw, height: Math.abs(y1 - y0), class: "band" }, plot);
        if (b.label) mark(l + 8, Math.min(y0, y1) + (Math.abs(y1 - y0) > 26 ? 20 : -6), b.label, "start");
      });
      series.forEach((se, si) => {
        const c = COLORS[si % COLORS.length];
        const base = Yf(spec.logy ? ylo : Math.max(ylo, Math.min(0, yhi)));
        const line = ys => {
          let d = "", pen = false, first = null, last = null;
          for (let i = 0; i < ys.length; i++) {
            const xv = se.x[i], yv = ys[i];
            if (!finite(xv) || !finite(yv) || (spec.logx && xv <= 0) || (spec.logy && yv <= 0)) { pen = false; continue; }
            const px = X(xv), py = Yf(yv);
            if (se.style === "steps" && pen) d += `H${px.toFixed(1)}V${py.toFixed(1)}`;
            else d += (pen ? "L" : "M") + px.toFixed(1) + "," + py.toFixed(1);
            if (first === null) first = px;
            last = px; pen = true;
          }
          return { d, first, last };
        };
        if (se.sy !== se.y) el("path", { d: line(se.y).d, fill: "none", stroke: c, "stroke-width": 2, "stroke-opacity": 0.28, class: "raw" }, plot);
        const { d, first, last } = line(se.sy);
        if (se.style === "area" && first !== null) {
          el("path", { d: d + `L${last.toFixed(1)},${base.toFixed(1)}L${first.toFixed(1)},${base.toFixed(1)}Z`, fill: c, "fill-opacity": 0.18, stroke: "none" }, plot);
        }
        el("path", { d: d, fill: "none", stroke: c, "stroke-width": 3, "stroke-dasharray": se.style === "dash" ? "10 6" : "none", "stroke-linejoin": "round", class: se.sy !== se.y ? "smoothed" : "series" }, plot);
      });
      (spec.vlines || []).forEach(v => {
        if (spec.logx && v.at <= 0) return;
        const x = X(v.at);
        el("line", { x1: x, x2: x, y1: top, y2: top + ph, class: "ref" }, plot);
        mark(x, top + 20, v.label || "", "start", 6);
      });
      (spec.points || []).forEach(p => {
        if ((spec.logx && !(p.X > 0)) || (spec.logy && !(p.Y > 0))) return;
        el("circle", { cx: X(p.X), cy: Yf(p.Y), r: 8, fill: "#111", stroke: "#fff", "stroke-width": 2 }, plot);
        const py = Yf(p.Y); // the label goes under the point, or over it at the bottom of the plot
        mark(X(p.X), py + 24 > top + ph - 4 ? py - 14 : py + 24, p.Label || "", "start", 12);
      });
    } else {
      const n = cats.length || 1;
      const gw = pw / n, groups = spec.kind === "stacked" ? 1 : series.length, bw = Math.min(60, gw * 0.8 / groups);
      cats.forEach((cat, ci) => {
        const gx = l + gw * ci + (gw - bw * groups) / 2;
        let acc = 0;
        series.forEach((se, si) => {
          const v = se.y[ci];
          if (!finite(v)) return;
          let y0, y1, x;
          if (spec.kind === "stacked") { y0 = Yf(acc); acc += v; y1 = Yf(acc); x = gx; }
          else { y0 = Yf(Math.max(ylo, 0)); y1 = Yf(v); x = gx + si * bw; }
          el("rect", { x: x + 1, y: Math.min(y0, y1), width: bw - 2, height: Math.abs(y0 - y1), fill: COLORS[si % COLORS.length] }, plot);
        });
        const row = stagger && ci % 2 === 1 ? LINE : 0;
        const ct = text(svg, l + gw * ci + gw / 2, top + ph + 27 + row, cat, { class: "tick xtick", "text-anchor": "middle" });
        fitText(ct, stagger ? 2 * gw - 8 : gw - 4);
      });
    }
    (spec.hlines || []).forEach(h => {
      if (spec.logy && h.at <= 0) return;
      const y = Yf(h.at);
      el("line", { x1: l, x2: l + pw, y1: y, y2: y, class: "ref" }, plot);
      if (h.label) mark(l + pw - 6, y - 6, h.label, "end");
    });
    el("rect", { x: l, y: top, width: pw, height: ph, class: "frame" }, svg);
    const placed = []; // [x0, x1, y] of the labels placed so far (y is the baseline)
    marks.forEach(m => {
      if (!m.s) return;
      const t = text(svg, m.x + m.gap, m.y, m.s, { class: "mark", "text-anchor": m.anchor });
      const w = width(t);
      // keep the label inside the plot: flip a right-running label to the left of its anchor
      if (m.anchor === "start" && m.x + m.gap + w > l + pw - 2) { t.setAttribute("text-anchor", "end"); t.setAttribute("x", Math.max(l + w + 2, m.x - m.gap)); }
      if (m.anchor === "middle") t.setAttribute("x", Math.min(Math.max(m.x, l + w / 2 + 2), l + pw - w / 2 - 2));
      // a label that would overlap one placed before moves down a line (up at the bottom)
      const ax = +t.getAttribute("x"), anchor = t.getAttribute("text-anchor");
      const x0 = anchor === "end" ? ax - w : anchor === "middle" ? ax - w / 2 : ax, x1 = x0 + w;
      const clash = y => placed.some(p => x0 < p[1] + 4 && p[0] < x1 + 4 && Math.abs(p[2] - y) < LINE);
      let y = m.y;
      for (let k = 1; clash(y) && k <= 6; k++) {
        const down = m.y + k * LINE, up = m.y - k * LINE;
        if (down < top + ph - 4 && !clash(down)) { y = down; break; }
        if (up > top + 16 && !clash(up)) { y = up; break; }
      }
      t.setAttribute("y", y);
      placed.push([x0, x1, y]);
    });
    if (spec.xlabel) { // centred under the plot, shifted left if a long label would leave the chart
      const xl = text(svg, l + pw / 2, H - 10, spec.xlabel, { class: "axis", "text-anchor": "middle" });
      fitText(xl, W - 24);
      xl.setAttribute("x", Math.min(l + pw / 2, W - 12 - width(xl) / 2));
    }
    if (ylines.length) {
      const cy = top + ph / 2, x0 = 10 + LINE - 5;
      const yl = text(svg, x0, cy, "", { class: "axis ylabel", "text-anchor": "middle", transform: `rotate(-90 ${x0} ${cy})` });
      ylines.forEach((s, i) => {
        const ts = el("tspan", { x: x0, dy: i === 0 ? 0 : LINE }, yl);
        ts.textContent = s;
      });
      // a line still longer than the plot is shortened, with the full label as a tooltip
      Array.from(yl.children).forEach(c => { if (width(c) > ph) fitText(c, ph); });
    }
    svg.dataset.logy = spec.logy ? "1" : "0";
    svg.dataset.smooth = String(smooth);
    if (zoomed) { svg.dataset.xmin = String(xlo); svg.dataset.xmax = String(xhi); }
    if (spec.interactive && !bars) interact(container, fig, svg, spec, series, { l, pw, top, ph, xlo, xhi, ylo, yhi });
    if (!spec.hidelegend && series.length > 0) {
      const lg = document.createElement("figcaption");
      lg.className = "legend";
      series.forEach((se, si) => {
        const s = document.createElement("span");
        const sw = document.createElement("i");
        sw.style.background = COLORS[si % COLORS.length];
        if (se.style === "dash") sw.className = "dash";
        s.appendChild(sw);
        s.appendChild(document.createTextNode(se.name));
        lg.appendChild(s);
      });
      fig.appendChild(lg);
    }
    if (spec.note || notes.length) {
      const n = document.createElement("figcaption");
      n.className = "note";
      n.textContent = [spec.note].concat(notes).filter(Boolean).join(". ") + ".";
      fig.appendChild(n);
    }
    return fig;
  }

  // interact adds the hover read-out and the drag-to-zoom of a line chart. g holds the plot's
  // place (l, pw, top, ph) and ranges, in the SVG's coordinates.
  function interact(container, fig, svg, spec, series, g) {
    const X = mapping(g.xlo, g.xhi, g.l, g.l + g.pw, spec.logx), Yf = mapping(g.ylo, g.yhi, g.top + g.ph, g.top, spec.logy);
    const invX = px => spec.logx ? Math.pow(10, Math.log10(g.xlo) + (px - g.l) / g.pw * (Math.log10(g.xhi) - Math.log10(g.xlo))) : g.xlo + (px - g.l) / g.pw * (g.xhi - g.xlo);
    const hover = el("g", { class: "hover", visibility: "hidden" }, svg);
    const vline = el("line", { y1: g.top, y2: g.top + g.ph, class: "cursor" }, hover);
    const dots = series.map((_, si) => el("circle", { r: 6, fill: COLORS[si % COLORS.length], stroke: "#fff", "stroke-width": 2 }, hover));
    const sel = el("rect", { y: g.top, height: g.ph, class: "zoomsel", visibility: "hidden" }, svg);
    fig.style.position = "relative";
    const tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    fig.appendChild(tip);
    const local = ev => { // client → SVG coordinates
      const pt = svg.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      return pt.matrixTransform(svg.getScreenCTM().inverse());
    };
    const inside = p => p.x >= g.l && p.x <= g.l + g.pw && p.y >= g.top && p.y <= g.top + g.ph;
    // nearest returns, for one series, the index of the point nearest the cursor: by x for a
    // series whose x only grows, by distance on the screen for a path (e.g. gold against KL).
    const nearest = (se, p) => {
      let best = -1, bd = Infinity;
      const monotone = se.x.every((v, i) => i === 0 || !finite(v) || !finite(se.x[i - 1]) || v >= se.x[i - 1]);
      se.x.forEach((xv, i) => {
        const yv = se.sy[i];
        if (!finite(xv) || !finite(yv) || (spec.logx && xv <= 0) || (spec.logy && yv <= 0)) return;
        if (xv < g.xlo || xv > g.xhi) return;
        const dx = X(xv) - p.x, d = monotone ? Math.abs(dx) : Math.hypot(dx, Yf(yv) - p.y);
        if (d < bd) { bd = d; best = i; }
      });
      return best;
    };
    let drag = null;
    svg.addEventListener("mousemove", ev => {
      const p = local(ev);
      if (drag !== null) {
        const x0 = Math.max(g.l, Math.min(drag, p.x)), x1 = Math.min(g.l + g.pw, Math.max(drag, p.x));
        sel.setAttribute("x", x0); sel.setAttribute("width", x1 - x0); sel.setAttribute("visibility", "visible");
      }
      if (!inside(p)) { hover.setAttribute("visibility", "hidden"); tip.hidden = true; return; }
      const rows = [];
      let xAt = null;
      series.forEach((se, si) => {
        const i = nearest(se, p);
        if (i < 0) { dots[si].setAttribute("visibility", "hidden"); return; }
        dots[si].setAttribute("visibility", "visible");
        dots[si].setAttribute("cx", X(se.x[i])); dots[si].setAttribute("cy", Yf(se.sy[i]));
        if (xAt === null) xAt = se.x[i];
        const raw = se.sy !== se.y && finite(se.y[i]) ? ` (raw ${plain(se.y[i])})` : "";
        rows.push({ c: COLORS[si % COLORS.length], s: `${se.name || spec.ylabel || "y"}: ${plain(se.sy[i])}${raw}`, x: se.x[i] });
      });
      if (!rows.length) return;
      vline.setAttribute("x1", X(xAt)); vline.setAttribute("x2", X(xAt));
      hover.setAttribute("visibility", "visible");
      tip.textContent = "";
      const head = document.createElement("b");
      head.textContent = `${spec.xlabel || "x"} = ${plain(xAt)}`;
      tip.appendChild(head);
      rows.forEach(r => {
        const d = document.createElement("div");
        const sw = document.createElement("i");
        sw.style.background = r.c;
        d.appendChild(sw);
        d.appendChild(document.createTextNode(r.s + (r.x !== xAt ? ` at ${plain(r.x)}` : "")));
        d.dataset.value = r.s;
        tip.appendChild(d);
      });
      tip.hidden = false;
      const box = svg.getBoundingClientRect(), scale = box.width / svg.viewBox.baseVal.width;
      const px = X(xAt) * scale, right = px > box.width / 2;
      tip.style.left = right ? "" : (px + 16) + "px";
      tip.style.right = right ? (box.width - px + 16) + "px" : "";
      tip.style.top = (g.top * scale + 8) + "px";
    });
    svg.addEventListener("mouseleave", () => { hover.setAttribute("visibility", "hidden"); tip.hidden = true; });
    svg.addEventListener("mousedown", ev => {
      const p = local(ev);
      if (ev.button !== 0 || !inside(p)) return;
      drag = p.x;
      ev.preventDefault();
    });
    const redraw = s => {
      fig.textContent = "";
      drawChart(container, s, fig);
    };
    svg.addEventListener("mouseup", ev => {
      if (drag === null) return;
      const p = local(ev), a = Math.max(g.l, Math.min(drag, p.x)), b = Math.min(g.l + g.pw, Math.max(drag, p.x));
      drag = null;
      sel.setAttribute("visibility", "hidden");
      if (b - a < 8) return; // a click, not a drag
      redraw(Object.assign({}, spec, { xmin: invX(a), xmax: invX(b) }));
    });
    svg.addEventListener("dblclick", () => {
      if (!finite(spec.xmin) && !finite(spec.xmax)) return;
      const s = Object.assign({}, spec);
      delete s.xmin; delete s.xmax;
      redraw(s);
    });
  }
  // thin hides every other tick label (every third, …) until neighbours no longer touch.
  function thin(texts) {
    const box = texts.map(t => { const x = +t.getAttribute("x"), w = width(t); return [x - w / 2, x + w / 2]; });
    for (let k = 1; k < texts.length; k++) {
      let ok = true;
      for (let i = 0; i + k < texts.length; i += k) if (box[i][1] + 8 > box[i + k][0]) ok = false;
      if (ok) {
        texts.forEach((t, i) => { if (i % k) t.remove(); });
        return;
      }
    }
  }
  // tickLabels is exposed for the browser test.
  window.klppoTickLabels = (ticks, log) => tickLabels(ticks, !!log);
  // ema is exposed for the browser test of the smoothing.
  window.klppoEMA = (ys, w) => ema(ys, w);
  window.drawChart = drawChart;
  window.drawCharts = drawCharts;
})();
