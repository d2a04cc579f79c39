"""The plugin contract stays complete: every hook in engine/hookspecs.py has a section in
docs/plugins/hooks.md (with the spec's arguments) and a ``test_hook_<name>`` test in
tests/plugins/test_hooks.py. Both lists are read from the files, so adding a hook without
documenting and testing it fails here."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pluggy
import pytest

from engine import hookspecs

ROOT = Path(__file__).parents[2]
HOOKS_MD = ROOT / "docs" / "plugins" / "hooks.md"
TEST_HOOKS = Path(__file__).with_name("test_hooks.py")


def _specs() -> dict[str, inspect.Signature]:
    manager = pluggy.PluginManager("madoguchi")
    manager.add_hookspecs(hookspecs)
    return {name: inspect.signature(getattr(hookspecs, name))
            for name in sorted(vars(manager.hook)) if not name.startswith("_")}


SPECS = _specs()


def _documented() -> dict[str, list[str]]:
    """Hook sections of hooks.md: ``### madoguchi_name(arg, arg)`` headings → argument names."""
    headings = re.findall(r"^#{2,4} (madoguchi_\w+)\(([^)]*)\)\s*$", HOOKS_MD.read_text(encoding="utf-8"), re.M)
    return {name: [arg.strip() for arg in args.split(",") if arg.strip()] for name, args in headings}


def _tested() -> set[str]:
    tree = ast.parse(TEST_HOOKS.read_text(encoding="utf-8"))
    return {node.name.removeprefix("test_hook_") for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_hook_")}


def test_there_are_hooks_to_check():
    assert "madoguchi_operations" in SPECS and len(SPECS) > 10


@pytest.mark.parametrize("hook", SPECS)
def test_every_hook_has_a_section_in_hooks_md(hook):
    documented = _documented()
    assert hook in documented, f"docs/plugins/hooks.md has no '### {hook}(...)' section"
    assert documented[hook] == list(SPECS[hook].parameters), (
        f"the heading of {hook} in hooks.md lists {documented[hook]}, the spec takes {list(SPECS[hook].parameters)}")


@pytest.mark.parametrize("hook", SPECS)
def test_every_hook_has_a_test(hook):
    assert hook in _tested(), f"tests/plugins/test_hooks.py has no test_hook_{hook}"


def test_docs_and_tests_name_only_hooks_that_exist():
    assert set(_documented()) - set(SPECS) == set()
    assert _tested() - set(SPECS) == set()


def test_the_tutorials_code_is_the_example_packages():
    """Every line of the tutorial's Python, TOML and XML blocks is in the example package, so the
    tutorial cannot drift from the code that test_example_package.py installs and runs
    (``...`` lines and XML comments stand for what the tutorial leaves out)."""
    example = ROOT / "docs" / "examples" / "madoguchi-example-plugin"
    known = {line.strip() for path in example.rglob("*") if path.suffix in (".py", ".toml", ".bpmn")
             for line in path.read_text(encoding="utf-8").splitlines()}
    tutorial = (ROOT / "docs" / "plugins" / "tutorial.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```(?:python|toml|xml)\n(.*?)^```", tutorial, re.M | re.S)
    missing = [line.strip() for block in blocks for line in block.splitlines()
               if line.strip() and "..." not in line and not line.strip().startswith("<!--")
               and line.strip() not in known]
    assert blocks and missing == []
