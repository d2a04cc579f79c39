// Draws each .bpmn-diagram with the bpmn-js viewer and marks where the application stands:
// markers for the current, finished and taken elements, a text badge on each (colour is not
// the only cue), and the names of the current steps in the legend beside the drawing.
(function () {
  "use strict";
  function badge(text, done) {
    var element = document.createElement("span");
    element.className = done ? "madoguchi-badge madoguchi-badge-done" : "madoguchi-badge";
    element.textContent = text;
    return element;
  }
  function mark(viewer, container, state) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var overlays = viewer.get("overlays");
    canvas.zoom("fit-viewport");
    state.taken.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "madoguchi-taken"); }
    });
    state.completed.forEach(function (id) {
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "madoguchi-done");
      overlays.add(id, "madoguchi", { position: { bottom: 0, right: 0 }, html: badge(container.dataset.labelDone, true) });
    });
    state.active.forEach(function (id) {
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "madoguchi-active");
      overlays.add(id, "madoguchi", { position: { top: -22, left: 0 }, html: badge(container.dataset.labelCurrent, false) });
    });
    var names = state.active_steps.map(function (step) { return step.name; });
    var legend = document.getElementById(container.getAttribute("aria-describedby"));
    if (legend) { legend.querySelector(".bpmn-diagram-names").textContent = names.join(", ") || "—"; }
  }
  function draw(container) {
    if (typeof window.BpmnJS !== "function") { return; }
    fetch(container.dataset.diagramUrl, { credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("diagram " + answer.status); }
        return answer.json();
      })
      .then(function (state) {
        var viewer = new window.BpmnJS({ container: container });
        return viewer.importXML(state.xml).then(function (result) {
          mark(viewer, container, state);
          container.dataset.importWarnings = String(result.warnings.length);
          container.dataset.diagramReady = "true";
        });
      })
      .catch(function () { container.classList.add("bpmn-diagram-unavailable"); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".bpmn-diagram[data-diagram-url]").forEach(draw);
  });
})();
