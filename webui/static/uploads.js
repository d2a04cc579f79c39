// Attachment fields (portal/_upload_field.html): upload the chosen file at once, in pieces, with
// the tus 1.0.0 protocol (POST creates, PATCH appends at Upload-Offset, HEAD asks where it stands),
// showing progress; after a network failure ask the server for its offset and go on from there.
// The hidden field then carries the finished upload's id and the file itself is not sent again
// with the form. Without this script the file travels with the form as a plain upload.
(function () {
  "use strict";

  var TUS = "1.0.0";
  var PIECE = 8 * 1024 * 1024;
  var RETRY_DELAYS = [1000, 3000, 10000, 30000];

  function csrfToken() {
    var meta = document.querySelector("meta[name='csrf-token']");
    return meta ? meta.content : "";
  }

  function base64(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary);
  }

  function humanSize(size) {
    var units = [["GB", 1073741824], ["MB", 1048576], ["KB", 1024]];
    for (var i = 0; i < units.length; i++) {
      if (size >= units[i][1]) { return (Math.round(size / units[i][1] * 10) / 10) + " " + units[i][0]; }
    }
    return size + " bytes";
  }

  function request(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      headers["Tus-Resumable"] = TUS;
      headers["X-CSRF-Token"] = csrfToken();
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      if (onProgress) { xhr.upload.addEventListener("progress", function (e) { onProgress(e.loaded); }); }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function errorOf(xhr) {
    try { return JSON.parse(xhr.responseText).error || ""; } catch (e) { return ""; }
  }

  function Field(wrap) {
    this.wrap = wrap;
    this.input = wrap.querySelector("input[type=file]");
    this.hidden = wrap.querySelector("[data-upload-id]");
    this.current = wrap.querySelector("[data-upload-current]");
    this.status = wrap.querySelector("[data-upload-status]");
    this.progressBox = wrap.querySelector("[data-upload-progress]");
    this.progress = wrap.querySelector("progress");
    this.retryButton = wrap.querySelector("[data-upload-retry]");
    this.cancelButton = wrap.querySelector("[data-upload-cancel]");
    this.messages = {};
    var template = wrap.querySelector("template[data-upload-messages]");
    var self = this;
    template.content.querySelectorAll("[data-message]").forEach(function (span) {
      self.messages[span.dataset.message] = span.textContent;
    });
    this.input.addEventListener("change", function () { self.start(); });
    this.retryButton.addEventListener("click", function () { self.resume(); });
    this.cancelButton.addEventListener("click", function () { self.cancel(); });
  }

  Field.prototype.say = function (key, values) {
    var text = this.messages[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(values[name]); });
    this.status.textContent = text;
  };

  Field.prototype.show = function (sent) {
    var percent = this.file.size ? Math.floor(sent * 100 / this.file.size) : 100;
    this.progress.value = percent;
    this.say("uploading", { name: this.file.name, percent: percent + "%" });
  };

  Field.prototype.start = function () {
    var file = this.input.files[0];
    if (!file) { return; }
    this.file = file;
    this.url = null;
    this.attempt = 0;
    this.cancelled = false;
    this.hidden.value = "";
    var limit = parseInt(this.wrap.dataset.maxBytes, 10);
    if (file.size > limit) {
      this.say("too_large", { name: file.name, limit: humanSize(limit) });
      this.input.value = "";
      return;
    }
    this.progressBox.hidden = false;
    this.retryButton.hidden = true;
    this.show(0);
    var self = this;
    var metadata = "filename " + base64(file.name);
    if (this.wrap.dataset.procedure) { metadata += ",procedure " + base64(this.wrap.dataset.procedure); }
    request("POST", this.wrap.dataset.uploadEndpoint, { "Upload-Length": String(file.size), "Upload-Metadata": metadata })
      .then(function (xhr) {
        if (xhr.status !== 201) { return self.fail(errorOf(xhr)); }
        self.url = xhr.getResponseHeader("Location");
        return self.send(0);
      }, function () { self.fail(""); });
  };

  Field.prototype.send = function (offset) {
    var self = this;
    if (this.cancelled) { return; }
    if (offset >= this.file.size) { return this.finish(); }
    var piece = this.file.slice(offset, Math.min(offset + PIECE, this.file.size));
    return request("PATCH", this.url, { "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
                   piece, function (loaded) { self.show(offset + loaded); })
      .then(function (xhr) {
        if (xhr.status === 204) {
          self.attempt = 0;
          return self.send(parseInt(xhr.getResponseHeader("Upload-Offset"), 10));
        }
        if (xhr.status === 409) { return self.resume(); }
        return self.fail(errorOf(xhr));
      }, function () { self.paused(offset); });
  };

  Field.prototype.paused = function (offset) {
    var self = this;
    this.retryButton.hidden = false;
    this.say("paused", { percent: Math.floor(offset * 100 / this.file.size) + "%" });
    var delay = RETRY_DELAYS[Math.min(this.attempt, RETRY_DELAYS.length - 1)];
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.resume(); }, delay);
  };

  Field.prototype.resume = function () {
    var self = this;
    clearTimeout(this.timer);
    if (!this.url || this.cancelled) { return; }
    this.retryButton.hidden = true;
    request("HEAD", this.url, {}).then(function (xhr) {
      if (xhr.status !== 200) { return self.fail(""); }
      return self.send(parseInt(xhr.getResponseHeader("Upload-Offset"), 10));
    }, function () { self.paused(0); });
  };

  Field.prototype.finish = function () {
    this.hidden.value = this.url.split("/").pop();
    this.input.value = "";  // the file is on the server: the form need not carry it again
    this.progressBox.hidden = true;
    var text = (this.messages.done || "").split("%(name)s").join(this.file.name).split("%(size)s").join(humanSize(this.file.size));
    this.current.textContent = text;
    this.current.hidden = false;
    this.status.textContent = text;
  };

  Field.prototype.fail = function (message) {
    clearTimeout(this.timer);
    this.progressBox.hidden = true;
    this.input.value = "";
    if (message) { this.status.textContent = message; } else { this.say("failed"); }
  };

  Field.prototype.cancel = function () {
    this.cancelled = true;
    clearTimeout(this.timer);
    if (this.url) { request("DELETE", this.url, {}).catch(function () { return null; }); }
    this.url = null;
    this.input.value = "";
    this.progressBox.hidden = true;
    this.say("cancelled");
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-upload-field]").forEach(function (wrap) { wrap.uploadField = new Field(wrap); });
  });
}());
