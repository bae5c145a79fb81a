// Drag and drop onto a file picker (progressive enhancement: the picker works without it).
// Dropped files are added to the picker's own list, so the form posts them as usual.
(function () {
  "use strict";

  function describe(input, list) {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
      list.appendChild(item);
    });
  }

  function enhance(input) {
    if (typeof DataTransfer === "undefined") return;
    var zone = document.createElement("div");
    zone.className = "file-drop";
    var hint = document.createElement("p");
    hint.className = "muted small";
    hint.textContent = "Drop files here, or choose them:";
    var list = document.createElement("ul");
    list.className = "file-drop-list";
    input.parentNode.insertBefore(zone, input);
    zone.appendChild(hint);
    zone.appendChild(input);
    zone.appendChild(list);

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var merged = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (file) { merged.items.add(file); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) { merged.items.add(file); });
      input.files = merged.files;
      describe(input, list);
    });
    input.addEventListener("change", function () { describe(input, list); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=file][data-file-drop]").forEach(enhance);
  });
})();
