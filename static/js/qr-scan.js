// «Считывание по QR-коду» with the camera: the link read fills the form and sends it.
// The browser's own BarcodeDetector where it has one; elsewhere jsQR (static/js/vendor/, from
// npm, `npm run vendor`), fetched from this site only when the camera is asked for, decoding
// the video's frames drawn on a canvas. Without a camera or JavaScript: paste or upload.
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  var form = document.querySelector("[data-scan-form]");
  if (!box || !form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var video = box.querySelector("[data-camera-video]");
  var button = box.querySelector("[data-camera-start]");
  var MAX_SIDE = 640; // frames are scaled down to this before decoding: fast enough on a phone
  var canvas = null;

  // The text of the QR code in a canvas (or null): jsQR on its pixels.
  function decodeCanvas(source) {
    var context = source.getContext("2d", { willReadFrequently: true });
    var image = context.getImageData(0, 0, source.width, source.height);
    var code = window.jsQR(image.data, image.width, image.height, {
      inversionAttempts: "attemptBoth",
    });
    return code && code.data ? code.data : null;
  }

  // One frame of the video, drawn on a canvas and decoded.
  function decodeFrame() {
    var width = video.videoWidth;
    var height = video.videoHeight;
    if (!width || !height) return null;
    var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    canvas = canvas || document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.getContext("2d", { willReadFrequently: true })
      .drawImage(video, 0, 0, canvas.width, canvas.height);
    return decodeCanvas(canvas);
  }

  var loading = null;
  function loadDecoder() {
    if (window.jsQR) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = box.getAttribute("data-decoder");
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  // A promise of a detector: detect() → a promise of the text read, or null.
  function detector() {
    if ("BarcodeDetector" in window) {
      try {
        var native = new window.BarcodeDetector({ formats: ["qr_code"] });
        return Promise.resolve(function () {
          return native.detect(video).then(function (codes) {
            return codes.length ? codes[0].rawValue : null;
          });
        });
      } catch (e) {
        // No QR support behind the name: the bundled decoder.
      }
    }
    return loadDecoder().then(function () {
      return function () {
        return Promise.resolve(decodeFrame());
      };
    });
  }

  window.kapchykQr = { decodeCanvas: decodeCanvas, loadDecoder: loadDecoder };
  box.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    Promise.all([
      detector(),
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }),
    ]).then(function (found) {
      var detect = found[0];
      var stream = found[1];
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var tick = function () {
        detect().then(function (text) {
          if (text) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            form.querySelector("[name=link]").value = text;
            form.submit();
          } else {
            window.setTimeout(tick, 250);
          }
        }, function () { window.setTimeout(tick, 500); });
      };
      tick();
    }, function () {
      box.hidden = true;
    });
  });
})();
