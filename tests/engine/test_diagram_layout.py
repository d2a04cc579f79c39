"""Generated drawing information for diagrams written without it (engine.diagram_layout)."""

from __future__ import annotations

import time
from pathlib import Path

from lxml import etree

from engine.diagram_layout import (
    BPMN_NS,
    BPMNDI_NS,
    DC_NS,
    DI_NS,
    has_complete_di,
    layout_container,
    with_layout,
)
from tests.diagrams import chain, flow, process, user_task

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "workflows" / "dog-registration" / "dog-registration.bpmn"


def parse(text: str):
    return etree.fromstring(text.encode("utf-8"))


def shapes(root, plane_of: str | None = None) -> dict[str, tuple[float, float, float, float]]:
    found = {}
    for plane in root.iter(f"{{{BPMNDI_NS}}}BPMNPlane"):
        if plane_of is not None and plane.get("bpmnElement") != plane_of:
            continue
        for shape in plane.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
            b = shape.find(f"{{{DC_NS}}}Bounds")
            found[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return found


def edges(root) -> dict[str, list[tuple[float, float]]]:
    return {e.get("bpmnElement"): [(float(w.get("x")), float(w.get("y"))) for w in e.iter(f"{{{DI_NS}}}waypoint")]
            for e in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge")}


def overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def assert_orthogonal(points) -> None:
    assert len(points) >= 2
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        assert x1 == x2 or y1 == y2, points


def test_the_sample_procedure_gets_a_shape_for_every_element_and_an_edge_for_every_flow():
    root = parse(with_layout(SAMPLE.read_bytes(), "dog_registration"))
    process_element = root.find(f"{{{BPMN_NS}}}process")
    assert has_complete_di(root, process_element)
    drawn = shapes(root)
    names = [etree.QName(e).localname for e in process_element]
    assert len(drawn) == sum(n.endswith(("Event", "Task", "Gateway")) for n in names)
    flows = edges(root)
    assert set(flows) == {f.get("id") for f in process_element.iter(f"{{{BPMN_NS}}}sequenceFlow")}
    for points in flows.values():
        assert_orthogonal(points)
    boxes = list(drawn.values())
    assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    # left to right: every flow that does not loop back goes to the right
    for f in process_element.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        assert drawn[f.get("sourceRef")][0] < drawn[f.get("targetRef")][0]


def test_layout_is_deterministic_and_a_complete_diagram_is_kept_as_it_is():
    content = SAMPLE.read_bytes()
    process_element = etree.fromstring(content).find(f"{{{BPMN_NS}}}process")
    first, second = layout_container(process_element), layout_container(process_element)
    assert (first.shapes, first.edges) == (second.shapes, second.edges)
    laid_out = with_layout(content, "dog_registration")
    assert with_layout(laid_out.encode("utf-8"), "dog_registration") == laid_out


def test_incomplete_drawing_information_is_replaced():
    body = '<bpmn:startEvent id="s"/>' + user_task("a") + '<bpmn:endEvent id="e"/>' + chain("s", "a", "e")
    partial = process("p", body, extra=(
        '<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" id="old"><bpmndi:BPMNPlane id="old_plane" bpmnElement="p">'
        '<bpmndi:BPMNShape id="s_di" bpmnElement="s"><dc:Bounds x="0" y="0" width="36" height="36"/>'
        '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram>'))
    root = parse(with_layout(partial.encode("utf-8"), "p"))
    assert [d.get("id") for d in root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram")] == ["madoguchi_layout_0"]
    assert set(shapes(root)) == {"s", "a", "e"} and set(edges(root)) == {"f_s_a", "f_a_e"}


def test_a_loop_goes_back_under_the_drawing_and_branches_leave_the_gateway():
    body = "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review"), '<bpmn:exclusiveGateway id="ok"/>', user_task("fix"),
        '<bpmn:endEvent id="e"/>', chain("s", "review", "ok"), flow("yes", "ok", "e"), flow("no", "ok", "fix"),
        flow("again", "fix", "review")])
    root = parse(with_layout(process("loop", body).encode("utf-8"), "loop"))
    drawn, flows = shapes(root), edges(root)
    lowest = max(y + h for _x, y, _w, h in drawn.values())
    back = flows["again"]
    assert_orthogonal(back)
    assert max(y for _x, y in back) > lowest  # routed below every shape
    assert back[-1] == (drawn["review"][0] + drawn["review"][2] / 2, drawn["review"][1] + drawn["review"][3])
    gateway = drawn["ok"]
    [straight, branch] = sorted((flows["yes"], flows["no"]), key=len)
    assert straight[0][1] == straight[-1][1] == gateway[1] + gateway[3] / 2  # one branch runs straight on
    assert_orthogonal(branch)
    assert branch[0] == (gateway[0] + gateway[2] / 2, gateway[1] + gateway[3])  # out of its bottom corner
    marker = root.find(f".//{{{BPMNDI_NS}}}BPMNShape[@bpmnElement='ok']")
    assert marker.get("isMarkerVisible") == "true"


def test_boundary_events_sit_on_their_host_and_sub_processes_are_collapsed_with_a_plane():
    body = "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:subProcess id="inner"><bpmn:startEvent id="is"/>' + user_task("check")
        + '<bpmn:endEvent id="ie"/>' + chain("is", "check", "ie") + '</bpmn:subProcess>',
        '<bpmn:boundaryEvent id="late" attachedToRef="inner"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        '<bpmn:endEvent id="e"/>', '<bpmn:endEvent id="expired"/>',
        chain("s", "inner", "e"), flow("to_expired", "late", "expired")])
    root = parse(with_layout(process("nested", body).encode("utf-8"), "nested"))
    top, inner = shapes(root, "nested"), shapes(root, "inner")
    assert set(top) == {"s", "inner", "late", "e", "expired"} and set(inner) == {"is", "check", "ie"}
    host, boundary = top["inner"], top["late"]
    assert host[0] <= boundary[0] and boundary[0] + boundary[2] <= host[0] + host[2]
    assert boundary[1] < host[1] + host[3] < boundary[1] + boundary[3]  # across the lower edge
    assert top["expired"][1] > host[1]  # its target goes below the host
    out = edges(root)["to_expired"]
    assert_orthogonal(out)
    assert out[0] == (boundary[0] + boundary[2] / 2, boundary[1] + boundary[3])
    collapsed = root.find(f".//{{{BPMNDI_NS}}}BPMNShape[@bpmnElement='inner']")
    assert collapsed.get("isExpanded") == "false"


def test_a_hundred_step_process_is_laid_out_quickly():
    steps = [f"t{i}" for i in range(96)]
    body = "\n".join(['<bpmn:startEvent id="s"/>', '<bpmn:parallelGateway id="split"/>',
                      '<bpmn:parallelGateway id="join"/>', '<bpmn:endEvent id="e"/>',
                      *(user_task(t) for t in steps),
                      flow("f_s", "s", "split"), flow("f_e", "join", "e"),
                      # four parallel chains of 24 tasks
                      *(flow(f"in{c}", "split", steps[c * 24]) for c in range(4)),
                      *(flow(f"out{c}", steps[c * 24 + 23], "join") for c in range(4)),
                      *(flow(f"f{i}", steps[i], steps[i + 1]) for i in range(96) if i % 24 != 23)])
    content = process("big", body).encode("utf-8")
    started = time.perf_counter()
    laid_out = with_layout(content, "big")
    elapsed = time.perf_counter() - started
    root = parse(laid_out)
    assert len(shapes(root)) == 100 and len(edges(root)) == 2 + 8 + 92
    boxes = list(shapes(root).values())
    assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    print(f"layout of a 100-node process: {elapsed * 1000:.1f} ms")
    assert elapsed < 0.5
