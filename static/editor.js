// The chapter editor: saves the text a moment after the author stops typing (and on leaving the
// field), through the same form post as the Save button, and says whether the text is saved.
(function () {
  "use strict";
  var form = document.getElementById("chapter-editor");
  if (!form) return;
  var area = form.querySelector("textarea[name=content]");
  var status = document.getElementById("editor-status");
  var words = document.getElementById("editor-words");
  var saved = area.value, timer = null, inFlight = false, again = false;

  function say(key) { status.textContent = form.dataset[key] || ""; status.dataset.state = key; }

  function save() {
    clearTimeout(timer);
    if (area.value === saved) { if (status.dataset.state === "unsaved") say("saved"); return; }
    if (inFlight) { again = true; return; }
    inFlight = true;
    var text = area.value;
    say("saving");
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok && body.saved) {
          saved = text;
          if (words && body.words !== undefined) words.textContent = body.words;
          say(area.value === saved ? "saved" : "unsaved");
        } else {
          status.textContent = body.message || form.dataset.failed;
          status.dataset.state = "failed";
        }
      });
    }).catch(function () { say("failed"); })
      .then(function () { inFlight = false; if (again) { again = false; save(); } });
  }

  area.addEventListener("input", function () {
    say("unsaved");
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  });
  area.addEventListener("blur", save);
  form.addEventListener("submit", function (e) { e.preventDefault(); save(); });
  window.addEventListener("beforeunload", function (e) {
    if (area.value !== saved) { e.preventDefault(); e.returnValue = ""; }
  });
})();
