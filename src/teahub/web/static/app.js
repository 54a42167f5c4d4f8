// teahub pages: HTMX settings shared by every page, and showing problems (the API's problem details).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) return;
    // Errors come back as a rendered problem fragment: show it in the page's problem area, keep the rest.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: false, target: "#problems", swapOverride: "innerHTML" },
    ];
    document.body.addEventListener("htmx:beforeRequest", function () {
      var box = document.getElementById("problems");
      if (box) box.innerHTML = "";
    });
    document.body.addEventListener("htmx:sendError", function () {
      teahub.showProblem({ title: teahub.t("The server cannot be reached") });
    });
  });

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  window.teahub = {
    // Translations a script needs, given by the page as JSON in <script id="messages">.
    messages: null,
    t: function (text) {
      if (this.messages === null) {
        var node = document.getElementById("messages");
        this.messages = node ? JSON.parse(node.textContent) : {};
      }
      return this.messages[text] || text;
    },
    escapeHtml: escapeHtml,
    // Show a problem (RFC 9457 fields: title, detail, field) in the page's problem area.
    showProblem: function (problem) {
      var box = document.getElementById("problems");
      if (!box) return;
      var t = this.t.bind(this);
      box.innerHTML = '<div class="problem" role="alert"><strong>' + escapeHtml(t(problem.title || "Error")) +
        "</strong>" + (problem.field ? ' <span class="field">' + escapeHtml(t("Field")) + ": <code>" +
        escapeHtml(problem.field) + "</code></span>" : "") +
        (problem.detail ? "<p>" + escapeHtml(t(problem.detail)) + "</p>" : "") +
        '<button type="button" class="close" onclick="this.parentElement.remove()">×</button></div>';
    },
    money: function (fen) {
      var sign = fen < 0 ? "-" : "";
      fen = Math.abs(Math.round(fen));
      var yuan = Math.floor(fen / 100).toLocaleString("en-US");
      return sign + "¥" + yuan + "." + String(fen % 100).padStart(2, "0");
    },
  };
})();
