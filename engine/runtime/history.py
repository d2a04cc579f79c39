"""Keeping the task tree shallow so long-running loops never stall.

SpiffWorkflow adds a child task for every step, so a loop grows the tree one level per
iteration, and every task lookup walks the tree from the root with a depth cap of 1000:
past it, ready tasks become invisible and the instance silently stops (a two-node loop
stalls after ~500 iterations). Raising the cap would only trade the stall for quadratic
slowdown and ever-growing state.

Instead we compact finished history: a completed task whose only child is itself completed
and already has children is cut out of the chain, its child re-attached to its parent. The
live frontier, every branch point (gateways with several children, boundary-event parents),
the direct predecessors of waiting joins and dead-end leaves are kept, which is all that
SpiffWorkflow's joins and boundary events look at. The application's history lives in our
own tables (tasks, audit), not in the SpiffWorkflow tree.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

#: Compact a (sub)workflow once it holds more tasks than this.
COMPACT_ABOVE = 200


def compact_history(workflow: BpmnWorkflow, threshold: int = COMPACT_ABOVE) -> int:
    """Remove finished chain links from the top workflow and its subprocesses; return how many."""
    removed = 0
    for wf in [workflow, *list(workflow.subprocesses.values())]:
        if len(wf.tasks) > threshold:
            removed += _compact(wf, workflow)
    return removed


def _compact(wf, top: BpmnWorkflow) -> int:
    removed = 0
    for task in list(wf.tasks.values()):
        if not _removable(task, wf, top):
            continue
        parent, child = task.parent, task.children[0]
        parent._children[parent._children.index(task.id)] = child.id
        child._parent = parent.id
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        del wf.tasks[task.id]
        removed += 1
    return removed


def _removable(task, wf, top: BpmnWorkflow) -> bool:
    if task.state != TaskState.COMPLETED or len(task._children) != 1:
        return False
    parent = task.parent
    if parent is None or parent.parent is None:  # keep the root and its first child
        return False
    if task is wf.last_task or task is top.last_task:
        return False
    subprocess = top.subprocesses.get(task.id)
    if subprocess is not None and not subprocess.completed:
        return False
    child = wf.tasks.get(task._children[0])
    return child is not None and child.state == TaskState.COMPLETED and len(child._children) > 0
