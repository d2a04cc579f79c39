"""What a job's code is told about the job it runs."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobContext:
    job_id: int
    #: Stays the same on every retry of this job: pass it on so a retried call acts once.
    idempotency_key: str
    #: 1 on the first try, 2 on the first retry, …
    attempt: int
    application_id: int | None


@dataclass(frozen=True)
class OperationContext(JobContext):
    """A service-task call: the job context plus where in which application it happens."""

    reference: str = ""
    element_id: str = ""
    task_id: str = ""
