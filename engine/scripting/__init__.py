"""Restricted evaluation of BPMN scripts and expressions (see docs/scripting.md)."""

from .errors import ForbiddenCode, ScriptError, ScriptLimitExceeded
from .limits import ScriptLimits
from .sandbox import (
    SandboxEnvironment,
    check_expression,
    check_script,
    compile_expression,
    compile_script,
)

__all__ = [
    "ForbiddenCode",
    "SandboxEnvironment",
    "ScriptError",
    "ScriptLimitExceeded",
    "ScriptLimits",
    "check_expression",
    "check_script",
    "compile_expression",
    "compile_script",
]
