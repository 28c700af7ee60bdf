// Admin analytics: loads /admin/analytics.json for the chosen range in the browser's time zone, draws
// one uPlot chart per card with its totals, and keeps them live from the roll-up's updates (`stats`
// messages with an `analytics` member) on the admin WebSocket. Each message carries the recent slots as stored; the difference from what the
// page has already counted is added to the bucket holding the slot (a bucket is appended when time moves
// on), so points appear without reloading. Text only: labels and numbers go through textContent.
(function () {
  "use strict";
  var root = document.getElementById("analytics");
  if (!root || typeof uPlot === "undefined") return;
  var range = root.getAttribute("data-range");
  var lang = document.documentElement.lang || "en";
  var tz = "UTC";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* UTC */ }
  var labels = {};
  var dts = document.querySelectorAll("#analytics-labels dt");
  for (var i = 0; i < dts.length; i++) labels[dts[i].textContent] = dts[i].nextElementSibling.textContent;
  var num = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var usd = new Intl.NumberFormat(lang, { style: "currency", currency: "USD", maximumFractionDigits: 4 });
  var pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  var PALETTE = ["#3b7d68", "#d9622b", "#3b82f6", "#a855f7", "#ca8a04", "#14b8a6", "#e11d48", "#64748b"];
  var report = null, seen = {}, gauges = {}, plots = {}, updates = 0, kinds = {};

  function fmt(unit, v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    if (unit === "usd") return usd.format(v);
    if (unit === "ratio") return pct.format(v);
    return num.format(v);
  }
  function isGauge(kind) { return kind === "gauge_sum" || kind === "gauge_max"; }
  function key(r) { return r.width_secs + "|" + r.slot + "|" + r.series + "|" + r.dim; }
  function dimKey(kind, dim) {
    var i = dim.lastIndexOf("|");
    return isGauge(kind) && i >= 0 ? dim.slice(0, i) : dim;
  }
  function kindOf(name) { return kinds[name] || (name === "latency_bin" ? "hidden" : "sum"); }
  function css(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return (v && v.trim()) || fallback;
  }
  function label(l) { return (labels[l.name] || l.name) + (l.dim ? " · " + l.dim : ""); }

  var timeFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  var dayFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, day: "numeric", month: "short" });
  var fullFmt = new Intl.DateTimeFormat(lang, { timeZone: tz, dateStyle: "medium", timeStyle: "short" });
  function tick(ts) { return (report.bucket === "day" ? dayFmt : timeFmt).format(new Date(ts * 1000)); }

  function load() {
    var url = "/admin/analytics.json?range=" + encodeURIComponent(range) + "&tz=" + encodeURIComponent(tz);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(init)
      .catch(function () { document.getElementById("analytics-error").hidden = false; });
  }

  function init(rep) {
    report = rep; seen = {}; gauges = {};
    rep.series.forEach(function (l) { kinds[l.name] = l.kind; });
    rep.recent.forEach(function (r) { seen[key(r)] = r.value; noteGauge(r); });
    document.getElementById("analytics-tz").textContent = rep.tz;
    document.getElementById("analytics-csv").href =
      "/admin/analytics.csv?range=" + encodeURIComponent(range) + "&tz=" + encodeURIComponent(tz);
    drawAll();
    root.setAttribute("data-loaded", "1");
  }

  function linesOf(card) {
    var names = card.getAttribute("data-series").split(",");
    return report.series.filter(function (l) { return names.indexOf(l.name) >= 0 && l.kind !== "hidden"; });
  }

  function drawAll() {
    var cards = root.querySelectorAll(".chart-card");
    for (var i = 0; i < cards.length; i++) draw(cards[i]);
  }

  function draw(card) {
    var lines = linesOf(card), el = card.querySelector(".chart");
    var sig = lines.map(function (l) { return l.name + "|" + l.dim; }).join(",");
    var data = [report.t.slice()].concat(lines.map(function (l) { return l.values.slice(); }));
    var p = plots[card.id];
    if (p && p.sig === sig) {
      p.plot.setData(data);
    } else {
      if (p) p.plot.destroy();
      el.textContent = "";
      var ink = css("--ink", "#1d1f24"), grid = css("--line", "#e5e7eb");
      var unit = lines.length ? lines[0].unit : "count";
      // Whole things (books, words, tokens, jobs, users) get whole-number ticks.
      var whole = ["count", "words", "tokens", "jobs", "users", "connections"].indexOf(unit) >= 0;
      var few = report.t.length <= 31;
      var opts = {
        width: Math.max(240, el.clientWidth), height: 220,
        series: [{ value: function (u, ts) { return ts == null ? "–" : fullFmt.format(new Date(ts * 1000)); } }]
          .concat(lines.map(function (l, i) {
            var color = PALETTE[i % PALETTE.length];
            return { label: label(l), stroke: color, width: 2, fill: lines.length === 1 ? color + "22" : undefined,
                     points: { show: few, size: 5 },
                     value: function (u, v) { return fmt(l.unit, v); } };
          })),
        axes: [
          { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, space: 64,
            values: function (u, splits) { return splits.map(tick); } },
          { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, size: 64, space: 36,
            incrs: whole ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5,
                            1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 1e9, 1e10] : undefined,
            values: function (u, splits) { return splits.map(function (v) { return fmt(unit, v); }); } }
        ],
        scales: { y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
        legend: { show: true }
      };
      plots[card.id] = { sig: sig, plot: new uPlot(opts, data, el) };
    }
    totals(card, lines);
  }

  function totals(card, lines) {
    var dl = card.querySelector(".totals");
    dl.textContent = "";
    lines.forEach(function (l) {
      var dt = document.createElement("dt");
      var what = l.kind === "derived" ? "whole_range" : isGauge(l.kind) ? "peak" : "total";
      dt.textContent = label(l) + " (" + (labels[what] || what) + ")";
      var dd = document.createElement("dd");
      dd.setAttribute("data-series", l.name);
      dd.setAttribute("data-dim", l.dim);
      dd.textContent = fmt(l.unit, total(l));
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
  }

  function total(l) {
    var n = report.t.length;
    if (l.kind === "derived") {
      if (l.name === "llm_error_rate") {
        var c = sum(across("llm_calls", n)), f = sum(across("llm_failed", n));
        return c > 0 ? f / c : null;
      }
      var all = hist(n).reduce(function (acc, h) { return acc.map(function (x, i) { return x + h[i]; }); },
                               zeros(report.latency_edges_ms.length + 1));
      return percentile(all, l.name === "latency_p50_ms" ? 50 : 95);
    }
    if (isGauge(l.kind)) return l.values.reduce(function (a, v) { return Math.max(a, v || 0); }, 0);
    return sum(l.values);
  }

  function zeros(n) { var a = []; for (var i = 0; i < n; i++) a.push(0); return a; }
  function sum(a) { return a.reduce(function (s, v) { return s + (v || 0); }, 0); }
  function across(name, n) {
    var out = zeros(n);
    report.series.forEach(function (l) {
      if (l.name === name) l.values.forEach(function (v, i) { out[i] += v || 0; });
    });
    return out;
  }
  function hist(n) {
    var bins = report.latency_edges_ms.length + 1, out = [];
    for (var i = 0; i < n; i++) out.push(zeros(bins));
    report.series.forEach(function (l) {
      var b = parseInt(l.dim, 10);
      if (l.name === "latency_bin" && b >= 0 && b < bins) l.values.forEach(function (v, i) { out[i][b] += v || 0; });
    });
    return out;
  }
  // Nearest rank, interpolated inside the bin (the same rule as the server's `series::percentile`).
  function percentile(h, p) {
    var edges = report.latency_edges_ms, n = sum(h);
    if (n <= 0) return null;
    var rank = Math.max(1, Math.ceil(p / 100 * n)), below = 0;
    for (var i = 0; i < h.length; i++) {
      if (h[i] > 0 && below + h[i] >= rank) {
        var lower = i === 0 ? 0 : edges[i - 1], upper = i < edges.length ? edges[i] : lower * 2;
        return Math.round(lower + (upper - lower) * (rank - below) / h[i]);
      }
      below += h[i];
    }
    return null;
  }
  function derive() {
    var n = report.t.length;
    report.series.forEach(function (l) {
      if (l.kind !== "derived") return;
      if (l.name === "llm_error_rate") {
        var c = across("llm_calls", n), f = across("llm_failed", n);
        l.values = c.map(function (x, i) { return x > 0 ? f[i] / x : null; });
      } else {
        var p = l.name === "latency_p50_ms" ? 50 : 95;
        l.values = hist(n).map(function (h) { return percentile(h, p); });
      }
    });
  }

  // The bucket holding a slot; buckets are appended (and the oldest dropped) as time moves on.
  function bucketOf(slot) {
    while (slot >= report.end) {
      if (!report.upcoming.length) { load(); return -1; }
      var start = report.end;
      report.end = report.upcoming.shift();
      report.t.push(start); report.t.shift();
      report.series.forEach(function (l) { l.values.push(l.kind === "derived" ? null : 0); l.values.shift(); });
    }
    if (slot < report.t[0]) return -1;
    var lo = 0, hi = report.t.length - 1;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (report.t[mid] <= slot) lo = mid; else hi = mid - 1; }
    return lo;
  }

  function lineFor(name, dim, kind) {
    var found = null, unit = "count";
    report.series.forEach(function (l) {
      if (l.name === name) { unit = l.unit; if (l.dim === dim) found = l; }
    });
    if (found) return found;
    // A new model, class or queue: drop the empty placeholder line of the series, if any.
    report.series = report.series.filter(function (l) {
      return !(l.name === name && l.dim === "" && sum(l.values) === 0);
    });
    found = { name: name, dim: dim, kind: kind, unit: unit, values: zeros(report.t.length), total: 0 };
    kinds[name] = kind;
    report.series.push(found);
    return found;
  }

  function noteGauge(r) {
    var kind = kindOf(r.series);
    if (!isGauge(kind)) return;
    var i = r.dim.lastIndexOf("|"), node = i < 0 ? "" : r.dim.slice(i + 1);
    var k = r.series + "\u0000" + dimKey(kind, r.dim) + "\u0000" + r.slot;
    (gauges[k] = gauges[k] || {})[node] = r.value;
  }
  function gaugeSlot(r) {
    var kind = kindOf(r.series), nodes = gauges[r.series + "\u0000" + dimKey(kind, r.dim) + "\u0000" + r.slot] || {};
    var v = 0;
    Object.keys(nodes).forEach(function (n) { v = kind === "gauge_sum" ? v + nodes[n] : Math.max(v, nodes[n]); });
    return v;
  }

  function apply(rows) {
    if (!report) return;
    var changed = false;
    rows.forEach(function (r) {
      if (r.width_secs !== report.width || r.series.charAt(0) === "_") return;
      var kind = kindOf(r.series), k = key(r), old = seen[k] || 0;
      var i = bucketOf(r.slot);
      if (!report) return;
      seen[k] = r.value;
      if (i < 0) return;
      if (isGauge(kind)) {
        noteGauge(r);
        var l = lineFor(r.series, dimKey(kind, r.dim), kind), v = gaugeSlot(r);
        if (v > (l.values[i] || 0)) { l.values[i] = v; changed = true; }
      } else if (kind === "sum" || kind === "hidden") {
        if (r.value !== old) { lineFor(r.series, r.dim, kind).values[i] += r.value - old; changed = true; }
      }
    });
    if (changed) {
      derive();
      drawAll();
      updates += 1;
      root.setAttribute("data-updates", String(updates));
    }
  }

  var state = document.getElementById("analytics-live"), delay = 1000;
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws");
    ws.onopen = function () {
      delay = 1000;
      if (state) state.textContent = state.getAttribute("data-live") || "live";
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "stats" && msg.data && msg.data.analytics) apply(msg.data.analytics.rows || []);
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      Object.keys(plots).forEach(function (id) {
        var el = document.querySelector("#" + id + " .chart");
        if (el) plots[id].plot.setSize({ width: Math.max(240, el.clientWidth), height: 220 });
      });
    }, 150);
  });

  // A theme switch redraws the charts in the new colours.
  if (window.matchMedia) {
    var dark = window.matchMedia("(prefers-color-scheme: dark)");
    var redraw = function () {
      Object.keys(plots).forEach(function (id) { plots[id].plot.destroy(); });
      plots = {};
      if (report) drawAll();
    };
    if (dark.addEventListener) dark.addEventListener("change", redraw);
  }

  load();
  connect();
})();
