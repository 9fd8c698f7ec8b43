// runs.js: the runs list, the page of one run and the overlay of several. Reads the server's
// read-only JSON API (api/runs, api/run?run=NAME, api/file?run=NAME&file=F), or in a static copy
// (klppo serve --export DIR --runs RUNS) the snapshot of it: api/runs.json,
// api/run/NAME/index.json, api/file/NAME/F. A run's page is drawn from the kind the run states
// (run.json); it refreshes only while the run is being written (never in a static copy).
"use strict";
(function () {
  const body = document.body, root = body.dataset.root, isStatic = body.dataset.static === "1";
  const POLL_MS = 2000, LIST_MS = 5000;
  const params = new URLSearchParams(location.search);

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "class") e.className = attrs[k]; else if (k.startsWith("data-")) e.setAttribute(k, attrs[k]); else e[k] = attrs[k];
    }
    kids.flat(Infinity).forEach(c => { if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c))); });
    return e;
  }
  function age(s) {
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    if (s < 86400) return Math.round(s / 3600) + " h ago";
    return Math.round(s / 86400) + " days ago";
  }
  function num(s) { const v = Number(s); return s === "" || s === null || s === undefined || !isFinite(v) ? null : v; }
  function fmt(v) { return typeof v === "number" ? String(+v.toPrecision(4)) : String(v); }
  function pct(v) { return Math.round(100 * v) + " %"; }
  function noServer(box, err) {
    box.textContent = "";
    box.append(h("p", { class: "error" }, "No runs API here (" + err + "). Runs are shown by the live server: go run ./cmd/klppo serve --runs DIR"));
  }
  function staticCopy(box) {
    box.textContent = "";
    box.append(h("p", { class: "error" }, "This is a static copy of the site (klppo serve --export) without this run or without runs at all: " +
      "a copy holds runs only when it was written with --runs DIR. Runs are shown live by the server, which reads them from disk: " +
      "go run ./cmd/klppo serve --runs DIR"));
  }
  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }
  const segs = name => name.split("/").map(encodeURIComponent).join("/");
  const fileURL = (run, f, download) => isStatic ? root + "api/file/" + segs(run) + "/" + encodeURIComponent(f)
    : root + "api/file?run=" + encodeURIComponent(run) + "&file=" + encodeURIComponent(f) + (download ? "&download=1" : "");
  const runsAPI = () => root + (isStatic ? "api/runs.json" : "api/runs");
  const runAPI = name => isStatic ? root + "api/run/" + segs(name) + "/index.json" : root + "api/run?run=" + encodeURIComponent(name);
  const runURL = name => root + "runs/view/?run=" + encodeURIComponent(name);

  // ---- the list ----
  const NO_TABLE = new Set(["rlhf", "rlhf-rm", "rlhf-estimators"]); // kinds without a table of rows
  const selected = new Set();
  let listSig = "";
  async function list() {
    const box = document.querySelector(".runs");
    let j;
    try { j = await getJSON(runsAPI()); } catch (e) { if (isStatic) staticCopy(box); else noServer(box, e.message); return; }
    const sig = JSON.stringify(j.runs.map(r => [r.name, r.kind, r.state, r.rows, r.headline, r.age_s < 20]));
    if (sig !== listSig) {
      listSig = sig;
      drawList(box, j);
    }
    body.dataset.runs = String(j.runs.length);
    if (!isStatic) setTimeout(list, LIST_MS);
  }
  function drawList(box, j) {
    box.textContent = "";
    box.append(h("p", {}, "Runs under ", h("code", {}, j.dir), ", newest first; " +
      (j.static ? "a snapshot taken by klppo serve --export (it does not refresh). " : "this list refreshes every " + LIST_MS / 1000 + " s. ") +
      "Tick two or more runs to overlay the metrics they share."));
    if (j.error) box.append(h("p", { class: "error" }, j.error));
    if (!j.runs.length) {
      box.append(h("p", {}, "No runs yet. Start one, e.g. ", h("code", {}, "go run ./cmd/klppo train --out " + j.dir + "/first")));
      return;
    }
    const button = h("button", { type: "button", class: "overlay" }, "Overlay the selected runs");
    const sync = () => {
      button.disabled = selected.size < 2;
      button.textContent = "Overlay the " + (selected.size >= 2 ? selected.size + " " : "") + "selected runs";
    };
    button.addEventListener("click", () => {
      location.href = root + "runs/view/?" + Array.from(selected).map(n => "run=" + encodeURIComponent(n)).join("&");
    });
    const t = h("table", { class: "runlist" }, h("tr", {}, ["", "run", "kind", "state", "rows", "summary"].map(c => h("th", {}, c))));
    const names = new Set(j.runs.map(r => r.name));
    Array.from(selected).forEach(n => { if (!names.has(n)) selected.delete(n); });
    j.runs.forEach(r => {
      const cb = h("input", { type: "checkbox", name: "select", value: r.name, checked: selected.has(r.name), title: "select for an overlay" });
      cb.addEventListener("change", () => { if (cb.checked) selected.add(r.name); else selected.delete(r.name); sync(); });
      const state = !r.finished ? h("span", { class: "badge live" }, r.age_s < 20 ? "live" : "being written, " + age(r.age_s))
        : h("span", {}, (r.state === "finished" ? "" : r.state + ", ") + age(r.age_s));
      t.append(h("tr", { "data-run": r.name }, h("td", { class: "sel" }, cb),
        h("td", {}, h("a", { href: runURL(r.name) }, r.name)),
        h("td", {}, h("span", { class: "badge", title: r.kind_name }, r.kind || "?")), h("td", {}, state),
        h("td", { class: "num" }, NO_TABLE.has(r.kind) ? "" : r.rows), h("td", {}, r.headline || "", r.problems ? h("span", { class: "problems", title: r.problems.join("\n") }, " ⚠ " + r.problems.length + " file(s) not read") : null)));
    });
    box.append(h("p", {}, button), t);
    sync();
  }

  // ---- the view controls shared by the charts of a page: smoothing, log y, zoom ----
  const view = { smooth: Math.min(0.99, Math.max(0, +params.get("smooth") || 0)), logy: params.get("logy") === "1" };
  const groups = []; // {box, specs, drawn}: the chart grids of the page, redrawn when the view changes
  function withView(spec) {
    if (spec.kind === "bars" || spec.kind === "stacked") return spec;
    return Object.assign({}, spec, { smooth: view.smooth, logy: spec.logy || view.logy, interactive: true });
  }
  function chartGrid(specs, lazy) {
    const box = h("section", { class: "charts" });
    const g = { box, specs, drawn: false };
    groups.push(g);
    if (!lazy) requestAnimationFrame(() => drawGroup(g));
    return { box, g };
  }
  function drawGroup(g) {
    g.box.textContent = "";
    window.drawCharts(g.box, g.specs.map(withView));
    g.drawn = true;
    body.dataset.charts = String(document.querySelectorAll(".run svg.chart").length);
  }
  function redrawAll() { groups.forEach(g => { if (g.drawn) drawGroup(g); }); }
  function toolbar() {
    const slider = h("input", { type: "range", name: "smooth", min: 0, max: 0.99, step: 0.01, value: view.smooth });
    const out = h("output", {}, view.smooth.toFixed(2));
    const logy = h("input", { type: "checkbox", name: "logy", checked: view.logy });
    const keep = () => {
      const q = new URLSearchParams(location.search);
      if (view.smooth > 0) q.set("smooth", String(view.smooth)); else q.delete("smooth");
      if (view.logy) q.set("logy", "1"); else q.delete("logy");
      history.replaceState(null, "", "?" + q.toString());
    };
    slider.addEventListener("input", () => { view.smooth = +slider.value; out.textContent = view.smooth.toFixed(2); keep(); redrawAll(); });
    logy.addEventListener("change", () => { view.logy = logy.checked; keep(); redrawAll(); });
    return h("div", { class: "toolbar" },
      h("label", {}, "Smoothing ", slider, " ", out),
      h("label", {}, logy, " log y"),
      h("span", { class: "muted" }, "Hover a chart for its values; drag across it to zoom, double-click to zoom out."));
  }
  function folded(title, specs) {
    if (!specs.length) return null;
    const { box, g } = chartGrid(specs, true);
    const d = h("details", { class: "more" }, h("summary", {}, title), box);
    d.addEventListener("toggle", () => { if (d.open && !g.drawn) drawGroup(g); });
    return d;
  }

  // ---- chart specs ----
  const SKIP_X = new Set(["update", "global_step", "step", "epoch", "wall_s", "model", "seed"]);
  function xColumn(header) { return ["global_step", "step", "epoch", "update"].find(c => header.includes(c)) || header[0]; }
  function series(t, xcol, ycol, name, rows) {
    const xi = t.header.indexOf(xcol), yi = t.header.indexOf(ycol);
    rows = rows || t.rows;
    return { name: name || ycol, x: rows.map((r, i) => xi >= 0 ? num(r[xi]) : i + 1), y: rows.map(r => num(r[yi])) };
  }
  function has(t, col) { return !!t && t.header.includes(col) && t.rows.some(r => num(r[t.header.indexOf(col)]) !== null); }
  function line(title, xlabel, ylabel, ss, extra) {
    return Object.assign({ title, kind: "line", xlabel, ylabel, series: ss, ymin: null, ymax: null, hidelegend: ss.length === 1 }, extra || {});
  }
  // spansDecades: positive values spread over more than `decades` powers of ten
  function spansDecades(ss, decades) {
    const v = ss.flatMap(s => s.y).filter(y => y !== null && y > 0);
    return v.length > 1 && Math.max(...v) / Math.min(...v) > Math.pow(10, decades);
  }

  // The KL columns of each kind of run, and what they measure. PPO's trust-region KL(π_old‖π_θ)
  // and RLHF's leash KL(π‖π_ref) are different quantities and never share a chart.
  // onlineRLHF: the kinds of run of an online RLHF method (the same files).
  function onlineRLHF(kind) { return kind === "rlhf-ppo" || kind === "rlhf-grpo" || kind === "rlhf-rloo"; }
  function klGroups(kind) {
    if (onlineRLHF(kind)) return [
      { re: /^kl(_k\d)?$/, name: "KL(π‖π_ref): the leash to the reference (nats)" },
      { re: /ppo_kl|approx_kl/, name: "PPO's KL(π_old‖π_θ) per update (nats)" }];
    if (kind === "vae") return [{ re: /kl/, name: "KL(q(z|x)‖N(0,I)) (nats)" }];
    if (kind === "distill") return [{ re: /kl/, name: "KL(teacher_T‖student_T) (nats)" }];
    if (kind === "train" || kind === "compare") return [{ re: /kl/, name: "PPO's KL(π_old‖π_θ) per update (nats)" }];
    return [{ re: /kl/, name: "KL (nats)" }];
  }
  // metricKey says what a column of a run of this kind measures, so that an overlay puts only the
  // same quantity on one chart (train's kl and rlhf's ppo_kl are both PPO's KL; rlhf's kl is not).
  function metricKey(kind, col) {
    if ((kind === "train" && col === "kl") || (onlineRLHF(kind) && col === "ppo_kl")) return "PPO's KL(π_old‖π_θ) per update";
    if (/kl/.test(col)) {
      const g = klGroups(kind).find(g => g.re.test(col));
      return (g ? g.name.replace(/ \(nats\)$/, "") : "KL") + ": " + col;
    }
    return col;
  }
  const ORDER = [/return|reward/, /kl/i, /^beta$/, /clipfrac/, /entropy/, /acc/, /loss|recon/, /.*/];

  // chartsFor returns chart specs for one CSV table: one chart per group of numeric columns,
  // leaving out the columns in skip.
  function chartsFor(title, t, groupBy, kind, skip) {
    skip = skip || new Set();
    const x = xColumn(t.header), xi = t.header.indexOf(x);
    const gi = groupBy ? t.header.indexOf(groupBy) : -1;
    const cols = t.header.map((c, i) => ({ c, i })).filter(({ c, i }) => !SKIP_X.has(c) && !skip.has(c) && i !== gi && t.rows.some(r => num(r[i]) !== null));
    const groups = [], used = new Set();
    klGroups(kind).forEach(g => {
      const klCols = cols.filter(col => !used.has(col) && g.re.test(col.c) && !/coef/.test(col.c));
      klCols.forEach(col => used.add(col));
      if (klCols.length) groups.push({ name: g.name, key: "kl", cols: klCols });
    });
    cols.filter(col => !used.has(col)).forEach(col => groups.push({ name: col.c, key: col.c, cols: [col] }));
    const rank = g => ORDER.findIndex(re => re.test(g.key));
    groups.sort((a, b) => rank(a) - rank(b));
    return groups.map(g => {
      const ss = [];
      g.cols.forEach(({ c, i }) => {
        const keys = gi >= 0 ? Array.from(new Set(t.rows.map(r => r[gi]))) : [null];
        keys.forEach(k => {
          const rows = k === null ? t.rows : t.rows.filter(r => r[gi] === k);
          ss.push({ name: (k === null ? "" : k + ": ") + c, x: rows.map(r => num(r[xi])), y: rows.map(r => num(r[i])) });
        });
      });
      const spec = line(title + g.name, x, g.key === "kl" ? "KL (nats)" : g.name, ss, { robust: true });
      if (g.key === "kl" && g.cols.some(c => /k1/.test(c.c))) spec.note = K1_NOTE;
      return spec;
    });
  }
  const K1_NOTE = "k1 = mean(−log r) over the sampled actions estimates the KL without bias but can go negative on one batch, " +
    "although the KL itself never does; k3 = mean((r − 1) − log r) is never negative";

  // ---- tables ----
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
  // words turns the sentinel values runs write into what they mean.
  function words(k, v) {
    if ((k === "first_step_return_ge" || k === "first_step_solved" || /(^|\.)first_step/.test(k)) && v === -1) return "not reached";
    if (v === null) return k.includes("return") ? "none (no episode finished)" : "none";
    if (k === "stopped" && v === "") return "no: the run completed";
    if (k === "stopped") return "yes: " + v;
    if (k === "complete" && typeof v === "boolean") return v ? "yes" : "no: stopped before its last update";
    if (Array.isArray(v) && v.every(x => typeof x === "string")) return v.join(" · ");
    return null;
  }
  function configTable(cfg, cls) {
    const rows = [];
    (function walk(v, p) {
      if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) Object.keys(v).forEach(k => walk(v[k], p ? p + "." + k : k));
      else rows.push([p, v]);
    })(cfg, "");
    return h("table", { class: cls || "config" }, rows.map(([k, v]) => {
      const w = words(k.split(".").pop(), v);
      return h("tr", {}, h("th", {}, k), w !== null ? h("td", { class: "word", title: JSON.stringify(v) }, w) : cell(v, false));
    }));
  }
  function csvTable(t, maxRows) {
    const rows = maxRows && t.rows.length > maxRows ? t.rows.slice(0, maxRows) : t.rows;
    return h("table", { class: "csv" }, h("tr", {}, t.header.map(c => h("th", {}, c))),
      rows.map(r => h("tr", {}, r.map(c => cell(c, true)))));
  }
  function samplesTable(samples) {
    return h("table", { class: "samples" }, h("tr", {}, ["when", "update", "text", "proxy", "gold", "in the language"].map(c => h("th", {}, c))),
      samples.map(s => h("tr", {}, h("td", {}, s.when), h("td", { class: "num" }, s.update || ""), h("td", { class: "text" }, s.text),
        s.proxy_reward !== undefined ? cell(s.proxy_reward, true) : h("td", {}), s.gold_reward !== undefined ? cell(s.gold_reward, true) : h("td", {}),
        h("td", {}, s.in_language === undefined ? "" : (s.in_language ? "yes" : "no")))));
  }
  function rmSection(rm) {
    const n = Math.max(rm.top.length, rm.bottom.length);
    const rows = [];
    for (let i = 0; i < n; i++) {
      const a = rm.top[i], b = rm.bottom[i];
      rows.push(h("tr", {}, h("td", {}, a ? a.word : ""), a ? cell(+a.weight.toFixed(3), true) : h("td", {}),
        h("td", {}, b ? b.word : ""), b ? cell(+b.weight.toFixed(3), true) : h("td", {})));
    }
    const from = rm.run ? h("span", {}, " (reward model ", h("a", { href: runURL(rm.run) }, rm.run), ")") : "";
    return [h("h2", {}, "The reward model's heaviest words"),
      h("p", {}, "The reward model is linear in word counts: these words move its score most (", rm.words, " words, bias ", fmt(rm.bias), ")", from,
        ". A policy that games the proxy repeats the words on the left."),
      h("table", { class: "rmwords" }, h("tr", {}, h("th", {}, "raises the score"), h("th", {}, "weight"), h("th", {}, "lowers it"), h("th", {}, "weight")), rows)];
  }
  function images(d, only) {
    const list = d.images.filter(f => !only || only.test(f));
    if (!list.length) return null;
    return h("div", { class: "images" }, list.map(f => {
      const fi = d.files.find(x => x.name === f);
      return h("figure", {}, h("img", { src: fileURL(d.name, f) + "&v=" + encodeURIComponent(fi ? fi.modified : ""), alt: f }), h("figcaption", {}, f));
    }));
  }
  function childrenTable(d) {
    return h("table", { class: "children" }, h("tr", {}, ["run", "kind", "state", "summary"].map(c => h("th", {}, c))),
      d.children.map(c => h("tr", {}, h("td", {}, h("a", { href: runURL(d.name + "/" + c.name) }, c.name)),
        h("td", {}, h("span", { class: "badge", title: c.kind_name }, c.kind || "?")), h("td", {}, c.state), h("td", {}, c.headline || ""))));
  }
  function filesTable(d) {
    return h("table", { class: "files" }, h("tr", {}, ["file", "size", "modified"].map(c => h("th", {}, c))),
      d.files.map(f => h("tr", {}, h("td", {}, h("a", { href: fileURL(d.name, f.name, true), download: f.name, class: "download" }, f.name)),
        h("td", { class: "num" }, f.size.toLocaleString("en") + " B"), h("td", {}, new Date(f.modified).toLocaleString()))));
  }

  // ---- one run ----
  let lastSig = "";
  async function run(name) {
    const box = document.querySelector(".run");
    let d;
    try { d = await getJSON(runAPI(name)); } catch (e) {
      if (isStatic) staticCopy(box);
      else if (String(e.message).includes("JSON") || String(e.message).includes("Failed")) noServer(box, e.message);
      else { box.textContent = ""; box.append(h("p", { class: "error" }, e.message)); }
      return;
    }
    const sig = JSON.stringify(d.files) + d.state + JSON.stringify(Object.keys(d.tables).map(k => d.tables[k].rows.length));
    if (sig !== lastSig) {
      lastSig = sig;
      render(d);
    } else {
      const b = document.querySelector(".livebadge");
      if (b) b.textContent = d.age_s < 20 ? "live" : "updated " + age(d.age_s);
    }
    const poll = !d.finished && !isStatic; // a finished run is not polled, nor a static snapshot
    body.dataset.polling = poll ? "1" : "0";
    if (poll) setTimeout(() => run(name), POLL_MS);
  }

  function render(d) {
    const box = document.querySelector(".run");
    const y = window.scrollY;
    box.textContent = "";
    groups.length = 0;
    document.querySelector("h1.runname").textContent = d.name;
    document.title = d.name + " · klppo";
    const main = d.tables["metrics.csv"];
    const rows = d.rows;
    const state = d.finished
      ? h("span", { class: "badge done", "data-value": "state" }, d.state)
      : h("span", { class: "badge livebadge live", "data-value": "state" }, d.age_s < 20 ? "live" : "updated " + age(d.age_s));
    const table = { "compare": "runs.csv", "rlhf-bon": "bon.csv", "rlhf-sweep": "frontier.csv" }[d.kind] || "metrics.csv";
    box.append(h("p", {}, h("span", { class: "badge", title: d.kind_name }, d.kind || "kind not stated"), " ", state, " ",
      d.tables[table] ? [h("b", { "data-value": "rows" }, rows), " rows of " + table + " · "] : "",
      h("span", { "data-value": "refresh" }, isStatic ? "a static snapshot of the run (" + d.state + " when it was taken)"
        : d.finished ? "not refreshing: the run is " + d.state
        : d.age_s > 600 ? "not finished, but no file has changed for " + age(d.age_s).replace(" ago", "") + ": the command may have stopped; this page checks every " + POLL_MS / 1000 + " s"
        : "being written: this page refreshes every " + POLL_MS / 1000 + " s")));
    box.append(h("p", { class: "muted" }, d.kind_name));
    if (d.headline) box.append(h("p", { class: "headline", "data-value": "headline" }, d.headline));
    if (d.problems && d.problems.length) box.append(h("ul", { class: "problems" }, d.problems.map(p => h("li", {}, p))));
    (RENDER[d.kind] || renderGeneric)(d, box, main);
    if (d.children && d.children.length) box.append(h("h2", {}, "Runs inside this one"), childrenTable(d));
    box.append(h("h2", {}, "Files"), h("p", {}, "Every file of the run; a click downloads it."), filesTable(d));
    if (d.config) box.append(h("details", { class: "config" }, h("summary", {}, "Configuration"), configTable(d.config)));
    body.dataset.rows = String(rows);
    window.scrollTo(0, y);
  }

  function renderGeneric(d, box, main) {
    const specs = [];
    if (main) specs.push(...chartsFor("", main, d.kind === "distill" ? "model" : null, d.kind));
    const ep = d.tables["episodes.csv"];
    if (ep && ep.rows.length) specs.push(line("episode returns", "global_step", "return", [series(ep, "global_step", "return")]));
    if (specs.length) box.append(toolbar(), h("h2", {}, "Charts"), chartGrid(specs).box);
    const im = images(d);
    if (im) box.append(h("h2", {}, "Images written by the run"), im);
    if (d.summary) { box.append(h("h2", {}, "Summary"), configTable(d.summary)); }
  }

  function renderTrain(d, box, t) {
    const st = d.story, sum = d.summary || {}, x = "global_step";
    if (st) box.append(h("p", { class: "story", "data-value": "story" }, st.sentence));
    if (!t) return;
    const specs = [], used = new Set(["episodic_return", "kl", "beta", "clipfrac"]);
    if (has(t, "episodic_return")) {
      const hl = typeof sum.solved_threshold === "number" ? [{ at: sum.solved_threshold, label: "solved: " + fmt(sum.solved_threshold) }] : [];
      specs.push(line("return: mean of the last 10 episodes", x, "return", [series(t, x, "episodic_return", "return")], { hlines: hl }));
    }
    if (has(t, "kl")) {
      const extra = { robust: true, hlines: [] };
      if (st && st.band_hi) {
        extra.ybands = [{ from: st.band_lo, to: st.band_hi, label: st.objective === "kl-adaptive" ? "band [d_targ/1.5, 1.5·d_targ]: β holds" : "[d_targ/1.5, 1.5·d_targ]" }];
        extra.hlines.push({ at: st.target, label: "d_targ " + fmt(st.target) });
      }
      if (st && st.stop_kl) extra.hlines.push({ at: st.stop_kl, label: "early stop at " + fmt(st.stop_kl) });
      const ss = [series(t, x, "kl", "KL(π_old‖π_θ)")];
      if (spansDecades(ss, 3)) extra.logy = true;
      specs.push(line("PPO's KL(π_old‖π_θ) per update" + (st && st.band_hi ? ", with its target band" : ""), x, "KL (nats)", ss, extra));
    }
    const betaUsed = has(t, "beta") && t.rows.some(r => num(r[t.header.indexOf("beta")]) > 0);
    if (betaUsed) {
      const hl = [];
      if (st && st.beta_min) hl.push({ at: st.beta_min, label: "floor " + fmt(st.beta_min) });
      if (st && st.beta_max) hl.push({ at: st.beta_max, label: "ceiling " + fmt(st.beta_max) });
      specs.push(line("β, the KL coefficient (log axis)", x, "β", [series(t, x, "beta", "β")], { logy: true, hlines: hl }));
    }
    if (has(t, "clipfrac")) {
      const eps = st ? st.clip_eps : 0.2;
      specs.push(line("clip fraction: share of samples with |r − 1| > ε = " + fmt(eps), x, "fraction", [series(t, x, "clipfrac", "clipfrac")],
        { ymin: 0, note: st && st.objective === "clip" ? "the clip objective stops the gradient of these samples" : "logged only: this objective does not clip" }));
    }
    if (!betaUsed) used.delete("beta");
    box.append(toolbar(), h("h2", {}, "How the KL constrained the run"), chartGrid(specs).box);
    const more = chartsFor("", t, null, "train", used);
    const ep = d.tables["episodes.csv"];
    if (ep && ep.rows.length) more.unshift(line("return of every episode", "global_step", "return", [series(ep, "global_step", "return")]));
    const f = folded("More metrics: the KL estimators, entropy, losses, throughput, epochs, …", more);
    if (f) box.append(f);
    if (d.summary) box.append(h("h2", {}, "Summary"), configTable(d.summary));
    const im = images(d);
    if (im) box.append(h("h2", {}, "Images written by the run"), im);
  }

  function rlhfSentence(sum) {
    if (!sum || typeof sum.peak_gold !== "number") return null;
    return "Gold reward (what the labeler wants) peaked at " + fmt(sum.peak_gold) + " at update " + sum.peak_update +
      " (KL(π‖π_ref) " + fmt(sum.peak_kl) + " nats) and ended at " + fmt(sum.final_gold) + " (π_ref: " + fmt(sum.ref_gold) +
      "); the proxy the policy maximises went from " + fmt(sum.ref_proxy) + " to " + fmt(sum.final_proxy) + "; " +
      pct(sum.final_in_language) + " of the last samples are sentences of the language (π_ref: " + pct(sum.ref_in_language || 0) + ").";
  }
  // rlhfSpecs: the story charts of one or more RLHF runs (ts: [{name, t, sum}]).
  function rlhfSpecs(ts) {
    const x = "update", specs = [];
    const one = ts.length === 1;
    const rw = [];
    ts.forEach(r => {
      if (has(r.t, "proxy_reward")) rw.push(series(r.t, x, "proxy_reward", one ? "proxy (reward model)" : r.name + ": proxy"));
      if (has(r.t, "gold_reward")) rw.push(series(r.t, x, "gold_reward", one ? "gold (the labeler)" : r.name + ": gold"));
    });
    const sum0 = ts[0].sum || {};
    const hl = [];
    if (typeof sum0.ref_gold === "number") hl.push({ at: sum0.ref_gold, label: "π_ref gold " + fmt(sum0.ref_gold) });
    if (typeof sum0.ref_proxy === "number") hl.push({ at: sum0.ref_proxy, label: "π_ref proxy " + fmt(sum0.ref_proxy) });
    if (rw.length) specs.push(line("proxy and gold reward per update", x, "mean reward", rw, { hlines: hl, hidelegend: false }));
    const paths = [], points = [];
    ts.forEach(r => {
      if (!has(r.t, "kl") || !has(r.t, "gold_reward")) return;
      const s = series(r.t, "kl", "gold_reward", one ? "gold" : r.name);
      paths.push(s);
      if (one) {
        const ok = s.x.map((v, i) => v !== null && s.y[i] !== null);
        const first = ok.indexOf(true), last = ok.lastIndexOf(true);
        if (first >= 0) {
          points.push({ X: s.x[first], Y: s.y[first], Label: "start" });
          const pu = r.sum && r.sum.peak_update, ui = r.t.header.indexOf("update");
          const pi = r.t.rows.findIndex(row => +row[ui] === pu);
          if (pi >= 0 && ok[pi] && pi !== first && pi !== last) points.push({ X: s.x[pi], Y: s.y[pi], Label: "gold peak" });
          if (last !== first) points.push({ X: s.x[last], Y: s.y[last], Label: "end" });
        }
      }
    });
    if (paths.length) {
      const lx = paths.flatMap(p => p.x).filter(v => v !== null && v > 0);
      const logx = lx.length > 1 && Math.max(...lx) / Math.min(...lx) > 100;
      specs.push(line("gold reward against KL(π‖π_ref): the path of the run", "KL(π‖π_ref) (nats per sequence)" + (logx ? ", log axis" : ""), "gold reward", paths,
        { points, logx, hidelegend: one }));
    }
    const kls = [];
    ts.forEach(r => ["kl", "kl_k1", "kl_k3"].forEach(c => {
      if ((one || c === "kl") && has(r.t, c)) kls.push(series(r.t, x, c, one ? (c === "kl" ? "exact" : c) : r.name));
    }));
    if (kls.length) {
      const logy = spansDecades(kls, 2);
      const target = sum0.kl_target ? [{ at: sum0.kl_target, label: "target " + fmt(sum0.kl_target) }] : [];
      specs.push(line("KL(π‖π_ref) per sequence" + (logy ? " (log axis)" : ""), x, "KL (nats)", kls,
        { logy, robust: true, hlines: target, hidelegend: false,
          note: one ? "k1 = mean log(π/π_ref) over the sampled tokens can be negative on a batch; k3 is never negative but one rare token can make it huge" : "" }));
    }
    const betas = ts.filter(r => has(r.t, "beta")).map(r => series(r.t, x, "beta", one ? "β" : r.name));
    if (betas.some(s => s.y.some(v => v > 0))) {
      const moving = betas.some(s => new Set(s.y.filter(v => v !== null)).size > 1);
      specs.push(line("β, the coefficient of the leash" + (moving ? " (log axis)" : ""), x, "β", betas, { logy: moving }));
    }
    const il = ts.filter(r => has(r.t, "in_language")).map(r => series(r.t, x, "in_language", one ? "in the language" : r.name));
    if (il.length) specs.push(line("share of samples that are sentences of the language", x, "fraction", il, { ymin: 0, ymax: 1 }));
    return specs;
  }

  function renderRLHF(d, box, t) {
    const s = rlhfSentence(d.summary);
    if (s) box.append(h("p", { class: "story", "data-value": "story" }, s));
    if (t) {
      box.append(toolbar(), h("h2", {}, "Proxy up, gold down, KL up"), chartGrid(rlhfSpecs([{ name: d.name, t, sum: d.summary }])).box);
    }
    if (d.samples && d.samples.length) box.append(h("h2", {}, "What it writes: samples at the start, at the gold peak and at the end"), samplesTable(d.samples));
    if (d.reward_model) box.append(...rmSection(d.reward_model));
    const im = images(d);
    if (im) box.append(h("h2", {}, "The charts the command wrote"), im);
    if (t) {
      const f = folded("More metrics: PPO's own KL(π_old‖π_θ), clip fraction, entropy, length, losses, throughput, …",
        chartsFor("", t, null, "rlhf-ppo", new Set(["proxy_reward", "gold_reward", "kl", "kl_k1", "kl_k3", "beta", "in_language"])));
      if (f) box.append(f);
    }
    if (d.summary) box.append(h("h2", {}, "Summary"), configTable(d.summary));
  }

  function renderStory(d, box) {
    const runs = ["no-leash", "leash"].map(n => ({ name: n, t: d.tables[n + "/metrics.csv"] })).filter(r => r.t);
    box.append(h("p", { class: "story" }, "The same policy trained against the same reward model twice: without the leash (β = 0) it games the proxy — " +
      "the proxy climbs, the gold reward it stands for falls and the text leaves the language — and with the leash KL(π‖π_ref) it stays near π_ref."));
    if (runs.length) box.append(toolbar(), h("h2", {}, "Both runs, drawn from their metrics.csv"), chartGrid(rlhfSpecs(runs)).box);
    const im = images(d, /^story-/);
    if (im) box.append(h("h2", {}, "The story charts klppo rlhf wrote"), im);
    if (d.samples && d.samples.length) box.append(h("h2", {}, "What each run writes: samples at the start, at the gold peak and at the end"), samplesTable(d.samples));
    if (d.reward_model) box.append(...rmSection(d.reward_model));
    const other = images(d, /^(?!story-)/);
    if (other) box.append(h("h2", {}, "Other images"), other);
  }

  function renderSFT(d, box, t) {
    const sum = d.summary || {};
    if (typeof sum.ce_token === "number") {
      box.append(h("p", { class: "story", "data-value": "story" }, "Held-out cross-entropy = H(P) + KL(P‖π_ref): " + fmt(sum.ce_token) + " = " +
        fmt(sum.h_token) + " + " + fmt(sum.kl_token) + " nats per token. H(P) is the language's own entropy, which no model can go below; " +
        "KL(P‖π_ref) is what π_ref still gets wrong. " + pct(sum.in_language || 0) + " of π_ref's samples are sentences of the language."));
    }
    const specs = [];
    if (t && typeof sum.h_token === "number" && has(t, "test_ce_token")) {
      const ep = t.header.indexOf("epoch"), ce = t.header.indexOf("test_ce_token");
      const cats = t.rows.map(r => "epoch " + r[ep]), hs = t.rows.map(() => sum.h_token);
      const kl = t.rows.map(r => Math.max(0, num(r[ce]) - sum.h_token));
      specs.push({ title: "held-out cross-entropy per token = H(P) + KL(P‖π_ref)", kind: "stacked", xlabel: "", ylabel: "nats per token", categories: cats,
        series: [{ name: "H(P): the language's entropy", y: hs }, { name: "KL(P‖π_ref): what π_ref gets wrong", y: kl }], ymin: null, ymax: null });
    }
    if (t) {
      const ss = ["train_ce_token", "test_ce_token"].filter(c => has(t, c)).map(c => series(t, "epoch", c, c.replace("_ce_token", "") + " CE"));
      const hl = typeof sum.h_token === "number" ? [{ at: sum.h_token, label: "H(P) " + fmt(sum.h_token) }] : [];
      if (ss.length) specs.push(line("cross-entropy per token against H(P), its floor", "epoch", "nats per token", ss, { hlines: hl, hidelegend: false }));
      if (typeof sum.h_token === "number" && has(t, "test_ce_token")) {
        const s = series(t, "epoch", "test_ce_token", "KL(P‖π_ref)");
        s.y = s.y.map(v => v === null ? null : v - sum.h_token);
        specs.push(line("KL(P‖π_ref) = held-out CE − H(P), per token", "epoch", "nats per token", [s],
          { note: "measured on the held-out sentences: a value below 0 is sampling noise" }));
      }
    }
    if (specs.length) box.append(toolbar(), h("h2", {}, "Cross-entropy = entropy + KL"), chartGrid(specs).box);
    if (sum.samples) box.append(h("h2", {}, "Samples of π_ref"), h("ul", {}, sum.samples.slice(0, 8).map(s => h("li", {}, h("code", {}, s)))));
    if (d.summary) box.append(h("h2", {}, "Summary"), configTable(Object.fromEntries(Object.entries(sum).filter(([k]) => k !== "epochs" && k !== "samples"))));
  }

  function renderRM(d, box) {
    const sum = d.summary || {};
    if (typeof sum.test_accuracy === "number") {
      box.append(h("p", { class: "story", "data-value": "story" }, "The reward model agrees with the labeler's held-out preferences on " + pct(sum.test_accuracy) +
        " of pairs and with the gold order on " + pct(sum.gold_accuracy || 0) + ": close to gold, not equal to it — the gap PPO will find."));
    }
    const rm = d.reward_model;
    if (rm) {
      box.append(...rmSection(rm));
      const ws = rm.top.concat(rm.bottom.slice().reverse());
      box.append(chartGrid([{ title: "the heaviest words' weights", kind: "bars", xlabel: "", ylabel: "weight", categories: ws.map(w => w.word),
        series: [{ name: "weight", y: ws.map(w => w.weight) }], ymin: null, ymax: null, hidelegend: true }]).box);
    }
    if (d.summary) box.append(h("h2", {}, "Summary"), configTable(Object.fromEntries(Object.entries(sum).filter(([k]) => k !== "weights"))));
  }

  function renderBoN(d, box) {
    const t = d.tables["bon.csv"];
    if (!t) return renderGeneric(d, box);
    const x = "n";
    box.append(toolbar(), h("h2", {}, "Best-of-n from π_ref"), chartGrid([
      line("reward of the best of n samples (ranked by the reward model)", "n (log axis)", "mean reward",
        [series(t, x, "proxy_reward", "proxy"), series(t, x, "gold_reward", "gold")], { logx: true, hidelegend: false }),
      line("KL(π_bon‖π_ref): the bound ln n − (n−1)/n and the estimate", "n (log axis)", "KL (nats)",
        [series(t, x, "kl_bound", "bound"), series(t, x, "kl_estimate", "estimate")], { logx: true, hidelegend: false }),
    ]).box, h("h2", {}, "bon.csv"), csvTable(t));
  }

  function renderSweep(d, box) {
    const im = images(d);
    if (im) box.append(h("h2", {}, "The frontier charts klppo rlhf sweep wrote"), im);
    const fr = d.tables["frontier.csv"];
    if (fr) box.append(h("h2", {}, "frontier.csv"), csvTable(fr, 200));
    const runs = (d.children || []).filter(c => onlineRLHF(c.kind) && d.tables[c.name + "/metrics.csv"]).map(c => ({ name: c.name, t: d.tables[c.name + "/metrics.csv"] }));
    if (runs.length) {
      box.append(toolbar(), h("h2", {}, "Every PPO run of the sweep"), chartGrid([
        line("gold reward per run", "update", "gold reward", runs.map(r => series(r.t, "update", "gold_reward", r.name)), { hidelegend: false }),
        line("KL(π‖π_ref) per run", "update", "KL (nats)", runs.map(r => series(r.t, "update", "kl", r.name)), { logy: spansDecades(runs.map(r => series(r.t, "update", "kl")), 2), robust: true, hidelegend: false }),
      ]).box);
    }
  }

  function renderCompare(d, box) {
    if (d.tables["runs.csv"]) box.append(h("h2", {}, "Settings side by side"), csvTable(d.tables["runs.csv"]));
    const specs = [];
    ["episodic_return", "kl", "beta", "clipfrac"].forEach(col => {
      const ss = [];
      (d.children || []).forEach(c => {
        const t = d.tables[c.name + "/metrics.csv"];
        if (t && t.header.includes("global_step") && t.header.includes(col)) ss.push(series(t, "global_step", col, c.name));
      });
      if (ss.length) specs.push(line((col === "kl" ? "PPO's KL(π_old‖π_θ)" : col) + " per run", "global_step", col, ss,
        { hidelegend: false, robust: col === "kl", logy: col === "beta" && ss.some(s => s.y.some(v => v > 0)) }));
    });
    if (specs.length) box.append(toolbar(), h("h2", {}, "Charts"), chartGrid(specs).box);
    const im = images(d);
    if (im) box.append(h("h2", {}, "Images written by the sweep"), im);
  }

  function renderEstimators(d, box) {
    const im = images(d);
    if (im) box.append(h("h2", {}, "The optimiser's paths"), im);
  }

  function renderLeash(d, box) {
    const im = images(d);
    if (im) box.append(h("h2", {}, "The charts klppo rlhf leash wrote"), im);
    const t = d.tables["leash.csv"];
    if (t) box.append(h("h2", {}, "leash.csv: one row per run"), csvTable(t, 200));
  }

  const RENDER = { "train": renderTrain, "rlhf-ppo": renderRLHF, "rlhf-grpo": renderRLHF, "rlhf-rloo": renderRLHF, "rlhf": renderStory,
    "rlhf-sft": renderSFT, "rlhf-rm": renderRM, "rlhf-bon": renderBoN, "rlhf-sweep": renderSweep, "rlhf-leash": renderLeash,
    "compare": renderCompare, "rlhf-estimators": renderEstimators };

  // ---- the overlay of several runs ----
  async function overlay(names) {
    const box = document.querySelector(".run");
    document.querySelector("h1.runname").textContent = "Overlay of " + names.length + " runs";
    document.title = "overlay · klppo";
    let ds;
    try { ds = await Promise.all(names.map(n => getJSON(runAPI(n)))); } catch (e) {
      box.textContent = "";
      box.append(h("p", { class: "error" }, e.message));
      return;
    }
    box.textContent = "";
    groups.length = 0;
    box.append(h("p", {}, "Runs: ", ds.map((d, i) => [i ? " · " : "", h("a", { href: runURL(d.name) }, d.name), " ", h("span", { class: "badge", title: d.kind_name }, d.kind || "?")])));
    // metric → [{run, table, column}]: the same quantity (see metricKey) in each run's metrics.csv
    const byKey = new Map();
    ds.forEach(d => {
      const t = d.tables["metrics.csv"];
      if (!t) return;
      t.header.forEach((c, i) => {
        if (SKIP_X.has(c) || !t.rows.some(r => num(r[i]) !== null)) return;
        const k = metricKey(d.kind, c);
        if (!byKey.has(k)) byKey.set(k, []);
        byKey.get(k).push({ d, t, c });
      });
    });
    const shared = Array.from(byKey.entries()).filter(([, v]) => new Set(v.map(e => e.d.name)).size >= 2);
    shared.sort((a, b) => ORDER.findIndex(re => re.test(a[0])) - ORDER.findIndex(re => re.test(b[0])));
    body.dataset.overlay = String(shared.length);
    if (!shared.length) {
      box.append(h("p", { class: "error" }, "These runs share no metric: nothing to overlay."),
        h("ul", {}, ds.map(d => h("li", {}, d.name + ": " + (d.tables["metrics.csv"] ? d.tables["metrics.csv"].header.join(", ") : "no metrics.csv")))));
      return;
    }
    const specs = shared.map(([k, es]) => {
      const xs = ["global_step", "update", "epoch"].find(x => es.every(e => e.t.header.includes(x))) || "row";
      return line(k, xs === "row" ? "row of metrics.csv" : xs, /KL/.test(k) ? "KL (nats)" : k.split(": ").pop(),
        es.map(e => series(e.t, xs, e.c, e.d.name + (es.filter(o => o.d === e.d).length > 1 ? ": " + e.c : ""))),
        { hidelegend: false, robust: true });
    });
    box.append(toolbar(), h("p", {}, shared.length + " metric" + (shared.length > 1 ? "s" : "") + " shared by at least two of the runs, one curve per run. " +
      "The overlay does not refresh; reload the page for new rows."), chartGrid(specs).box);
  }

  if (body.dataset.kind === "runs") { list(); return; }
  const names = params.getAll("run");
  if (names.length > 1) overlay(names); else run(names[0] || "");
})();
