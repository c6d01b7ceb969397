// Kapchyk works without JavaScript; this only makes it installable (home screen, standalone).
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  });
}

// A page that follows something changing (a pending receipt, the cashier's codes) names its
// period in <meta name="kapchyk-refresh">; it reloads then, but not while someone is typing
// into it (the <noscript> <meta refresh> does the same without JavaScript).
(function () {
  var meta = document.querySelector('meta[name="kapchyk-refresh"]');
  var seconds = meta && parseInt(meta.content, 10);
  if (!seconds) return;
  function typing() {
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.type !== "submit") return true;
    return Array.prototype.some.call(document.querySelectorAll("form input:not([type=hidden]):not([type=submit])"), function (field) {
      return field.value !== field.defaultValue;
    });
  }
  window.setInterval(function () {
    if (!typing()) window.location.reload();
  }, seconds * 1000);
})();
