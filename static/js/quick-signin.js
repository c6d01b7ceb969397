// Quick sign-in on a trusted device (wallets/devices.py). Without this script nothing of it is
// offered: the sections stay hidden. The device key is an ECDSA P-256 key made by WebCrypto,
// not extractable, kept in IndexedDB; the server only ever sees its public half.
(function () {
  "use strict";
  var STORE = "device", KEY = "this";
  var supported = !!(window.crypto && crypto.subtle && window.indexedDB && window.fetch);

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("kapchyk", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(mode, action) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), request = action(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function load() { return store("readonly", function (s) { return s.get(KEY); }); }
  function save(value) { return store("readwrite", function (s) { return s.put(value, KEY); }); }
  function forget() { return store("readwrite", function (s) { return s.delete(KEY); }); }

  function b64(buffer) {
    var text = "";
    new Uint8Array(buffer).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text);
  }
  function b64url(buffer) {
    return b64(buffer).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function bytes(text) {
    text = text.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }
  function show(element, text) {
    element.textContent = text;
    element.hidden = !text;
  }
  function post(url, data) {
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin", headers: {Accept: "application/json"}
    }).then(function (response) {
      return response.json().then(function (body) { return {status: response.status, body: body}; });
    });
  }

  // «Безопасность»: trust this browser.
  var add = document.getElementById("device-add");
  if (add && supported) {
    var addError = document.getElementById("device-add-error");
    load().then(function (device) {
      var row = device && document.querySelector('[data-device="' + device.id + '"]');
      if (row) {
        row.querySelector(".this-device").hidden = false;
      } else {
        add.hidden = false;
      }
    }).catch(function () {});
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = add.querySelector("button[type=submit]"), pair;
      button.disabled = true;
      show(addError, "");
      crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign", "verify"])
        .then(function (keys) {
          pair = keys;
          return crypto.subtle.exportKey("spki", keys.publicKey);
        })
        .then(function (spki) {
          var data = new FormData(add);
          data.append("public_key", b64(spki));
          return post(add.action, data);
        })
        .then(function (answer) {
          if (answer.status !== 201) { throw new Error(answer.body.error || ""); }
          return save({id: answer.body.device, number: answer.body.number, key: pair.privateKey});
        })
        .then(function () { window.location.reload(); })
        .catch(function (error) {
          show(addError, (error && error.message) || add.dataset.error);
          button.disabled = false;
        });
    });
  }

  // The sign-in page: by PIN on this device.
  var box = document.getElementById("pin-signin");
  var quickError = document.getElementById("quick-error");
  if (box && supported) {
    var form = document.getElementById("pin-form");
    load().then(function (device) {
      if (!device) { return; }
      if (box.dataset.forgotten && box.dataset.forgotten === device.id) { return forget(); }
      document.getElementById("pin-number").textContent = device.number;
      box.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        var data = new FormData();
        data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
        data.append("device", device.id);
        post(box.dataset.challengeUrl, data)
          .then(function (answer) {
            if (answer.body.forgotten) {
              box.hidden = true;
              show(quickError, answer.body.error);
              return forget();
            }
            if (!answer.body.challenge) { throw new Error(answer.body.error || ""); }
            var challenge = answer.body.challenge;
            return crypto.subtle.sign(
              {name: "ECDSA", hash: "SHA-256"}, device.key, new TextEncoder().encode(challenge)
            ).then(function (signature) {
              form.elements.device.value = device.id;
              form.elements.challenge.value = challenge;
              form.elements.signature.value = b64url(signature);
              form.submit();
            });
          })
          .catch(function (error) {
            show(quickError, (error && error.message) || box.dataset.error);
            button.disabled = false;
          });
      });
    }).catch(function () {});
  }

  // The sign-in page: a passkey (allauth's WebAuthn login).
  var passkey = document.getElementById("passkey-signin");
  if (passkey && window.PublicKeyCredential && window.fetch) {
    var passkeyForm = document.getElementById("passkey-form");
    passkey.hidden = false;
    passkeyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(passkeyForm.action, {headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error(""); }
          return response.json();
        })
        .then(function (data) {
          var options = data.request_options.publicKey;
          options.challenge = bytes(options.challenge);
          (options.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
          return navigator.credentials.get({publicKey: options});
        })
        .then(function (credential) {
          var r = credential.response;
          passkeyForm.elements.credential.value = JSON.stringify({
            type: credential.type,
            id: credential.id,
            rawId: b64url(credential.rawId),
            authenticatorAttachment: credential.authenticatorAttachment,
            response: {
              clientDataJSON: b64url(r.clientDataJSON),
              authenticatorData: b64url(r.authenticatorData),
              signature: b64url(r.signature),
              userHandle: r.userHandle ? b64url(r.userHandle) : null
            },
            clientExtensionResults: credential.getClientExtensionResults()
          });
          passkeyForm.submit();
        })
        .catch(function () { show(quickError, passkey.dataset.error); });
    });
  }
})();
