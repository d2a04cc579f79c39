"""Building the plugin manager: hook specs, entry points, built-in defaults, checks.

Built in a function, never at import time, so every Engine (and every test) gets exactly
the plugins it asks for. Everything plugins return passes through this module, which checks
it and names the plugin and hook when something is wrong.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import pluggy

from engine import hookspecs
from engine.errors import MadoguchiError

#: Built-in plugins, registered exactly like third-party ones (and blockable by name).
DEFAULT_PLUGINS = (
    "plugins.diagnostics",
    "plugins.mail",
    "plugins.resident_records",
    "plugins.jpki",
    "plugins.payment",
    "plugins.portal_intake",
    "plugins.filesystem_storage",
)


class PluginError(MadoguchiError):
    """A plugin is broken or clashes with another; the message names the plugin and hook."""


@dataclass(frozen=True)
class Setting:
    """A setting a plugin declares (``madoguchi_plugin_settings``)."""

    default: object = None
    secret: bool = False
    description: str = ""


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
        try:
            manager.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} is not valid: {exc}") from exc
    try:
        for plugin in extra:
            if not manager.is_registered(plugin):  # e.g. a built-in module passed again by a test
                manager.register(plugin)
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {plugin_name(manager, exc.plugin)!r} is not valid: {exc}") from exc
    return manager


def plugin_name(manager: pluggy.PluginManager, plugin) -> str:
    return manager.get_name(plugin) or repr(plugin)


def call_each(manager: pluggy.PluginManager, hook_name: str, **kwargs):
    """Call every implementation of ``hook_name`` in pluggy's call order (the most recently
    registered first, ``tryfirst``/``trylast`` respected), yielding (plugin name, result).
    Implementations get only the arguments they ask for; an exception is re-raised as a
    PluginError naming the plugin and the hook."""
    hook = getattr(manager.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        wanted = {name: kwargs[name] for name in impl.argnames if name in kwargs}
        owner = plugin_name(manager, impl.plugin)
        try:
            result = impl.function(**wanted)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"plugin {owner!r}, hook {hook_name}: {type(exc).__name__}: {exc}") from exc
        yield owner, result


def call_all(manager: pluggy.PluginManager, hook_name: str, **kwargs) -> None:
    """Call every implementation of a hook whose answers are not used (start-up, commands)."""
    for _owner, _result in call_each(manager, hook_name, **kwargs):
        pass


def collect_callables(manager: pluggy.PluginManager, hook_name: str, **kwargs) -> dict[str, Callable]:
    """Merge the ``{name: callable}`` dicts that plugins return from ``hook_name``."""
    return collect_named(manager, hook_name, check=callable, what="a callable", **kwargs)


def collect_named(manager: pluggy.PluginManager, hook_name: str, *, check: Callable[[object], bool],
                  what: str, **kwargs) -> dict[str, object]:
    """Merge ``{name: thing}`` dicts from every plugin, checking each thing; a duplicate
    name, a non-dict answer or a thing failing ``check`` is an error naming the plugin."""
    merged: dict[str, object] = {}
    owners: dict[str, str] = {}
    for owner, result in call_each(manager, hook_name, **kwargs):
        if result is None:
            continue
        if not isinstance(result, dict):
            raise PluginError(f"plugin {owner!r}, hook {hook_name}: expected a dict of name → {what}, "
                              f"got {type(result).__name__}")
        for name, thing in result.items():
            if not isinstance(name, str) or not check(thing):
                raise PluginError(f"plugin {owner!r}, hook {hook_name}: entry {name!r} is not "
                                  f"a name mapped to {what}")
            if name in merged:
                raise PluginError(f"plugin {owner!r}, hook {hook_name}: {name!r} is already provided "
                                  f"by plugin {owners[name]!r}")
            merged[name], owners[name] = thing, owner
    return merged


def declared_settings(manager: pluggy.PluginManager) -> dict[str, dict[str, Setting]]:
    """{plugin name: {setting name: Setting}} as the plugins declare them."""
    declared: dict[str, dict[str, Setting]] = {}
    for owner, result in call_each(manager, "madoguchi_plugin_settings"):
        if result is None:
            continue
        if not isinstance(result, dict) or not all(isinstance(v, Setting) for v in result.values()):
            raise PluginError(f"plugin {owner!r}, hook madoguchi_plugin_settings: expected a dict of "
                              "name → engine.plugins.Setting")
        declared[owner] = result
    return declared


@cache
def setting_variable(plugin: str, name: str) -> str:
    """The environment variable of a plugin setting: MADOGUCHI_<PLUGIN>_<NAME>."""
    short = plugin.rsplit(".", 1)[-1]
    return "MADOGUCHI_" + re.sub(r"[^A-Z0-9]+", "_", f"{short}_{name}".upper())


def resolve_settings(declared: dict[str, Setting], plugin: str, environ=os.environ) -> dict:
    values = {}
    for name, setting in declared.items():
        raw = environ.get(setting_variable(plugin, name))
        values[name] = setting.default if raw is None else _coerce(raw, setting.default, plugin, name)
    return values


def _coerce(raw: str, default, plugin: str, name: str):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, (int, float)):
        try:
            return type(default)(raw)
        except ValueError:
            raise PluginError(f"plugin {plugin!r}: setting {name} ({setting_variable(plugin, name)}={raw!r}) "
                              f"must be a {type(default).__name__}") from None
    return raw


def describe(manager: pluggy.PluginManager, declared: dict[str, dict[str, Setting]],
             include_defaults: bool) -> list[dict]:
    """What ``madoguchi plugins`` prints: each plugin with its hooks and settings."""
    rows = []
    for plugin in manager.get_plugins():
        name = plugin_name(manager, plugin)
        if not include_defaults and name in DEFAULT_PLUGINS:
            continue
        hooks = sorted(impl.name for impl in (manager.get_hookcallers(plugin) or []))
        dist = next((d for p, d in manager.list_plugin_distinfo() if p is plugin), None)
        settings = {}
        for key, setting in declared.get(name, {}).items():
            value = resolve_settings({key: setting}, name)[key]
            settings[key] = {"variable": setting_variable(name, key),
                             "value": "***" if setting.secret and value else value,
                             "description": setting.description}
        rows.append({"name": name, "version": getattr(dist, "version", None), "builtin": name in DEFAULT_PLUGINS,
                     "hooks": hooks, "settings": settings})
    return sorted(rows, key=lambda r: (not r["builtin"], r["name"]))
