/* OpinionOps: page helpers of our own (no third-party code). */
(function () {
  "use strict";
  /* A polled fragment waits while the user is typing or has typed into it, so a refresh never
     wipes a half-written comment (used in hx-trigger filters: every 20s[opsIdle(this)]). */
  window.opsIdle = function (el) {
    if (el.contains(document.activeElement) && document.activeElement !== document.body) { return false; }
    var fields = el.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) { return false; } }
    return !el.querySelector("details[open]");
  };
  /* Forms that move an incident ask once before a step that ends it. */
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
