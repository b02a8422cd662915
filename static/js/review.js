// review pages: behaviour that HTML + htmx cannot express. No inline scripts (CSP: script-src 'self').
// - keyboard shortcuts on the review card (the keys are shown on the page);
// - "select all" in the review table, "add a follow-up" in the example form;
// - charts (progress per day, version token histogram) drawn from data-* attributes.
(function () {
  "use strict";

  var CHART_SRC = "/static/vendor/chartjs/chart.umd.min.js";
  var ALIASES = { ArrowRight: "j", ArrowLeft: "k" };

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable]");
  }

  function onKey(event) {
    var card = document.getElementById("review-card");
    if (!card) return;
    var reason = card.querySelector("[data-shortcut-focus='r']");
    if (event.target === reason) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        reason.form.requestSubmit();
      } else if (event.key === "Escape") {
        reason.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = ALIASES[event.key] || (event.key.length === 1 ? event.key.toLowerCase() : "");
    if (!key) return;
    var focusTarget = card.querySelector("[data-shortcut-focus='" + key + "']");
    if (focusTarget) {
      event.preventDefault();
      focusTarget.focus();
      return;
    }
    var target = card.querySelector("[data-shortcut='" + key + "']");
    if (!target || target.disabled) return;
    event.preventDefault();
    target.click();
  }

  function onChange(event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) return;
    var form = all.closest("form");
    var name = all.getAttribute("data-select-all");
    form.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  }

  function onClick(event) {
    var button = event.target.closest && event.target.closest("[data-add-turns]");
    if (!button) return;
    var container = document.getElementById(button.getAttribute("data-add-turns"));
    var template = document.getElementById(button.getAttribute("data-template"));
    if (!container || !template) return;
    var added = template.content.cloneNode(true);
    var first = added.querySelector("textarea");
    container.appendChild(added);
    if (first) first.focus();
  }

  function showAddButtons(root) {
    root.querySelectorAll("[data-add-turns][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  // --- charts ------------------------------------------------------------------------------

  function withChart(callback) {
    if (window.Chart) return callback();
    var existing = document.querySelector("script[data-chartjs]");
    if (!existing) {
      existing = document.createElement("script");
      existing.src = CHART_SRC;
      existing.setAttribute("data-chartjs", "1");
      document.head.appendChild(existing);
    }
    existing.addEventListener("load", callback);
  }

  function read(canvas, name) {
    try { return JSON.parse(canvas.getAttribute(name)); } catch (e) { return null; }
  }

  function perDay(canvas) {
    var data = read(canvas, "data-chart");
    if (!data) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels.map(function (d) { return d.slice(5); }),
        datasets: [
          { label: canvas.dataset.labelApproved, data: data.approved, backgroundColor: "#1b7f4b" },
          { label: canvas.dataset.labelRejected, data: data.rejected, backgroundColor: "#b3261e" }
        ]
      },
      options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function histogram(canvas) {
    var rows = read(canvas, "data-histogram");
    var labels = read(canvas, "data-labels") || {};
    if (!rows || !rows.length) return;
    var colours = ["#3f51b5", "#e0a800", "#1b7f4b"];
    var names = ["train", "validation", "test"];
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return "≤ " + r[0].toLocaleString(); }),
        datasets: names.map(function (name, i) {
          return { label: labels[name] || name, data: rows.map(function (r) { return r[i + 1]; }), backgroundColor: colours[i] };
        })
      },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function drawCharts(root) {
    var day = root.querySelector("canvas[data-chart]");
    var hist = root.querySelector("canvas[data-histogram]");
    if (!day && !hist) return;
    withChart(function () {
      if (day && !day.dataset.drawn) { day.dataset.drawn = "1"; perDay(day); }
      if (hist && !hist.dataset.drawn) { hist.dataset.drawn = "1"; histogram(hist); }
    });
  }

  function init(root) {
    showAddButtons(root);
    drawCharts(root);
  }

  document.addEventListener("keydown", onKey);
  document.addEventListener("change", onChange);
  document.addEventListener("click", onClick);
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function () { init(document); });
})();
