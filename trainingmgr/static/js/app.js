// trainingmgr: small progressive enhancements. Pages work without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Scrolling regions (wide tables, previews) can be scrolled with the keyboard: each one
// that is wider than its box and holds nothing focusable becomes a focusable, named region.
(function () {
  function label(region) {
    var caption = region.querySelector("caption");
    var heading = region.closest("section") && region.closest("section").querySelector("h1, h2, h3");
    var text = (caption || heading || {}).textContent || document.title;
    return text.trim().replace(/\s+/g, " ");
  }
  function enhance() {
    var regions = document.querySelectorAll(".table-responsive, .scroll-region, .cascade-scroll, pre");
    Array.prototype.forEach.call(regions, function (region) {
      var scrolls = region.scrollWidth > region.clientWidth + 1 || region.scrollHeight > region.clientHeight + 1;
      if (!scrolls || region.hasAttribute("tabindex")) return;
      region.setAttribute("tabindex", "0");
      if (!region.hasAttribute("role")) region.setAttribute("role", "region");
      if (!region.hasAttribute("aria-label") && !region.hasAttribute("aria-labelledby")) {
        region.setAttribute("aria-label", label(region));
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();

// Checkbox pickers (macros.html checkbox_picker): a search box narrows the list; groups
// marked data-picker-more (people who are not trainers, say) show only when searched for.
(function () {
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/ı/g, "i").replace(/ə/g, "e");
  }
  function filter(picker, input) {
    var query = fold(input.value.trim());
    var any = false;
    picker.querySelectorAll(".picker-group").forEach(function (group) {
      var more = group.hasAttribute("data-picker-more");
      var shown = 0;
      group.querySelectorAll(".picker-option").forEach(function (option) {
        var box = option.querySelector("input");
        var text = fold(option.textContent + " " + (option.getAttribute("data-search") || ""));
        var match = query ? text.indexOf(query) !== -1 : !more;
        var show = box.checked || match;
        option.hidden = !show;
        if (show) shown += 1;
      });
      group.hidden = shown === 0;
      if (shown) any = true;
    });
    picker.querySelector(".picker-none").hidden = any;
  }
  function enhance(picker) {
    var input = picker.querySelector(".picker-search");
    input.hidden = false;
    var hint = picker.querySelector(".picker-more-hint");
    if (hint && picker.querySelector("[data-picker-more]")) hint.hidden = false;
    input.addEventListener("input", function () { filter(picker, input); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault(); // Enter in the search box does not submit
    });
    filter(picker, input);
  }
  function init() { document.querySelectorAll("[data-picker]").forEach(enhance); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
