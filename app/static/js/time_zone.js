// "Your settings": offer the time zone the browser reports, when it differs from the one chosen.
(function () {
  var hint = document.getElementById("browser-zone");
  if (!hint || !window.Intl || !Intl.DateTimeFormat) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var select = document.getElementById(hint.getAttribute("data-zone-select"));
  if (!zone || !select) return;
  var known = Array.prototype.some.call(select.options, function (option) {
    return option.value === zone;
  });
  if (!known || select.value === zone) return;
  hint.querySelector("[data-browser-zone]").textContent = zone;
  hint.hidden = false;
  hint.querySelector("[data-use-browser-zone]").addEventListener("click", function () {
    select.value = zone;
    hint.hidden = true;
    select.focus();
  });
})();
