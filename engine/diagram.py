"""Where an application stands, for drawing its diagram: the BPMN of its version and which
elements are active (open tasks, waiting service calls, timers and messages) or done."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.runtime.runner import all_tasks

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
#: Task states that mean "the case is here now".
ACTIVE_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass
class DiagramState:
    #: The BPMN XML of the file that defines the application's process.
    xml: str
    process_id: str
    active: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"xml": self.xml, "process_id": self.process_id, "active": self.active, "completed": self.completed}


def process_file(files, process_id: str):
    """The bundle file whose XML defines ``process_id`` (the first .bpmn file otherwise)."""
    diagrams = [f for f in files if f.kind == "bpmn"]
    for source in diagrams:
        root = etree.fromstring(source.content, etree.XMLParser(resolve_entities=False, no_network=True))
        if root.find(f"{{{BPMN_NS}}}process[@id='{process_id}']") is not None:
            return source
    return diagrams[0]


def diagram_state(workflow, files, process_id: str) -> DiagramState:
    source = process_file(files, process_id)
    active, completed = [], []
    for task in all_tasks(workflow):
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element:
            continue
        if task.state & ACTIVE_STATES:
            active.append(element)
        elif task.state == TaskState.COMPLETED:
            completed.append(element)
    return DiagramState(source.content.decode("utf-8"), process_id, sorted(set(active)),
                        sorted(set(completed) - set(active)))
