/* Draws every <canvas data-chart-spec="..."> from the JSON spec embedded next to it (web/charts.py). */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "es-CO";
  var PLATFORM_COLOURS = {
    meta: "#1877f2",
    google: "#1e8e3e",
    x: "#111827",
    tiktok: "#e11d48",
    snapchat: "#d4a300"
  };
  var PALETTE = [
    "#2563eb", "#ea580c", "#16a34a", "#dc2626", "#9333ea",
    "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"
  ];

  function colour(key, index) {
    if (typeof key === "string" && PLATFORM_COLOURS[key]) {
      return PLATFORM_COLOURS[key];
    }
    var n = typeof key === "number" ? key : index;
    return PALETTE[((n % PALETTE.length) + PALETTE.length) % PALETTE.length];
  }

  function translucent(hex, alpha) {
    var value = parseInt(hex.slice(1), 16);
    return "rgba(" + (value >> 16) + "," + ((value >> 8) & 255) + "," + (value & 255) + "," + alpha + ")";
  }

  function formatter(kind) {
    var options = {
      cop: { style: "currency", currency: "COP", maximumFractionDigits: 0 },
      number: { maximumFractionDigits: 0 },
      percent: { style: "percent", maximumFractionDigits: 2 },
      decimal: { maximumFractionDigits: 3 }
    }[kind] || {};
    var format = new Intl.NumberFormat(lang, options);
    return function (value) {
      return value === null || value === undefined ? "—" : format.format(value);
    };
  }

  function dataset(spec, data, index) {
    var base = colour(data.key, index);
    var out = { label: data.label, data: data.data };
    if (spec.type === "bar") {
      var keys = data.keys || [];
      out.backgroundColor = keys.length ? keys.map(function (k, i) { return colour(k, i); }) : base;
      out.borderRadius = 3;
    } else if (data.centres) {
      // Segment centres over the candidate sample: one marker per segment, in its colour.
      out.backgroundColor = data.keys.map(function (k, i) { return colour(k, i); });
      out.borderColor = "#111827";
      out.borderWidth = 2;
      out.pointStyle = "rectRot";
      out.pointRadius = 9;
      out.pointHoverRadius = 11;
    } else if (spec.type === "scatter" || spec.type === "bubble") {
      out.backgroundColor = translucent(base, spec.type === "bubble" ? 0.55 : 0.45);
      out.borderColor = spec.type === "bubble" ? base : "transparent";
      out.pointRadius = spec.type === "scatter" ? 2.5 : undefined;
    } else {
      out.borderColor = base;
      out.backgroundColor = translucent(base, 0.15);
      out.borderWidth = 2;
      out.tension = 0.25;
      out.spanGaps = false;
      out.pointRadius = data.data.map(function (_, i) { return i === data.highlight ? 6 : 2; });
      out.pointStyle = data.data.map(function (_, i) { return i === data.highlight ? "rectRot" : "circle"; });
    }
    return out;
  }

  function config(spec) {
    var format = formatter(spec.format);
    var axes = spec.axes || {};
    var xy = spec.type === "scatter" || spec.type === "bubble";
    var valueScale = { beginAtZero: !xy, ticks: { callback: function (v) { return format(v); } } };
    if (axes.y) { valueScale.title = { display: true, text: axes.y }; }
    var xScale = xy ? { type: "linear", ticks: { callback: function (v) { return format(v); } } } : {};
    if (axes.x) { xScale.title = { display: true, text: axes.x }; }
    return {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets.map(function (d, i) { return dataset(spec, d, i); }) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: xy ? { mode: "nearest", intersect: true } : { mode: "index", intersect: false },
        plugins: {
          legend: { display: spec.datasets.length > 1 || xy, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var raw = item.raw;
                if (xy) {
                  var names = spec.datasets[item.datasetIndex].names;
                  var text = names ? names[item.dataIndex] : item.dataset.label;
                  return raw && raw.size !== undefined ? text + " · " + formatter("number")(raw.size) : text;
                }
                return item.dataset.label + ": " + format(raw);
              }
            }
          }
        },
        scales: { x: xScale, y: valueScale }
      }
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") {
      return;
    }
    var canvases = document.querySelectorAll("canvas[data-chart-spec]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart-spec"));
      if (!source || window.Chart.getChart(canvas)) {
        return;
      }
      new window.Chart(canvas, config(JSON.parse(source.textContent)));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
