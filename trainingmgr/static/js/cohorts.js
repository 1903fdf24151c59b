// trainingmgr cohorts: a filter box above long multi-selects (the trainers of a session).
// Without JavaScript the select still works; this only hides options that do not match.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/ı/g, "i").replace(/ə/g, "e");
  }

  function enhance(select) {
    var input = document.createElement("input");
    input.type = "search";
    input.className = "form-control form-control-sm mb-1";
    input.placeholder = select.getAttribute("data-filter-placeholder") || "Filter…";
    input.setAttribute("aria-label", input.placeholder);
    input.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(input, select);
    input.addEventListener("input", function () {
      var query = fold(input.value.trim());
      Array.prototype.forEach.call(select.options, function (option) {
        var text = fold(option.textContent + " " + (option.getAttribute("data-search") || ""));
        option.hidden = Boolean(query) && !option.selected && text.indexOf(query) === -1;
      });
    });
  }

  function init() {
    document.querySelectorAll("select[data-filterable]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
