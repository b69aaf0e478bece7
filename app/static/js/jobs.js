// The job page: poll the job's status, move the progress bar, reload once the job has finished.
(function () {
  "use strict";
  var panel = document.querySelector("[data-job-status-url]");
  if (!panel || !window.fetch) return;
  var url = panel.getAttribute("data-job-status-url");
  var bar = panel.querySelector("progress");
  var message = panel.querySelector("[data-job-message]");
  var percent = panel.querySelector("[data-job-percent]");
  var tag = panel.querySelector(".job-status");
  var delay = 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (job) {
        if (job.finished) {
          window.location.replace(job.url);
          return;
        }
        if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
        if (message) message.textContent = job.message || job.label;
        if (percent) percent.textContent = job.progress;
        if (tag) { tag.textContent = job.label; tag.className = "job-status job-status-" + job.status; }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000); // the server is busy or away: back off, keep trying
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
})();
