/* Live progress for every .task-progress on the page: polls the dashboard's JSON until runs finish. */
(function () {
  "use strict";

  var INTERVAL_MS = 2000;
  var MAX_FAILURES = 5;

  function unfinished() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".task-progress[data-task-id]"),
      function (el) {
        var status = el.getAttribute("data-task-status");
        return status === "pending" || status === "running";
      }
    );
  }

  function update(el, task) {
    el.setAttribute("data-task-status", task.status);
    var bar = el.querySelector("progress");
    if (bar) {
      bar.value = task.progress;
      bar.className = "progress progress-" + task.status;
    }
    var status = el.querySelector(".task-status");
    if (status) { status.textContent = task.status_label; }
    var percent = el.querySelector(".task-percent");
    if (percent) { percent.textContent = Math.round(task.progress) + " %"; }
    var stage = el.querySelector(".task-stage");
    if (stage && task.stage) { stage.textContent = task.stage; }
    if (task.error && !el.querySelector(".task-error")) {
      var error = document.createElement("p");
      error.className = "task-error";
      error.textContent = task.error;  // text, never HTML
      el.appendChild(error);
    }
    var finished = document.querySelector('.task-finished[data-task-id="' + task.id + '"]');
    if (finished && task.finished_at) { finished.textContent = task.finished_at; }
  }

  function start() {
    var pending = unfinished();
    if (!pending.length) {
      return;
    }
    var url = pending[0].getAttribute("data-poll-url");
    var reload = pending.some(function (el) { return el.hasAttribute("data-reload-when-done"); });
    var failures = 0;

    function poll() {
      var waiting = unfinished();
      if (!waiting.length) {
        if (reload) { window.location.reload(); }
        return;
      }
      var query = waiting.map(function (el) {
        return "id=" + encodeURIComponent(el.getAttribute("data-task-id"));
      }).join("&");
      fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (body) {
          failures = 0;
          body.tasks.forEach(function (task) {
            var el = document.querySelector('.task-progress[data-task-id="' + task.id + '"]');
            if (el) { update(el, task); }
          });
          window.setTimeout(poll, INTERVAL_MS);
        })
        .catch(function () {
          failures += 1;
          if (failures < MAX_FAILURES) { window.setTimeout(poll, INTERVAL_MS * failures); }
        });
    }

    window.setTimeout(poll, INTERVAL_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
