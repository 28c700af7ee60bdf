// Live writing view: streams a book over /ws. No framework; configuration comes from data-* attributes
// (the CSP forbids inline scripts). Reconnects with jittered exponential backoff and resumes from the
// last event seq, so a dropped connection shows no gap and no repeated text.
//
// What the page shows is derived from the stream: words and progress count the chunk in progress
// (refreshed at most every 250 ms), chapter states follow chunk/chapter events, streamed text is cut
// into paragraphs as it arrives, and the view follows the text unless the reader scrolled up.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.WebSocket) { return; }
  var bookId = root.dataset.bookId;
  var lastSeq = parseInt(root.dataset.lastSeq, 10) || 0;
  // Highest committed chunk already rendered by the server or fetched since.
  var lastChunkSeq = parseInt(root.dataset.lastChunkSeq, 10) || 0;
  var targetWords = parseInt(root.dataset.targetWords, 10) || 0;
  var committedWords = parseInt(root.dataset.words, 10) || 0;
  var chunksDone = parseInt(root.dataset.chunksDone, 10) || 0;
  var chunksTotal = parseInt(root.dataset.chunksTotal, 10) || 0;
  var textEl = document.getElementById("live-text");
  var connEl = document.getElementById("live-connection");
  var followBtn = document.getElementById("live-follow");
  // chunk_seq -> {el, raw, len, ps: [p elements]}
  var chunks = {};
  var attempt = 0;
  var ws = null;
  var started = null;
  var refreshTimer = null;
  var statsTimer = null;
  var following = true;
  var autoScrolling = false;

  function setText(id, v) { var el = document.getElementById(id); if (el) { el.textContent = v; } }
  // A count with the page language's thousands separator (12,345 / 12.345), as the server writes it.
  function fmtInt(n) {
    var sep = document.documentElement.lang === "es" ? "." : ",";
    return String(Math.max(0, Math.floor(n))).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  }

  // A known status reason in the page's language (data-l-<reason> on the element), else as sent.
  function setReason(reason) {
    var el = document.getElementById("live-reason");
    if (!el) { return; }
    el.textContent = (reason && el.getAttribute("data-l-" + reason)) || reason || "";
  }

  function countWords(s) { var m = s.match(/\S+/g); return m ? m.length : 0; }

  // --- status and controls ---------------------------------------------------------------------
  function setStatus(status) {
    var el = document.getElementById("live-status");
    if (!el || !status) { return; }
    var changed = root.dataset.status !== status;
    el.textContent = el.getAttribute("data-l-" + status) || status;
    el.className = "badge status-" + status;
    root.dataset.status = status;
    document.querySelectorAll(".live-control").forEach(function (f) {
      f.hidden = (f.dataset.show || "").split(" ").indexOf(status) < 0;
    });
    var done = status === "completed";
    var controls = document.getElementById("live-controls");
    if (controls) { controls.hidden = done; }
    var downloads = document.getElementById("live-downloads");
    if (downloads) { downloads.hidden = !done; }
    // A finished or cancelled book spends nothing more: its cost limit is no longer offered.
    var budget = document.getElementById("budget-form");
    if (budget) { budget.hidden = done || status === "cancelled"; }
    if (done) {
      setText("live-eta", "—");
      document.querySelectorAll("#live-chapters li").forEach(function (li) { chapterState(li.dataset.index, "done"); });
    }
    // A stopped chunk is not kept: it is written again from its start on resume.
    if (changed && status !== "generating") { dropPartial(); }
  }

  function dropPartial() {
    Object.keys(chunks).forEach(function (seq) {
      var c = chunks[seq];
      if (parseInt(seq, 10) > lastChunkSeq && !c.committed) {
        if (c.el.parentNode) { c.el.parentNode.removeChild(c.el); }
        delete chunks[seq];
      }
    });
    scheduleStats();
  }

  // The controls answer at once: the form is posted in the background and the page follows the
  // events (without JavaScript the form posts and the page reloads).
  document.querySelectorAll(".live-control").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var btn = form.querySelector("button");
      if (btn) { btn.disabled = true; }
      fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin", redirect: "manual" })
        .then(function (r) {
          // A refusal (the book changed meanwhile) shows the server's page, as without JavaScript.
          if (r.type !== "opaqueredirect" && !r.ok) { form.submit(); return; }
          refreshProgress(0);
        })
        .catch(function () { form.submit(); })
        .then(function () { if (btn) { btn.disabled = false; } });
    });
  });

  // --- text ------------------------------------------------------------------------------------
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
    sec.classList.remove("empty");
    return sec.querySelector(".chapter-body") || sec;
  }

  // The chapter being written: from the last chunk_started, else the first one not done.
  var currentChapter;
  function guessChapter() {
    if (currentChapter !== undefined) { return currentChapter; }
    var li = document.querySelector("#live-chapters li:not(.chapter-state-done)");
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
      c = chunks[seq] = { el: el, raw: "", len: 0, ps: [] };
    }
    return c;
  }

  // Fills `p` with `text`, `*x*` / `_x_` as <em> and `**x**` as <strong> (the reader's and the
  // exports' rules: a run opens before a non-space, closes after one, `_` never inside a word,
  // anything unmatched stays text). Built from text nodes, never HTML, so nothing is injected.
  function emphasize(p, text) {
    var toks = [], buf = "", i = 0;
    while (i < text.length) {
      var ch = text[i];
      if (ch === "\\" && (text[i + 1] === "*" || text[i + 1] === "_")) { buf += text[i + 1]; i += 2; continue; }
      if (ch !== "*" && ch !== "_") { buf += ch; i++; continue; }
      var start = i;
      while (text[i] === ch) { i++; }
      var len = i - start, before = text[start - 1], after = text[i];
      var open = after !== undefined && !/\s/.test(after);
      var close = before !== undefined && !/\s/.test(before);
      if (ch === "_") {
        open = open && !(before !== undefined && /[\p{L}\p{N}]/u.test(before));
        close = close && !(after !== undefined && /[\p{L}\p{N}]/u.test(after));
      }
      if (len > 3 || (!open && !close)) { buf += text.slice(start, i); continue; }
      if (buf) { toks.push({ text: buf }); buf = ""; }
      toks.push({ ch: ch, len: len, open: open, close: close, matched: false });
    }
    if (buf) { toks.push({ text: buf }); }
    var openers = [];
    toks.forEach(function (t, k) {
      if (t.text !== undefined) { return; }
      if (t.close) {
        for (var j = openers.length - 1; j >= 0; j--) {
          var o = toks[openers[j]];
          if (o.ch === t.ch && o.len === t.len) {
            o.matched = true; t.matched = true; t.closes = true; openers.length = j; return;
          }
        }
      }
      if (t.open) { openers.push(k); }
    });
    p.textContent = "";
    var stack = [p];
    toks.forEach(function (t) {
      var top = stack[stack.length - 1];
      if (t.text !== undefined || !t.matched) {
        top.appendChild(document.createTextNode(t.text !== undefined ? t.text : t.ch.repeat(t.len)));
      } else if (t.closes) {
        stack.length -= t.len === 3 ? 2 : 1;
      } else {
        var el = document.createElement(t.len === 1 ? "em" : "strong");
        if (t.len === 3) { var em = document.createElement("em"); el.appendChild(em); top.appendChild(el); stack.push(el, em); return; }
        top.appendChild(el); stack.push(el);
      }
    });
  }

  // Re-renders the paragraphs that may have changed (the last one before the append and any new).
  function renderParagraphs(c) {
    var parts = c.raw.split(/\n\s*\n/);
    var from = Math.max(0, c.ps.length - 1);
    for (var i = from; i < parts.length; i++) {
      var p = c.ps[i];
      if (!p) { p = document.createElement("p"); c.el.appendChild(p); c.ps.push(p); }
      emphasize(p, parts[i].trim());
    }
    markWriting(c.ps[c.ps.length - 1] || c.el);
  }

  function resetChunk(c) {
    c.raw = ""; c.len = 0; c.ps = [];
    while (c.el.firstChild) { c.el.removeChild(c.el.firstChild); }
  }

  // Appends only the part of `text` at `offset` that is new (offsets are in characters).
  function applyText(seq, offset, text, chapter) {
    if (seq <= lastChunkSeq) { return; }
    if (chapter === undefined) { chapter = guessChapter(); }
    var c = chunkEl(seq, chapter);
    if (chapter !== undefined) { chapterState(chapter, "writing"); }
    if (offset > c.len) { return; } // a gap: the next snapshot fills it
    var chars = Array.from(text);
    var fresh = chars.slice(c.len - offset).join("");
    if (!fresh) { return; }
    var follow = following;
    c.raw += fresh;
    c.len += Array.from(fresh).length;
    renderParagraphs(c);
    scheduleStats();
    if (follow) { scrollToEnd(); }
  }

  function markWriting(el) {
    var prev = textEl.querySelector(".writing-cursor");
    if (prev && prev !== el) { prev.classList.remove("writing-cursor"); }
    el.classList.add("writing-cursor");
  }

  function clearCursor() {
    var prev = textEl.querySelector(".writing-cursor");
    if (prev) { prev.classList.remove("writing-cursor"); }
  }

  // --- follow the text unless the reader scrolled up -------------------------------------------
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 120;
  }

  function cursorVisible() {
    var cursor = textEl.querySelector(".writing-cursor");
    if (!cursor) { return true; }
    var r = cursor.getBoundingClientRect();
    return r.bottom <= window.innerHeight && r.bottom >= 0;
  }

  function scrollToEnd() {
    autoScrolling = true;
    var cursor = textEl.querySelector(".writing-cursor");
    if (cursor && cursor.scrollIntoView) { cursor.scrollIntoView({ block: "end" }); }
    setTimeout(function () { autoScrolling = false; }, 50);
  }

  window.addEventListener("scroll", function () {
    if (autoScrolling) { return; }
    following = atBottom() || cursorVisible();
    if (followBtn) { followBtn.hidden = following || root.dataset.status !== "generating"; }
  }, { passive: true });

  if (followBtn) {
    followBtn.addEventListener("click", function () {
      following = true;
      followBtn.hidden = true;
      scrollToEnd();
    });
  }

  // --- chapters and figures --------------------------------------------------------------------
  function chapterState(index, state) {
    var li = document.querySelector('#live-chapters li[data-index="' + index + '"]');
    if (!li || li.className === "chapter-state-" + state) { return; }
    li.className = "chapter-state-" + state;
    var b = li.querySelector(".chapter-status");
    if (b) { b.textContent = root.getAttribute("data-l-" + state) || state; }
  }

  // Words and progress including the chunk in progress, at most every 250 ms.
  function scheduleStats() {
    if (statsTimer) { return; }
    statsTimer = setTimeout(function () { statsTimer = null; renderStats(); }, 250);
  }

  function renderStats() {
    var streaming = 0;
    Object.keys(chunks).forEach(function (seq) {
      var c = chunks[seq];
      if (parseInt(seq, 10) > lastChunkSeq && !c.committed) { streaming += countWords(c.raw); }
    });
    var words = committedWords + streaming;
    setText("live-words", fmtInt(words));
    setText("live-chunks-done", chunksDone);
    setText("live-chunks-total", chunksTotal);
    var pct = 0;
    if (root.dataset.status === "completed") {
      pct = 100;
    } else if (chunksTotal > 0) {
      // The chunk in progress counts by its words against an average chunk, never as finished.
      var perChunk = targetWords > 0 ? targetWords / chunksTotal : 0;
      var part = perChunk > 0 ? Math.min(0.95, streaming / perChunk) : 0;
      pct = Math.min(100, Math.floor(100 * (chunksDone + part) / chunksTotal));
    }
    var bar = document.getElementById("live-progress");
    if (bar) { bar.value = pct; }
    setText("live-percent", pct);
    updateEta(words);
  }

  function refreshProgress(delay) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch("/books/" + bookId + "/progress", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (!p) { return; }
          committedWords = p.words;
          chunksDone = p.chunks_done;
          chunksTotal = p.chunks_total;
          setText("live-tokens", fmtInt(p.input_tokens + p.output_tokens));
          setText("live-cost", Number(p.cost_usd).toFixed(4));
          setStatus(p.status);
          setReason(p.status_reason);
          renderStats();
        })
        .catch(function () {});
    }, delay === undefined ? 300 : delay);
  }

  function updateEta(words) {
    if (root.dataset.status !== "generating") { return; }
    if (!started) { started = { t: Date.now(), w: words }; return; }
    var secs = (Date.now() - started.t) / 1000;
    var rate = (words - started.w) / secs;
    if (secs < 3 || rate <= 0 || !targetWords) { return; }
    var left = Math.max(0, targetWords - words) / rate;
    var m = Math.floor(left / 60), s = Math.round(left % 60);
    setText("live-eta", m + " min " + s + " s");
  }

  function announce(text) { setText("live-announce", text); }

  // Committed text we may have missed while disconnected.
  function fillGaps() {
    return fetch("/books/" + bookId + "/chunks?after=" + lastChunkSeq, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        rows.forEach(function (row) {
          var c = chunks[row.seq];
          if (!c) { c = chunkEl(row.seq, row.chapter_index); }
          resetChunk(c);
          c.committed = true;
          c.raw = row.text;
          c.len = Array.from(row.text).length;
          renderParagraphs(c);
          lastChunkSeq = Math.max(lastChunkSeq, row.seq);
        });
        if (rows.length) { clearCursor(); }
      })
      .catch(function () {});
  }

  function onEvent(m) {
    if (m.seq <= lastSeq) { return; }
    lastSeq = m.seq;
    var d = m.data || {};
    switch (m.kind) {
      case "chunk_started":
        // A retry or a resume restarts the chunk's text from offset 0.
        if (chunks[d.seq]) { resetChunk(chunks[d.seq]); }
        currentChapter = d.chapter_index;
        chunkEl(d.seq, d.chapter_index);
        chapterState(d.chapter_index, "writing");
        break;
      case "chunk_completed":
        // Count it at once; the committed text and the server's figures follow.
        chunksDone += 1;
        committedWords += d.words || 0;
        if (chunks[d.seq]) { chunks[d.seq].committed = true; }
        renderStats();
        fillGaps();
        refreshProgress();
        announce(chunksDone + " / " + chunksTotal);
        break;
      case "chapter_completed":
        chapterState(d.chapter_index, "done");
        break;
      case "status":
        setStatus(d.status);
        setReason(d.reason);
        refreshProgress();
        break;
      case "book_completed":
        clearCursor();
        setStatus("completed");
        refreshProgress(0);
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
    p.setAttribute("role", "status");
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

  renderStats();
  connect();
})();
