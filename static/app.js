// TuneDesk's small client-side helpers. Everything else is server-rendered HTML + htmx.
(function () {
  "use strict";

  // Toasts close on click and fade out on their own (errors stay longer).
  function armToast(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    var delay = toast.classList.contains("toast-error") ? 12000 : 6000;
    var timer = setTimeout(function () { toast.remove(); }, delay);
    var close = toast.querySelector(".toast-close");
    if (close) close.addEventListener("click", function () { clearTimeout(timer); toast.remove(); });
  }
  function armToasts(root) {
    (root || document).querySelectorAll(".toast").forEach(armToast);
  }

  document.addEventListener("DOMContentLoaded", function () { armToasts(document); });
  document.addEventListener("htmx:load", function (event) { armToasts(document); });

  // After an HTMX navigation, move keyboard focus to the new content (screen readers follow).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "main") {
      var heading = event.detail.target.querySelector("h1");
      (heading || event.detail.target).setAttribute("tabindex", "-1");
      (heading || event.detail.target).focus({ preventScroll: true });
    }
  });

  // A connection problem gets a toast instead of silence.
  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("toasts");
    if (!box) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-error";
    toast.setAttribute("role", "alert");
    var text = document.createElement("span");
    text.textContent = box.dataset.offlineMessage || "The server cannot be reached.";
    toast.appendChild(text);
    box.appendChild(toast);
    armToast(toast);
  });
})();
