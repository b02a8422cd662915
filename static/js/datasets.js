// datasets pages: behaviour that HTML + htmx cannot express. No inline scripts (CSP: script-src 'self').
(function () {
  "use strict";

  // Refuse a file over the size limit before sending it, with the same message as the server.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("upload-form")) return;
    var input = form.querySelector("input[type=file][data-max-bytes]");
    if (!input || !input.files || !input.files.length) return;
    var help = document.getElementById(input.getAttribute("aria-describedby"));
    if (input.files[0].size > Number(input.dataset.maxBytes)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      input.setAttribute("aria-invalid", "true");
      if (help) { help.textContent = input.dataset.tooLarge; help.classList.add("field-error"); }
      input.focus();
    } else if (help) {
      input.removeAttribute("aria-invalid");
      help.textContent = help.dataset.help || help.textContent;
      help.classList.remove("field-error");
    }
  }, true);

  // Show how much of the file has been sent while it uploads.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.detail.elt;
    if (!form || !form.querySelector) return;
    var bar = form.querySelector(".upload-progress");
    if (!bar || !event.detail.lengthComputable) return;
    bar.hidden = false;
    bar.value = Math.round((100 * event.detail.loaded) / event.detail.total);
  });

  // The mapping step previews again on every change; a new encoding or sheet means new
  // columns, so the server guesses them again instead of keeping the old choice.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.hasAttribute || !event.detail.elt.hasAttribute("data-preview")) return;
    var trigger = event.detail.triggeringEvent && event.detail.triggeringEvent.target;
    var name = trigger && trigger.name;
    event.detail.parameters.changed = name === "encoding" || name === "sheet" ? name : "columns";
  });

  // Resolving a conflict: picking another row puts its answer in the editable box.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "chosen" || !radio.dataset || radio.dataset.answer === undefined) return;
    var panel = radio.closest(".conflict-panel");
    var box = panel && panel.querySelector(".conflict-answer");
    if (box) box.value = radio.dataset.answer;
  });

  // The dataset-wide recheck finished: refresh the rows, unless the user is editing one. The
  // refresh is dropped when it lands after something newer: an edit opened meanwhile (it would
  // wipe what the user is typing) or a filter or page the user chose meanwhile (it would put the
  // old filter back).
  var EDITING = "#rows form.row-edit, #rows form.conflict-panel";
  var REFRESH = "X-Rows-Refresh";
  var latestRefresh = 0;
  var pendingRefresh = 0;
  document.addEventListener("datasets-rechecked", function () {
    var rows = document.getElementById("rows");
    if (!rows || !window.htmx || document.querySelector(EDITING)) return;
    pendingRefresh = ++latestRefresh;
    var headers = {};
    headers[REFRESH] = String(pendingRefresh);
    window.htmx.ajax("GET", rows.dataset.url, { target: "#rows", swap: "outerHTML", headers: headers });
  });
  function refreshOf(event) {
    var config = event.detail.requestConfig;
    return config && config.headers ? config.headers[REFRESH] : undefined;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "rows" && refreshOf(event) === undefined) pendingRefresh = 0;
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var refresh = refreshOf(event);
    if (refresh === undefined) return;
    if (refresh !== String(pendingRefresh) || document.querySelector(EDITING)) {
      event.detail.shouldSwap = false;
    }
    if (refresh === String(pendingRefresh)) pendingRefresh = 0;
  });
})();
