"""Compile-time rules: RestrictedPython's policy, tightened, and wired to our run-time limits.

On top of RestrictedPython (no names or attributes starting with "_", guarded attribute,
item and iterator access, no exec/eval) this policy

* refuses imports, class definitions, generator functions and calls of builtins that
  reach outside the data (open, getattr, globals, type, ...), with a hint on what to do instead;
* injects ``_tick_()`` at the top of every ``while`` body, function body, ``except`` and
  ``finally`` block (``for`` loops and comprehensions tick through ``_getiter_``), so loops and
  recursion spend the iteration budget and a refusal caught by ``except`` fires again;
* routes the operators and literals that can build big values through size guards
  (``_mul_``, ``_add_``, ``_pow_``, ``_lshift_``, ``_mod_``, ``_collect_``, ``_format_value_``,
  ``_joined_``, ``_write_slice_``), and supports ``d[k] += v`` through ``_augitem_``.
"""

from __future__ import annotations

import ast

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.transformer import IOPERATOR_TO_STR, copy_locations

from .guards import REFUSED_ATTRIBUTES

_OUTSIDE = "scripts have no files, console or network; use a service task to reach other systems"
_INTROSPECTION = "scripts cannot inspect their environment; use the task data variables directly"
_BY_NAME = "attribute access by name is not available; keep such values in a dict and use d.get(key)"
_INTERNALS = "Python internals are not reachable from scripts"
_FORBIDDEN_CALLS = {
    "compile": "running code built at run time is not possible in scripts",
    "open": _OUTSIDE, "input": _OUTSIDE, "breakpoint": _OUTSIDE, "help": _OUTSIDE,
    "exit": _OUTSIDE, "quit": _OUTSIDE, "memoryview": _OUTSIDE,
    "globals": _INTROSPECTION, "locals": _INTROSPECTION, "vars": _INTROSPECTION, "dir": _INTROSPECTION,
    "getattr": _BY_NAME, "setattr": _BY_NAME, "delattr": _BY_NAME, "hasattr": _BY_NAME,
    "type": _INTERNALS, "super": _INTERNALS, "object": _INTERNALS, "classmethod": _INTERNALS,
    "staticmethod": _INTERNALS, "property": _INTERNALS,
}

# Hints appended to RestrictedPython's own messages.
_HINTS = (
    ('starts with "_"', "Names starting with '_' are reserved: rename the variable. Python "
                        "internals such as __class__ or __globals__ are not reachable from scripts."),
    ("is a restricted name", "Frames, code objects and generator internals are not reachable "
                             "from scripts."),
    ("calls are not allowed", "Running code built at run time is not possible in scripts."),
)
_DEFAULT_HINT = "See docs/scripting.md for what scripts may use."

_GUARDED_OPERATORS = {ast.Mult: "_mul_", ast.Add: "_add_", ast.Pow: "_pow_",
                      ast.LShift: "_lshift_", ast.Mod: "_mod_"}


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


def _tick(like: ast.AST) -> ast.Expr:
    node = ast.Expr(_call("_tick_", [], like))
    copy_locations(node, like)
    return node


class SandboxPolicy(RestrictingNodeTransformer):
    """One instance per compilation; ``problems`` lists (line, message) in source order."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[tuple[int | None, str]] = []

    def error(self, node: ast.AST, info: str) -> None:
        super().error(node, info)
        hint = next((hint for key, hint in _HINTS if key in info), _DEFAULT_HINT)
        self.problems.append((getattr(node, "lineno", None), f"{info} {hint}"))

    def refuse(self, node: ast.AST, message: str) -> None:
        super().error(node, message)
        self.problems.append((getattr(node, "lineno", None), message))

    # Refused outright.

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.refuse(node, "'import' is not allowed: scripts compute on task data only. Use the "
                          "built-in functions and helpers, and a service task for anything that "
                          "talks to other systems.")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.refuse(node, "class definitions are not supported in scripts; use dicts and functions.")
        return node

    def visit_Yield(self, node: ast.AST) -> ast.AST:
        self.refuse(node, "generator functions ('yield') are not supported in scripts; build and "
                          "return a list instead.")
        return node

    visit_YieldFrom = visit_Yield

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            name = node.func.id
            self.refuse(node, f"'{name}()' is not available: {_FORBIDDEN_CALLS[name]}.")
        return super().visit_Call(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if node.attr in REFUSED_ATTRIBUTES:
            self.refuse(node, f"'.{node.attr}' is not available: {REFUSED_ATTRIBUTES[node.attr]}.")
        return super().visit_Attribute(node)

    # Ticks: loops, calls and handlers spend the iteration budget and see the deadline.

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = _call("_tick_", [node.body], node.body)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, _tick(node.finalbody[0]))
        return node

    # Size guards.

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_OPERATORS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = node.target
        if not isinstance(target, ast.Subscript):
            return super().visit_AugAssign(node)  # names: _inplacevar_; attributes: refused
        if isinstance(target.slice, ast.Slice):
            self.refuse(node, "augmented assignment to a slice is not supported; write "
                              "x[a:b] = x[a:b] + y instead.")
            return node
        args = [self.visit(target.value), self.visit(target.slice),
                ast.Constant(IOPERATOR_TO_STR[type(node.op)]), self.visit(node.value)]
        statement = ast.Expr(_call("_augitem_", args, node))
        copy_locations(statement, node)
        return statement

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        grows = isinstance(node.ctx, ast.Store) and isinstance(node.slice, ast.Slice)
        node = super().visit_Subscript(node)
        if grows:  # the one item assignment that can grow a list: _write_(x)[a:b] = ...
            node.value.func.id = "_write_slice_"
        return node

    def _starred_literal(self, node: ast.List | ast.Tuple | ast.Set) -> ast.AST:
        node = self.node_contents_visit(node)
        loading = isinstance(getattr(node, "ctx", ast.Load()), ast.Load)
        if loading and any(isinstance(element, ast.Starred) for element in node.elts):
            return _call("_collect_", [node], node)
        return node

    visit_List = visit_Tuple = visit_Set = _starred_literal

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        value = _call("_format_value_", [node.value, ast.Constant(node.conversion), spec], node)
        formatted = ast.FormattedValue(value=value, conversion=-1, format_spec=None)
        copy_locations(formatted, node)
        return formatted

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        node = self.node_contents_visit(node)
        if any(isinstance(part, ast.FormattedValue) for part in node.values):
            return _call("_joined_", [node], node)
        return node
