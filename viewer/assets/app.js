// BitTensor viewer page: polls /api/state and draws with plain SVG. No libraries, no network
// access beyond this server.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const POLL_MS = 2000;
const PALETTE = ["#5470c6", "#ee6666", "#3ba272", "#fac858", "#73c0de", "#9a60b4",
                 "#fc8452", "#91cc75", "#ea7ccc", "#2f4554", "#d48265", "#61a0a8"];

function el(tag, attrs, parent, ns) {
  const e = ns === false ? document.createElement(tag) : document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
}
function html(tag, attrs, parent) { return el(tag, attrs, parent, false); }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function colors(nodes) {
  const map = {};
  nodes.forEach((n, i) => { map[n.name] = PALETTE[i % PALETTE.length]; });
  return (name) => map[name] || "#8a93a6";
}
function pct(x) { return x == null || !isFinite(x) ? "–" : (100 * x).toFixed(2) + "%"; }
function precision(state) {
  const sym = state.global && state.global.symbol;
  const p = sym ? parseInt(String(sym).split(",")[0], 10) : 4;
  return { p: isFinite(p) ? p : 4, code: sym && String(sym).includes(",") ? String(sym).split(",")[1] : "BIT" };
}
function amount(units, state) {
  const { code } = precision(state);
  return number(units, state) + " " + code;
}
function number(units, state) {
  const { p } = precision(state);
  return (Number(units) / Math.pow(10, p)).toFixed(Math.min(p, 4));
}
function niceTicks(lo, hi, count) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(+v.toFixed(10));
  return out;
}
function fmtTick(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toPrecision(3);
}

// A line chart of named series [{name, color, points: [[x, y], ...]}] into an <svg>.
function lineChart(svg, series, opts) {
  clear(svg);
  const vb = svg.viewBox.baseVal;
  const W = vb.width, H = vb.height, m = opts.margin || { l: 48, r: 12, t: 10, b: 28 };
  const all = series.flatMap(s => s.points);
  if (all.length === 0) {
    el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "tick", text: opts.empty || "no data yet" }, svg);
    return;
  }
  let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
  let y0 = opts.y0 != null ? opts.y0 : Math.min(...all.map(p => p[1]));
  let y1 = Math.max(...all.map(p => p[1]));
  if (opts.yMaxAtLeast != null) y1 = Math.max(y1, opts.yMaxAtLeast);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= Math.abs(y0) * 0.1 + 0.01; y1 += Math.abs(y1) * 0.1 + 0.01; }
  const pad = (y1 - y0) * 0.05; y1 += pad; if (opts.y0 == null) y0 -= pad;
  const sx = x => m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r);
  const sy = y => H - m.b - (y - y0) / (y1 - y0) * (H - m.t - m.b);
  const grid = el("g", { class: "grid" }, svg), axis = el("g", { class: "axis" }, svg);
  for (const t of niceTicks(y0, y1, opts.yTicks || 5)) {
    el("line", { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t) }, grid);
    el("text", { x: m.l - 6, y: sy(t) + 4, "text-anchor": "end", class: "tick", text: opts.yFmt ? opts.yFmt(t) : fmtTick(t) }, axis);
  }
  for (const t of niceTicks(x0, x1, opts.xTicks || 6)) {
    el("text", { x: sx(t), y: H - m.b + 16, "text-anchor": "middle", class: "tick", text: fmtTick(t) }, axis);
  }
  el("line", { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }, axis);
  el("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }, axis);
  if (opts.xLabel) el("text", { x: W - m.r, y: H - 2, "text-anchor": "end", class: "tick", text: opts.xLabel }, axis);
  for (const s of series) {
    if (s.points.length === 0) continue;
    // A jump in x wider than `maxGap` is missing data: the line breaks there.
    const jump = (p, i) => i === 0 || (opts.maxGap != null && p[0] - s.points[i - 1][0] > opts.maxGap);
    const d = s.points.map((p, i) => (jump(p, i) ? "M" : "L") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join(" ");
    el("path", { d, fill: "none", stroke: s.color, "stroke-width": s.width || opts.width || 2.5,
      "stroke-opacity": s.opacity || 1, "data-series": s.name }, svg);
    if (s.points.length === 1) {
      el("circle", { cx: sx(s.points[0][0]), cy: sy(s.points[0][1]), r: 3, fill: s.color }, svg);
    }
  }
}

function drawGraph(state, color) {
  const svg = document.getElementById("graph");
  clear(svg);
  const defs = el("defs", {}, svg);
  const nodes = state.nodes || [];
  if (nodes.length === 0) {
    el("text", { x: 240, y: 200, "text-anchor": "middle", class: "tick", text: "no subscribed node" }, svg);
    return;
  }
  const cx = 240, cy = 205, R = nodes.length === 1 ? 0 : 125;
  const pos = {};
  const radius = n => 12 + 34 * Math.sqrt(Math.max(0, n.fraction || 0));
  nodes.forEach((n, i) => {
    const a = -Math.PI / 2 + 2 * Math.PI * i / nodes.length;
    pos[n.name] = { x: cx + R * Math.cos(a), y: cy + R * Math.sin(a), r: radius(n), a };
  });
  const edgeLayer = el("g", { id: "graph-edges" }, svg);
  (state.edges || []).forEach((e, i) => {
    const p = pos[e.from], q = pos[e.to];
    if (!p || !q) return;
    const c = color(e.from);
    const id = "arrow-" + i;
    const mk = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0 0 L10 5 L0 10 z", fill: c }, mk);
    // Bend each edge to its right so a pair of opposite edges do not overlap.
    const dx = q.x - p.x, dy = q.y - p.y, len = Math.hypot(dx, dy) || 1;
    const ux = dx / len, uy = dy / len;
    const bend = 0.18 * len;
    const mx = (p.x + q.x) / 2 - uy * bend, my = (p.y + q.y) / 2 + ux * bend;
    const start = towards(p, mx, my, p.r + 2), end = towards(q, mx, my, q.r + 4);
    const path = el("path", {
      d: `M${start.x.toFixed(1)} ${start.y.toFixed(1)} Q${mx.toFixed(1)} ${my.toFixed(1)} ${end.x.toFixed(1)} ${end.y.toFixed(1)}`,
      fill: "none", stroke: c, "stroke-opacity": 0.75, "stroke-width": (1 + 9 * e.weight).toFixed(2),
      "marker-end": `url(#${id})`, "data-edge": e.from + ":" + e.to,
    }, edgeLayer);
    el("title", { text: `${e.from} → ${e.to}: ${pct(e.weight)}` }, path);
  });
  for (const n of nodes) {
    const p = pos[n.name];
    const g = el("g", { class: "node " + (n.up ? "up" : "down"), "data-node": n.name }, svg);
    el("circle", { cx: p.x, cy: p.y, r: p.r, fill: color(n.name) }, g);
    // Labels go outside the circle, away from the centre.
    const out = nodes.length === 1 ? { x: 0, y: 1 } : { x: Math.cos(p.a), y: Math.sin(p.a) };
    const lx = p.x + out.x * (p.r + 10), ly = p.y + out.y * (p.r + 10);
    const anchor = Math.abs(out.x) < 0.3 ? "middle" : out.x > 0 ? "start" : "end";
    const dy = out.y > 0.3 ? 12 : out.y < -0.3 ? -14 : 0;
    el("text", { x: lx, y: ly + dy, "text-anchor": anchor, class: "label", text: n.name }, g);
    el("text", { x: lx, y: ly + dy + 14, "text-anchor": anchor, class: "sub", text: pct(n.fraction) + (n.up ? "" : " · down") }, g);
    el("title", { text: `${n.name}: stake ${amount(n.stake, state)}, self weight ${pct(n.self_weight)}` }, g);
  }
}
function towards(p, x, y, d) {
  const dx = x - p.x, dy = y - p.y, len = Math.hypot(dx, dy) || 1;
  return { x: p.x + dx / len * d, y: p.y + dy / len * d };
}

function drawHistory(state, color) {
  const names = (state.nodes || []).map(n => n.name);
  const series = names.map(name => ({
    name, color: color(name),
    points: (state.history || []).filter(h => name in h.fractions).map(h => [h.block, h.fractions[name]]),
  }));
  lineChart(document.getElementById("history"), series,
    { y0: 0, yFmt: v => (100 * v).toFixed(0) + "%", xLabel: "block", empty: "waiting for the first poll",
      margin: { l: 48, r: 16, t: 10, b: 36 } });
  const legend = document.getElementById("history-legend");
  clear(legend);
  for (const s of series) {
    const item = html("span", { "data-legend": s.name }, legend);
    html("span", { class: "swatch", style: "background:" + s.color }, item);
    item.appendChild(document.createTextNode(s.name));
  }
}

function drawTable(state, color) {
  const code = precision(state).code;
  document.getElementById("stake-head").textContent = "stake " + code;
  document.getElementById("residual-head").textContent = "residual " + code;
  const body = document.querySelector("#fractions tbody");
  clear(body);
  for (const n of state.nodes || []) {
    const tr = html("tr", { "data-row": n.name }, body);
    const name = html("td", {}, tr);
    html("span", { class: "swatch", style: "background:" + color(n.name) }, name);
    name.appendChild(document.createTextNode(n.name));
    html("td", { text: number(n.stake, state) }, tr);
    html("td", { class: "fraction", text: pct(n.fraction) }, tr);
    html("td", { class: "received", text: pct(n.received) }, tr);
    html("td", { class: "credited", text: pct(n.credited) }, tr);
    html("td", { class: "predicted", text: pct(n.predicted) }, tr);
    html("td", { text: number(n.residual, state) }, tr);
    html("td", { text: pct(n.self_weight) }, tr);
    html("td", { class: n.up ? "up" : "down", text: n.up ? "up" : "down" }, tr);
  }
  const perr = document.getElementById("prediction-error");
  perr.hidden = !state.prediction_error;
  perr.textContent = state.prediction_error ? "prediction unavailable: " + state.prediction_error : "";
  const cons = document.getElementById("conservation");
  clear(cons);
  const c = state.conservation;
  if (!c) {
    cons.textContent = "conservation: supply or balances not readable";
    return;
  }
  const mark = ok => html("span", { class: ok ? "ok" : "bad", text: ok ? " ✓ holds" : " ✗ broken" });
  cons.appendChild(document.createTextNode(
    `supply ${amount(c.supply, state)} = balances ${amount(c.balances, state)} + stake ${amount(c.total_stake, state)} + outstanding ${amount(c.outstanding, state)}`));
  cons.appendChild(mark(c.supply_holds));
  cons.appendChild(html("br"));
  cons.appendChild(document.createTextNode("table sums (stakes, residuals) match global"));
  cons.appendChild(mark(c.sums_hold));
}

function drawWorkers(state, color) {
  const box = document.getElementById("workers");
  clear(box);
  const workers = state.workers || [];
  if (workers.length === 0) { html("div", { class: "empty", text: "no worker yet" }, box); return; }
  for (const w of workers) {
    const card = html("div", { class: "worker", "data-worker": w.name }, box);
    const h = html("h3", {}, card);
    const title = html("span", {}, h);
    html("span", { class: "swatch", style: "background:" + color(w.name) }, title);
    title.appendChild(document.createTextNode(w.name));
    html("span", { class: w.up ? "up" : "down", text: w.up ? "up" : "down" }, h);
    const meta = [];
    if (w.step != null) meta.push("step " + w.step);
    if (w.loss != null) meta.push("loss " + Number(w.loss).toFixed(3));
    if (w.examples_per_sec != null) meta.push(Number(w.examples_per_sec).toFixed(0) + " pairs/s");
    if (w.emits_pushed != null || w.emits_failed != null) meta.push(`emits ${w.emits_pushed ?? 0} ok / ${w.emits_failed ?? 0} failed`);
    const iv = w.last_emit_interval;
    if (iv) meta.push(`last emit interval ${Number(iv.secs).toFixed(1)} s, ${iv.steps} steps`);
    html("div", { class: "meta", text: meta.join(" · ") || (w.up ? "no figures reported" : "") }, card);
    if (w.error) html("div", { class: "err", title: w.error, text: shortError(w.error) }, card);
    const series = w.loss_series || [];
    if (series.length > 0) {
      const chart = el("svg", { viewBox: "0 0 220 90", class: "loss", "data-loss": w.name }, card);
      // Each step's loss (one batch, noisy) faint, its running mean over 25 steps drawn over it.
      lineChart(chart, [
        { name: w.name, color: color(w.name), points: series, width: 1, opacity: 0.3 },
        { name: w.name + " mean", color: color(w.name), points: runningMean(series, 25), width: 2 },
      ], { margin: { l: 30, r: 14, t: 6, b: 18 }, yTicks: 3, xTicks: 3, maxGap: 1 });
    } else if (w.up) {
      html("div", { class: "empty", text: "no loss reported" }, card);
    }
    const attrs = (w.attributions || []).slice().sort((a, b) => b.value - a.value);
    const max = Math.max(1e-12, ...attrs.map(a => Math.abs(a.value)));
    const list = html("div", { class: "attributions" }, card);
    if (attrs.length === 0 && w.up) html("div", { class: "empty", text: "no attributions" }, list);
    for (const a of attrs.slice(0, 12)) {
      const row = html("div", { class: "bar-row", "data-attribution": w.name + ":" + a.peer }, list);
      html("span", { text: a.peer }, row);
      const track = html("div", { class: "bar-track" }, row);
      html("div", { class: "bar", style: `width:${(100 * Math.abs(a.value) / max).toFixed(1)}%;background:${color(a.peer)}` }, track);
      html("span", { text: Number(a.value).toPrecision(3) }, row);
    }
  }
}

// Running mean of the last `k` y values at each point.
function runningMean(points, k) {
  let sum = 0;
  return points.map((p, i) => {
    sum += p[1];
    if (i >= k) sum -= points[i - k][1];
    return [p[0], sum / Math.min(i + 1, k)];
  });
}

// The gist of a transport error (full text stays in the tooltip).
function shortError(text) {
  const known = ["not dialled", "answers as", "Connection refused", "no answer within", "HTTP ", "bad worker status", "bad JSON"];
  const hit = known.find(k => text.includes(k));
  const gist = hit ? text.slice(text.indexOf(hit)) : text;
  const short = gist.length > 80 ? gist.slice(0, 80) + "…" : gist;
  // A refused address or another node's answer is not a connectivity problem: say what it is.
  if (hit === "not dialled") return short;
  if (hit === "answers as") return "wrong node: " + short;
  return "unreachable: " + short;
}

function render(state) {
  const color = colors(state.nodes || []);
  const status = document.getElementById("status");
  const when = state.updated_unix_ms ? new Date(state.updated_unix_ms).toLocaleTimeString() : "never";
  status.textContent = `contract ${state.contract} · ${state.chain_url} · block ${state.head_block ?? "–"} · ` +
    `${(state.nodes || []).length} nodes · updated ${when}`;
  const err = document.getElementById("error");
  err.hidden = !state.error;
  err.textContent = state.error ? "last poll failed: " + state.error : "";
  drawGraph(state, color);
  drawHistory(state, color);
  drawTable(state, color);
  drawWorkers(state, color);
}

async function poll() {
  try {
    const r = await fetch("/api/state", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    const err = document.getElementById("error");
    err.hidden = false;
    err.textContent = "viewer unreachable: " + e.message;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
poll();
