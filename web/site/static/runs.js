// runs.js: the runs list and the page of one run. Reads the server's read-only JSON API
// (api/runs, api/run?run=NAME, api/file?run=NAME&file=F) and redraws when the files change.
"use strict";
(function () {
  const body = document.body, root = body.dataset.root;
  const POLL_MS = 2000;

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") e.className = attrs[k]; else if (k.startsWith("data-")) e.setAttribute(k, attrs[k]); else e[k] = attrs[k];
    }
    kids.flat().forEach(c => e.append(c instanceof Node ? c : document.createTextNode(String(c))));
    return e;
  }
  function age(s) {
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }
  function num(s) { const v = Number(s); return s === "" || s === null || !isFinite(v) ? null : v; }
  function noServer(box, err) {
    box.textContent = "";
    box.append(h("p", { class: "error" }, "No runs API here (" + err + "). Runs are shown by the live server: go run ./cmd/klppo serve --runs DIR"));
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }

  // ---- the list ----
  async function list() {
    const box = document.querySelector(".runs");
    let j;
    try { j = await getJSON(root + "api/runs"); } catch (e) { noServer(box, e.message); return; }
    box.textContent = "";
    box.append(h("p", {}, "Runs under ", h("code", {}, j.dir), ", newest first. This page refreshes by itself."));
    if (j.error) box.append(h("p", { class: "error" }, j.error));
    if (!j.runs.length) {
      box.append(h("p", {}, "No runs yet. Start one, e.g. ", h("code", {}, "go run ./cmd/klppo train --out " + j.dir + "/first")));
    } else {
      const t = h("table", { class: "runlist" }, h("tr", {}, ["run", "kind", "rows", "updated", "summary"].map(c => h("th", {}, c))));
      j.runs.forEach(r => {
        let sum = "";
        if (r.summary && typeof r.summary === "object") {
          sum = ["env_id", "penalty", "steps", "final_return", "stopped"].filter(k => k in r.summary).map(k => k + " " + fmtv(r.summary[k])).join(", ");
        }
        t.append(h("tr", {}, h("td", {}, h("a", { href: root + "runs/view/?run=" + encodeURIComponent(r.name) }, r.name)),
          h("td", {}, h("span", { class: "badge" }, r.kind)), h("td", { class: "num" }, r.rows),
          h("td", {}, r.age_s < 20 ? h("span", { class: "badge live" }, "live") : age(r.age_s)), h("td", {}, sum)));
      });
      box.append(t);
    }
    body.dataset.runs = String(j.runs.length);
    setTimeout(list, POLL_MS * 2);
  }
  function fmtv(v) { return typeof v === "number" ? String(+v.toPrecision(5)) : String(v); }

  // ---- one run ----
  const ORDER = [/return|reward/, /^kl$|kl/, /^beta$/, /clipfrac/, /entropy/, /acc/, /loss|recon/, /.*/];
  const SKIP_X = new Set(["update", "global_step", "step", "epoch", "wall_s", "model", "seed"]);

  function xColumn(header) { return ["global_step", "step", "epoch", "update"].find(c => header.includes(c)) || header[0]; }

  // The KL columns of each kind of run, and what they measure. PPO's trust-region KL(π_old‖π_θ)
  // and RLHF's leash KL(π‖π_ref) are different quantities and never share a chart.
  function klGroups(kind) {
    if (kind === "rlhf") return [
      { re: /^kl(_k\d)?$|kl_ref/, name: "KL(π‖π_ref): the leash to the reference (nats)" },
      { re: /ppo_kl|approx_kl/, name: "PPO's KL(π_old‖π_θ) per update (nats)" }];
    if (kind === "vae") return [{ re: /kl/, name: "KL(q(z|x)‖N(0,I)) (nats)" }];
    if (kind === "distill") return [{ re: /kl/, name: "KL(teacher_T‖student_T) (nats)" }];
    if (kind === "train") return [{ re: /kl/, name: "PPO's KL(π_old‖π_θ) per update (nats)" }];
    return [{ re: /kl/, name: "KL (nats)" }];
  }

  // chartsFor returns chart specs for one CSV table: one chart per group of numeric columns.
  function chartsFor(title, t, groupBy, kind) {
    const x = xColumn(t.header), xi = t.header.indexOf(x);
    const gi = groupBy ? t.header.indexOf(groupBy) : -1;
    const cols = t.header.map((c, i) => ({ c, i })).filter(({ c, i }) => !SKIP_X.has(c) && i !== gi && t.rows.some(r => num(r[i]) !== null));
    // KL-like columns share one chart; the others get one each.
    const groups = [];
    const used = new Set();
    klGroups(kind).forEach(g => {
      const klCols = cols.filter(col => !used.has(col) && g.re.test(col.c) && !/coef/.test(col.c));
      klCols.forEach(col => used.add(col));
      if (klCols.length) groups.push({ name: g.name, key: "kl", cols: klCols });
    });
    cols.filter(col => !used.has(col)).forEach(col => groups.push({ name: col.c, key: col.c, cols: [col] }));
    const rank = g => ORDER.findIndex(re => re.test(g.key));
    groups.sort((a, b) => rank(a) - rank(b));
    return groups.map(g => {
      const series = [];
      g.cols.forEach(({ c, i }) => {
        const keys = gi >= 0 ? Array.from(new Set(t.rows.map(r => r[gi]))) : [null];
        keys.forEach(k => {
          const rows = k === null ? t.rows : t.rows.filter(r => r[gi] === k);
          series.push({ name: (k === null ? "" : k + ": ") + c, x: rows.map(r => num(r[xi])), y: rows.map(r => num(r[i])) });
        });
      });
      // a KL chart's title says which KL it is; its y axis only needs the unit
      return { title: title + g.name, kind: "line", xlabel: x, ylabel: g.key === "kl" ? "KL (nats)" : g.name, series, ymin: null, ymax: null, hidelegend: series.length === 1 };
    });
  }

  // cell returns a table cell for a value. A number with more than six significant digits
  // (416.4184036263133) is shown to six (416.418), as klppo prints numbers, and keeps its full
  // value in the cell's title (a tooltip); integers and short numbers are shown as they are.
  function cell(v, numClass) {
    const s = Array.isArray(v) ? JSON.stringify(v) : String(v);
    const x = typeof v === "number" ? v : (typeof v === "string" && /^[-+]?[0-9.]+([eE][-+]?[0-9]+)?$/.test(v.trim()) ? Number(v) : NaN);
    if (!isFinite(x)) return h("td", {}, s);
    const short = String(+x.toPrecision(6));
    const cls = numClass ? "num" : "";
    if (Number.isInteger(x) || short === String(x)) return h("td", { class: cls }, s);
    return h("td", { class: cls, title: s }, short);
  }

  function configTable(cfg) {
    const rows = [];
    (function walk(v, p) {
      if (v && typeof v === "object" && !Array.isArray(v)) Object.keys(v).forEach(k => walk(v[k], p ? p + "." + k : k));
      else rows.push([p, v]);
    })(cfg, "");
    return h("table", { class: "config" }, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), cell(v, false))));
  }

  function csvTable(t) {
    return h("table", { class: "csv" }, h("tr", {}, t.header.map(c => h("th", {}, c))),
      t.rows.map(r => h("tr", {}, r.map(c => cell(c, true)))));
  }

  let lastSig = "";
  async function run() {
    const name = new URLSearchParams(location.search).get("run") || "";
    const box = document.querySelector(".run");
    let d;
    try { d = await getJSON(root + "api/run?run=" + encodeURIComponent(name)); } catch (e) {
      if (String(e.message).includes("JSON") || String(e.message).includes("Failed")) noServer(box, e.message);
      else { box.textContent = ""; box.append(h("p", { class: "error" }, e.message)); }
      setTimeout(run, POLL_MS);
      return;
    }
    const sig = JSON.stringify(d.files) + JSON.stringify(Object.keys(d.tables).map(k => d.tables[k].rows.length));
    if (sig !== lastSig) {
      lastSig = sig;
      render(d);
    } else {
      const b = document.querySelector(".livebadge");
      if (b) { b.className = "badge livebadge" + (d.age_s < 20 ? " live" : ""); b.textContent = d.age_s < 20 ? "live" : "updated " + age(d.age_s); }
    }
    setTimeout(run, POLL_MS);
  }

  function render(d) {
    const box = document.querySelector(".run");
    const y = window.scrollY;
    box.textContent = "";
    document.querySelector("h1.runname").textContent = d.name;
    document.title = d.name + " · klppo";
    const main = d.tables["metrics.csv"];
    const rows = main ? main.rows.length : (d.tables["runs.csv"] ? d.tables["runs.csv"].rows.length : 0);
    box.append(h("p", {}, h("span", { class: "badge" }, d.kind), " ",
      h("span", { class: "badge livebadge" + (d.age_s < 20 ? " live" : "") }, d.age_s < 20 ? "live" : "updated " + age(d.age_s)), " ",
      h("b", { "data-value": "rows" }, rows), " rows of ", d.kind === "compare" ? "runs.csv" : "metrics.csv", " · refreshes every 2 s"));
    if (d.summary) box.append(h("h2", {}, "Summary"), configTable(d.summary));
    const charts = h("section", { class: "charts" }), specs = [];
    if (d.kind === "compare") {
      if (d.tables["runs.csv"]) box.append(h("h2", {}, "Settings side by side"), csvTable(d.tables["runs.csv"]));
      ["episodic_return", "kl", "beta", "clipfrac"].forEach(col => {
        const series = [];
        (d.subruns || []).forEach(sr => {
          const t = d.tables[sr + "/metrics.csv"];
          if (!t) return;
          const xi = t.header.indexOf("global_step"), yi = t.header.indexOf(col);
          if (xi < 0 || yi < 0) return;
          series.push({ name: sr, x: t.rows.map(r => num(r[xi])), y: t.rows.map(r => num(r[yi])) });
        });
        if (series.length) specs.push({ title: (col === "kl" ? "PPO's KL(π_old‖π_θ)" : col) + " per run", kind: "line", xlabel: "global_step", ylabel: col, series, ymin: null, ymax: null });
      });
    } else {
      if (main) specs.push(...chartsFor("", main, d.kind === "distill" ? "model" : null, d.kind));
      const ep = d.tables["episodes.csv"];
      if (ep && ep.rows.length) {
        const xi = ep.header.indexOf("global_step"), yi = ep.header.indexOf("return");
        if (xi >= 0 && yi >= 0) specs.push({ title: "episode returns", kind: "line", xlabel: "global_step", ylabel: "return",
          series: [{ name: "return", x: ep.rows.map(r => num(r[xi])), y: ep.rows.map(r => num(r[yi])) }], ymin: null, ymax: null, hidelegend: true });
      }
    }
    box.append(h("h2", {}, "Charts"), charts);
    window.drawCharts(charts, specs);
    if (d.config) box.append(h("h2", {}, "Configuration"), configTable(d.config));
    if (d.images.length) {
      box.append(h("h2", {}, "Images written by the run"));
      const im = h("div", { class: "images" });
      d.images.forEach(f => {
        const fi = d.files.find(x => x.name === f);
        im.append(h("figure", {}, h("img", { src: root + "api/file?run=" + encodeURIComponent(d.name) + "&file=" + encodeURIComponent(f) + "&v=" + encodeURIComponent(fi ? fi.modified : ""), alt: f }), h("figcaption", {}, f)));
      });
      box.append(im);
    }
    box.append(h("h2", {}, "Files"), h("table", {}, d.files.map(f => h("tr", {}, h("td", {}, f.name), h("td", { class: "num" }, f.size + " B")))));
    body.dataset.rows = String(rows);
    window.scrollTo(0, y);
  }

  if (body.dataset.kind === "runs") list(); else run();
})();
