"""Every extension point of Madoguchi, grouped by lifecycle.

A plugin implements hooks with ``@hookimpl`` (``from engine import hookimpl``, or without
importing Madoguchi at all: ``pluggy.HookimplMarker("madoguchi")``) and is found through the
``madoguchi`` entry-point group. Hooks are called with keyword arguments; an implementation
may accept only the arguments it needs. What plugins return is checked in one place
(engine.plugins), and errors name the plugin and the hook.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("madoguchi")
hookimpl = pluggy.HookimplMarker("madoguchi")


# -- task execution -------------------------------------------------------------------------

@hookspec
def madoguchi_operations():
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
def madoguchi_job_handlers():
    """Background job kinds this plugin runs (besides service tasks, timers and messages).

    Return ``{kind: callable}``; ``callable(payload, context)`` receives the job's JSON
    payload and an :class:`engine.jobs.JobContext` (``job_id``, ``idempotency_key``,
    ``attempt``). Jobs are enqueued with ``Engine.enqueue_job(session, kind, payload)`` and
    run at least once; use the idempotency key to make side effects happen exactly once.
    """
