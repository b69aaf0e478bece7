// The assessment form, for an hour of filling in: the section navigation's counts follow what
// is rated and explained, each evidence picker keeps a live linked count (its filter box is filter.js's), and
// the draft saves itself a couple of seconds after the last change and when the page is hidden
// or closed. Progressive only: without JavaScript the form is the same form, with Save draft.
//
// The autosave posts the whole form to the same service as Save draft, with the revision the
// form carries; each answer carries the new revision into the hidden field, so the person's own
// autosaves never conflict with their own Save draft or Submit. A conflict (saved in another
// window or by someone else) stops the autosave and says to use Save draft, which shows both.
(function () {
  "use strict";

  var DELAY_MS = 2000;

  function setUpProgress(form) {
    var areas = Array.prototype.slice.call(form.querySelectorAll("section[data-area]"));
    var overall = form.querySelector("[data-progress-done]");
    var ready = form.querySelector("[data-progress-ready]");
    var total = form.querySelectorAll(".assessment-competency").length;

    function isComplete(group) {
      var rated = group.querySelector(".assessment-scale input:checked");
      var rationale = group.querySelector("textarea");
      return Boolean(rated) && Boolean(rationale && rationale.value.trim());
    }

    return function update() {
      var all = 0;
      areas.forEach(function (area) {
        var groups = Array.prototype.slice.call(area.querySelectorAll(".assessment-competency"));
        var done = groups.filter(isComplete).length;
        all += done;
        var link = form.querySelector('[data-area-link="' + area.getAttribute("data-area") + '"]');
        if (link) {
          link.querySelector("[data-area-done]").textContent = String(done);
          link.classList.toggle("is-complete", done === groups.length);
        }
      });
      if (overall && overall.textContent !== String(all)) {
        overall.textContent = String(all);
      }
      if (ready) {
        ready.hidden = all !== total;
      }
    };
  }

  // The picker's filter box is filter.js's; this keeps the summary's linked count.
  function setUpPicker(picker) {
    var count = picker.querySelector("[data-linked-count]");
    var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[type=checkbox]"));
    picker.addEventListener("change", function () {
      count.textContent = String(boxes.filter(function (box) { return box.checked; }).length);
    });
  }

  function timeOf(iso) {
    var at = new Date(iso);
    if (isNaN(at.getTime())) {
      return "";
    }
    return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function setUpAutosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var revision = form.querySelector("input[name=revision]");
    var status = document.getElementById("autosave-status");
    if (!url || !revision || !status || !window.fetch || !window.FormData) {
      return;
    }
    // dirty: changes not saved yet; waiting: a refused save waits for the next change before
    // trying again; stopped: a conflict or an expired page, only Save draft can go on.
    var state = {
      dirty: false,
      waiting: false,
      inFlight: null,
      timer: null,
      stopped: false,
      leaving: false,
    };

    function say(text, kind) {
      status.hidden = false;
      status.className = "assessment-autosave" + (kind ? " is-" + kind : "");
      if (status.textContent !== text) {
        status.textContent = text;
      }
    }

    function body() {
      var data = new FormData(form);
      data.delete("action");
      return data;
    }

    function answer(response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        return { status: response.status, data: {} };
      }
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      });
    }

    function settle(result) {
      var data = result.data || {};
      if (result.status === 200 && data.revision !== undefined) {
        revision.value = String(data.revision);
        var at = timeOf(data.saved_at);
        if (!state.dirty) {
          say(at ? "All changes saved at " + at + "." : data.message, "saved");
        }
        return;
      }
      state.dirty = true; // what failed to save is still only in this page
      state.waiting = true;
      if (result.status === 409) {
        state.stopped = true;
        say(
          "Not saved: " + (data.error || "this was saved elsewhere since you opened it.") +
            " Use Save draft to see both versions; nothing is replaced until you do.",
          "error"
        );
      } else if (result.status === 400 && data.error) {
        say("Not saved: " + data.error, "error"); // tries again after the next change
      } else if (result.status === 404) {
        state.stopped = true;
        say(
          "Not saved: this assessment cannot be found any more for you. " +
            "Use Save draft to see why; your changes are still in this page.",
          "error"
        );
      } else {
        state.stopped = true;
        say(
          "Not saved: " + (data.error || "this form cannot be saved from here (error " +
            result.status + ").") + " Your changes are still in this page; use Save draft.",
          "error"
        );
      }
    }

    function save(options) {
      if (state.stopped || state.leaving) {
        return Promise.resolve();
      }
      if (state.inFlight) {
        return state.inFlight.then(function () {
          return state.dirty ? save(options) : undefined;
        });
      }
      window.clearTimeout(state.timer);
      state.dirty = false;
      say("Saving…", "saving");
      state.inFlight = window
        .fetch(url, {
          method: "POST",
          body: body(),
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          keepalive: Boolean(options && options.keepalive),
        })
        .then(answer)
        .then(settle, function () {
          state.dirty = true;
          state.waiting = true;
          say(
            "Not saved: Rungs cannot be reached. Your changes are still in this page; " +
              "saving tries again when you type, or use Save draft.",
            "error"
          );
        })
        .then(function () {
          state.inFlight = null;
          if (state.dirty && !state.stopped && !state.waiting) {
            schedule(); // changed while it was saving
          }
        });
      return state.inFlight;
    }

    function schedule() {
      window.clearTimeout(state.timer);
      state.timer = window.setTimeout(save, DELAY_MS);
    }

    function changed(event) {
      var target = event.target;
      if (!target.name || target.name === "csrf_token" || target.name === "revision") {
        return; // the evidence filter boxes have no name: typing there changes nothing
      }
      state.dirty = true;
      state.waiting = false;
      if (!state.stopped) {
        schedule();
      }
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    // Save draft and Submit carry the revision: wait for a save under way to answer first.
    form.addEventListener("submit", function (event) {
      window.clearTimeout(state.timer);
      if (state.inFlight && form.requestSubmit) {
        event.preventDefault();
        var submitter = event.submitter;
        state.inFlight.then(function () {
          state.stopped = true; // the page's own save takes it from here
          form.requestSubmit(submitter);
        });
        return;
      }
      state.leaving = true;
    });

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && state.dirty && !state.inFlight) {
        save({ keepalive: true });
      }
    });
    window.addEventListener("pagehide", function () {
      if (state.dirty && !state.inFlight && !state.stopped && !state.leaving) {
        if (navigator.sendBeacon && navigator.sendBeacon(url, body())) {
          state.dirty = false;
        }
      }
    });
    window.addEventListener("beforeunload", function (event) {
      if (state.dirty && state.stopped && !state.leaving) {
        event.preventDefault(); // autosave could not keep these changes: ask before losing them
        event.returnValue = "";
      }
    });

    if (form.hasAttribute("data-autosave-held")) {
      // The conflict page: which version stays is the person's choice, made with Save draft.
      state.stopped = true;
      say("Not saved automatically here: Save draft keeps the version in the form.", "error");
      return;
    }
    say("Changes are saved as you go.", "");
  }

  function setUp() {
    var form = document.querySelector("form[data-autosave-url]");
    if (!form) {
      return;
    }
    var update = setUpProgress(form);
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    Array.prototype.slice.call(form.querySelectorAll("[data-evidence-picker]")).forEach(setUpPicker);
    setUpAutosave(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
