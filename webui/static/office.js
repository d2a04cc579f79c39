// The task list's "select all" box: shown only when scripts run (without them each task is ticked
// on its own). A native checkbox, so Space toggles it from the keyboard like any other.
(function () {
  "use strict";
  function setUp() {
    var all = document.getElementById("pick-all");
    if (!all) { return; }
    var picks = Array.prototype.slice.call(document.querySelectorAll("input.pick"));
    if (!picks.length) { return; }
    all.hidden = false;
    function reflect() {
      var ticked = picks.filter(function (box) { return box.checked; }).length;
      all.checked = ticked === picks.length;
      all.indeterminate = ticked > 0 && ticked < picks.length;
    }
    all.addEventListener("change", function () {
      picks.forEach(function (box) { box.checked = all.checked; });
      reflect();
    });
    picks.forEach(function (box) { box.addEventListener("change", reflect); });
    reflect();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
}());
