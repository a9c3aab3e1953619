// hookrelay dashboard: progressive enhancement only; every action works
// without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: shown only when the clipboard API is available.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    if (!navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      navigator.clipboard.writeText(el.value || el.textContent).then(function () {
        var old = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = old; }, 1500);
      });
    });
  });
  // Provider picker: show only the fields the chosen provider uses.
  var picker = document.getElementById("provider");
  if (picker && picker.tagName === "SELECT") {
    var update = function () {
      document.querySelectorAll("[data-providers]").forEach(function (f) {
        var list = f.getAttribute("data-providers").split(" ");
        f.hidden = list.indexOf(picker.value) < 0;
      });
    };
    picker.addEventListener("change", update);
    update();
  }
  // Times shown in UTC get the reader's local time as a tooltip.
  document.querySelectorAll("time[data-local]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) t.title = d.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "long"}) + " (your time)";
  });
  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
});
