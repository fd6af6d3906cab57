// The evidence form: small helps on top of htmx. Everything works without this file.
(function () {
  "use strict";

  // Enter in a picker's search box searches at once; it must not save the half-filled form.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || !box.matches || !box.matches("[data-picker-search]")) { return; }
    event.preventDefault();
    if (window.htmx) { window.htmx.trigger(box, "search"); }
  });

  // One file per item: choosing a file clears a photo taken, and the other way round; a file
  // above the upload limit is named at once, before a long upload over a phone connection.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.form || input.type !== "file" || !input.form.classList.contains("evidence-form")) { return; }
    var note = document.getElementById("file-size-note");
    var limitInput = input.form.querySelector("[data-max-bytes]");
    var limit = limitInput ? parseInt(limitInput.getAttribute("data-max-bytes"), 10) : 0;
    if (input.files && input.files.length) {
      input.form.querySelectorAll('input[type="file"]').forEach(function (other) {
        if (other !== input) { other.value = ""; }
      });
    }
    if (!note) { return; }
    var file = input.files && input.files[0];
    note.textContent = "";
    if (file && limit && file.size > limit) {
      note.textContent = note.getAttribute("data-too-large")
        .replace("%(name)s", file.name)
        .replace("%(size)s", (file.size / 1048576).toFixed(1));
    }
  });
})();
