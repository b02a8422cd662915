// tuning pages: behaviour that HTML + htmx cannot express. No inline scripts (CSP: script-src 'self').
//
// Training curves: a <canvas data-chart="loss|accuracy" data-sources="id …" data-series="…">
// reads the JSON data blocks named in data-sources (<script type="application/json" id=…>) and
// draws one line per series and source with the vendored Chart.js. The job page re-renders its
// data block while the job runs; the chart boxes are hx-preserve'd, so charts are updated in
// place (no flicker) after every swap.
(function () {
  "use strict";

  var CHART_SRC = "/static/vendor/chartjs/chart.umd.min.js";
  var COLORS = { train_loss: "#3f51b5", validation_loss: "#e8710a", train_accuracy: "#3f51b5", validation_accuracy: "#e8710a" };
  var loading = null;

  // After an HTMX navigation the page's <head> scripts are not run: load Chart.js on demand.
  function withChart(callback) {
    if (window.Chart) { callback(); return; }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var existing = document.querySelector('script[src="' + CHART_SRC + '"]');
        var script = existing || document.createElement("script");
        script.addEventListener("load", function () { resolve(); });
        script.addEventListener("error", reject);
        if (!existing) { script.src = CHART_SRC; document.head.appendChild(script); }
        else if (window.Chart) { resolve(); }
      });
    }
    loading.then(callback, function () { loading = null; });
  }

  function readSource(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent || "{}"); } catch (error) { return null; }
  }

  function datasetsFor(canvas) {
    var sources = (canvas.dataset.sources || "").split(/\s+/).filter(Boolean);
    var series = (canvas.dataset.series || "").split(/\s+/).filter(Boolean);
    var datasets = [];
    var labels = {};
    sources.forEach(function (id, index) {
      var data = readSource(id);
      if (!data) return;
      labels = data.labels || labels;
      var prefix = sources.length > 1 && data.name ? data.name + " · " : "";
      series.forEach(function (name) {
        var points = (data.series || {})[name] || [];
        if (!points.length) return;
        datasets.push({
          label: prefix + ((data.labels || {})[name] || name),
          data: points.map(function (p) { return { x: p[0], y: p[1] }; }),
          borderColor: COLORS[name] || "#555",
          backgroundColor: COLORS[name] || "#555",
          borderDash: index > 0 ? [6, 4] : [],
          borderWidth: 2,
          pointRadius: name.indexOf("validation") === 0 ? 3 : 0,
          tension: 0.2
        });
      });
      if (sources.length === 1 && data.checkpoint && canvas.dataset.chart === "loss") {
        datasets.push({
          type: "scatter",
          label: (data.labels || {}).checkpoint || "checkpoint",
          data: [{ x: data.checkpoint.step, y: data.checkpoint.value }],
          pointStyle: "star",
          pointRadius: 11,
          borderColor: "#1b7f4b",
          backgroundColor: "#1b7f4b",
          borderWidth: 2
        });
      }
    });
    return { datasets: datasets, labels: labels };
  }

  function config(canvas, built) {
    var labels = built.labels || {};
    var isLoss = canvas.dataset.chart === "loss";
    return {
      type: "line",
      data: { datasets: built.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        interaction: { mode: "nearest", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
        scales: {
          x: { type: "linear", title: { display: true, text: labels.step || "step" }, ticks: { precision: 0 } },
          y: {
            title: { display: true, text: isLoss ? (labels.loss || "loss") : (labels.accuracy || "accuracy") },
            min: isLoss ? 0 : undefined,
            suggestedMax: isLoss ? undefined : 1
          }
        }
      }
    };
  }

  function draw(canvas) {
    var built = datasetsFor(canvas);
    var box = canvas.closest(".chart-box");
    if (box) box.classList.toggle("has-data", built.datasets.length > 0);
    var chart = window.Chart.getChart(canvas);
    if (chart) {
      chart.data.datasets = built.datasets;
      chart.update("none");
    } else if (built.datasets.length) {
      new window.Chart(canvas, config(canvas, built));
    }
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    if (!canvases.length) return;
    withChart(function () { canvases.forEach(draw); });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
