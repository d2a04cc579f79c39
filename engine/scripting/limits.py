"""Run-time limits: the per-evaluation budget and the checks that spend it.

Every evaluation gets its own ``Run`` (iteration count, deadline), reached through a
ContextVar, so evaluations in different threads or tasks never share a counter. Compiled code
calls the guards below; they find the current ``Run`` themselves, which keeps the per-call
setup to one ContextVar set/reset.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import ScriptError, ScriptLimitExceeded

# The deadline is read every this many ticks: a clock read costs as much as a tick.
_CLOCK_EVERY = 32


@dataclass(frozen=True)
class ScriptLimits:
    """Bounds for one evaluation of a script or expression."""

    max_iterations: int = 1_000_000
    """Loop iterations + items taken from iterators + function calls, per evaluation."""
    max_seconds: float = 5.0
    """Wall clock per evaluation, checked while loops and iterators run."""
    max_sequence_length: int = 1_000_000
    """Largest str/bytes/list/tuple a single operation may create ('a' * n, range(n), join...)."""
    max_int_bits: int = 100_000
    """Largest integer that **, pow, <<, * of two ints, round(n, -k), int(text, base) and
    int(Decimal) may create."""
    max_data_size: int = 10_000_000
    """Largest written-out size (items + characters) of the task data a script leaves behind,
    or of an expression's value. Stops a small value that expands enormously when stored."""


class Run:
    """Budget and state of one evaluation."""

    __slots__ = ("limits", "count", "next_check", "deadline", "tripped")

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.count = 0
        self.next_check = min(_CLOCK_EVERY, limits.max_iterations)
        self.deadline = time.monotonic() + limits.max_seconds
        # A refusal the script may try to swallow with try/except: every later tick
        # raises it again, and the evaluation raises it at the end in any case.
        self.tripped: ScriptError | None = None

    def check(self) -> None:
        """Slow path of a tick: limits, deadline, and re-raising a swallowed refusal."""
        if self.tripped is not None:
            raise self.tripped
        limits = self.limits
        if self.count > limits.max_iterations:
            raise self.refuse(ScriptLimitExceeded(
                f"the script did more than {limits.max_iterations:,} loop iterations, items and "
                "function calls (limit max_iterations, setting MADOGUCHI_SCRIPT_MAX_ITERATIONS). "
                "Look for a loop that never ends, or process less data in one step.",
                "max_iterations", limits.max_iterations))
        if time.monotonic() > self.deadline:
            raise self.refuse(ScriptLimitExceeded(
                f"the script ran longer than {limits.max_seconds:g} seconds (limit max_seconds, "
                "setting MADOGUCHI_SCRIPT_MAX_SECONDS). Look for a loop that never ends, or "
                "process less data in one step.",
                "max_seconds", limits.max_seconds))
        self.next_check = min(self.count + _CLOCK_EVERY, limits.max_iterations)

    def refuse(self, error: ScriptError) -> ScriptError:
        """Remember ``error`` as the outcome of this evaluation and return it for raising."""
        error.at_line(_script_line())
        self.tripped = error
        self.next_check = -1
        return error

    def close(self) -> None:
        """Make leftovers (a generator or lambda the caller kept) fail instead of running free."""
        if self.tripped is None:
            self.tripped = ScriptError("sandboxed code ran after its evaluation had finished")
        self.next_check = -1


_CURRENT: ContextVar[Run] = ContextVar("madoguchi_script_run")


def current() -> Run:
    run = _CURRENT.get(None)
    if run is None:
        raise ScriptError("sandboxed code can only run inside SandboxEnvironment.evaluate/execute")
    return run


def start(limits: ScriptLimits) -> tuple[Run, Token]:
    """Begin an evaluation; returns (run, token) for ``finish``."""
    run = Run(limits)
    return run, _CURRENT.set(run)


def finish(run: Run, token: Token) -> None:
    _CURRENT.reset(token)
    run.close()


def tick(value: Any = None) -> Any:
    """Injected at the top of while bodies, function bodies, lambdas, except and finally blocks."""
    run = _CURRENT.get(None) or current()
    run.count += 1
    if run.count > run.next_check:
        run.check()
    return value


def counted(iterable: Iterable, weight: int = 1) -> Iterator:
    """Iterate ``iterable`` charging ``weight`` per item (the ``_getiter_`` guard)."""
    return _count_items(iter(iterable), current(), weight)


def _count_items(items: Iterator, run: Run, weight: int) -> Iterator:
    for item in items:
        run.count += weight
        if run.count > run.next_check:
            run.check()
        yield item


def check_length(length: int) -> None:
    """Refuse an operation that would create a sequence longer than max_sequence_length."""
    limit = current().limits.max_sequence_length
    if length > limit:
        raise current().refuse(ScriptLimitExceeded(
            f"this would create a string or list of {length:,} characters or items; the limit "
            f"is {limit:,} (max_sequence_length). Work on smaller pieces of data.",
            "max_sequence_length", limit))


def check_bits(bits: int) -> None:
    """Refuse an operation whose integer result would exceed max_int_bits."""
    limit = current().limits.max_int_bits
    if bits > limit:
        raise current().refuse(ScriptLimitExceeded(
            f"this would create an integer of about {bits:,} bits; the limit is {limit:,} "
            "(max_int_bits).",
            "max_int_bits", limit))


def check_written_size(value: Any) -> None:
    """Refuse turning ``value`` into text when its written-out form would be too long."""
    if type(value) in _SMALL:
        return
    check_length(expanded_size(value, current().limits.max_sequence_length))


def too_big_error(what: str, limit_name: str, limit: int) -> ScriptLimitExceeded:
    """For values found too big at the end of an evaluation (task data, result, error)."""
    return ScriptLimitExceeded(
        f"{what} would be larger than {limit:,} items and characters once written out "
        f"({limit_name}), or it contains itself. Keep less data in the process.",
        limit_name, limit)


_SMALL = frozenset({str, float, bool, type(None)})
_FLAT = (list, tuple, set, frozenset, type({}.keys()), type({}.values()), type({}.items()))


def expanded_size(value: Any, budget: int) -> int:
    """Rough written-out size of ``value`` (as repr or JSON would write it).

    Characters of strings, digits of numbers, a few per container item. A sub-value that
    appears many times counts every time, as it would be written; so ``x = [x, x]`` repeated
    40 times is measured as the huge text it stands for. Counting stops once ``budget`` is
    passed (a value that contains itself never ends), so this costs at most O(budget).
    """
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 3
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total <= budget:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, _FLAT):
            total += 2 + 2 * len(item)
            if total <= budget:
                stack.extend(item)
        elif isinstance(item, Decimal):
            # '%d' / f'{d:f}' write every digit: Decimal('1e999999999') is a billion of them.
            total += len(str(item)) + abs(item.adjusted())
        elif isinstance(item, BaseException):
            total += 32
            stack.extend(item.args)
        else:  # float, None, dates, functions...: short fixed-size text
            total += 32
    return total


def _script_line() -> int | None:
    """Line of the innermost sandboxed frame on the stack (for error messages)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == "<string>" and frame.f_globals.get("_tick_") is tick:
            return frame.f_lineno
        frame = frame.f_back
    return None
