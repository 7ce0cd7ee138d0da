// Starts Swagger UI on /api/v1/docs (a file: the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  function start() {
    var container = document.getElementById("swagger-ui-container");
    window.ui = window.SwaggerUIBundle({
      url: container.getAttribute("data-spec-url"),
      dom_id: "#swagger-ui-container",
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
