"""An application as a task page shows it: its data labelled by the form, its attachments, and one
history timeline of audit events and signed decision records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from webui.i18n import local_date
from webui.office.labels import decision_label, event_label

#: Audit events the timeline leaves out: each has a decision record (or a note) with more to say.
COVERED_BY_DECISIONS = frozenset({"approval_decision", "comment_added"})


@dataclass(frozen=True)
class DataRow:
    key: str
    label: str
    text: str


@dataclass(frozen=True)
class Attachment:
    field: str
    name: str
    sha256: str


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    actor: str | None
    what: str
    on_behalf_of: str | None = None
    step: str | None = None
    comment: str | None = None
    detail: str | None = None


def _is_file(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("sha256"), str)


def _files_in(value, found: list) -> list:
    if _is_file(value):
        found.append(value)
    elif isinstance(value, dict):
        for inner in value.values():
            _files_in(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _files_in(inner, found)
    return found


def _text(value) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1, default=str)
    return str(value)


def titles_of(schema: dict | None) -> dict[str, str]:
    properties = (schema or {}).get("properties") or {}
    return {name: str(spec["title"]) for name, spec in properties.items() if isinstance(spec, dict) and spec.get("title")}


def data_rows(data: dict, schema: dict | None) -> tuple[list[DataRow], list[Attachment]]:
    """The data an approver reads (the engine's ``_`` keys left out), and every file it names."""
    titles = titles_of(schema)
    rows, files = [], []
    for key, value in data.items():
        if str(key).startswith("_"):
            continue
        label = titles.get(key, key)
        found = _files_in(value, [])
        files += [Attachment(label, f["name"], f["sha256"]) for f in found]
        if found and (_is_file(value) or (isinstance(value, list) and all(_is_file(v) for v in value))):
            continue  # shown among the attachments
        rows.append(DataRow(key, label, _text(value)))
    return rows, files


def _event_detail(event: dict) -> str | None:
    details = event.get("details") or {}
    if "decision" in details:
        return decision_label(details["decision"])
    if event.get("action") == "task_assigned":
        return _("to %(user)s", user=details.get("assignee"))
    for key in ("title", "element_id", "status"):
        if details.get(key):
            return str(details[key])
    if details.get("changed"):
        return ", ".join(map(str, details["changed"]))
    return None


def _deadline_text(deadline: str | None) -> str | None:
    if not deadline:
        return None
    return _("answer by %(date)s", date=local_date(date.fromisoformat(deadline)))


def timeline(view: dict, notes=()) -> list[TimelineEntry]:
    """Audit events, decision records and staff notes ((at, author, text)) of an application
    (``ApplicationView.as_dict()``), oldest first."""
    entries = [(e["at"], 0, TimelineEntry(e["at"], e["actor"], event_label(e["action"]), detail=_event_detail(e)))
               for e in view["history"] if e["action"] not in COVERED_BY_DECISIONS]
    entries += [(d["at"], 1, TimelineEntry(d["at"], d["actor"], decision_label(d["decision"]),
                                           on_behalf_of=d["on_behalf_of"], step=d["step"].split(":", 1)[-1],
                                           comment=d["comment"], detail=_deadline_text(d.get("deadline"))))
                for d in view["decisions"]]
    entries += [(at.isoformat(), 2, TimelineEntry(at.isoformat(), author, _("Note"), comment=text))
                for at, author, text in notes]
    return [entry for _at, _order, entry in sorted(entries, key=lambda item: (item[0], item[1]))]
