"""What the admin pages ask that the other read models do not: the versions of a procedure
with their files, a line diff between two versions, a searchable and paged list of
applications, and the background jobs of one application.

Everything here only reads; deploying, retrying and the like stay in their own modules.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import BadInput, NotFound
from engine.statuses import STATUSES
from engine.store.models import Application, Definition, DefinitionFile, Incident, Job

#: Longest diff shown per file, in lines: a regenerated diagram can change every line, and
#: a page of tens of thousands of lines helps nobody (the files themselves stay downloadable).
MAX_DIFF_LINES = 4000
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class VersionFile:
    path: str
    kind: str
    size: int


@dataclass(frozen=True)
class FileDiff:
    """How one file differs between two versions.

    ``change`` is "added", "removed", "changed" or "same"; ``lines`` is the unified diff
    (without the trailing newline of each line); ``binary`` when a side is not UTF-8 text.
    """

    path: str
    change: str
    lines: list[str]
    binary: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    reference: str
    procedure: str
    version: int
    procedure_title: str | None
    status: str
    started_by: str | None
    created_at: datetime
    updated_at: datetime
    open_incidents: int


@dataclass(frozen=True)
class ApplicationSearch:
    """Part of a reference, a procedure key, a status and who started it; empty means any."""

    reference: str | None = None
    procedure: str | None = None
    status: str | None = None
    started_by: str | None = None


@dataclass(frozen=True)
class ApplicationPage:
    rows: list[ApplicationRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# -- definitions ---------------------------------------------------------------------------------

def definition_versions(session: Session, key: str) -> list[Definition]:
    """Every version of procedure ``key``, oldest first (NotFound if none is deployed)."""
    versions = list(session.scalars(select(Definition).where(Definition.key == key).order_by(Definition.version)))
    if not versions:
        raise NotFound(f"no procedure with key {key!r} is deployed")
    return versions


def definition_version(session: Session, key: str, version: int) -> Definition:
    found = session.scalars(select(Definition).where(Definition.key == key, Definition.version == version)).first()
    if found is None:
        raise NotFound(f"procedure {key!r} has no version {version}")
    return found


def version_files(session: Session, definition_id: int) -> list[VersionFile]:
    """Names, kinds and sizes of a version's stored files (sizes counted by the database)."""
    query = (select(DefinitionFile.path, DefinitionFile.kind, func.length(DefinitionFile.content))
             .where(DefinitionFile.definition_id == definition_id).order_by(DefinitionFile.path))
    return [VersionFile(path, kind, int(size or 0)) for path, kind, size in session.execute(query)]


def _contents(session: Session, definition_id: int) -> dict[str, bytes]:
    query = select(DefinitionFile.path, DefinitionFile.content).where(DefinitionFile.definition_id == definition_id)
    return {path: bytes(content) for path, content in session.execute(query)}


def _text(content: bytes | None) -> list[str] | None:
    """The lines of a file, or None when it is not UTF-8 text (a template image, say)."""
    if content is None:
        return []
    try:
        return content.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def diff_versions(session: Session, key: str, old: int, new: int) -> list[FileDiff]:
    """File by file, how version ``new`` of ``key`` differs from version ``old`` (paths sorted)."""
    if old == new:
        raise BadInput("choose two different versions to compare")
    before = _contents(session, definition_version(session, key, old).id)
    after = _contents(session, definition_version(session, key, new).id)
    diffs = []
    for path in sorted(set(before) | set(after)):
        old_content, new_content = before.get(path), after.get(path)
        change = ("added" if old_content is None else "removed" if new_content is None
                  else "same" if old_content == new_content else "changed")
        if change == "same":
            diffs.append(FileDiff(path, change, []))
            continue
        old_lines, new_lines = _text(old_content), _text(new_content)
        if old_lines is None or new_lines is None:
            diffs.append(FileDiff(path, change, [], binary=True))
            continue
        lines = list(difflib.unified_diff(old_lines, new_lines, f"v{old}/{path}", f"v{new}/{path}", lineterm=""))
        diffs.append(FileDiff(path, change, lines[:MAX_DIFF_LINES], truncated=len(lines) > MAX_DIFF_LINES))
    return diffs


# -- applications ---------------------------------------------------------------------------------

def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_applications(session: Session, search: ApplicationSearch, *, page: int = 1,
                        per_page: int = 50) -> ApplicationPage:
    """One page of applications matching ``search``, newest first, with the number of matches."""
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    conditions = []
    if search.reference:
        conditions.append(Application.reference.ilike(_like(search.reference.strip()), escape="\\"))
    if search.procedure:
        conditions.append(Definition.key == search.procedure)
    if search.status:
        conditions.append(Application.status == search.status)
    if search.started_by:
        conditions.append(Application.started_by == search.started_by.strip())
    matching = (select(Application.id).join(Definition, Definition.id == Application.definition_id)
                .where(*conditions))
    total = session.scalar(select(func.count()).select_from(matching.subquery()))
    open_incidents = (select(func.count(Incident.id))
                      .where(Incident.application_id == Application.id, Incident.status == "open")
                      .correlate(Application).scalar_subquery())
    query = (select(Application.id, Application.reference, Definition.key, Definition.version, Definition.title,
                    Application.status, Application.started_by, Application.created_at, Application.updated_at,
                    open_incidents)
             .join(Definition, Definition.id == Application.definition_id).where(*conditions)
             .order_by(Application.created_at.desc(), Application.id.desc())
             .limit(per_page).offset((page - 1) * per_page))
    rows = [ApplicationRow(*row) for row in session.execute(query)]
    return ApplicationPage(rows, total or 0, page, per_page)


def application_statuses(session: Session) -> list[str]:
    """The public statuses, then any other status an application holds (so every one can be searched)."""
    stored = set(session.scalars(select(Application.status).distinct()))
    return list(STATUSES) + sorted(stored - set(STATUSES))


def application_jobs(session: Session, application_id: int) -> list[Job]:
    """The background jobs waiting for (or failed on) an application, by when they are due."""
    return list(session.scalars(select(Job).where(Job.application_id == application_id)
                                .order_by(Job.due_at, Job.id)))
