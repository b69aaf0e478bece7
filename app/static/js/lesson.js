// The evidence form's retrospective template: switching the kind to "Learning from failure" on
// an empty "What happened" inserts four headed sections (what we expected, what happened, what
// we learned, what we changed); switching away while they are still untouched takes them out.
// Progressive enhancement only: without JavaScript, the "Log a lesson from a failure" link opens
// the form with the template already filled in by the server.
//
// Driven by the markup:
//   <form data-lesson-kind="KIND VALUE" data-lesson-template="MARKDOWN">
//     <select name="kind"> … <textarea name="body"> … <… data-lesson-status role="status">
(function () {
  "use strict";

  function setUp(form) {
    var lessonKind = form.getAttribute("data-lesson-kind");
    var template = form.getAttribute("data-lesson-template");
    var kind = form.querySelector("select[name=kind]");
    var body = form.querySelector("textarea[name=body]");
    var status = form.querySelector("[data-lesson-status]");
    if (!lessonKind || !template || !kind || !body) {
      return;
    }

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    kind.addEventListener("change", function () {
      var text = body.value.trim();
      if (kind.value === lessonKind && !text) {
        body.value = template;
        say("A short retrospective was added to “What happened”: fill in its four sections.");
      } else if (kind.value !== lessonKind && text === template.trim()) {
        body.value = "";
        say("The retrospective's empty sections were taken out.");
      }
    });
  }

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-lesson-template]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
