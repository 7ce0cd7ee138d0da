/* Phone and keyboard layout: the menu button on narrow screens, and wide tables that scroll
   inside their own box (reachable by keyboard) instead of making the whole page scroll sideways. */
(function () {
  "use strict";

  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("mainnav");
  if (toggle && nav) {
    document.documentElement.classList.add("has-nav-toggle");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  function label(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) {
      return caption.textContent.trim();
    }
    var card = table.closest("section, .card, figure");
    var heading = card && card.querySelector("h2, h3, figcaption");
    return heading ? heading.textContent.trim() : document.title;
  }

  // Every table scrolls in its own box; a box that does scroll can be reached and scrolled by keyboard.
  function fitTables() {
    document.querySelectorAll("main table").forEach(function (table) {
      var box = table.parentElement;
      if (!box.classList.contains("table-scroll") && !box.classList.contains("table-wrap")) {
        box = document.createElement("div");
        box.className = "table-scroll";
        table.parentNode.insertBefore(box, table);
        box.appendChild(table);
      }
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("role")) {
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", label(table));
        }
      }
    });
  }

  fitTables();
  window.addEventListener("resize", fitTables);
  document.addEventListener("toggle", fitTables, true);  // a <details> opened: its table now has a size
})();
