// explain.js: drives one explainer page. Every number comes from klppo.wasm (package kl compiled
// to WebAssembly): klppo.compute(slug, query) returns the view as JSON; this file only draws it.
"use strict";
(function () {
  const body = document.body, slug = body.dataset.page, root = body.dataset.root;
  const sliders = Array.from(document.querySelectorAll(".controls input[type=range]"));
  const state = {}; // parameter values, from the URL or the sliders
  window.klppoTimings = []; // per update: {compute, render, total} in ms (read by the browser test)

  function fromSlider(s) {
    let v = parseFloat(s.value);
    if (s.dataset.log) v = Math.pow(10, v);
    if (s.dataset.int) v = Math.round(v);
    else v = +v.toPrecision(6);
    return v;
  }
  function toSlider(s, v) {
    s.value = s.dataset.log ? Math.log10(v) : v;
  }
  function show(s) { s.parentElement.querySelector("output").textContent = String(state[s.name]); }

  const params = new URLSearchParams(location.search);
  sliders.forEach(s => {
    if (s.dataset.log) { // the slider moves log10 of the value, in the page's step
      s.min = Math.log10(+s.dataset.min); s.max = Math.log10(+s.dataset.max);
    }
    const given = params.get(s.name);
    state[s.name] = given !== null && given !== "" ? Number(given) : +s.dataset.default;
    toSlider(s, state[s.name]);
    show(s);
    s.addEventListener("input", () => { state[s.name] = fromSlider(s); show(s); update(); });
  });

  function query() {
    return sliders.map(s => encodeURIComponent(s.name) + "=" + encodeURIComponent(String(state[s.name]))).join("&");
  }

  function renderValues(values) {
    const box = document.querySelector(".values");
    box.textContent = "";
    values.forEach(v => {
      const d = document.createElement("div");
      d.className = "value";
      const l = document.createElement("span");
      l.className = "label"; l.textContent = v.label;
      const b = document.createElement("b");
      b.dataset.value = v.name; b.textContent = v.text;
      d.append(l, b);
      // units come from Go in the right number ("1 bit", "0.5 bits")
      if (v.unit) { const u = document.createElement("span"); u.className = "unit"; u.textContent = " " + v.unit; d.append(u); }
      if (v.bits) { const u = document.createElement("span"); u.className = "bits"; u.textContent = " = " + v.bits + " " + v.bits_unit; d.append(u); }
      box.appendChild(d);
    });
  }

  function update() {
    const t0 = performance.now();
    const q = query();
    const res = JSON.parse(window.klppo.compute(slug, q));
    const t1 = performance.now();
    const box = document.querySelector(".values");
    if (res.error) { // e.g. a URL value outside a slider's range: say so, keep the last view
      box.querySelectorAll(".error, .loading").forEach(e => e.remove());
      const e = document.createElement("p");
      e.className = "error"; e.textContent = res.error;
      box.prepend(e);
      window.klppoTimings.push({ compute: t1 - t0, render: 0, total: performance.now() - t0, error: true });
      body.dataset.error = "1";
      body.dataset.updates = String(window.klppoTimings.length);
      return;
    }
    delete body.dataset.error;
    const v = res.view;
    renderValues(v.values);
    document.querySelector(".caption").textContent = v.caption;
    // the command may wrap after a comma of a long list, never inside a number
    const cmd = document.querySelector(".cmd");
    cmd.textContent = "";
    v.command.split(",").forEach((part, i) => {
      if (i > 0) cmd.append(",", document.createElement("wbr"));
      cmd.append(part);
    });
    const charts = document.querySelector(".charts");
    charts.textContent = "";
    window.drawCharts(charts, v.charts);
    const link = document.querySelector("a.link");
    link.href = "?" + q;
    history.replaceState(null, "", "?" + q);
    const t2 = performance.now();
    const rec = { compute: t1 - t0, render: t2 - t1, total: t2 - t0 };
    window.klppoTimings.push(rec);
    requestAnimationFrame(() => setTimeout(() => { rec.frame = performance.now() - t0; }, 0));
    body.dataset.updates = String(window.klppoTimings.length);
  }

  window.klppoReady = function () { update(); body.dataset.ready = "1"; };
  const go = new Go();
  const url = root + "static/klppo.wasm";
  const start = r => go.run(r.instance);
  const fail = err => {
    document.querySelector(".values").innerHTML = "";
    const e = document.createElement("p");
    e.className = "error";
    e.textContent = "Could not load klppo.wasm (" + err + "). Serve this directory over HTTP, e.g. klppo serve or python3 -m http.server.";
    document.querySelector(".values").appendChild(e);
  };
  if (WebAssembly.instantiateStreaming) {
    WebAssembly.instantiateStreaming(fetch(url), go.importObject).then(start).catch(() =>
      fetch(url).then(r => r.arrayBuffer()).then(b => WebAssembly.instantiate(b, go.importObject)).then(start).catch(fail));
  } else {
    fetch(url).then(r => r.arrayBuffer()).then(b => WebAssembly.instantiate(b, go.importObject)).then(start).catch(fail);
  }
})();
