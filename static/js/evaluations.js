// evaluations pages: behaviour that HTML + htmx cannot express. No inline scripts (CSP: script-src 'self').
//
// 1. Blind vote shortcuts: on a ballot, a key press clicks the button whose data-vote-key matches
//    (A, B, T, X, and N for "Next question"), unless the person is typing in a field.
// 2. The scorecard over time: <canvas data-eval-chart="id"> reads the JSON block with that id
//    ({labels, series: {chrf, better}, names}) and draws one line per series with the vendored
//    Chart.js (loaded on demand, as after an HTMX navigation head scripts do not run).
(function () {
  "use strict";

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    var ballot = document.getElementById("ballot");
    if (!ballot) return;
    var key = (event.key || "").toLowerCase();
    var button = ballot.querySelector('[data-vote-key="' + key + '"]');
    if (!button) return;
    event.preventDefault();
    button.click();
  });

  var CHART_SRC = "/static/vendor/chartjs/chart.umd.min.js";
  var COLORS = { chrf: "#3f51b5", better: "#1b7f4b" };

  function withChart(callback) {
    if (window.Chart) { callback(); return; }
    var script = document.querySelector('script[src="' + CHART_SRC + '"]');
    if (!script) { script = document.createElement("script"); script.src = CHART_SRC; document.head.appendChild(script); }
    script.addEventListener("load", callback);
  }

  function draw(canvas) {
    var node = document.getElementById(canvas.dataset.evalChart);
    if (!node || window.Chart.getChart(canvas)) return;
    var data;
    try { data = JSON.parse(node.textContent || "{}"); } catch (error) { return; }
    var names = data.names || {};
    var datasets = Object.keys(data.series || {}).map(function (name) {
      return {
        label: names[name] || name,
        data: data.series[name],
        borderColor: COLORS[name] || "#555",
        backgroundColor: COLORS[name] || "#555",
        borderWidth: 2,
        pointRadius: 4,
        spanGaps: true,
        tension: 0.15
      };
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.labels || [], datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
        scales: { y: { min: 0, max: 100 } }
      }
    });
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-eval-chart]");
    if (!canvases.length) return;
    withChart(function () { canvases.forEach(draw); });
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
