// "Remember this": a sentence selected in a client's message fills that message's form with it
// and opens the form. Without this script the form still works: paste the sentence in.
(function () {
  "use strict";
  function messageOf(node) {
    var element = node && (node.nodeType === 1 ? node : node.parentElement);
    return element ? element.closest(".message-text[data-message]") : null;
  }
  function take() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) return;
    var text = selection.toString().replace(/\s+/g, " ").trim();
    var message = messageOf(selection.anchorNode);
    if (!text || !message || message !== messageOf(selection.focusNode)) return;
    var id = message.getAttribute("data-message");
    var box = document.querySelector('textarea[data-quote-for="' + id + '"]');
    if (!box) return;
    box.value = text.slice(0, 2000);
    var details = document.getElementById("remember-" + id);
    if (details) details.open = true;
  }
  document.addEventListener("mouseup", take);
  document.addEventListener("touchend", take);
  document.addEventListener("keyup", function (event) {
    if (event.shiftKey) take();
  });
})();
