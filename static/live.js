// Live writing view: streams a book over /ws. No framework; configuration comes from data-* attributes
// (the CSP forbids inline scripts). Reconnects with jittered exponential backoff and resumes from the
// last event seq, so a dropped connection shows no gap and no repeated text.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.WebSocket) { return; }
  var bookId = root.dataset.bookId;
  var lastSeq = parseInt(root.dataset.lastSeq, 10) || 0;
  // Highest committed chunk already rendered by the server or fetched since.
  var lastChunkSeq = parseInt(root.dataset.lastChunkSeq, 10) || 0;
  var targetWords = parseInt(root.dataset.targetWords, 10) || 0;
  var textEl = document.getElementById("live-text");
  var connEl = document.getElementById("live-connection");
  // chunk_seq -> {el, len, chapter}
  var chunks = {};
  var attempt = 0;
  var ws = null;
  var started = null;
  var startWords = parseInt(root.dataset.words, 10) || 0;
  var refreshTimer = null;

  function setText(id, v) { var el = document.getElementById(id); if (el) { el.textContent = v; } }

  // Localized status labels come from data-l-<status> attributes rendered by the server.
  function setStatus(status) {
    var el = document.getElementById("live-status");
    if (!el || !status) { return; }
    el.textContent = el.getAttribute("data-l-" + status) || status;
    el.className = "badge status-" + status;
    root.dataset.status = status;
  }

  function chapterSection(index) {
    var sec = document.getElementById("chapter-" + index);
    if (!sec) {
      sec = document.createElement("section");
      sec.id = "chapter-" + index;
      sec.dataset.index = index;
      var body = document.createElement("div");
      body.className = "chapter-body";
      sec.appendChild(body);
      textEl.appendChild(sec);
    }
    return sec.querySelector(".chapter-body") || sec;
  }

  // The chapter being written: from the last chunk_started, else the first one not completed.
  var currentChapter;
  function guessChapter() {
    if (currentChapter !== undefined) { return currentChapter; }
    var li = document.querySelector("#live-chapters li:not(.chapter-state-completed)");
    return li ? parseInt(li.dataset.index, 10) : undefined;
  }

  function chunkEl(seq, chapter) {
    var c = chunks[seq];
    if (chapter === undefined) { chapter = guessChapter(); }
    if (!c) {
      var el = document.createElement("div");
      el.className = "chunk";
      el.dataset.seq = seq;
      var parent = chapter === undefined ? textEl : chapterSection(chapter);
      parent.appendChild(el);
      c = chunks[seq] = { el: el, len: 0 };
    }
    return c;
  }

  // Appends only the part of `text` at `offset` that is new (offsets are in characters).
  function applyText(seq, offset, text, chapter) {
    if (seq <= lastChunkSeq) { return; }
    var c = chunkEl(seq, chapter);
    var chars = Array.from(text);
    if (offset > c.len) { return; } // a gap: the next snapshot fills it
    var fresh = chars.slice(c.len - offset).join("");
    if (fresh) {
      c.el.textContent += fresh;
      c.len += Array.from(fresh).length;
    }
    markWriting(c.el);
  }

  function markWriting(el) {
    var prev = textEl.querySelector(".writing-cursor");
    if (prev && prev !== el) { prev.classList.remove("writing-cursor"); }
    el.classList.add("writing-cursor");
  }

  function chapterState(index, state) {
    var li = document.querySelector('#live-chapters li[data-index="' + index + '"]');
    if (!li) { return; }
    li.className = "chapter-state-" + state;
    var b = li.querySelector(".chapter-status");
    if (b) { b.textContent = state; }
  }

  function refreshProgress() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch("/books/" + bookId + "/progress", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { return; }
          setText("live-words", p.words);
          setText("live-chunks-done", p.chunks_done);
          setText("live-chunks-total", p.chunks_total);
          setText("live-tokens", p.input_tokens + p.output_tokens);
          setText("live-cost", Number(p.cost_usd).toFixed(4));
          var bar = document.getElementById("live-progress");
          if (bar && p.chunks_total > 0) { bar.value = Math.round(100 * p.chunks_done / p.chunks_total); }
          setStatus(p.status);
          setText("live-reason", p.status_reason || "");
          updateEta(p.words);
        })
        .catch(function () {});
    }, 300);
  }

  function updateEta(words) {
    if (!started) { started = { t: Date.now(), w: words }; startWords = words; return; }
    var secs = (Date.now() - started.t) / 1000;
    var rate = (words - started.w) / secs;
    if (rate <= 0 || !targetWords) { return; }
    var left = Math.max(0, targetWords - words) / rate;
    var m = Math.floor(left / 60), s = Math.round(left % 60);
    setText("live-eta", m + " min " + s + " s");
  }

  // Committed text we may have missed while disconnected.
  function fillGaps() {
    return fetch("/books/" + bookId + "/chunks?after=" + lastChunkSeq, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        rows.forEach(function (row) {
          var c = chunks[row.seq];
          if (c) { c.el.textContent = row.text; c.len = Array.from(row.text).length; c.el.classList.remove("writing-cursor"); }
          else {
            var el = document.createElement("p");
            el.textContent = row.text;
            chapterSection(row.chapter_index).appendChild(el);
          }
          lastChunkSeq = Math.max(lastChunkSeq, row.seq);
        });
      })
      .catch(function () {});
  }

  function onEvent(m) {
    if (m.seq <= lastSeq) { return; }
    lastSeq = m.seq;
    var d = m.data || {};
    switch (m.kind) {
      case "chunk_started":
        // A retry restarts the chunk's text from offset 0.
        if (chunks[d.seq]) { chunks[d.seq].el.textContent = ""; chunks[d.seq].len = 0; }
        currentChapter = d.chapter_index;
        chunkEl(d.seq, d.chapter_index);
        chapterState(d.chapter_index, "writing");
        break;
      case "chunk_completed":
        fillGaps();
        refreshProgress();
        break;
      case "chapter_completed":
        chapterState(d.chapter_index, "completed");
        break;
      case "status":
        setStatus(d.status);
        setText("live-reason", d.reason || "");
        refreshProgress();
        break;
      case "book_completed":
        setText("live-eta", "0");
        refreshProgress();
        break;
      default:
        refreshProgress();
    }
  }

  function onMessage(ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.book_id && m.book_id !== bookId) { return; }
    if (m.type === "event") { onEvent(m); }
    else if (m.type === "delta") { applyText(m.chunk_seq, m.offset, m.text); }
    else if (m.type === "snapshot") { applyText(m.chunk_seq, 0, m.text); }
    else if (m.type === "broadcast") { showBroadcast(m.message); }
    else if (m.type === "resync") {
      // The server replays a bounded number of events; past that, reload the state over HTTP.
      lastSeq = Math.max(lastSeq, m.last_seq);
      setStatus(m.status);
      fillGaps();
      refreshProgress();
    }
  }

  function showBroadcast(text) {
    var p = document.createElement("p");
    p.className = "notice";
    p.textContent = text;
    root.insertBefore(p, root.firstChild);
  }

  function connected(on) {
    if (connEl) { connEl.textContent = on ? connEl.dataset.online : connEl.dataset.offline; }
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws");
    ws.onopen = function () {
      attempt = 0;
      connected(true);
      fillGaps().then(function () {
        ws.send(JSON.stringify({ type: "subscribe", book_id: bookId, after_seq: lastSeq }));
      });
    };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      connected(false);
      var finished = ["completed", "cancelled"].indexOf(root.dataset.status) >= 0;
      if (finished) { return; }
      // Full jitter: a server restart must not bring every tab back in the same instant.
      var cap = Math.min(30000, 500 * Math.pow(2, attempt++));
      setTimeout(connect, Math.random() * cap);
    };
  }

  connect();
})();
