"""Running one claimed job: its outside work first, then its effect in one transaction.

The effect transaction starts by taking the job row (deleting it, if this worker still
holds the lease). If another worker took the job over meanwhile, nothing is applied, so an
effect on an application is never applied twice; an operation may run twice after a crash,
which is what its idempotency key is for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson

from engine.errors import MadoguchiError
from engine.jobs.context import JobContext, OperationContext
from engine.jobs.store import fail, take
from engine.store.models import Job

log = logging.getLogger("madoguchi.jobs")


class LeaseLost(MadoguchiError):
    """Another worker took this job over after our lease expired; our result is dropped."""


class JobRunner:
    def __init__(self, engine, database, owner: str):
        self.engine = engine
        self.database = database
        self.owner = owner
        self.kinds: dict[str, Callable[[Job], None]] = {
            "service": self._service,
            "timer": self._timer,
            "message": self._message,
            "schedule": self._schedule,
            "notification": self._notification,
            "intake": self._intake,
        }

    def run(self, job: Job) -> bool:
        """Run ``job``; True if its effect was applied, False if it failed or was lost."""
        handler = self.kinds.get(job.kind, self._plugin)
        try:
            handler(job)
            return True
        except LeaseLost:
            log.warning("job %s (%s): lease lost to another worker; result dropped", job.id, job.kind)
            return False
        except Exception as exc:  # any failure of a job's code is recorded, retried, then an incident
            log.info("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempts, exc)
            with self.database.transaction() as session:
                incident = fail(session, job.id, self.owner, exc, element_id=getattr(exc, "element_id", None))
                if incident is not None:
                    self.engine.announce_incident(session, incident)
            return False

    def _take(self, session, job: Job) -> None:
        if not take(session, job.id, self.owner):
            raise LeaseLost(f"job {job.id} is no longer held by {self.owner}")

    # -- kinds ------------------------------------------------------------------------------

    def _service(self, job: Job) -> None:
        applications = self.engine.applications
        call = job.payload if "params" in (job.payload or {}) else None
        if call is None:  # a job queued before calls travelled with it: read the call from the workflow
            with self.database.transaction() as session:
                call = applications.service_call(session, job.application_id, job.task_id)
        if call is None:  # the task was cancelled (e.g. by an interrupting timer): nothing to do
            with self.database.transaction() as session:
                self._take(session, job)
            return
        operation = self.engine.operations.get(call["operation"])
        if operation is None:
            raise LookupError(f"no installed plugin provides the operation {call['operation']!r}")
        context = OperationContext(job_id=job.id, idempotency_key=job.idempotency_key, attempt=job.attempts,
                                   application_id=job.application_id, reference=call["reference"],
                                   element_id=call["element_id"], task_id=job.task_id)
        result = operation(dict(call["params"]), context)
        result = orjson.loads(orjson.dumps(result))  # only JSON goes into task data
        with self.database.transaction() as session:
            self._take(session, job)
            applications.complete_service_call(session, job.application_id, job.task_id, result)

    def _timer(self, job: Job) -> None:
        with self.database.transaction() as session:
            self._take(session, job)
            if self.engine.applications.fire_timers(session, job.application_id) is None:
                self.engine.applications.reschedule_timer(session, job.application_id)

    def _message(self, job: Job) -> None:
        payload = job.payload
        with self.database.transaction() as session:
            self._take(session, job)
            self.engine.messages.deliver_thrown(session, payload)

    def _schedule(self, job: Job) -> None:
        with self.database.transaction() as session:
            self._take(session, job)
            self.engine.schedules.fire(session, job)

    def _notification(self, job: Job) -> None:
        notification = dict(job.payload or {})
        channel = notification.get("channel")
        notifier = self.engine.notifiers().get(channel)
        if notifier is None:
            raise LookupError(f"no installed plugin delivers notifications on channel {channel!r}")
        notifier(notification, self._context(job))
        with self.database.transaction() as session:
            self._take(session, job)

    def _intake(self, job: Job) -> None:
        self.engine.intake.poll(job)
        with self.database.transaction() as session:
            self._take(session, job)
            self.engine.intake.reschedule(session, job)

    @staticmethod
    def _context(job: Job) -> JobContext:
        return JobContext(job_id=job.id, idempotency_key=job.idempotency_key, attempt=job.attempts,
                          application_id=job.application_id)

    def _plugin(self, job: Job) -> None:
        handler = self.engine.job_handlers.get(job.kind)
        if handler is None:
            raise LookupError(f"no installed plugin handles jobs of kind {job.kind!r}")
        handler(dict(job.payload or {}), self._context(job))
        with self.database.transaction() as session:
            self._take(session, job)
