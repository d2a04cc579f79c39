// Draws each .bpmn-diagram with the bpmn-js viewer and marks where the application stands.
(function () {
  "use strict";
  function draw(container) {
    if (typeof window.BpmnJS !== "function") { return; }
    fetch(container.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (answer) { return answer.json(); })
      .then(function (state) {
        var viewer = new window.BpmnJS({ container: container });
        return viewer.importXML(state.xml).then(function () {
          var canvas = viewer.get("canvas");
          var registry = viewer.get("elementRegistry");
          canvas.zoom("fit-viewport");
          state.completed.forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, "madoguchi-done"); }
          });
          state.active.forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, "madoguchi-active"); }
          });
        });
      })
      .catch(function () { container.classList.add("bpmn-diagram-unavailable"); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bpmn-diagram[data-diagram-url]").forEach(draw);
  });
})();
