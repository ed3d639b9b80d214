// Proposes the browser's own time zone on the setup page when goodwill still runs on UTC, the
// default; the owner sees it in the field and may change it before anything is shown.
(function () {
  "use strict";

  function start() {
    var field = document.querySelector("form[data-propose-zone] input#timezone");
    if (!field || !window.Intl) { return; }
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone) { return; }
    field.value = zone;
    var hint = document.getElementById("timezone-hint");
    if (hint) { hint.textContent = "Proposed from this browser: " + zone + "."; }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
