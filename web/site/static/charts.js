// charts.js: small hand-written SVG charts for klppo serve (no libraries).
// drawChart(container, spec) draws spec = {title, kind: "line"|"bars"|"stacked", xlabel, ylabel,
// categories, series: [{name, x, y, style}], hlines, vlines, bands, points, logx, logy, ymin, ymax}.
// Values are numbers or null (a gap). Colours are high-contrast and distinguishable in grey.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = ["#0b4f9c", "#c2410c", "#15803d", "#7e22ce", "#111111", "#b91c1c", "#0e7490", "#a16207"];
  const M = { l: 78, r: 20, t: 44, b: 62 };

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
  function fmt(v) {
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace("e+", "e");
    return String(+v.toPrecision(3));
  }
  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    const span = hi - lo, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => span / s <= n) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }
  function logTicks(lo, hi) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = Math.pow(10, e);
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out.length >= 2 ? out : [lo, hi];
  }
  function finite(v) { return v !== null && v !== undefined && isFinite(v); }

  // scale returns a function data → pixel, and the ticks.
  function scale(lo, hi, p0, p1, log) {
    if (log) {
      const a = Math.log10(lo), b = Math.log10(hi);
      return { f: v => p0 + (Math.log10(v) - a) / (b - a || 1) * (p1 - p0), ticks: logTicks(lo, hi) };
    }
    return { f: v => p0 + (v - lo) / (hi - lo || 1) * (p1 - p0), ticks: niceTicks(lo, hi, 6) };
  }

  function figure(container) {
    const fig = document.createElement("figure");
    fig.className = "figure";
    container.appendChild(fig);
    return fig;
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
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    text(svg, 12, 28, spec.title || "", { class: "ctitle" });
    const series = spec.series || [];
    const pw = W - M.l - M.r, ph = H - M.t - M.b;
    const bars = spec.kind === "bars" || spec.kind === "stacked";
    // y range
    let ys = [];
    if (spec.kind === "stacked") {
      (spec.categories || []).forEach((_, i) => ys.push(series.reduce((s, se) => s + (finite(se.y[i]) ? se.y[i] : 0), 0)));
    } else {
      series.forEach(se => se.y.forEach((v, i) => { if (finite(v) && (!spec.logx || !se.x || se.x[i] > 0)) ys.push(v); }));
    }
    (spec.hlines || []).forEach(h => ys.push(h.at));
    (spec.points || []).forEach(p => ys.push(p.Y));
    if (spec.logy) ys = ys.filter(v => v > 0);
    let ylo = finite(spec.ymin) ? spec.ymin : Math.min.apply(null, ys.length ? ys : [0]);
    let yhi = finite(spec.ymax) ? spec.ymax : Math.max.apply(null, ys.length ? ys : [1]);
    if (bars && !finite(spec.ymin)) ylo = Math.min(0, ylo);
    if (!spec.logy && !finite(spec.ymax) && yhi > ylo) yhi += (yhi - ylo) * 0.06;
    if (!spec.logy && !finite(spec.ymin) && !bars && ylo < yhi && ylo !== 0) ylo -= (yhi - ylo) * 0.04;
    if (spec.logy) { ylo = Math.max(ylo, yhi * 1e-8); if (!(yhi > ylo)) yhi = ylo * 10; }
    if (!(yhi > ylo)) { yhi = ylo + (Math.abs(ylo) || 1); }
    const Y = scale(ylo, yhi, M.t + ph, M.t, spec.logy);
    // x range
    let X, xlo, xhi;
    if (!bars) {
      const xs = [];
      series.forEach(se => (se.x || []).forEach(v => { if (finite(v) && (!spec.logx || v > 0)) xs.push(v); }));
      (spec.points || []).forEach(p => xs.push(p.X));
      xlo = Math.min.apply(null, xs.length ? xs : [0]);
      xhi = Math.max.apply(null, xs.length ? xs : [1]);
      if (!(xhi > xlo)) xhi = xlo + 1;
      X = scale(xlo, xhi, M.l, M.l + pw, spec.logx);
    }
    const grid = el("g", { class: "grid" }, svg);
    Y.ticks.forEach(t => {
      const y = Y.f(t);
      el("line", { x1: M.l, x2: M.l + pw, y1: y, y2: y }, grid);
      text(svg, M.l - 8, y + 6, fmt(t), { class: "tick", "text-anchor": "end" });
    });
    const clipId = "c" + Math.random().toString(36).slice(2);
    const cp = el("clipPath", { id: clipId }, el("defs", {}, svg));
    el("rect", { x: M.l, y: M.t, width: pw, height: ph }, cp);
    const plot = el("g", { "clip-path": `url(#${clipId})` }, svg);
    if (!bars) {
      X.ticks.forEach(t => {
        const x = X.f(t);
        el("line", { x1: x, x2: x, y1: M.t, y2: M.t + ph }, grid);
        text(svg, x, M.t + ph + 24, fmt(t), { class: "tick", "text-anchor": "middle" });
      });
      (spec.bands || []).forEach(b => {
        const x0 = X.f(b.From), x1 = X.f(b.To);
        el("rect", { x: Math.min(x0, x1), y: M.t, width: Math.abs(x1 - x0), height: ph, class: "band" }, plot);
        text(svg, (x0 + x1) / 2, M.t + 20, b.Label || "", { class: "mark", "text-anchor": "middle" });
      });
      series.forEach((se, si) => {
        const c = COLORS[si % COLORS.length];
        let d = "", pen = false, first = null, last = null;
        const base = Y.f(spec.logy ? ylo : Math.max(ylo, Math.min(0, yhi)));
        for (let i = 0; i < se.y.length; i++) {
          const xv = se.x[i], yv = se.y[i];
          if (!finite(xv) || !finite(yv) || (spec.logx && xv <= 0) || (spec.logy && yv <= 0)) { pen = false; continue; }
          const px = X.f(xv), py = Y.f(yv);
          if (se.style === "steps" && pen) d += `H${px.toFixed(1)}V${py.toFixed(1)}`;
          else d += (pen ? "L" : "M") + px.toFixed(1) + "," + py.toFixed(1);
          if (first === null) first = px;
          last = px; pen = true;
        }
        if (se.style === "area" && first !== null) {
          el("path", { d: d + `L${last.toFixed(1)},${base.toFixed(1)}L${first.toFixed(1)},${base.toFixed(1)}Z`, fill: c, "fill-opacity": 0.18, stroke: "none" }, plot);
        }
        el("path", { d: d, fill: "none", stroke: c, "stroke-width": 3, "stroke-dasharray": se.style === "dash" ? "10 6" : "none", "stroke-linejoin": "round" }, plot);
      });
      (spec.vlines || []).forEach(v => {
        if (spec.logx && v.at <= 0) return;
        const x = X.f(v.at);
        el("line", { x1: x, x2: x, y1: M.t, y2: M.t + ph, class: "ref" }, plot);
        text(svg, x + 6, M.t + 20, v.label || "", { class: "mark" });
      });
      (spec.points || []).forEach(p => {
        el("circle", { cx: X.f(p.X), cy: Y.f(p.Y), r: 8, fill: "#111", stroke: "#fff", "stroke-width": 2 }, plot);
        text(svg, X.f(p.X) + 12, Y.f(p.Y) + 24, p.Label || "", { class: "mark" });
      });
    } else {
      const cats = spec.categories || [], n = cats.length || 1;
      const gw = pw / n, groups = spec.kind === "stacked" ? 1 : series.length, bw = Math.min(60, gw * 0.8 / groups);
      cats.forEach((cat, ci) => {
        const gx = M.l + gw * ci + (gw - bw * groups) / 2;
        let acc = 0;
        series.forEach((se, si) => {
          const v = se.y[ci];
          if (!finite(v)) return;
          let y0, y1, x;
          if (spec.kind === "stacked") { y0 = Y.f(acc); acc += v; y1 = Y.f(acc); x = gx; }
          else { y0 = Y.f(Math.max(ylo, 0)); y1 = Y.f(v); x = gx + si * bw; }
          el("rect", { x: x + 1, y: Math.min(y0, y1), width: bw - 2, height: Math.abs(y0 - y1), fill: COLORS[si % COLORS.length] }, plot);
        });
        text(svg, M.l + gw * ci + gw / 2, M.t + ph + 24, cat, { class: "tick", "text-anchor": "middle" });
      });
    }
    (spec.hlines || []).forEach(h => {
      if (spec.logy && h.at <= 0) return;
      const y = Y.f(h.at);
      el("line", { x1: M.l, x2: M.l + pw, y1: y, y2: y, class: "ref" }, plot);
      if (h.label) text(svg, M.l + pw - 6, y - 6, h.label, { class: "mark", "text-anchor": "end" });
    });
    el("rect", { x: M.l, y: M.t, width: pw, height: ph, class: "frame" }, svg);
    text(svg, M.l + pw / 2, H - 10, spec.xlabel || "", { class: "axis", "text-anchor": "middle" });
    text(svg, 18, M.t + ph / 2, spec.ylabel || "", { class: "axis", "text-anchor": "middle", transform: `rotate(-90 18 ${M.t + ph / 2})` });
    fig.appendChild(svg);
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
    return fig;
  }
  window.drawChart = drawChart;
  window.drawCharts = drawCharts;
})();
