"""When to try a failed job again: exponential backoff with jitter."""

from __future__ import annotations

import random

#: Never wait longer than this between two attempts.
MAX_DELAY_S = 3600.0


def retry_delay(attempt: int, base_seconds: float, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempt + 1``: base·2^(attempt-1), half of it randomised.

    The jitter spreads retries of many jobs that failed together (a core system went down)
    so they do not all hit it again at the same instant. The growth stops at an hour, or at
    the base itself when a task asks for more than that (``retryBackoff="PT6H"``).
    """
    rng = rng or random
    delay = min(max(MAX_DELAY_S, base_seconds), base_seconds * 2 ** max(0, attempt - 1))
    return delay / 2 + rng.uniform(0, delay / 2)
