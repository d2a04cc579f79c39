"""Madoguchi's engine: deploy BPMN procedures, run applications through them, keep them safe.

The public entry point is :class:`engine.Engine`; see docs/architecture.md.
"""

from engine.errors import (
    BadInput,
    Conflict,
    DeployRefused,
    ExecutionFailed,
    MadoguchiError,
    NotFound,
    PermissionRefused,
    Problem,
)
from engine.facade import Engine
from engine.hookspecs import hookimpl

__all__ = [
    "BadInput",
    "Conflict",
    "DeployRefused",
    "Engine",
    "ExecutionFailed",
    "MadoguchiError",
    "NotFound",
    "PermissionRefused",
    "Problem",
    "hookimpl",
]
