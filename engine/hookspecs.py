"""Every extension point of Madoguchi, grouped by lifecycle.

A plugin implements hooks with ``@hookimpl`` (``from engine import hookimpl``, or without
importing Madoguchi at all: ``pluggy.HookimplMarker("madoguchi")``) and is found through the
``madoguchi`` entry-point group. Hooks are called with keyword arguments; an implementation
may accept only the arguments it needs, and new arguments may be added to a hook later
without breaking existing plugins. What plugins return is checked in one place
(engine.plugins), and errors name the plugin and the hook. Each hook is documented for
plugin authors in docs/plugins/hooks.md.

Hooks that return ``{name: thing}`` dicts are merged across plugins; two plugins offering the
same name is an error at start-up. Calls to systems outside Madoguchi never happen inside a
step or a web request: they run in background jobs (docs/jobs.md).
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("madoguchi")
hookimpl = pluggy.HookimplMarker("madoguchi")


# -- start-up and settings -------------------------------------------------------------------

@hookspec
def madoguchi_plugin_settings():
    """The settings this plugin reads, declared so they can be listed and checked.

    Return ``{name: engine.plugins.Setting(default=..., secret=False, description="...")}``.
    Values come from the environment variable ``MADOGUCHI_<PLUGIN>_<NAME>`` (plugin and setting
    names upper-cased, ``-`` and ``.`` as ``_``), else the default. Secrets (``secret=True``)
    are never printed (``madoguchi plugins --all`` shows ``***``). Read them with
    ``engine.plugin_settings("<plugin name>")``, which returns a dict.
    """


@hookspec
def madoguchi_startup(engine):
    """Called once, when an :class:`engine.Engine` has been built with this plugin.

    ``engine``: the engine; use it to read settings or to check configuration early. Raise to
    refuse to start (the message names your plugin).
    """


# -- intake ----------------------------------------------------------------------------------

@hookspec
def madoguchi_intake_sources(engine):
    """Places applications arrive from besides Madoguchi's own portal (e.g. the national portal).

    Return ``{name: source}``. ``source.interval_seconds`` (float) says how often to poll;
    ``source.poll(context)`` runs in a background job: it fetches new applications and starts
    each with ``context.start(procedure_key, data, external_id=...)``, where ``external_id``
    (e.g. the 受付番号) makes the import idempotent — starting the same id twice returns the
    first application. ``context`` also has ``settings`` and ``idempotency_key``.
    """


# -- identity ----------------------------------------------------------------------------------

@hookspec
def madoguchi_identity_verifiers(engine):
    """Ways to check who signed what an applicant submitted.

    Return ``{name: verify}``; ``verify(data: bytes, signature: bytes, context)`` returns an
    :class:`engine.identity_checks.IdentityResult` (valid, reason, subject, serial number,
    certificate details). ``context`` is an :class:`engine.identity_checks.VerificationContext`
    (``moment``: the time to check validity at; ``job``: the job context, if any). Never raise
    for an invalid signature — return ``valid=False`` with a reason a clerk can read.
    """


@hookspec(firstresult=True)
def madoguchi_revocation_status(certificate, issuer, engine):
    """Whether ``certificate`` (a ``cryptography`` X.509 object, issued by ``issuer``) is revoked.

    Return ``"good"``, ``"revoked"`` or ``"unknown"`` — or an
    :class:`engine.identity_checks.RevocationStatus` (a ``str`` that also carries
    ``revoked_at``, ``reason``, ``detail``, ``source``) — or None to let another plugin answer.
    The first non-None answer in pluggy's call order wins; the built-in CRL checker of the
    JPKI plugin answers last (``trylast``), so an OCSP plugin takes precedence.
    """


# -- task execution ----------------------------------------------------------------------------

@hookspec
def madoguchi_operations(engine):
    """Service-task operations this plugin provides.

    Return a dict ``{operation_name: callable}``. A service task names its operation with
    ``spiffworkflow:serviceTaskOperator id="..."`` or Camunda's ``camunda:type="external"
    camunda:topic="..."``; deploying a diagram that names an operation no plugin provides is
    refused. The callable is called by a background worker, never inside an approver's
    request, as ``operation(params, context)``:

    - ``params``: dict of the task's parameters, evaluated in the sandbox against the task
      data when the task was reached (Camunda external tasks receive the whole task data);
    - ``context``: an :class:`engine.jobs.OperationContext` with ``idempotency_key`` (the same
      on every retry of the same task — pass it to the remote system so a retried call does
      not act twice), ``application_id``, ``reference``, ``element_id``, ``attempt``.

    Return a JSON-compatible value: a dict is merged into the task data, anything else is
    stored under the task's ``resultVariable``. Raise an exception to fail the attempt; the
    job is retried with backoff and becomes an incident when retries run out.
    """


@hookspec
def madoguchi_job_handlers(engine):
    """Background job kinds this plugin runs (besides service tasks, timers and messages).

    Return ``{kind: callable}``; ``callable(payload, context)`` receives the job's JSON
    payload and an :class:`engine.jobs.JobContext` (``job_id``, ``idempotency_key``,
    ``attempt``). Jobs are enqueued with ``Engine.enqueue_job(session, kind, payload)`` and
    run at least once; use the idempotency key to make side effects happen exactly once.
    """


# -- payment -----------------------------------------------------------------------------------

@hookspec
def madoguchi_payment_providers(engine):
    """Payment services applicants pay fees through.

    Return ``{name: provider}`` where ``provider`` implements
    :class:`engine.payments.PaymentProvider`: ``create_payment(request, context)`` → a
    ``PaymentSession`` (payment reference and the URL to send the applicant to),
    ``parse_callback(body: bytes, headers: dict)`` → a ``PaymentEvent`` (reference, status,
    amount) after checking the provider's signature, and ``refund(reference, amount, context)``.
    Confirmed payments reach the application as the message ``payment_completed`` correlated
    by the payment reference.
    """


# -- notification ------------------------------------------------------------------------------

@hookspec
def madoguchi_notifiers(engine):
    """Channels that tell people something happened (mail, SMS, the portal's inbox …).

    Return ``{channel: send}``; ``send(notification: dict, context)`` runs in a background job
    (kind ``notification``) and delivers one notification: ``notification`` has ``recipient``,
    ``template``, ``language`` and ``data``. Use ``context.idempotency_key`` so a retried job
    does not deliver twice where the channel allows it.
    """


# -- documents ---------------------------------------------------------------------------------

@hookspec(firstresult=True)
def madoguchi_document_storage(engine):
    """Where files (attachments, issued documents) are kept.

    Return an object implementing :class:`engine.storage.DocumentStorage` — ``put(key,
    stream) -> StoredFile`` (streamed, with its SHA-256 and size), ``open(key)`` (a binary
    stream), ``delete(key)``, ``exists(key)`` — or None. The first non-None answer wins; the
    built-in file-system storage answers last (``trylast=True``), so installing a plugin for
    an S3-compatible store replaces it.
    """


# -- lifecycle events ----------------------------------------------------------------------------
# Called inside the step's transaction, after the engine has written the step: do not call
# other systems here — enqueue a job (``event.enqueue(kind, payload)``) that does it, so the
# job commits (or rolls back) with the step. An exception rolls the whole step back.

@hookspec
def madoguchi_application_started(event):
    """An application was created. ``event``: an :class:`engine.lifecycle.LifecycleEvent`
    (``application_id``, ``reference``, ``procedure``, ``status``, ``actor``, ``data``,
    ``enqueue``)."""


@hookspec
def madoguchi_task_created(event):
    """A human task opened; ``event.task`` has ``id``, ``element_id``, ``name``,
    ``candidate_groups``, ``candidate_users``, ``assignee``, ``due_at``."""


@hookspec
def madoguchi_task_completed(event):
    """A human task was completed; ``event.task`` as above, ``event.actor`` completed it and
    ``event.data`` is what they submitted."""


@hookspec
def madoguchi_application_finished(event):
    """An application's process ended; ``event.status`` is its final public status."""


@hookspec
def madoguchi_status_changed(event):
    """An application's public status changed (``event.previous_status`` → ``event.status``),
    e.g. to tell the applicant their application was returned for correction."""


@hookspec
def madoguchi_incident_raised(event):
    """A job's retries ran out; ``event.incident`` has ``id``, ``kind``, ``element_id``,
    ``message`` and ``attempts``."""


# -- web UI ------------------------------------------------------------------------------------

@hookspec
def madoguchi_blueprints(engine):
    """Flask blueprints to mount in the web application. Return a list of blueprints; they
    are registered when the app is created, under the URL prefix they declare."""


@hookspec
def madoguchi_menu_links(actor, area):
    """Links to add to a menu. ``actor``: the signed-in user's name (or None); ``area``:
    ``"office"``, ``"admin"`` or ``"portal"``. Return a list of ``{"href": ..., "label": ...}``
    dicts (labels may be ``{"ja": ..., "en": ...}``), or None."""


# -- command line ------------------------------------------------------------------------------

@hookspec
def madoguchi_register_commands(cli):
    """Add commands to ``madoguchi``. ``cli`` is the click group: decorate functions with
    ``@cli.command()`` inside the implementation."""
