"""Background jobs: timers, service calls, message delivery and plugin jobs that survive
crashes, retry with backoff and end as incidents when retries run out (docs/jobs.md)."""

from engine.jobs.context import JobContext, OperationContext

__all__ = ["JobContext", "OperationContext"]
