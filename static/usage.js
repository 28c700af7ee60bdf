// The author's usage page: draws words written and books finished per day from the figures the server
// embedded in the page, and carries the browser's time zone into the range links (days are local).
(function () {
  "use strict";
  var tz = "UTC";
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* UTC */ }
  var links = document.querySelectorAll(".ranges a[data-range]");
  for (var i = 0; i < links.length; i++) {
    links[i].href = "/usage?range=" + encodeURIComponent(links[i].getAttribute("data-range")) +
      "&tz=" + encodeURIComponent(tz);
  }
  var shown = document.getElementById("usage-tz");
  var params = new URLSearchParams(location.search);
  if (!params.get("tz") && tz !== "UTC" && shown && shown.textContent === "UTC") {
    // First visit: ask again once in the viewer's zone so days start at local midnight.
    params.set("tz", tz);
    location.replace("/usage?" + params.toString());
    return;
  }
  var el = document.getElementById("usage-chart");
  if (!el || typeof uPlot === "undefined") return;
  var data;
  try { data = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
  var lang = document.documentElement.lang || "en";
  var num = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var day = new Intl.DateTimeFormat(lang, { timeZone: tz, day: "numeric", month: "short" });
  var css = getComputedStyle(document.documentElement);
  var ink = (css.getPropertyValue("--ink") || "").trim() || "#1d1f24";
  var grid = (css.getPropertyValue("--line") || "").trim() || "#e5e7eb";
  var opts = {
    width: Math.max(240, el.clientWidth), height: 240,
    series: [
      { value: function (u, ts) { return ts == null ? "–" : day.format(new Date(ts * 1000)); } },
      { label: el.getAttribute("data-label-words"), stroke: "#3b7d68", fill: "#3b7d6822", width: 2, scale: "w",
        value: function (u, v) { return v == null ? "–" : num.format(v); } },
      { label: el.getAttribute("data-label-books"), stroke: "#d9622b", width: 2, scale: "b",
        points: { show: true, size: 7 }, value: function (u, v) { return v == null ? "–" : num.format(v); } }
    ],
    axes: [
      { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid },
        values: function (u, s) { return s.map(function (ts) { return day.format(new Date(ts * 1000)); }); } },
      { scale: "w", stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid }, size: 64,
        values: function (u, s) { return s.map(function (v) { return num.format(v); }); } },
      { scale: "b", side: 1, stroke: ink, grid: { show: false }, size: 40,
        values: function (u, s) { return s.map(function (v) { return num.format(v); }); } }
    ],
    scales: { w: { range: function (u, a, b) { return [0, b > 0 ? b * 1.1 : 1]; } },
              b: { range: function (u, a, b) { return [0, Math.max(1, Math.ceil(b * 1.2))]; } } }
  };
  var plot = new uPlot(opts, [data.t, data.words, data.books_completed], el);
  window.addEventListener("resize", function () {
    plot.setSize({ width: Math.max(240, el.clientWidth), height: 240 });
  });
})();
