"""Building the plugin manager: hook specs, entry points, built-in defaults, checks.

Built in a function, never at import time, so every Engine (and every test) gets exactly
the plugins it asks for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

import pluggy

from engine import hookspecs
from engine.errors import MadoguchiError

#: Built-in plugins, registered exactly like third-party ones (and blockable by name).
DEFAULT_PLUGINS = ("plugins.diagnostics",)


class PluginError(MadoguchiError):
    """A plugin is broken or clashes with another; the message names the plugin and hook."""


def build_plugin_manager(*, extra: Iterable[object] = (), modules: Iterable[str] = (),
                         blocked: Iterable[str] = (), entry_points: bool = True) -> pluggy.PluginManager:
    manager = pluggy.PluginManager("madoguchi")
    manager.add_hookspecs(hookspecs)
    blocked = set(blocked)
    for name in blocked:
        manager.set_blocked(name)
    if entry_points:
        manager.load_setuptools_entrypoints("madoguchi")
    for name in (*DEFAULT_PLUGINS, *modules):
        if name in blocked or manager.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise PluginError(f"plugin module {name!r} cannot be imported: {exc}") from exc
        manager.register(module, name=name)
    for plugin in extra:
        manager.register(plugin)
    manager.check_pending()
    return manager


def collect_callables(manager: pluggy.PluginManager, hook_name: str) -> dict[str, Callable]:
    """Merge the ``{name: callable}`` dicts that plugins return from ``hook_name``.

    Checks the shape in one place; a duplicate name is an error naming both plugins.
    """
    hook = getattr(manager.hook, hook_name)
    merged: dict[str, Callable] = {}
    owners: dict[str, str] = {}
    for impl in reversed(hook.get_hookimpls()):  # registration order
        plugin_name = manager.get_name(impl.plugin) or repr(impl.plugin)
        result = impl.function()
        if result is None:
            continue
        if not isinstance(result, dict):
            raise PluginError(f"plugin {plugin_name!r}, hook {hook_name}: expected a dict of name → callable, "
                              f"got {type(result).__name__}")
        for name, function in result.items():
            if not isinstance(name, str) or not callable(function):
                raise PluginError(f"plugin {plugin_name!r}, hook {hook_name}: entry {name!r} is not "
                                  "a name mapped to a callable")
            if name in merged:
                raise PluginError(f"plugin {plugin_name!r}, hook {hook_name}: {name!r} is already provided "
                                  f"by plugin {owners[name]!r}")
            merged[name], owners[name] = function, plugin_name
    return merged
