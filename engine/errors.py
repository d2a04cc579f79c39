"""One exception tree for the whole engine.

Errors carry their context (procedure, element, file, line) as attributes so the command
line and the web layer can turn them into messages; nothing below those layers prints.
Each class has an ``exit_code`` that the command line uses (DESIGN §9).
"""

from __future__ import annotations

from dataclasses import dataclass


class MadoguchiError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code = 1
    #: Whether trying the same thing again later may succeed.
    retryable = False


class BadInput(MadoguchiError):
    """The caller sent something the engine cannot accept (exit code 2)."""

    exit_code = 2


class NotFound(BadInput):
    """A referenced object (application, task, definition, user) does not exist."""


class PermissionRefused(MadoguchiError):
    """The actor may not do this (exit code 3)."""

    exit_code = 3


class Conflict(MadoguchiError):
    """The object changed meanwhile; reload and decide again (exit code 4)."""

    exit_code = 4
    retryable = True


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded diagram or bundle."""

    file: str
    line: int | None
    element_id: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        element = self.element_id or "-"
        return f"{where}: {element}: {self.message} — {self.fix}"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "element_id": self.element_id,
            "message": self.message,
            "fix": self.fix,
        }


class DeployRefused(BadInput):
    """A deployment was refused; ``problems`` lists everything found, not only the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ExecutionFailed(MadoguchiError):
    """Running the process failed at an element (a script broke a limit, a condition failed).

    The step is rolled back whole; the application stays where it was before the step.
    """

    def __init__(self, message: str, *, application_id: int | None = None,
                 element_id: str | None = None, process_id: str | None = None):
        self.detail = message
        self.application_id = application_id
        self.element_id = element_id
        self.process_id = process_id
        where = " ".join(
            part for part in (
                f"application {application_id}" if application_id else "",
                f"process {process_id}" if process_id else "",
                f"element {element_id}" if element_id else "",
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
