/* Reloads the page every data-refresh seconds (set on <body>; 0: never), but not while the
   tab is hidden or the user is typing in a form field: then it tries again a period later.
   A served file, so it runs under Content-Security-Policy: default-src 'self'. */
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!(seconds >= 5)) {
    return;
  }
  function busy() {
    var el = document.activeElement;
    return !!el && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }
  function tick() {
    if (document.visibilityState === "visible" && !busy()) {
      window.location.reload();
    } else {
      window.setTimeout(tick, seconds * 1000);
    }
  }
  window.setTimeout(tick, seconds * 1000);
})();
