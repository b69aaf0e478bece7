// The evidence form's competency filter: typing hides the competencies that do not match.
// Progressive enhancement only: without JavaScript the filter stays hidden and every
// competency is listed. Chosen competencies always stay visible, so nothing chosen is hidden.
(function () {
  "use strict";

  function setUp() {
    var input = document.getElementById("competency-filter");
    if (!input) {
      return;
    }
    var wrapper = input.closest(".competency-filter");
    var status = document.getElementById("competency-filter-status");
    var options = Array.prototype.slice.call(document.querySelectorAll("[data-competency]"));
    var areas = Array.prototype.slice.call(document.querySelectorAll(".competency-area"));
    wrapper.hidden = false;

    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option) {
        var text = option.getAttribute("data-competency");
        var checked = option.querySelector("input").checked;
        var matches = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !(matches || checked);
        if (!option.hidden) {
          shown += 1;
        }
      });
      areas.forEach(function (area) {
        area.hidden = !area.querySelector("[data-competency]:not([hidden])");
      });
      if (!words.length) {
        status.textContent = "";
      } else if (shown === 0) {
        status.textContent = "No competency matches “" + input.value.trim() + "”.";
      } else {
        status.textContent = shown + " of " + options.length + " competencies shown.";
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
