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
      signedOut: false,
    };
    var held = form.hasAttribute("data-autosave-held");
    var pending = pendingCopy(form, url, revision, form.getAttribute("data-autosave-owner"));

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

    // A request sent while the page goes away (keepalive, a beacon) may carry about 64 KB.
    function fitsKeepalive() {
      var size = 0;
      Array.prototype.forEach.call(form.querySelectorAll("textarea"), function (box) {
        size += box.value.length * 3; // UTF-8: up to 3 bytes a character
      });
      return size < 60000;
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
        state.signedOut = false;
        var at = timeOf(data.saved_at);
        if (!state.dirty) {
          pending.forget();
          say(at ? "All changes saved at " + at + "." : data.message, "saved");
        }
        return;
      }
      state.dirty = true; // what failed to save is still only in this page
      state.waiting = true;
      if (result.status === 401) {
        state.signedOut = true; // saves again once they are back (window focus, or typing)
        say(
          "Not saved: you were signed out. Sign in again in another tab and come back: " +
            "what you typed stays in this page and is saved then.",
          "error"
        );
      } else if (result.status === 409 && data.retry) {
        state.waiting = false; // another write met the same row at the same moment: again
        say("Saving…", "saving");
      } else if (result.status === 409) {
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
        if (!state.signedOut) {
          say("Saving…", "saving"); // from the first change, not only while the request runs
        }
        schedule();
      }
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    // Save draft and Submit carry the revision: wait for a save under way to answer first.
    form.addEventListener("submit", function (event) {
      window.clearTimeout(state.timer);
      if (state.signedOut) {
        event.preventDefault(); // sent now, the form would land on the sign-in page, lost
        say(
          "Not sent: you are signed out. Sign in again in another tab, come back, and then " +
            "save or submit; what you typed stays in this page.",
          "error"
        );
        return;
      }
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
      pending.forget(); // the page that answers shows what was sent; an older copy must not win
    });

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && state.dirty && !state.leaving) {
        if (!held) {
          pending.keep(); // a reload may read the page before this save lands
        }
        if (!state.inFlight) {
          save({ keepalive: fitsKeepalive() });
        }
      } else if (document.visibilityState === "visible" && state.dirty && state.signedOut) {
        save(); // back from signing in again in another tab
      }
    });
    window.addEventListener("focus", function () {
      if (state.dirty && state.signedOut && !state.inFlight) {
        save();
      }
    });
    window.addEventListener("online", function () {
      if (state.dirty && state.waiting && !state.stopped && !state.inFlight) {
        save(); // back on the network: what could not be sent goes now, without more typing
      }
    });
    window.addEventListener("pagehide", function () {
      if (state.dirty && !state.leaving && !held) {
        pending.keep();
      }
      if (state.dirty && !state.inFlight && !state.stopped && !state.leaving && fitsKeepalive()) {
        if (navigator.sendBeacon && navigator.sendBeacon(url, body())) {
          state.dirty = false;
        }
      }
    });
    window.addEventListener("beforeunload", function (event) {
      var unsure = state.stopped || state.waiting || state.signedOut || !fitsKeepalive();
      if (state.dirty && unsure && !state.leaving) {
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
    if (!document.getElementById("error-summary") && pending.restore()) {
      state.dirty = true;
      say("Saving what you typed before the page reloaded…", "saving");
      save();
      return;
    }
    if (document.getElementById("error-summary")) {
      // A refused Save draft or Submit: what the page shows is what was typed, not what is
      // stored. Keep it as the draft (a refusal the autosave shares is said in the status).
      state.dirty = true;
      save();
      return;
    }
    say("Changes are saved as you go.", "");
  }

  // What the person typed, kept in this tab's storage while the page goes away (a reload, a
  // closed tab): a reload can read the page before the last save has landed, and would show
  // the older text. The copy is offered back only to the same person on a page showing the
  // very version it was typed over, within the hour; any other page drops it.
  function pendingCopy(form, url, revision, owner) {
    var key = "rungs-autosave:" + url;
    var store = null;
    try {
      store = window.sessionStorage;
    } catch (error) {
      store = null; // storage blocked: the saves alone keep the work
    }

    function fields() {
      var data = new FormData(form);
      var pairs = [];
      data.forEach(function (value, name) {
        if (name !== "csrf_token" && name !== "revision" && name !== "action") {
          pairs.push([name, String(value)]);
        }
      });
      return pairs;
    }

    function apply(pairs) {
      var values = {};
      pairs.forEach(function (pair) {
        (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
      });
      Array.prototype.forEach.call(form.elements, function (element) {
        var name = element.name;
        if (!name || name === "csrf_token" || name === "revision" || name === "action") {
          return;
        }
        var given = values[name] || [];
        if (element.type === "checkbox" || element.type === "radio") {
          element.checked = given.indexOf(element.value) !== -1;
        } else if (element.tagName === "TEXTAREA" || element.type === "text") {
          element.value = given.length ? given[0] : "";
        }
      });
      Array.prototype.forEach.call(form.querySelectorAll("[name]"), function (element) {
        element.dispatchEvent(new Event("change", { bubbles: true })); // counts follow
      });
    }

    return {
      keep: function () {
        if (store) {
          try {
            store.setItem(
              key,
              JSON.stringify({
                owner: owner,
                base: revision.value,
                at: Date.now(),
                fields: fields(),
              })
            );
          } catch (error) {
            // full or blocked: nothing more to do
          }
        }
      },
      forget: function () {
        if (store) {
          store.removeItem(key);
        }
      },
      restore: function () {
        if (!store) {
          return false;
        }
        var copy = null;
        try {
          copy = JSON.parse(store.getItem(key) || "null");
        } catch (error) {
          copy = null;
        }
        store.removeItem(key);
        var stale = !copy || copy.owner !== owner || copy.base !== revision.value;
        if (stale || Date.now() - copy.at > 3600000) {
          return false;
        }
        apply(copy.fields || []);
        return true;
      },
    };
  }

  // A live count beside each text with a limit (the rationale): the browser no longer cuts a
  // pasted text silently, so the person sees how far over it is before the save says so.
  function setUpCounters(form) {
    Array.prototype.forEach.call(form.querySelectorAll("textarea[data-limit]"), function (box) {
      var limit = Number(box.getAttribute("data-limit"));
      var count = document.createElement("p");
      count.className = "hint char-count";
      box.insertAdjacentElement("afterend", count);
      function show() {
        var used = box.value.length;
        count.textContent = used.toLocaleString() + " of " + limit.toLocaleString() +
          " characters" + (used > limit ? ": " + (used - limit).toLocaleString() + " too many" : "");
        count.classList.toggle("is-over", used > limit);
      }
      box.addEventListener("input", show);
      show();
    });
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
    setUpCounters(form);
    setUpAutosave(form);
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus(); // the refusal is read first, its links lead to each field
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
