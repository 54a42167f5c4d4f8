// The pipeline board: drag an opportunity's card to another stage (HTML5 drag and drop). The move is posted to
// the page's stage endpoint (the same service as the API's stage change); the server answers the board again
// (its totals changed), or a problem: then the card goes back where it was and the problem is shown.
(function () {
  "use strict";
  var dragged = null;

  function elementOf(node) {
    return node && node.nodeType === 1 ? node : node && node.parentElement;
  }

  function columnAt(node) {
    var el = elementOf(node);
    return el ? el.closest(".board-column") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-column.drop-target").forEach(function (c) {
      c.classList.remove("drop-target");
    });
  }

  function showProblemHtml(html) {
    var box = document.getElementById("problems");
    if (box) box.innerHTML = html;
  }

  function replaceBoard(html) {
    var old = document.getElementById("board");
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.querySelector("#board");
    if (!old || !fresh) return;
    old.replaceWith(fresh);
    if (window.htmx) htmx.process(fresh);
  }

  function snapBack(card, origin, next) {
    card.classList.remove("saving");
    if (next && next.parentNode === origin) origin.insertBefore(card, next);
    else origin.appendChild(card);
  }

  function move(card, column) {
    var stage = column.dataset.stage;
    var reason = "";
    if (stage === "lost") {
      reason = window.prompt(teahub.t("Why was this opportunity lost?"));
      if (reason === null) return; // cancelled: the card stays where it was
    }
    var origin = card.parentNode;
    var next = card.nextSibling;
    column.querySelector(".board-cards").prepend(card); // shown in its new stage at once
    card.classList.add("saving");
    var board = document.getElementById("board");
    var body = new URLSearchParams();
    body.append("stage", stage);
    body.append("version", card.dataset.version || "");
    body.append("lost_reason", reason);
    body.append("owner", (board && board.dataset.owner) || "");
    var box = document.getElementById("problems");
    if (box) box.innerHTML = "";
    fetch("/crm/pipeline/opportunities/" + encodeURIComponent(card.dataset.id) + "/stage", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "HX-Request": "true" }, // errors come back as the problem fragment, in the user's language
    })
      .then(function (response) {
        return response.text().then(function (html) {
          var redirect = response.headers.get("HX-Redirect");
          if (redirect) {
            window.location.href = redirect; // the session ended: log in again
          } else if (response.ok) {
            replaceBoard(html);
            var status = document.getElementById("board-status");
            if (status) status.textContent = teahub.t("Moved to {stage}").replace("{stage}", teahub.t(stage));
          } else {
            snapBack(card, origin, next);
            showProblemHtml(html);
          }
        });
      })
      .catch(function () {
        snapBack(card, origin, next);
        teahub.showProblem({ title: "The server cannot be reached" });
      });
  }

  document.addEventListener("dragstart", function (event) {
    var el = elementOf(event.target);
    var card = el ? el.closest(".opp-card[draggable=true]") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    var column = columnAt(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearTargets();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = columnAt(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    var card = dragged;
    dragged = null;
    card.classList.remove("dragging");
    clearTargets();
    if (column.dataset.stage !== card.dataset.stage) move(card, column);
  });
})();
