// Admin dashboard: keeps the server-rendered figures live from the `stats` messages the node publishes
// every ~2 s on the WebSocket (admin sessions receive them). Reconnects with backoff; text only, never
// HTML, so nothing from the server is interpreted as markup.
(function () {
  "use strict";
  var state = document.getElementById("live-state");
  var delay = 1000;

  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    return typeof v === "number" && digits !== undefined ? v.toFixed(digits) : String(v);
  }

  function set(key, value) {
    var els = document.querySelectorAll('[data-stat="' + key + '"]');
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }

  function apply(s) {
    set("node", s.node);
    set("at", s.at);
    set("online_users", fmt(s.online_users));
    set("online_users_peak", fmt(s.online_users_peak));
    set("ws_connections", fmt(s.ws_connections));
    set("generations_running", fmt(s.generations_running));
    set("tokens_per_sec", fmt(s.tokens_per_sec, 1));
    set("llm.p50_ms", fmt(s.llm.p50_ms));
    set("llm.p95_ms", fmt(s.llm.p95_ms));
    set("llm.calls", fmt(s.llm.calls));
    set("llm.error_pct", s.llm.error_rate === null ? "–" : (s.llm.error_rate * 100).toFixed(1));
    set("cpu_percent", fmt(s.cpu_percent, 1));
    set("memory_mb", s.memory_bytes === null ? "–" : (s.memory_bytes / 1048576).toFixed(1));
    (s.queues || []).forEach(function (q) {
      set("queue." + q.queue + ".queued", fmt(q.queued));
      set("queue." + q.queue + ".running", fmt(q.running));
    });
    (s.breakers || []).forEach(function (b) { set("breaker." + b.provider, b.state); });
  }

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
      // Analytics updates share the topic; the analytics page reads those.
      if (msg.type === "stats" && msg.data && !msg.data.analytics) apply(msg.data);
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
