// Keyboard editing of the indicator grid (loaded only by the grid and period pages).
//
// The grid's cells are bare labelled inputs (templates/results/_cell.html, compact): this file
// posts a changed cell to its period's URL (the table's data-periods-url + the period id in the
// cell's id + /target or /actual) with the period's version (data-v) through htmx, which adds
// the CSRF token from the hx-headers of <body>, and swaps the cell it gets back. On the period
// page each cell is a small form, submitted as it is. This file adds the spreadsheet keys:
//   Enter        saves the cell and moves down (to the next row with an editable cell there)
//   Tab          saves and moves right (Shift+Tab: left), wrapping to the next (previous) row
//   Escape       puts back the saved value and clears the cell's error
// On a phone (below 40rem, static/css/app.css) the grid is one card per indicator whose periods
// run down the card as target / actual pairs; the keys then follow what the eye sees: Enter
// moves down to the same kind in the next period (then the next card), Tab moves on in reading
// order (target, actual, the next period's target...). The layout is read from the CSS (the
// indicator's <tbody> laid out as a grid), so the breakpoint is defined once.
// Focus moves only after a successful save; after an error it stays on the cell, with the
// typed text kept and the message beside it. A changed cell left with the mouse is saved too.
// Without this file the period page's cells still work (Enter submits the form); the grid
// links each period to that page.
(function () {
  "use strict";

  var pending = null; // {cellId, dir, xhr}

  function isCellInput(el) {
    return el && el.classList && el.classList.contains("cell-input");
  }

  function cellOf(input) {
    return input.closest("td.cell");
  }

  function savedValue(input) {
    var saved = input.getAttribute("data-saved");
    return saved === null ? input.defaultValue : saved;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-grid-row]"));
  }

  function editable(td) {
    return td ? td.querySelector(".cell-input") : null;
  }

  function periodCells(tr) {
    return Array.prototype.filter.call(tr.cells, function (c) { return c.classList.contains("cell"); });
  }

  function cardLayout(td) {
    var body = td.closest("tbody.grid-indicator");
    return !!body && window.getComputedStyle(body).display === "grid";
  }

  // The cells in the order a phone's cards show them: per indicator, per period, target then
  // actual; only one kind when `kind` is given.
  function cardOrder(kind) {
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll("tbody.grid-indicator"), function (body) {
      var trs = body.querySelectorAll("tr[data-grid-row]");
      if (trs.length < 2) { return; }
      var targets = periodCells(trs[0]);
      var actuals = periodCells(trs[1]);
      for (var i = 0; i < Math.max(targets.length, actuals.length); i++) {
        if (kind !== "actual" && targets[i]) { out.push(targets[i]); }
        if (kind !== "target" && actuals[i]) { out.push(actuals[i]); }
      }
    });
    return out;
  }

  function cardNeighbour(td, dir) {
    var kind = /actual$/.test(td.parentElement.getAttribute("data-grid-row")) ? "actual" : "target";
    var cells = cardOrder(dir === "up" || dir === "down" ? kind : null);
    var step = (dir === "down" || dir === "right") ? 1 : -1;
    for (var i = cells.indexOf(td) + step; i >= 0 && i < cells.length; i += step) {
      var found = editable(cells[i]);
      if (found) { return found; }
    }
    return null;
  }

  function neighbour(input, dir) {
    var td = cellOf(input);
    if (!td) { return null; }
    if (cardLayout(td)) { return cardNeighbour(td, dir); }
    var tr = td.parentElement;
    var all = rows();
    var index = all.indexOf(tr);
    var step = (dir === "down" || dir === "right") ? 1 : -1;
    if (dir === "left" || dir === "right") {
      var sibling = td;
      while ((sibling = step > 0 ? sibling.nextElementSibling : sibling.previousElementSibling)) {
        var found = editable(sibling);
        if (found) { return found; }
      }
      for (index += step; index >= 0 && index < all.length; index += step) {
        var inputs = all[index].querySelectorAll(".cell-input");
        if (inputs.length) { return step > 0 ? inputs[0] : inputs[inputs.length - 1]; }
      }
      return null;
    }
    // Period cells are the last cells of both rows of an indicator (the target row also holds
    // the name and the summary), so a column is its place counted from the row's end.
    var fromEnd = tr.cells.length - td.cellIndex;
    for (index += step; index >= 0 && index < all.length; index += step) {
      var cells = all[index].cells;
      var cell = cells[cells.length - fromEnd];
      var below = cell && cell.classList.contains("cell") ? editable(cell) : null;
      if (below) { return below; }
    }
    return null;
  }

  function go(input, dir) {
    var target = dir ? neighbour(input, dir) : null;
    if (target) {
      target.focus();
      target.select();
    }
  }

  function send(input, dir) {
    var form = input.form;
    var td = cellOf(input);
    if (!td || (form || input).classList.contains("htmx-request")) { return; }
    input.setAttribute("data-sent", input.value);
    pending = { cellId: td.id, dir: dir, xhr: null };
    if (form) {
      if (form.requestSubmit) { form.requestSubmit(); } else { htmx.trigger(form, "submit"); }
      return;
    }
    var table = td.closest("[data-periods-url]");
    var parts = /^cell-(\d+)-(target|actual)$/.exec(td.id);
    if (!table || !parts) { pending = null; return; }
    htmx.ajax("POST", table.getAttribute("data-periods-url") + parts[1] + "/" + parts[2], {
      source: input, target: td, swap: "outerHTML",
      values: { value: input.value, version: input.getAttribute("data-v"), layout: "grid" }
    });
  }

  // The grid's inputs carry no name or form: keep the browser from offering past entries.
  document.addEventListener("focusin", function (event) {
    if (isCellInput(event.target) && !event.target.form) { event.target.autocomplete = "off"; }
  });

  function commit(input, dir) {
    if (input.value === savedValue(input)) {
      go(input, dir);
    } else {
      send(input, dir);
    }
  }

  function clearError(input) {
    var td = cellOf(input);
    var error = td && td.querySelector(".cell-error");
    if (error) { error.remove(); }
    if (td) { td.classList.remove("has-error"); }
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!isCellInput(input) || event.isComposing) { return; }
    if (event.key === "Enter") {
      event.preventDefault();
      commit(input, event.shiftKey ? "up" : "down");
    } else if (event.key === "Tab") {
      event.preventDefault();
      commit(input, event.shiftKey ? "left" : "right");
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.value = savedValue(input);
      input.defaultValue = input.value;
      clearError(input);
      input.select();
    }
  });

  // A changed cell left by mouse or touch is saved where it is (focus is not moved).
  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!isCellInput(input) || !input.isConnected) { return; }
    if (input.value === input.defaultValue || input.getAttribute("data-sent") === input.value) { return; }
    if (pending && pending.cellId === (cellOf(input) || {}).id) { return; }
    send(input, null);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (pending && !pending.xhr && event.detail.elt && event.detail.elt.closest &&
        event.detail.elt.closest("td.cell") && event.detail.elt.closest("td.cell").id === pending.cellId) {
      pending.xhr = event.detail.xhr;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!pending || !pending.xhr || event.detail.xhr !== pending.xhr) { return; }
    var done = pending;
    pending = null;
    var td = document.getElementById(done.cellId);
    var input = editable(td);
    if (!input) { return; }
    if (done.xhr.status >= 200 && done.xhr.status < 300) {
      if (done.dir) { go(input, done.dir); }
    } else if (done.dir) {
      input.focus();
      input.select();
    }
  });

  document.addEventListener("htmx:sendError", function () { pending = null; });
  document.addEventListener("htmx:responseError", function () { pending = null; });

  // A save gives the period a new version: the period's other forms on the page take it, so
  // saving the target and then the actual of one period is not taken for a conflict.
  document.addEventListener("periodSaved", function (event) {
    var detail = event.detail || {};
    var forms = document.querySelectorAll('[data-period="' + detail.id + '"] input[name="version"], ' +
                                          'form[data-period="' + detail.id + '"] input[name="version"]');
    Array.prototype.forEach.call(forms, function (field) { field.value = String(detail.version); });
    ["target", "actual"].forEach(function (kind) {
      var input = editable(document.getElementById("cell-" + detail.id + "-" + kind));
      if (input && input.hasAttribute("data-v")) { input.setAttribute("data-v", String(detail.version)); }
    });
  });
})();
