// «Включить уведомления» on /notifications/: Web Push for this browser. The block stays
// hidden without JavaScript and where the browser cannot take push messages.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) ||
      !("Notification" in window)) {
    return;
  }
  var on = document.getElementById("push-on");
  var off = document.getElementById("push-off");
  var status = document.getElementById("push-status");

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(data),
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
    });
  }

  function show(subscribed, message) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    status.textContent = message ? status.dataset[message] : "";
  }

  navigator.serviceWorker.register("/sw.js").then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    return registration.pushManager.getSubscription().then(function (current) {
      box.hidden = false;
      show(Boolean(current), Notification.permission === "denied" ? "denied" : "");

      on.addEventListener("click", function () {
        Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") throw new Error("denied");
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(box.dataset.key),
          });
        }).then(function (subscription) {
          return post(box.dataset.subscribe, subscription.toJSON());
        }).then(function () {
          show(true, "on");
        }).catch(function (error) {
          show(false, error.message === "denied" ? "denied" : "failed");
        });
      });

      off.addEventListener("click", function () {
        registration.pushManager.getSubscription().then(function (subscription) {
          if (!subscription) return null;
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return post(box.dataset.unsubscribe, { endpoint: endpoint });
          });
        }).then(function () {
          show(false, "off");
        }).catch(function () {
          show(false, "failed");
        });
      });
    });
  }).catch(function () {});
})();
