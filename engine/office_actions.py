"""What approvers do beyond completing tasks: assign, bulk approve, comments, attachments.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here) — except :meth:`OfficeActions.approve_many`,
which decides each task in a transaction of its own, as the worker does with its jobs.

- **Group managers** (``group_managers``) may assign a task offered to one of their groups to a
  member of one of the task's groups or to one of its candidate users, reassign or unassign it.
  Claiming stays with candidates; assigning is the manager's. Every change is an event on the
  application's audit trail (``task_assigned`` / ``task_unassigned``).
- **Bulk approval** is opt-in per approval route: the ``approval_route`` service task carries the
  property ``bulkApprove`` = ``true`` (``camunda:property`` or ``spiffworkflow:property``). Its
  回議・決裁 tasks may then be approved many at a time; each one is still its own step under the
  rules of a single approval (permissions, 代決, stale tasks) with its own signed record.
- **Comments** are staff notes on an application (``application_comments``), never shown to
  the applicant; each is an event (``comment_added``) on the application's trail.
- **Attachments** are the files the application data refers to (``{"name", "sha256", "key",
  "size", "content_type"}``, as intake stores them); they are read from the document storage
  as a stream, for people who may see the task.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import BadInput, MadoguchiError, NotFound, PermissionRefused
from engine.store import rows
from engine.store.models import Application, Group, HumanTask, Membership, User, utcnow
from engine.store.models_office import ApplicationComment, GroupManager

#: The property of an ``approval_route`` service task that allows approving its tasks in bulk.
BULK_APPROVE_PROPERTY = "bulkApprove"
#: Longest comment accepted (characters).
MAX_COMMENT_LENGTH = 4000
#: Types shown inline (a frame or an image) when the file's first bytes agree; anything else —
#: HTML, SVG, scripts — is only ever downloaded.
PREVIEW_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


@dataclass(frozen=True)
class AttachmentInfo:
    """A file the application data refers to: where in the data, its name, hash, size and type."""

    field: str
    name: str
    sha256: str
    size: int | None
    content_type: str
    #: Where the storage keeps it; None when the data names a file that was never stored here.
    key: str | None

    @property
    def previewable(self) -> bool:
        return self.key is not None and self.content_type in PREVIEW_SIGNATURES


@dataclass(frozen=True)
class BulkOutcome:
    """One task of a bulk approval: approved, or refused with the engine's reason."""

    task_id: str
    approved: bool
    reason: str | None = None
    #: What kind of refusal (the exception's class name: PermissionRefused, Conflict, BadInput, NotFound).
    refusal: str | None = None
    task_name: str | None = None
    reference: str | None = None


def _is_true(value) -> bool:
    return str(value).strip().lower() in ("true", "yes", "1")


def _comment_text(body: str) -> str:
    if not isinstance(body, str) or not body.strip():
        raise BadInput("the comment is empty: write the note in `body`")
    body = body.strip()
    if len(body) > MAX_COMMENT_LENGTH:
        raise BadInput(f"the comment has {len(body)} characters; at most {MAX_COMMENT_LENGTH} are kept")
    return body


def _files_in(value, path: str, found: list[tuple[str, dict]]) -> None:
    if isinstance(value, dict):
        if isinstance(value.get("name"), str) and isinstance(value.get("sha256"), str):
            found.append((path, value))
            return
        for key, inner in value.items():
            if not str(key).startswith("_"):
                _files_in(inner, f"{path}.{key}" if path else str(key), found)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _files_in(inner, f"{path}[{index}]", found)


def _content_type(file: dict) -> str:
    declared = file.get("content_type")
    if isinstance(declared, str) and "/" in declared:
        return declared.split(";", 1)[0].strip().lower()
    guessed, _encoding = mimetypes.guess_type(file["name"])
    return guessed or "application/octet-stream"


def attachments_of(data: dict) -> list[AttachmentInfo]:
    """Every file ``data`` refers to, in the order met (the order approvers are shown)."""
    found: list[tuple[str, dict]] = []
    _files_in(data, "", found)
    infos = []
    for field, file in found:
        size = file.get("size")
        key = file.get("key")
        infos.append(AttachmentInfo(field=field, name=file["name"], sha256=file["sha256"].lower(),
                                    size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                                    content_type=_content_type(file), key=key if isinstance(key, str) and key else None))
    return infos


class OfficeActions:
    """What approvers do beyond completing tasks: assign, bulk approve, comments, attachments."""

    # -- group managers ---------------------------------------------------------------------

    def add_group_manager(self, session: Session, group: str, user: str, *, actor: str | None = None) -> None:
        """Make ``user`` a manager of ``group`` (both must exist); audited on the system trail."""
        from engine.audit import append_event

        group_row, user_row = self._group_and_user(session, group, user)
        if session.get(GroupManager, (group_row.id, user_row.id)) is not None:
            return
        session.add(GroupManager(group_id=group_row.id, user_id=user_row.id, created_at=utcnow(), created_by=actor))
        session.flush()
        append_event(session, action="group_manager_added", actor=actor, details={"group": group, "user": user})

    def remove_group_manager(self, session: Session, group: str, user: str, *, actor: str | None = None) -> None:
        from engine.audit import append_event

        group_row, user_row = self._group_and_user(session, group, user)
        removed = session.execute(delete(GroupManager).where(GroupManager.group_id == group_row.id,
                                                             GroupManager.user_id == user_row.id)).rowcount
        if not removed:
            raise NotFound(f"{user} is not a manager of group {group}")
        append_event(session, action="group_manager_removed", actor=actor, details={"group": group, "user": user})

    def group_managers(self, session: Session, *, group: str | None = None) -> list[tuple[str, str]]:
        """(group, user) of every manager, by group then user."""
        query = (select(Group.name, User.name).join(GroupManager, GroupManager.group_id == Group.id)
                 .join(User, User.id == GroupManager.user_id).order_by(Group.name, User.name))
        if group:
            query = query.where(Group.name == group)
        return [(g, u) for g, u in session.execute(query)]

    def managed_groups(self, session: Session, user: str) -> set[str]:
        return set(session.scalars(select(Group.name).join(GroupManager, GroupManager.group_id == Group.id)
                                   .join(User, User.id == GroupManager.user_id).where(User.name == user)))

    @staticmethod
    def _group_and_user(session: Session, group: str, user: str):
        group_row = session.scalars(select(Group).where(Group.name == group)).first()
        if group_row is None:
            raise BadInput(f"there is no group {group!r} — groups come from `madoguchi users add NAME --group G`")
        user_row = session.scalars(select(User).where(User.name == user)).first()
        if user_row is None:
            raise BadInput(f"there is no staff user {user!r} — add them with `madoguchi users add`")
        return group_row, user_row

    # -- assigning --------------------------------------------------------------------------

    def may_manage_task(self, session: Session, task_id: str, user: str) -> bool:
        """Whether ``user`` manages one of the groups the task is offered to."""
        human = self._human(session, task_id)
        return bool(set(human.candidate_groups or ()) & self.managed_groups(session, user))

    def assignable_people(self, session: Session, task_id: str) -> list[str]:
        """Who a manager may assign the task to: members of its groups and its candidate users."""
        human = self._human(session, task_id)
        names = set(human.candidate_users or ())
        if human.candidate_groups:
            names |= set(session.scalars(select(User.name).join(Membership, Membership.user_id == User.id)
                                         .join(Group, Group.id == Membership.group_id)
                                         .where(Group.name.in_(list(human.candidate_groups)))))
        return sorted(names)

    def assign_task(self, session: Session, task_id: str, assignee: str | None, *, actor: str) -> HumanTask:
        """A manager assigns (or with ``assignee`` None, unassigns) an open task of their group."""
        applications = self.applications
        human, application, _candidate = applications._lock_task(session, task_id, assignee or actor)
        managed = self.managed_groups(session, actor)
        if not set(human.candidate_groups or ()) & managed:
            raise PermissionRefused(f"{actor} manages none of the groups task {human.id} is offered to "
                                    f"({', '.join(human.candidate_groups or ()) or 'none'})")
        if assignee is not None and assignee not in self.assignable_people(session, human.id):
            raise BadInput(f"{assignee} is neither a member of the task's groups "
                           f"({', '.join(human.candidate_groups or ())}) nor one of its candidate users")
        previous = human.assignee
        if previous == assignee:
            return self._human(session, human.id)
        rows.set_assignee(session.connection(), human.id, assignee)
        details = {"task_id": human.id, "task": human.name, "assignee": assignee, "previous": previous}
        applications.record_event(session, application.id, "task_assigned" if assignee else "task_unassigned",
                                  actor, details)
        found = self._human(session, human.id)
        session.refresh(found)
        return found

    # -- bulk approval ----------------------------------------------------------------------

    def bulk_approvable(self, session: Session, task_ids: Iterable[str]) -> set[str]:
        """Those of ``task_ids`` that are open 回議・決裁 tasks of a route that allows bulk approval."""
        ids = [str(t) for t in task_ids]
        if not ids:
            return set()
        found = session.execute(select(HumanTask.id, HumanTask.element_id, Application.definition_id)
                                .join(Application, Application.id == HumanTask.application_id)
                                .where(HumanTask.id.in_(ids), HumanTask.kind == "approve",
                                       HumanTask.status == "open"))
        allowed: dict[tuple[int, str], bool] = {}
        result = set()
        for task_id, element_id, definition_id in found:
            where = (definition_id, element_id)
            if where not in allowed:
                allowed[where] = self._allows_bulk(session, definition_id, element_id)
            if allowed[where]:
                result.add(task_id)
        return result

    def _allows_bulk(self, session: Session, definition_id: int, element_id: str) -> bool:
        compiled = self.catalog.compiled_by_id(session, definition_id)
        for spec in (compiled.spec, *compiled.subprocess_specs.values()):
            task_spec = spec.task_specs.get(element_id)
            if task_spec is not None:
                properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
                return _is_true(properties.get(BULK_APPROVE_PROPERTY, ""))
        return False

    def approve_in_bulk(self, session: Session, task_id: str, *, actor: str, comment: str | None = None):
        """Approve one task as part of a bulk approval: refused unless its route allows it."""
        human = self._human(session, task_id)
        if human.id not in self.bulk_approvable(session, [human.id]):
            if human.status != "open":
                raise _stale(human)
            raise PermissionRefused(f"task {human.id} ({human.name}) cannot be approved in bulk: its procedure "
                                    f"does not allow it ({BULK_APPROVE_PROPERTY} on the approval route) — "
                                    "open the task and decide on it there")
        return self.decide(session, human.id, actor=actor, decision="approve", comment=comment)

    def approve_many(self, task_ids: Iterable[str], *, actor: str, comment: str | None = None) -> list[BulkOutcome]:
        """Approve each task in a transaction of its own: one refusal leaves the others approved,
        and each approval is whole or not at all. Outcomes come in the order given (duplicates once)."""
        database = self.database()
        outcomes = []
        for task_id in dict.fromkeys(str(t) for t in task_ids):
            name = reference = None
            try:
                with database.transaction() as session:
                    human = self._human(session, task_id)
                    name = human.name
                    reference = session.get(Application, human.application_id).reference
                with database.transaction() as session:
                    self.approve_in_bulk(session, task_id, actor=actor, comment=comment)
            except MadoguchiError as refused:
                outcomes.append(BulkOutcome(task_id, False, str(refused), type(refused).__name__, name, reference))
            else:
                outcomes.append(BulkOutcome(task_id, True, None, None, name, reference))
        return outcomes

    # -- comments ---------------------------------------------------------------------------

    def add_comment(self, session: Session, task_id: str, *, author: str, body: str) -> ApplicationComment:
        """A staff note on the task's application, by someone who may see the task."""
        human = self._human(session, task_id)
        body = _comment_text(body)
        if not self._may_see_or_manage(session, human, author):
            raise PermissionRefused(f"{author} may not see task {human.id}, so cannot comment on it")
        comment = ApplicationComment(application_id=human.application_id, task_id=human.id, author=author,
                                     body=body, created_at=utcnow())
        session.add(comment)
        session.flush()
        self.applications.record_event(session, human.application_id, "comment_added", author, {
            "comment_id": comment.id, "task_id": human.id,
            "sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()})
        return comment

    def comments(self, session: Session, application_id: int) -> list[ApplicationComment]:
        """Staff notes on an application, oldest first."""
        return list(session.scalars(select(ApplicationComment).where(ApplicationComment.application_id == application_id)
                                    .order_by(ApplicationComment.created_at, ApplicationComment.id)))

    # -- attachments ------------------------------------------------------------------------

    def attachments(self, session: Session, application_id: int) -> list[AttachmentInfo]:
        """The files the application's data refers to."""
        from engine.views import application_data

        application = self.applications.get(session, application_id)
        return attachments_of(application_data(self.applications.workflow_of(session, application)))

    def open_attachment(self, session: Session, task_id: str, sha256: str, *, user: str,
                        preview: bool = False) -> tuple[AttachmentInfo, BinaryIO]:
        """(the file, an open stream of its bytes — the caller closes it), for ``user`` who may see
        the task. With ``preview``, only a PDF or an image whose first bytes say so (else BadInput)."""
        from engine.storage import engine_storage

        human = self._human(session, task_id)
        if not self._may_see_or_manage(session, human, user):
            raise PermissionRefused(f"{user} may not see task {human.id} nor its application's files")
        wanted = str(sha256).lower()
        info = next((a for a in self.attachments(session, human.application_id) if a.sha256 == wanted), None)
        if info is None:
            raise NotFound(f"the application of task {human.id} has no attachment with SHA-256 {wanted}")
        if info.key is None:
            raise NotFound(f"{info.name} is named in the application data but was never stored here")
        if preview and not info.previewable:
            raise BadInput(f"{info.name} ({info.content_type}) is not shown in the page: download it instead")
        try:
            stream = engine_storage(self).open(info.key)
        except FileNotFoundError:
            raise NotFound(f"{info.name} is missing from the document storage (key {info.key})") from None
        if preview:
            stream = _checked_preview(stream, info)
        return info, stream

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _human(session: Session, task_id: str) -> HumanTask:
        found = session.get(HumanTask, str(task_id))
        if found is None:
            raise NotFound(f"task {task_id} does not exist")
        return found

    def _may_see_or_manage(self, session: Session, human: HumanTask, user: str) -> bool:
        from engine import office_queries

        if office_queries.may_see(session, human, user):
            return True
        return bool(set(human.candidate_groups or ()) & self.managed_groups(session, user))

    # -- seeing an application --------------------------------------------------------------

    def may_see_application(self, session: Session, application_id: int, user: str) -> bool:
        """Whether staff ``user`` may see the application: they may see one of its tasks (open or
        done, as :func:`engine.office_queries.may_see` decides) or manage a group one is offered
        to. False, not NotFound, for an application that does not exist — callers answer both alike."""
        tasks = session.scalars(select(HumanTask).where(HumanTask.application_id == application_id))
        return any(self._may_see_or_manage(session, human, user) for human in tasks)


def _stale(human: HumanTask) -> MadoguchiError:
    from engine.errors import Conflict

    by = f" by {human.completed_by}" if human.completed_by else ""
    return Conflict(f"task {human.id} was already {human.status}{by}; reload the list")


class _Prefixed:
    """A stream whose first bytes were already read (to check them), handed on unchanged."""

    def __init__(self, head: bytes, stream: BinaryIO):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._stream.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._stream.read(size - len(data))
            return data
        return self._stream.read(size)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _checked_preview(stream: BinaryIO, info: AttachmentInfo) -> BinaryIO:
    head = stream.read(16)
    signatures = PREVIEW_SIGNATURES[info.content_type]
    ok = any(head.startswith(s) for s in signatures)
    if info.content_type == "image/webp":
        ok = ok and head[8:12] == b"WEBP"
    if not ok:
        stream.close()
        raise BadInput(f"{info.name} says it is {info.content_type} but its content is not: download it instead")
    return _Prefixed(head, stream)  # type: ignore[return-value]


__all__ = ["OfficeActions", "AttachmentInfo", "BulkOutcome", "BULK_APPROVE_PROPERTY", "PREVIEW_SIGNATURES",
           "attachments_of"]
