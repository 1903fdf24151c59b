// Enrolments: a "tick all" box over the search results. Without JavaScript it stays hidden
// and each person is ticked one by one.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-tick-all]").forEach(function (all) {
    var form = all.form;
    var boxes = function () {
      return form.querySelectorAll('input[name="person_ids"]:not(:disabled)');
    };
    if (!boxes().length) {
      return;
    }
    all.closest("[data-tick-all-wrapper]").classList.remove("d-none");
    all.addEventListener("change", function () {
      boxes().forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
});
