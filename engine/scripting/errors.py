"""Exceptions raised by the script sandbox.

Spiff's error reporter builds its message from ``err.args[0]``, so ``args`` always holds the
full human text (with "Line N:" in front once the line is known).
"""

from __future__ import annotations


class ScriptError(Exception):
    """A BPMN script or expression was refused or stopped by the sandbox.

    ``message`` says what went wrong and how to fix it; ``lineno`` is the 1-based line in the
    script (None when unknown).
    """

    def __init__(self, message: str, lineno: int | None = None):
        self.message = message
        self.lineno = lineno
        super().__init__(self._text())

    def _text(self) -> str:
        return f"Line {self.lineno}: {self.message}" if self.lineno else self.message

    def at_line(self, lineno: int | None) -> ScriptError:
        """Record where it happened (known only once the error is raised inside the script)."""
        if lineno is not None and self.lineno is None:
            self.lineno = lineno
            self.args = (self._text(),)
        return self

    def __reduce__(self):
        # Keep the attributes across pickling (steps may run in worker processes).
        return _restore, (type(self), self.args, self.__dict__)


class ForbiddenCode(ScriptError):
    """The source uses something scripts may not use (checked before any of it runs)."""


class ScriptLimitExceeded(ScriptError):
    """A run-time limit was hit; ``limit`` names the ScriptLimits field, ``value`` its setting."""

    def __init__(self, message: str, limit: str, value: float, lineno: int | None = None):
        self.limit = limit
        self.value = value
        super().__init__(message, lineno)


def _restore(cls: type[ScriptError], args: tuple, state: dict) -> ScriptError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error
