"""Drawing information (BPMN DI) for diagrams written without it.

Many diagrams are written by hand or generated (no modeller ever placed their shapes), and a
viewer cannot draw a process without BPMNShape/BPMNEdge elements. ``with_layout`` adds them:
a layered left-to-right layout computed from the sequence flows.

- Layers: longest path from the start, after depth-first search has set aside the flows that
  close a loop (back edges); those are routed below the whole drawing, back to their target.
- Rows: each element takes the row of its first predecessor when free (a chain stays on one
  line), the next free row below otherwise; a boundary event's targets go below its host.
- Flows are orthogonal: out of the right side (a gateway's branches out of its top or
  bottom), into the left side of the target.
- Sub-processes are drawn collapsed, each with a plane of its own laid out the same way (the
  viewer drills down into it); boundary events sit on their host's lower edge.
- Lanes, pools, message flows, data objects and annotations are not drawn: the layout shows
  where an application stands, not who does what.

The result is deterministic (document order breaks every tie) and linear in the size of the
process apart from the row search. A file whose process already has complete DI is returned
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
ACTIVITIES = frozenset({"task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
                        "sendTask", "receiveTask", "callActivity"}) | SUBPROCESSES
FLOW_NODES = EVENTS | GATEWAYS | ACTIVITIES

SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}
COLUMN_GAP = 60
ROW_HEIGHT = 120
MARGIN = 40
BACK_EDGE_GAP = 20


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _size(kind: str) -> tuple[int, int]:
    if kind in EVENTS or kind == "boundaryEvent":
        return SIZES["event"]
    if kind in GATEWAYS:
        return SIZES["gateway"]
    return SIZES["activity"]


@dataclass
class _Node:
    id: str
    kind: str
    order: int
    width: int
    height: int
    layer: int = 0
    row: int = 0
    x: int = 0
    y: int = 0

    @property
    def center_y(self) -> int:
        return self.y + self.height // 2

    @property
    def center_x(self) -> int:
        return self.x + self.width // 2


@dataclass
class _Flow:
    id: str
    source: str
    target: str
    back: bool = False


@dataclass
class Layout:
    """Bounds (x, y, width, height) per element and waypoints per flow, for one container."""

    container: str
    shapes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    edges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    collapsed: set[str] = field(default_factory=set)
    marker_visible: set[str] = field(default_factory=set)


def layout_container(container) -> Layout:
    """Lay out the flow nodes and sequence flows directly inside a process or sub-process."""
    nodes: dict[str, _Node] = {}
    boundaries: list[tuple[str, str]] = []  # (boundary event, host), in document order
    flows: list[_Flow] = []
    for order, child in enumerate(container):
        kind, element_id = _local(child), child.get("id")
        if not element_id:
            continue
        if kind in FLOW_NODES:
            nodes[element_id] = _Node(element_id, kind, order, *_size(kind))
        elif kind == "boundaryEvent" and child.get("attachedToRef"):
            boundaries.append((element_id, child.get("attachedToRef")))
        elif kind == "sequenceFlow" and child.get("sourceRef") and child.get("targetRef"):
            flows.append(_Flow(element_id, child.get("sourceRef"), child.get("targetRef")))
    hosts = {b: h for b, h in boundaries if h in nodes}
    drawn = [f for f in flows if _owner(f.source, hosts) in nodes and f.target in nodes]
    _mark_back_edges(nodes, drawn, hosts)
    _assign_layers(nodes, drawn, hosts)
    _assign_rows(nodes, drawn, hosts)
    _place(nodes)
    layout = Layout(container.get("id"))
    for node in nodes.values():
        layout.shapes[node.id] = (node.x, node.y, node.width, node.height)
        if node.kind in SUBPROCESSES:
            layout.collapsed.add(node.id)
        if node.kind == "exclusiveGateway":
            layout.marker_visible.add(node.id)
    attached: dict[str, int] = {}
    for boundary, host in hosts.items():
        index = attached.get(host, 0)
        attached[host] = index + 1
        h = nodes[host]
        width, height = SIZES["event"]
        x = h.x + h.width - (index + 1) * (width + 4) - 4
        layout.shapes[boundary] = (x, h.y + h.height - height // 2, width, height)
    bottom = max((y + hgt for _x, y, _w, hgt in layout.shapes.values()), default=0)
    back_index = 0
    for flow in drawn:
        if flow.back:
            back_index += 1
            layout.edges[flow.id] = _around(layout.shapes[flow.source], nodes[flow.target],
                                            bottom + back_index * BACK_EDGE_GAP)
        elif flow.source in hosts:
            layout.edges[flow.id] = _from_boundary(layout.shapes[flow.source], nodes[flow.target])
        else:
            layout.edges[flow.id] = _forward(nodes[flow.source], nodes[flow.target])
    return layout


def _owner(element_id: str, hosts: dict[str, str]) -> str:
    """The node a flow leaves from in the layered graph (a boundary event's host)."""
    return hosts.get(element_id, element_id)


def _mark_back_edges(nodes: dict[str, _Node], flows: list[_Flow], hosts: dict[str, str]) -> None:
    """Depth-first from the elements nothing flows into: a flow to an element still on the
    path closes a loop. Iterative, so a long chain does not exhaust the stack."""
    outgoing: dict[str, list[_Flow]] = {n: [] for n in nodes}
    incoming: dict[str, int] = dict.fromkeys(nodes, 0)
    for flow in flows:
        outgoing[_owner(flow.source, hosts)].append(flow)
        incoming[flow.target] += 1
    roots = [n for n in nodes if incoming[n] == 0] + list(nodes)  # then any loop nothing enters
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, edges = stack[-1]
            flow = next(edges, None)
            if flow is None:
                state[node] = 2
                stack.pop()
                continue
            seen = state.get(flow.target)
            if seen == 1:
                flow.back = True
            elif seen is None:
                state[flow.target] = 1
                stack.append((flow.target, iter(outgoing[flow.target])))


def _assign_layers(nodes: dict[str, _Node], flows: list[_Flow], hosts: dict[str, str]) -> None:
    """Longest path from the sources over the forward flows (Kahn's order)."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    waiting: dict[str, int] = dict.fromkeys(nodes, 0)
    for flow in flows:
        if not flow.back:
            successors[_owner(flow.source, hosts)].append(flow.target)
            waiting[flow.target] += 1
    ready = [n for n in nodes if waiting[n] == 0]
    while ready:
        current = ready.pop()
        for target in successors[current]:
            nodes[target].layer = max(nodes[target].layer, nodes[current].layer + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)


def _assign_rows(nodes: dict[str, _Node], flows: list[_Flow], hosts: dict[str, str]) -> None:
    """Column by column: keep the row of the first predecessor if it is free, else the next
    free row below; the targets of a boundary event start one row below its host."""
    outgoing: dict[str, list[_Flow]] = {n: [] for n in nodes}
    for flow in flows:
        if not flow.back:
            outgoing[_owner(flow.source, hosts)].append(flow)
    by_layer: dict[int, list[_Node]] = {}
    for node in nodes.values():
        by_layer.setdefault(node.layer, []).append(node)
    wished: dict[str, int] = {}
    for layer in sorted(by_layer):
        column = sorted(by_layer[layer], key=lambda n: (wished.get(n.id, 0), n.order))
        taken: set[int] = set()
        for node in column:
            node.row = _first_free(taken, wished.get(node.id, 0))
            taken.add(node.row)
        for node in column:
            for flow in outgoing[node.id]:
                wished.setdefault(flow.target, node.row + (1 if flow.source in hosts else 0))


def _first_free(taken: set[int], row: int) -> int:
    while row in taken:
        row += 1
    return row


def _place(nodes: dict[str, _Node]) -> None:
    widths: dict[int, int] = {}
    for node in nodes.values():
        widths[node.layer] = max(widths.get(node.layer, 0), node.width)
    lefts, x = {}, MARGIN
    for layer in sorted(widths):
        lefts[layer] = x
        x += widths[layer] + COLUMN_GAP
    for node in nodes.values():
        column_width = widths[node.layer]
        node.x = lefts[node.layer] + (column_width - node.width) // 2
        node.y = MARGIN + node.row * ROW_HEIGHT + (SIZES["activity"][1] - node.height) // 2


def _forward(source: _Node, target: _Node) -> list[tuple[int, int]]:
    start_x, start_y = source.x + source.width, source.center_y
    end_x, end_y = target.x, target.center_y
    if start_y == end_y:
        return [(start_x, start_y), (end_x, end_y)]
    if source.kind in GATEWAYS:
        # a branch leaves the gateway's top or bottom corner, then runs straight to its target
        edge_y = source.y + source.height if end_y > start_y else source.y
        return [(source.center_x, edge_y), (source.center_x, end_y), (end_x, end_y)]
    middle = end_x - COLUMN_GAP // 2
    return [(start_x, start_y), (middle, start_y), (middle, end_y), (end_x, end_y)]


def _from_boundary(bounds: tuple[int, int, int, int], target: _Node) -> list[tuple[int, int]]:
    x, y, width, height = bounds
    center_x, bottom = x + width // 2, y + height
    end_y = target.center_y
    if end_y > bottom:
        return [(center_x, bottom), (center_x, end_y), (target.x, end_y)]
    below = bottom + BACK_EDGE_GAP
    return [(center_x, bottom), (center_x, below), (target.x - COLUMN_GAP // 2, below),
            (target.x - COLUMN_GAP // 2, end_y), (target.x, end_y)]


def _around(bounds: tuple[int, int, int, int], target: _Node, below: int) -> list[tuple[int, int]]:
    """A loop's flow: down from the source, along under the drawing, up into the target."""
    x, y, width, height = bounds
    source_x = x + width // 2
    return [(source_x, y + height), (source_x, below), (target.center_x, below),
            (target.center_x, target.y + target.height)]


# -- the DI document ---------------------------------------------------------------------------

def has_complete_di(root, process) -> bool:
    """Whether every flow node and sequence flow of ``process`` (sub-processes included) has a
    shape or an edge somewhere in the file."""
    drawn = {e.get("bpmnElement") for e in root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge")}
    if not drawn:
        return False
    for element in process.iter():
        kind = _local(element)
        if (kind in FLOW_NODES or kind in ("boundaryEvent", "sequenceFlow")) and element.get("id") not in drawn:
            return False
    return True


def _containers(process) -> list:
    """The process and every sub-process inside it, outermost first."""
    found = [process]
    for element in process.iter():
        if element is not process and _local(element) in SUBPROCESSES:
            found.append(element)
    return found


def _diagram_for(layout: Layout, index: int):
    diagram = etree.Element(f"{{{BPMNDI_NS}}}BPMNDiagram", nsmap={"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS})
    diagram.set("id", f"madoguchi_layout_{index}")
    plane = etree.SubElement(diagram, f"{{{BPMNDI_NS}}}BPMNPlane")
    plane.set("id", f"madoguchi_layout_{index}_plane")
    plane.set("bpmnElement", layout.container)
    for element_id, (x, y, width, height) in layout.shapes.items():
        shape = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNShape")
        shape.set("id", f"{element_id}_madoguchi_di")
        shape.set("bpmnElement", element_id)
        if element_id in layout.collapsed:
            shape.set("isExpanded", "false")
        if element_id in layout.marker_visible:
            shape.set("isMarkerVisible", "true")
        bounds = etree.SubElement(shape, f"{{{DC_NS}}}Bounds")
        for name, value in (("x", x), ("y", y), ("width", width), ("height", height)):
            bounds.set(name, str(value))
    for flow_id, points in layout.edges.items():
        edge = etree.SubElement(plane, f"{{{BPMNDI_NS}}}BPMNEdge")
        edge.set("id", f"{flow_id}_madoguchi_di")
        edge.set("bpmnElement", flow_id)
        for x, y in points:
            waypoint = etree.SubElement(edge, f"{{{DI_NS}}}waypoint")
            waypoint.set("x", str(x))
            waypoint.set("y", str(y))
    return diagram


def add_layout(root, process) -> None:
    """Replace the file's drawing information with a layout of ``process`` (in place)."""
    for old in root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram"):
        root.remove(old)
    for index, container in enumerate(_containers(process)):
        root.append(_diagram_for(layout_container(container), index))


@lru_cache(maxsize=128)
def with_layout(xml: bytes, process_id: str) -> str:
    """The BPMN text of ``xml`` with drawing information for ``process_id`` — the original text
    if it already has complete DI (or does not define the process). Cached: definition files
    never change once deployed."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False))
    process = root.find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
    if process is None:
        process = root.find(f"{{{BPMN_NS}}}process")
    if process is None or has_complete_di(root, process):
        return xml.decode("utf-8")
    add_layout(root, process)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
