/* OpinionOps: page helpers of our own (no third-party code). Everything a page does in script is
   here or in another static file: the Content-Security-Policy allows no inline script, no event
   handler attribute, no javascript: link and no eval (so no hx-on and no hx-trigger filters). */
(function () {
  "use strict";
  /* A polled fragment waits while the user is typing or has typed into it, so a refresh never
     wipes a half-written comment. */
  function idle(el) {
    if (el.contains(document.activeElement) && document.activeElement !== document.body) { return false; }
    var fields = el.querySelectorAll("textarea, input[type=text]");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) { return false; } }
    return !el.querySelector("details[open]");
  }
  /* <div hx-trigger="every 20s" data-poll-when-idle>: the poll is skipped unless the fragment is idle. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.hasAttribute && el.hasAttribute("data-poll-when-idle") && !idle(el)) { event.preventDefault(); }
  });
  /* Forms that move an incident ask once before a step that ends it. */
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  /* "Back" links on error pages go back in history; without script they lead to the dashboard. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-history-back]");
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
})();
