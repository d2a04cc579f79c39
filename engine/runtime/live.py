"""Live workflow objects kept between the steps of an application, in this process.

Deserializing an application's state is one of the larger costs of a step. When the same
process runs the next step of the same application (a worker completing a service call the
step before queued, an approver acting right after a clerk), the object the last step left
behind is exactly what deserializing would produce — provided the row did not change since.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import event
from sqlalchemy.orm import Session

#: Where a session keeps the workflows its committed steps hand back to their service's cache.
_LIVE_KEY = "madoguchi.live_workflows"


class LiveWorkflows:
    """Workflow objects of recently committed steps, kept in this process so that the next step
    of the same application need not deserialize its state.

    An entry is taken *out* while a step works on it (one user per object: SpiffWorkflow is not
    thread-safe) and only comes back once that step's transaction committed. It is used only if
    the locked row is exactly the one the object was written as: same version, audit head and
    definition — any other writer (another process, a claim) makes it a miss.
    """

    def __init__(self, size: int = 1000):
        self._size = size
        self._items: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, application) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._items.pop(application.id, None)
        if entry is None:
            return None
        version, audit_hash, definition_id, workflow = entry
        if (version != application.version or audit_hash != application.audit_hash
                or definition_id != application.definition_id):
            return None
        return workflow

    def put(self, application_id: int, version: int, audit_hash: str, definition_id: int,
            workflow: BpmnWorkflow) -> None:
        with self._lock:
            items = self._items
            items[application_id] = (version, audit_hash, definition_id, workflow)
            items.move_to_end(application_id)
            while len(items) > self._size:
                items.popitem(last=False)

    def keep_after_commit(self, session: Session, application, workflow: BpmnWorkflow) -> None:
        """Put ``workflow`` back once ``session`` commits (never if it rolls back first)."""
        entry = (self, application.id, application.version, application.audit_hash, application.definition_id,
                 workflow)
        session.info.setdefault(_LIVE_KEY, []).append(entry)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@event.listens_for(Session, "after_commit")
def _keep_live_workflows(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction may still roll back
        return
    pending = session.info.pop(_LIVE_KEY, None)
    if pending:
        for cache, *entry in pending:
            cache.put(*entry)


@event.listens_for(Session, "after_soft_rollback")
def _drop_live_workflows(session: Session, _transaction) -> None:
    # Any rollback (a savepoint's too) may have undone a step: keep nothing of this transaction.
    session.info.pop(_LIVE_KEY, None)
