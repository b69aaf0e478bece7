// A filter box for a long list of checkboxes (the evidence form's competencies, the person
// form's mentors): typing hides the options whose text does not match every word typed.
// Progressive enhancement only: without JavaScript the box stays hidden and the whole list is
// there. Ticked options always stay visible, so nothing chosen is hidden.
//
// Driven by the markup, for any number of lists on a page:
//   <div class="field" hidden>                       shown once the script runs
//     <input type="search" data-filter
//            aria-controls="LIST"                    the list's element
//            aria-describedby="STATUS"               where "3 of 12 … shown" is announced
//            data-filter-noun="competencies"         what "3 of 12 … shown" counts
//            data-filter-none="No competency matches"> said when nothing matches, before “…”
//   <… id="LIST">
//     <… data-filter-group>                          optional: hidden when none of its
//       <… data-filter-text="lower-case words">      options shows; each option holds its
//         <input type="checkbox">                    checkbox
(function () {
  "use strict";

  function setUp(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = document.getElementById((input.getAttribute("aria-describedby") || "").split(" ")[0]);
    var box = input.closest("[hidden]");
    if (!list || !status || !box) {
      return;
    }
    var options = Array.prototype.slice.call(list.querySelectorAll("[data-filter-text]"));
    if (!options.length) {
      return;
    }
    var groups = Array.prototype.slice.call(list.querySelectorAll("[data-filter-group]"));
    var noun = input.getAttribute("data-filter-noun") || "options";
    var none = input.getAttribute("data-filter-none") || "Nothing matches";
    box.hidden = false;

    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option) {
        var text = option.getAttribute("data-filter-text");
        var checkbox = option.querySelector("input");
        var matches = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !(matches || (checkbox && checkbox.checked));
        if (!option.hidden) {
          shown += 1;
        }
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-filter-text]:not([hidden])");
      });
      if (!words.length) {
        status.textContent = "";
      } else if (shown === 0) {
        status.textContent = none + " “" + input.value.trim() + "”.";
      } else {
        status.textContent = shown + " of " + options.length + " " + noun + " shown.";
      }
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter filters; it must not send the half-filled form
      } else if (event.key === "Escape" && input.value) {
        event.preventDefault();
        input.value = "";
        apply();
      }
    });
  }

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
