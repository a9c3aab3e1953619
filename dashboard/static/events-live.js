// Live refresh for the events list, delivery detail and bulk job pages:
// every element with data-live="URL" has its content replaced every 3 s
// by the HTML fragment at URL while the tab is visible. Without this
// script the pages work the same and a reload shows what is new.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-live]").forEach(function (el) {
    var url = el.getAttribute("data-live");
    var busy = false;
    var hint = document.querySelector("[data-live-hint]");
    if (hint) hint.hidden = false;
    setInterval(function () {
      // Do not move the content under the user's keyboard focus.
      if (busy || document.hidden || el.contains(document.activeElement)) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) {
          return r.ok && r.headers.get("X-Hookrelay-Fragment") ? r.text() : null;
        })
        .then(function (html) { if (html !== null) el.innerHTML = html; })
        .catch(function () {})
        .then(function () { busy = false; });
    }, 3000);
  });
});
