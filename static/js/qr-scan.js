// «Считывание по QR-коду» with the camera, where the browser has its own BarcodeDetector:
// the link read fills the form and sends it. Elsewhere nothing shows (paste or upload).
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  var form = document.querySelector("[data-scan-form]");
  if (!box || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  box.hidden = false;
  var video = box.querySelector("[data-camera-video]");
  box.querySelector("[data-camera-start]").addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            form.querySelector("[name=link]").value = codes[0].rawValue;
            form.submit();
          } else {
            window.setTimeout(tick, 300);
          }
        }, function () { window.setTimeout(tick, 500); });
      };
      tick();
    }, function () { box.hidden = true; });
  });
})();
