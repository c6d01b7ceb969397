// Kapchyk works without JavaScript; this only makes it installable (home screen, standalone).
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  });
}
