/* OpinionOps: live countdowns. Every element with data-due (ISO time) shows the time left or
   overdue, ticking once a second on the client; htmx-swapped fragments are picked up too. */
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function format(seconds) {
    var s = Math.abs(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h >= 48) { return Math.floor(h / 24) + "d " + pad(h % 24) + "h"; }
    return h + ":" + pad(m) + ":" + pad(r);
  }
  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("[data-due]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i], due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { continue; }
      var seconds = Math.round((due - now) / 1000), overdue = seconds < 0;
      el.textContent = (overdue ? el.getAttribute("data-over") : el.getAttribute("data-left")) + " " + format(seconds);
      el.classList.toggle("overdue", overdue);
      el.classList.toggle("soon", !overdue && seconds < 600);
    }
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);
})();
