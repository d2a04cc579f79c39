"""Mail: tells applicants by e-mail what happened to their application, in Japanese or English.

Lifecycle events queue mails; background jobs render and send them:

==========================  =====================  ==========================================
event                       template               when
==========================  =====================  ==========================================
application started         ``received``           always
status → returned           ``returned``           差し戻し, with ``return_reason`` and
                                                   ``return_deadline`` from the data
status → approved           ``approved``
status → rejected           ``rejected``           with ``rejection_reason``
status → issued             ``document_ready``
status → withdrawn          ``withdrawn``
application finished        ``completed``          only if its final status has no mail of
                                                   its own (that one was sent on the change)
task created                ``task_created``       to staff mailboxes, if ``task_addresses``
==========================  =====================  ==========================================

The applicant's address is read from the application data at ``recipient_field``
(``applicant.email``); without one nothing is queued. Mails are rendered from
``templates/<lang>/<template>.txt`` (``ja``, ``en``; other languages get Japanese) and sent
over SMTP by the ``mail`` notifier, so ``Engine.notify(session, "mail", …)`` works for
procedures' own mails too. Settings: see :mod:`plugins.mail.config` or ``madoguchi plugins``.
"""

from __future__ import annotations

from functools import partial

from engine.hookspecs import hookimpl
from engine.plugins import PluginError
from plugins.mail import config, delivery, events


@hookimpl
def madoguchi_plugin_settings():
    return dict(config.SETTINGS)


@hookimpl
def madoguchi_startup(engine):
    problems = config.problems()
    if problems:
        raise PluginError("plugin 'plugins.mail' (MADOGUCHI_MAIL_*): " + "; ".join(problems))


@hookimpl
def madoguchi_notifiers(engine):
    return {"mail": partial(delivery.notify, engine)}


# -- lifecycle: decide and enqueue only (we are inside the step's transaction) ----------------

@hookimpl
def madoguchi_application_started(event):
    events.enqueue_applicant_mail(event, config.load(), "received", event.data)


@hookimpl
def madoguchi_status_changed(event):
    template = events.STATUS_TEMPLATES.get(event.status)
    if template is not None:  # event.data: the application's data after the step
        events.enqueue_applicant_mail(event, config.load(), template, event.data)


@hookimpl
def madoguchi_application_finished(event):
    # A final status with a mail of its own (rejected, issued …) got it when the status
    # changed; "completed" says the same thing less precisely, so it is sent only otherwise.
    if event.status not in events.STATUS_TEMPLATES:
        events.enqueue_applicant_mail(event, config.load(), "completed", event.data)


@hookimpl
def madoguchi_task_created(event):
    events.enqueue_staff_mails(event, config.load())
