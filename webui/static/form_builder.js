/* The form builder without a round trip for every keystroke: while the draft is edited, the
   preview beside it is asked for again (the same server-side rendering the buttons use).
   Without this script the "Refresh the preview" button does the same. */
(function () {
  "use strict";
  var editor = document.querySelector("form.builder-editor[data-preview-url]");
  var target = document.getElementById("builder-preview");
  if (!editor || !target || !window.fetch || !window.FormData) { return; }
  var timer = null;
  var latest = 0;

  function refresh() {
    var asked = ++latest;
    fetch(editor.getAttribute("data-preview-url"), {
      method: "POST",
      body: new FormData(editor),
      credentials: "same-origin",
      headers: {"X-Requested-With": "fetch"}
    }).then(function (answer) {
      return answer.ok ? answer.text() : null;
    }).then(function (html) {
      if (html !== null && asked === latest) { target.innerHTML = html; }
    }).catch(function () { /* the button still works */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  editor.addEventListener("input", soon);
  editor.addEventListener("change", soon);
})();
