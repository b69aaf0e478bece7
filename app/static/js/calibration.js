// The meeting grid: "Next disagreement" (and the n key) moves focus to the next cell where the
// ratings differ, in agenda order, marks it and says which one of how many it is. Without this
// script the link still jumps to the first one.
(function () {
  "use strict";
  var next = document.querySelector("[data-next-disagreement]");
  if (!next) return;
  var cells = Array.prototype.slice.call(document.querySelectorAll("[data-disagreement]"));
  if (!cells.length) return;

  var position = document.querySelector("[data-disagreement-position]");

  function go() {
    var at = cells.indexOf(document.activeElement);
    if (at < 0 && next.dataset.last) at = Number(next.dataset.last) - 1;
    var index = (at + 1) % cells.length;
    var cell = cells[index];
    next.dataset.last = cell.dataset.disagreement;
    // Marked, not only focused: a mouse or a finger gets no focus ring, and must see it too.
    cells.forEach(function (other) { other.classList.remove("is-current"); });
    cell.classList.add("is-current");
    cell.focus();
    cell.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (position) {
      position.textContent = "Disagreement " + (index + 1) + " of " + cells.length +
        (index === 0 && at >= 0 ? ", back to the first" : "") + ".";
    }
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
