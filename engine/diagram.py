"""Where an application stands, for drawing its diagram: the BPMN of its version (with a
generated layout when the file has no drawing information, see engine.diagram_layout) and
which elements are active (open tasks, waiting service calls, timers and messages), done, and
which sequence flows the application went along."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.diagram_layout import with_layout
from engine.runtime.runner import all_tasks

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: Task states that mean "the case is here now".
ACTIVE_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass
class DiagramState:
    #: The BPMN XML of the file that defines the application's process, with drawing information.
    xml: str
    process_id: str
    active: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    #: Sequence flows from a completed element to a completed or active one: the path taken.
    taken: list[str] = field(default_factory=list)
    #: Element id -> name of the active elements, for the text that says where the application is.
    active_names: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"xml": self.xml, "process_id": self.process_id, "active": self.active,
                "completed": self.completed, "taken": self.taken,
                "active_steps": [{"id": i, "name": n} for i, n in self.active_names.items()]}


def process_file(files, process_id: str):
    """The bundle file whose XML defines ``process_id`` (the first .bpmn file otherwise)."""
    diagrams = [f for f in files if f.kind == "bpmn"]
    for source in diagrams:
        root = etree.fromstring(source.content, _PARSER)
        if root.find(f"{{{BPMN_NS}}}process[@id='{process_id}']") is not None:
            return source
    return diagrams[0]


def _flows(xml: str) -> list[tuple[str, str, str]]:
    root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    return [(f.get("id"), f.get("sourceRef"), f.get("targetRef")) for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")]


def diagram_state(workflow, files, process_id: str) -> DiagramState:
    source = process_file(files, process_id)
    active, completed, names = set(), set(), {}
    for task in all_tasks(workflow):
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state & ACTIVE_STATES:
            active.add(element)
            names[element] = getattr(task.task_spec, "bpmn_name", None) or element
        elif task.state == TaskState.COMPLETED:
            completed.add(element)
    completed -= active
    xml = with_layout(source.content, process_id)
    reached = completed | active
    taken = sorted(flow for flow, start, end in _flows(xml) if start in completed and end in reached)
    return DiagramState(xml, process_id, sorted(active), sorted(completed), taken,
                        {element: names[element] for element in sorted(active)})
