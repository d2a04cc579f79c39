"""The restricted evaluator behind every BPMN script and expression.

``SandboxEnvironment`` plugs into SpiffWorkflow as
``PythonScriptEngine(environment=SandboxEnvironment())``; it is used for gateway conditions,
script tasks, pre/post scripts, timer expressions, multi-instance collections, DMN cells,
message correlation and service-task parameters alike. See docs/scripting.md.
"""

from __future__ import annotations

import ast
import functools
import textwrap
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import CodeType, ModuleType
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import limits
from .errors import ForbiddenCode, ScriptError
from .limits import ScriptLimits, expanded_size, too_big_error
from .namespace import GUARDS, builtins_with
from .policy import SandboxPolicy

# Spiff's error reporter finds the failing script line by this file name.
_FILENAME = "<string>"


@functools.lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    # eval() strips leading blanks, ast.parse does not; scripts embedded in XML are often
    # indented as a whole (dedent keeps line numbers).
    text = source.strip() if mode == "eval" else textwrap.dedent(source)
    try:
        tree = ast.parse(text, _FILENAME, mode)
        policy = SandboxPolicy()
        tree = policy.visit(tree)
        if not policy.problems:
            return compile(tree, _FILENAME, mode)
    except (SyntaxError, ValueError) as error:
        raise ForbiddenCode(f"syntax error: {getattr(error, 'msg', error)}. Scripts and "
                            "conditions are Python: check quotes, brackets and indentation.",
                            getattr(error, "lineno", None)) from None
    except RecursionError:
        raise ForbiddenCode("the code is nested too deeply to compile; split it up.") from None
    lineno, message = policy.problems[0]
    if len(policy.problems) > 1:
        message += f" ({len(policy.problems) - 1} more problem(s) after this one.)"
    raise ForbiddenCode(message, lineno)


def compile_expression(source: str) -> CodeType:
    """Compile a condition or other expression ('eval' mode); cached. Raises ForbiddenCode."""
    return _compile(source, "eval")


def compile_script(source: str) -> CodeType:
    """Compile a script task or pre/post script ('exec' mode); cached. Raises ForbiddenCode."""
    return _compile(source, "exec")


def check_expression(source: str) -> None:
    """Refuse a bad expression at deploy time (raises ForbiddenCode)."""
    compile_expression(source)


def check_script(source: str) -> None:
    """Refuse a bad script at deploy time (raises ForbiddenCode)."""
    compile_script(source)


DEFAULT_LIMITS = ScriptLimits()  # frozen, so one shared default is safe

_PLAIN_DATA = frozenset({str, int, float, bool, type(None), list, dict, tuple, Decimal, date,
                         datetime, timedelta})


_NOT_DATA = (ModuleType, range, type({}.keys()), type({}.values()), type({}.items()))


def _is_data(value: Any) -> bool:
    """What may stay in task data: not functions, classes, modules, iterators, ranges or dict
    views, which a script uses as temporaries and which cannot be stored as JSON
    (SpiffWorkflow's TaskDataEnvironment drops callables the same way)."""
    if type(value) in _PLAIN_DATA:
        return True
    return not (callable(value) or isinstance(value, _NOT_DATA) or hasattr(value, "__next__"))


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Runs BPMN scripts and expressions under RestrictedPython with per-call limits.

    Task data variables are the script's globals. ``helpers`` are extra functions scripts may
    call (task data of the same name shadows them). Thread-safe: each call has its own state.
    """

    def __init__(self, helpers: dict[str, Any] | None = None,
                 limits: ScriptLimits = DEFAULT_LIMITS):
        super().__init__(dict(helpers or {}))
        self.limits = limits
        self._guards = {**GUARDS, "__builtins__": builtins_with(self.globals)}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        """Value of ``expression`` with the task data (``context``) as variables."""
        code = compile_expression(expression)
        namespace = {**external_context, **context} if external_context else dict(context)
        namespace.update(self._guards)
        result = self._run(code, namespace)
        if type(result) not in _SCALARS:
            budget = self.limits.max_data_size
            if expanded_size(result, budget) > budget:
                raise too_big_error("the value of this expression", "max_data_size", budget)
        return result

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        """Run ``script`` and apply its effect to the task data ``context`` in place: new and
        changed variables are stored, deleted ones removed, functions and other non-data
        values left out. Nothing is changed when the script fails (lists and dicts it
        modified in place excepted)."""
        code = compile_script(script)
        external = external_context or {}
        namespace = {**external, **context}
        namespace.update(self._guards)
        self._run(code, namespace)
        # Names starting with "_" are the guards and RestrictedPython's temporaries (scripts
        # cannot name them); external context (data objects) is read-only, as in Spiff.
        data = {name: value for name, value in namespace.items()
                if not name.startswith("_") and (name in context or name not in external)
                and _is_data(value)}
        self._check_data_size(data)
        for name in [name for name in context if name not in data and not name.startswith("_")]:
            del context[name]
        context.update(data)
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise NotImplementedError("service tasks are run by the job system, not by the sandbox")

    def _run(self, code: CodeType, namespace: dict) -> Any:
        run, token = limits.start(self.limits)
        error = None
        try:
            result = eval(code, namespace)
        except Exception as caught:
            error = caught
        finally:
            tripped = run.tripped
            limits.finish(run, token)
        if tripped is not None:
            raise tripped  # a refusal outranks whatever the script did after catching it
        if error is None:
            return result
        if isinstance(error, ScriptError):
            raise error.at_line(_line_of(error))
        # Replace an error carrying a value that explodes when printed before anyone prints it.
        budget = self.limits.max_sequence_length
        if expanded_size(error.args, budget) > budget:
            raise too_big_error("the message of this error", "max_sequence_length", budget)
        raise error

    def _check_data_size(self, data: dict) -> None:
        budget = self.limits.max_data_size
        used = 0
        for name, value in data.items():
            used += len(name) + expanded_size(value, budget - used)
            if used > budget:
                raise too_big_error(f"the task data (at variable '{name}')", "max_data_size", budget)


_SCALARS = frozenset({bool, int, float, str, type(None)})


def _line_of(error: BaseException) -> int | None:
    """Line of the innermost sandboxed frame in the traceback."""
    lineno = None
    traceback = error.__traceback__
    while traceback is not None:
        frame = traceback.tb_frame
        if frame.f_code.co_filename == _FILENAME and frame.f_globals.get("_tick_") is limits.tick:
            lineno = traceback.tb_lineno
        traceback = traceback.tb_next
    return lineno
