// Attendance pages: "mark all present" and an unsaved-changes count on the roster, and the
// rotating QR code of the check-in screen. Every page also works without this file.
(function () {
  "use strict";

  function setUpRoster(form) {
    var message = form.querySelector("[data-roster-message]");
    var saveButton = form.querySelector("[data-testid=save-roster]");
    var markButton = document.querySelector("[data-mark-all-present]");
    var rows = function () { return form.querySelectorAll(".roster-row"); };

    function value(row, suffix) {
      var input = row.querySelector('input[name$="-' + suffix + '"]');
      return input ? input.value : "";
    }

    function changed(row) {
      var loaded = value(row, "loaded_status");
      var checked = row.querySelector("input[type=radio]:checked");
      var note = row.querySelector('input[name$="-note"]');
      var status = checked ? checked.value : loaded;
      return status !== loaded || (note !== null && note.value.trim() !== value(row, "loaded_note"));
    }

    // A count in words: the message's form for the number's plural category in the page's
    // language (the forms come from the translation catalogue, see core/plurals.py).
    function plural(name, n) {
      var forms = JSON.parse(form.getAttribute(name));
      var category = "other";
      try { category = new Intl.PluralRules(document.documentElement.lang).select(n); } catch (e) {}
      return (forms[category] || forms.other).replace("{n}", n);
    }

    function say(text) {
      if (message) { message.textContent = text; }
    }

    function update() {
      var count = 0;
      rows().forEach(function (row) { if (changed(row)) { count += 1; } });
      say(count ? plural("data-msg-unsaved", count) : "");
    }

    form.addEventListener("change", update);
    form.addEventListener("input", update);

    if (markButton) {
      markButton.addEventListener("click", function (event) {
        event.preventDefault();
        var marked = 0;
        rows().forEach(function (row) {
          if (row.querySelector("input[type=radio]:checked")) { return; }
          var present = row.querySelector('input[type=radio][value="present"]');
          if (present && !present.disabled) {
            present.checked = true;
            marked += 1;
          }
        });
        update();
        say(plural("data-msg-marked", marked));
      });
    }

    form.addEventListener("submit", function () {
      // One Save, one request: a second tap while the first is on its way does nothing.
      if (saveButton) { window.setTimeout(function () { saveButton.disabled = true; }, 0); }
    });
  }

  function setUpCheckinScreen(screen) {
    var url = screen.getAttribute("data-checkin-refresh");
    var seconds = parseInt(screen.getAttribute("data-refresh-seconds"), 10) || 5;
    var qr = screen.querySelector("[data-checkin-qr]");
    var link = screen.querySelector("[data-checkin-url]");
    var count = screen.querySelector("[data-checkin-count]");
    var enrolled = screen.querySelector("[data-checkin-enrolled]");
    var error = screen.querySelector("[data-checkin-error]");

    function refresh() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (data.closed) { window.location.reload(); return; }  // cancelled or over: say why
          if (link.getAttribute("href") !== data.url) {
            qr.innerHTML = data.svg;  // SVG rendered by our own server
            link.setAttribute("href", data.url);
            link.textContent = data.url;
          }
          count.textContent = data.checked_in;
          enrolled.textContent = data.enrolled;
          error.hidden = true;
        })
        .catch(function () {
          error.textContent = screen.getAttribute("data-msg-offline");
          error.hidden = false;
        });
    }

    window.setInterval(refresh, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("roster-form");
    if (form) { setUpRoster(form); }
    var screen = document.querySelector("[data-checkin-refresh]");
    if (screen) { setUpCheckinScreen(screen); }
  });
})();
