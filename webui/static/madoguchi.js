/* Madoguchi's own script, loaded after htmx on every page (the CSP allows no inline script).
   The server refuses state-changing requests without the session's CSRF token; forms carry
   it in a hidden field, and requests made by htmx carry it in this header. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) { return; }
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });
})();
