// The person form's mentor filter: typing hides the people whose names do not match.
// Progressive enhancement only: without JavaScript the filter stays hidden and the whole list
// scrolls. Ticked mentors always stay visible, so nothing chosen is hidden.
(function () {
  "use strict";

  function setUp() {
    var input = document.getElementById("mentor-filter");
    if (!input) {
      return;
    }
    var status = document.getElementById("mentor-filter-status");
    var options = Array.prototype.slice.call(document.querySelectorAll("[data-mentor]"));
    if (!options.length) {
      return;
    }
    input.closest(".mentor-filter").hidden = false;

    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (option) {
        var name = option.getAttribute("data-mentor");
        var checked = option.querySelector("input").checked;
        var matches = words.every(function (word) { return name.indexOf(word) !== -1; });
        option.hidden = !(matches || checked);
        if (!option.hidden) {
          shown += 1;
        }
      });
      if (!words.length) {
        status.textContent = "";
      } else if (shown === 0) {
        status.textContent = "Nobody matches “" + input.value.trim() + "”.";
      } else {
        status.textContent = shown + " of " + options.length + " people shown.";
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
