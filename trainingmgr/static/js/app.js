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
