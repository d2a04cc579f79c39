"""How often and how patiently a service task's call is retried, read from the diagram.

Sources, first found wins: ``spiffworkflow:retry retries="3" backoff_base="10"`` on the
operator; task properties ``retries`` and ``retryBackoff`` (ISO-8601 duration or seconds),
which Camunda's ``failedJobRetryTimeCycle`` (``R5/PT10M``) is translated into; otherwise the
engine's defaults. ``retries`` counts the tries after the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    backoff_seconds: float


def _seconds(value: str) -> float:
    text = value.strip()
    if text.upper().startswith("P"):
        return TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(text)) \
            .total_seconds()
    return float(text)


def retry_policy(spec, default: RetryPolicy) -> RetryPolicy:
    props = (getattr(spec, "extensions", None) or {}).get("properties") or {}
    retries = getattr(spec, "retries", None)
    if retries is None and props.get("retries"):
        retries = int(props["retries"])
    backoff = getattr(spec, "retry_backoff_base", None)
    if backoff is None and props.get("retryBackoff"):
        backoff = _seconds(props["retryBackoff"])
    return RetryPolicy(
        max_attempts=retries + 1 if retries is not None else default.max_attempts,
        backoff_seconds=float(backoff) if backoff is not None else default.backoff_seconds,
    )
