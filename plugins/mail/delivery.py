"""Delivering mails: the ``mail`` notifier, run by a worker in a ``notification`` job.

It reads the procedure's title (in the mail's language) from the deployed definition,
renders the template, and hands the mail to the SMTP server. Any failure raises; the job is
retried with the same idempotency key, and so with the same Message-ID.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from engine.store.models import Definition
from plugins.mail import config as mail_config
from plugins.mail import smtp
from plugins.mail.addresses import valid_address
from plugins.mail.config import MailConfig
from plugins.mail.events import language_of
from plugins.mail.message import build
from plugins.mail.render import render

log = logging.getLogger("madoguchi.mail")

#: Every name the built-in templates use; always in the context, None when unknown.
TEMPLATE_NAMES = ("reference", "procedure", "procedure_title", "department", "status", "previous_status",
                  "applicant_name", "reason", "deadline", "task_name", "task_groups", "task_due",
                  "office_name", "contact")


@dataclass(frozen=True)
class ProcedureInfo:
    """The deployed procedure an application runs: its title and manifest (department …)."""

    title: str | None = None
    manifest: dict = field(default_factory=dict)

    def localised(self, language: str) -> dict:
        """The procedure's title and department in ``language`` (bundle manifests may give
        ``title = {ja = "…", en = "…"}``), else in Japanese, else the deployed title."""
        return {"procedure_title": _localised(self.manifest.get("title"), language) or self.title,
                "department": _localised(self.manifest.get("department"), language)}


def _localised(value, language: str) -> str | None:
    if isinstance(value, dict):
        value = value.get(language) or value.get("ja") or next(iter(value.values()), None)
    return value if isinstance(value, str) and value else None


def read_procedure(engine, application_id: int) -> ProcedureInfo:
    """The title and manifest of the procedure version the application runs.

    A short read of Madoguchi's own database, in the job. Notifiers get no session, so this
    opens (and closes) a connection of its own — cheap next to an SMTP exchange.
    """
    database = engine.database()
    try:
        with database.transaction() as session:
            application = engine.application(session, application_id)
            definition = session.get(Definition, application.definition_id)
            return ProcedureInfo(title=definition.title, manifest=dict(definition.manifest or {}))
    finally:
        database.dispose()


def template_context(config: MailConfig, data: dict, language: str, procedure: ProcedureInfo | None) -> dict:
    context = dict.fromkeys(TEMPLATE_NAMES)
    context.update(office_name=config.office_name or None, timezone=config.timezone)
    if procedure is not None:
        context.update(procedure.localised(language))
    context.update({key: value for key, value in data.items() if isinstance(key, str)})
    context["procedure_title"] = context["procedure_title"] or context["procedure"]
    context["contact"] = config.contact or context["contact"] or context["department"]
    return context


def send_mail(config: MailConfig, *, recipient: str, template: str, language: str, data: dict,
              procedure: ProcedureInfo | None, idempotency_key: str) -> None:
    context = template_context(config, data, language, procedure)
    rendered = render(template, language, context, config.templates_dir, procedure=data.get("procedure"))
    message = build(config, recipient, rendered, idempotency_key=idempotency_key, language=language)
    smtp.send(config, message)
    # No address in the log: the job row and the mail server's log say who it went to.
    log.info("mail %r (%s) sent for %s as %s", template, language, data.get("reference") or "-",
             message["Message-ID"])


def notify(engine, notification: dict, context) -> None:
    """The ``mail`` notifier: ``notification`` = {recipient, template, language, data}."""
    config = mail_config.load()
    recipient = valid_address(notification.get("recipient"))
    if recipient is None:  # retrying will not help, but an incident tells an admin
        raise ValueError(f"cannot send mail to {notification.get('recipient')!r}: not a mail address")
    language = language_of(notification.get("language"), config.default_language)
    procedure = read_procedure(engine, context.application_id) if context.application_id else None
    send_mail(config, recipient=recipient, template=str(notification.get("template")), language=language,
              data=dict(notification.get("data") or {}), procedure=procedure,
              idempotency_key=context.idempotency_key)
