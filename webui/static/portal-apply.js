// Applying on line: hide a conditional field while its condition does not hold. Without this
// script every field is shown with its condition written beside it, and the server decides.
(function () {
  "use strict";

  function currentValue(form, name) {
    var inputs = form.querySelectorAll("[name='" + name + "']");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "checkbox") { return input.checked ? "true" : "false"; }
      if (input.type === "radio") { if (input.checked) { return input.value; } continue; }
      return input.value;
    }
    return "";
  }

  function update(form) {
    form.querySelectorAll("[data-show-if-field]").forEach(function (wrap) {
      var holds = currentValue(form, wrap.dataset.showIfField) === wrap.dataset.showIfValue;
      wrap.hidden = !holds;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.apply-form").forEach(function (form) {
      if (!form.querySelector("[data-show-if-field]")) { return; }
      form.addEventListener("change", function () { update(form); });
      update(form);
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
