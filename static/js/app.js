// Small behaviours on top of htmx. Everything works without this file; it only helps.
(function () {
  "use strict";

  // Show a clear message when an htmx request fails (network error, 403, 500...).
  function showRequestError(text) {
    var box = document.getElementById("request-error");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var messages = {
      400: "The form expired or was not understood. Reload the page and try again. Nothing was changed.",
      403: "Your role does not allow this. Nothing was changed.",
      404: "That record no longer exists, or you do not have access to it.",
      413: "The upload is too large. Nothing was saved.",
      503: "The database is unavailable just now. Nothing was saved; try again in a moment."
    };
    showRequestError(messages[status] || "The server could not finish this request (" + status + "). Nothing was saved.");
  });

  document.addEventListener("htmx:sendError", function () {
    showRequestError("The server could not be reached. What you typed is still on the page; try again.");
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-error");
    if (box) { box.hidden = true; }
  });

  // A table wider than the screen scrolls inside its own box (.table-scroll; on a phone, the
  // tables without a card layout): while it does, the box takes keyboard focus (arrow keys
  // scroll it) and is a region named after its table's caption (issue 14).
  function focusableScrollBoxes() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-scroll"), function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        var caption = box.querySelector("caption");
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
        box.setAttribute("data-scroll-box", "");
      } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
        ["tabindex", "role", "aria-label", "data-scroll-box"].forEach(function (name) { box.removeAttribute(name); });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", focusableScrollBoxes);
  document.addEventListener("htmx:afterSettle", focusableScrollBoxes);
  window.addEventListener("resize", focusableScrollBoxes);

  // Elements with data-confirm ask before their request is sent.
  document.addEventListener("htmx:confirm", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();

// A checkbox list with a search box (the weekly log's evidence): typing hides the items whose
// text does not hold every typed word (accents ignored); ticked items always stay visible.
(function () {
  "use strict";
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-filter-list]")) { return; }
    var list = document.getElementById(box.getAttribute("data-filter-list"));
    if (!list) { return; }
    var words = plain(box.value).split(/\s+/).filter(Boolean);
    list.querySelectorAll("li").forEach(function (item) {
      var text = plain(item.textContent);
      var ticked = item.querySelector("input:checked");
      item.hidden = !ticked && !words.every(function (word) { return text.indexOf(word) !== -1; });
    });
  });
  // Enter in the search box must not save the half-written log.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("[data-filter-list]")) {
      event.preventDefault();
    }
  });
})();
