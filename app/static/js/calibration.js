// The meeting grid: "Next disagreement" (and the n key) moves focus to the next cell where the
// ratings differ, in agenda order. Without this script the link still jumps to the first one.
(function () {
  "use strict";
  var next = document.querySelector("[data-next-disagreement]");
  if (!next) return;
  var cells = Array.prototype.slice.call(document.querySelectorAll("[data-disagreement]"));
  if (!cells.length) return;

  function go() {
    var at = cells.indexOf(document.activeElement);
    if (at < 0 && next.dataset.last) at = Number(next.dataset.last) - 1;
    var cell = cells[(at + 1) % cells.length];
    next.dataset.last = cell.dataset.disagreement;
    cell.focus();
    cell.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  next.addEventListener("click", function (event) {
    event.preventDefault();
    go();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "n" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    event.preventDefault();
    go();
  });
})();
