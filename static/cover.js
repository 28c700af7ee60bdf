// Cover editor: live preview of unsaved design changes, upload of the author's own image (sent as the
// raw body), and a refresh while a generation runs. The page works without it except for the upload.
(function () {
  var root = document.querySelector(".cover-editor");
  if (!root) return;
  var book = root.getAttribute("data-book");
  var form = document.getElementById("cover-design");
  var img = document.getElementById("cover-preview");
  var timer = null;
  function preview() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("csrf_token");
    img.src = "/books/" + book + "/cover/preview.jpg?" + params.toString();
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(preview, 350);
  });
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(preview, 150);
  });
  var up = document.getElementById("cover-upload");
  var err = document.getElementById("cover-upload-error");
  up.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = up.querySelector("input[type=file]").files[0];
    if (!file) return;
    err.hidden = true;
    fetch(up.getAttribute("data-action"), { method: "POST", body: file, credentials: "same-origin",
      headers: { "Content-Type": "application/octet-stream" } })
      .then(function (r) {
        if (r.ok) { window.location.reload(); return; }
        // The server answers a localized error page: show its message and detail.
        return r.text().then(function (t) {
          var doc = new DOMParser().parseFromString(t, "text/html");
          var parts = ["error-message", "error-detail"].map(function (id) {
            var p = doc.getElementById(id);
            return p ? p.textContent.trim() : "";
          }).filter(Boolean);
          err.textContent = parts.join(" ") || String(r.status);
          err.hidden = false;
        });
      });
  });
  if (document.getElementById("cover-generating")) {
    setTimeout(function () { window.location.reload(); }, 3000);
  }
})();
