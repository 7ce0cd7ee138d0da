/* Reloads the page every data-refresh-seconds, with a button to pause it (WCAG 2.2.1: a timed
   refresh people can stop; a <meta http-equiv="refresh"> offers no way to). */
(function () {
  "use strict";

  var button = document.querySelector(".auto-refresh[data-refresh-seconds]");
  if (!button) {
    return;
  }
  var seconds = parseInt(button.getAttribute("data-refresh-seconds"), 10) || 30;
  var running = button.textContent;
  var timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  button.addEventListener("click", function () {
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
      button.setAttribute("aria-pressed", "true");
      button.textContent = button.getAttribute("data-label-paused");
    } else {
      timer = window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
      button.setAttribute("aria-pressed", "false");
      button.textContent = running;
    }
  });
})();
