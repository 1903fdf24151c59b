// Portal: a "Copy" button next to the calendar address (shown only when JavaScript runs).
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var input = document.getElementById(button.getAttribute("data-copy"));
  if (!input) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () {
      button.textContent = button.getAttribute("data-copied");
    };
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else if (document.execCommand("copy")) {
      done();
    }
  });
});
