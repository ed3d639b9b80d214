// The narrow-screen menu is a <details> that works without this script; the script tells
// assistive technology whether it is open (aria-expanded) and closes it on Escape.
(function () {
  "use strict";

  function start() {
    var menu = document.getElementById("menu");
    if (!menu) { return; }
    var button = menu.querySelector("summary");
    function sync() { button.setAttribute("aria-expanded", menu.open ? "true" : "false"); }
    sync();
    menu.addEventListener("toggle", sync);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
