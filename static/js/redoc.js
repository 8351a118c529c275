/* OpinionOps: starts Redoc (vendored by drf-spectacular-sidecar) on the API docs page, with the
   settings the server wrote as JSON; kept out of the page so no inline script is needed. Redoc
   writes its styles into <style> elements: they get the nonce this script tag was served with. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  var source = document.getElementById("redoc-settings");
  if (!container || !window.Redoc) { return; }
  var settings = source ? JSON.parse(source.textContent) || {} : {};
  if (document.currentScript && document.currentScript.nonce) { settings.nonce = document.currentScript.nonce; }
  window.Redoc.init(container.getAttribute("data-spec-url"), settings, container);
})();
