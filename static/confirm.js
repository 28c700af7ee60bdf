// Asks before a form with `data-confirm` does something hard to undo (restore a version, revoke a key).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
})();
// A `data-back` button returns to the previous page, where the browser kept what was typed.
(function () {
  "use strict";
  document.querySelectorAll("[data-back]").forEach(function (el) {
    el.hidden = false;
    el.addEventListener("click", function (e) {
      e.preventDefault();
      window.history.back();
    });
  });
})();
