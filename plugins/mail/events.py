"""From lifecycle events to queued mails: which template, to whom, with which facts.

These functions run inside the step's transaction, so they only decide and enqueue; they
never talk to the mail server, and they never raise over odd application data (an exception
here would roll the applicant's step back). A missing or malformed address means no mail.

Only a small, fixed subset of the application data goes into a job's payload — the mail
needs the reference, the procedure, the applicant's name, a reason and a deadline, not the
whole application (which may hold far more personal data than a notification should carry).
"""

from __future__ import annotations

import uuid

from plugins.mail.addresses import valid_address
from plugins.mail.config import LANGUAGES, MailConfig

#: The public statuses that have a mail of their own, and its template.
STATUS_TEMPLATES = {
    "returned": "returned",
    "approved": "approved",
    "rejected": "rejected",
    "issued": "document_ready",
    "withdrawn": "withdrawn",
}

#: Where a reason (and a deadline) for a status is found in the application data.
REASON_FIELDS = {"returned": "return_reason", "rejected": "rejection_reason",
                 "withdrawn": "withdrawal_reason"}
DEADLINE_FIELDS = {"returned": "return_deadline"}


def lookup(data: object, path: str) -> object:
    """The value at a dotted ``path`` (``applicant.email``) in nested dicts, or None."""
    value = data
    for part in path.split(".") if path else ():
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def language_of(value: object, default: str) -> str:
    """``"en"``, ``"EN"``, ``"en-US"`` → ``"en"``; anything we have no templates for → default."""
    if isinstance(value, str):
        primary = value.strip().lower().replace("_", "-").split("-")[0]
        if primary in LANGUAGES:
            return primary
    return default


#: Longer names are cut: a name is shown in an official mail, not a place for a message.
MAX_NAME_CHARS = 100


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _name(value: object) -> str | None:
    """The applicant's name as they typed it, on one line (no room to forge a mail's text)."""
    text = " ".join((_text(value) or "").split())[:MAX_NAME_CHARS]
    return text or None


def applicant_facts(config: MailConfig, data: dict, *, reference: str | None, procedure: str | None,
                    status: str | None, previous_status: str | None = None) -> dict:
    """What the applicant's mail may show; every key is always present (None when unknown)."""
    return {
        "reference": reference,
        "procedure": procedure,
        "status": status,
        "previous_status": previous_status,
        "applicant_name": _name(lookup(data, config.name_field)),
        "reason": _text(data.get(REASON_FIELDS[status])) if status in REASON_FIELDS else None,
        "deadline": _text(data.get(DEADLINE_FIELDS[status])) if status in DEADLINE_FIELDS else None,
    }


def applicant_notification(config: MailConfig, template: str, data: dict, facts: dict) -> dict | None:
    """The ``notification`` job payload for the applicant, or None without a usable address."""
    recipient = valid_address(lookup(data, config.recipient_field))
    if recipient is None:
        return None
    return {"channel": "mail", "recipient": recipient, "template": template,
            "language": language_of(lookup(data, config.language_field), config.default_language),
            "data": facts}


def idempotency_key(reference: str | None, template: str) -> str:
    """Unique per queued mail, stored with the job, so every retry sends the same Message-ID.

    Not derived from the job id alone: ``job-17`` repeats across databases (a test instance,
    a restored backup), and a mail client drops a mail whose Message-ID it has seen before.
    """
    return f"mail/{reference or '-'}/{template}/{uuid.uuid4().hex}"


def enqueue_applicant_mail(event, config: MailConfig, template: str, data: dict) -> bool:
    if template not in config.events or not isinstance(data, dict):
        return False
    facts = applicant_facts(config, data, reference=event.reference, procedure=event.procedure,
                            status=event.status, previous_status=event.previous_status)
    notification = applicant_notification(config, template, data, facts)
    if notification is None:
        return False
    event.enqueue("notification", notification, idempotency_key=idempotency_key(event.reference, template))
    return True


def enqueue_staff_mails(event, config: MailConfig) -> None:
    """Tell the mailboxes of the task's candidate groups that work arrived (opt-in).

    Staff mails name the task and the application, nothing about the applicant: the
    details are in the office's task list, behind a login.
    """
    task = event.task
    if "task_created" not in config.events or not config.task_addresses or task is None:
        return
    groups = list(task.candidate_groups or [])
    addresses = [config.task_addresses[g] for g in groups if g in config.task_addresses]
    if not addresses and "*" in config.task_addresses:
        addresses = [config.task_addresses["*"]]
    due = task.due_at.isoformat() if hasattr(task.due_at, "isoformat") else _text(task.due_at)
    facts = {"reference": event.reference, "procedure": event.procedure, "status": event.status,
             "task_name": task.name, "task_groups": ", ".join(groups), "task_due": due}
    for address in dict.fromkeys(addresses):
        recipient = valid_address(address)
        if recipient is None:
            continue
        event.enqueue("notification", {"channel": "mail", "recipient": recipient, "template": "task_created",
                                       "language": config.default_language, "data": facts},
                      idempotency_key=idempotency_key(event.reference, "task_created"))
