"""How plugins are found, checked and shown: built-ins registered like third-party plugins,
blocking by name, clashes and wrong answers named precisely, settings from the environment
with secrets hidden, plugin commands, and ``madoguchi plugins``."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pluggy
import pytest

from engine import Engine, hookimpl
from engine.config import Settings
from engine.plugins import DEFAULT_PLUGINS, PluginError, Setting, build_plugin_manager, setting_variable


def plugin(name: str, *hooks) -> ModuleType:
    """A plugin module called ``name`` holding the given ``@hookimpl`` functions."""
    module = ModuleType(name)
    for hook in hooks:
        setattr(module, hook.__name__, hook)
    return module


def installed_as_module(monkeypatch, module: ModuleType) -> None:
    """Make ``module`` importable by name, as a module named in MADOGUCHI_PLUGINS would be."""
    monkeypatch.setitem(sys.modules, module.__name__, module)


@pytest.fixture
def offline_settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")


@pytest.fixture
def env_engine(tmp_path, monkeypatch):
    """``env_engine()``: an engine built like the command line builds it, from MADOGUCHI_* variables."""
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    return lambda: Engine(Settings.from_env())


def operations(*names: str):
    @hookimpl
    def madoguchi_operations():
        return {name: lambda params, context: {} for name in names}

    return madoguchi_operations


def madoguchi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the real ``madoguchi`` command of this environment."""
    command = Path(sys.executable).with_name("madoguchi")
    return subprocess.run([command, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


# -- finding plugins ---------------------------------------------------------------------------

def test_default_plugins_are_registered_like_third_party_ones(offline_settings, monkeypatch):
    manager = build_plugin_manager(entry_points=False)
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        assert manager.get_plugin(name) is module  # a module, registered under its module name
        assert manager.get_name(module) == name

    installed_as_module(monkeypatch, plugin("kit_third_party", operations("kit.lookup")))
    engine = Engine(replace(offline_settings, plugin_modules=("kit_third_party",)))
    rows = {row["name"]: row for row in engine.plugins(include_defaults=True)}

    assert {name: rows[name]["builtin"] for name in (*DEFAULT_PLUGINS, "kit_third_party")} == {
        **dict.fromkeys(DEFAULT_PLUGINS, True), "kit_third_party": False}
    assert "diagnostics.echo" in engine.operations and "kit.lookup" in engine.operations  # merged alike
    listed = engine.plugins(include_defaults=False)
    assert "kit_third_party" in [row["name"] for row in listed] and not any(row["builtin"] for row in listed)


def test_madoguchi_block_plugins_blocks_one_by_name(env_engine, monkeypatch):
    installed_as_module(monkeypatch, plugin("kit_third_party", operations("kit.lookup")))
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "kit_third_party,kit_not_installed")
    monkeypatch.setenv("MADOGUCHI_BLOCK_PLUGINS", "plugins.diagnostics, kit_not_installed")

    engine = env_engine()

    names = {row["name"] for row in engine.plugins()}
    assert "plugins.diagnostics" not in names and "diagnostics.echo" not in engine.operations
    assert set(DEFAULT_PLUGINS) - {"plugins.diagnostics"} <= names  # only the one named
    assert "kit_third_party" in names and "kit.lookup" in engine.operations
    # A blocked module is not even imported: naming one that is not installed is no error.

    monkeypatch.setenv("MADOGUCHI_BLOCK_PLUGINS", "kit_third_party,kit_not_installed")
    assert "kit.lookup" not in env_engine().operations


def test_a_plugin_module_that_cannot_be_imported_is_named(env_engine, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "kit_not_installed")
    with pytest.raises(PluginError, match="plugin module 'kit_not_installed' cannot be imported"):
        env_engine()


def test_a_misspelt_hook_is_refused_naming_plugin_and_hook(offline_settings):
    @hookimpl
    def madoguchi_operation():  # sic: the hook is madoguchi_operations
        return {}

    with pytest.raises((PluginError, pluggy.PluginValidationError), match="madoguchi_operation'.*kit_typo"):
        Engine(offline_settings, plugins=(plugin("kit_typo", madoguchi_operation),))


# -- checking what plugins return ---------------------------------------------------------------

@pytest.mark.parametrize(("hook", "collect"), [
    ("madoguchi_operations", lambda engine: engine.operations),
    ("madoguchi_job_handlers", lambda engine: engine.job_handlers),
    ("madoguchi_notifiers", lambda engine: engine.notifiers()),
    ("madoguchi_identity_verifiers",
     lambda engine: engine.plugin_objects("madoguchi_identity_verifiers", check=callable, what="a callable")),
])
def test_the_same_name_from_two_plugins_is_an_error_naming_both(offline_settings, hook, collect):
    def offer(engine):
        return {"koseki.lookup": lambda *args: None}

    first, second = (plugin(name, hookimpl(specname=hook)(offer)) for name in ("kit_koseki_a", "kit_koseki_b"))
    with pytest.raises(PluginError) as raised:
        collect(Engine(offline_settings, plugins=(first, second)))
    message = str(raised.value)
    assert hook in message and "'koseki.lookup'" in message
    assert "kit_koseki_a" in message and "kit_koseki_b" in message


def test_two_intake_sources_of_the_same_name_are_an_error_naming_both(offline_settings):
    class Source:
        def poll(self, context):
            pass

    @hookimpl
    def madoguchi_intake_sources():
        return {"portal": Source()}

    engine = Engine(offline_settings, plugins=(plugin("kit_portal_a", madoguchi_intake_sources),
                                               plugin("kit_portal_b", madoguchi_intake_sources)))
    with pytest.raises(PluginError, match=r"kit_portal_[ab].*madoguchi_intake_sources.*'portal'.*kit_portal_[ab]"):
        engine.intake.sources()


@pytest.mark.parametrize(("hook", "answer", "complaint"), [
    ("madoguchi_operations", ["kit.lookup"], "expected a dict of name → a callable, got list"),
    ("madoguchi_operations", {"kit.lookup": "not callable"}, "entry 'kit.lookup' is not a name mapped to a callable"),
    ("madoguchi_job_handlers", "kit.archive", "expected a dict of name → a callable, got str"),
    ("madoguchi_plugin_settings", {"url": "https://x"}, "expected a dict of name → engine.plugins.Setting"),
])
def test_a_wrong_answer_is_an_error_naming_plugin_and_hook(offline_settings, hook, answer, complaint):
    broken = plugin("kit_broken", hookimpl(specname=hook)(lambda: answer))
    with pytest.raises(PluginError) as raised:
        Engine(offline_settings, plugins=(broken,))
    assert str(raised.value).startswith(f"plugin 'kit_broken', hook {hook}: ")
    assert complaint in str(raised.value)


def test_an_intake_source_without_poll_is_an_error_naming_plugin_and_hook(offline_settings):
    @hookimpl
    def madoguchi_intake_sources():
        return {"portal": "https://portal.example/outbox"}

    engine = Engine(offline_settings, plugins=(plugin("kit_broken", madoguchi_intake_sources),))
    with pytest.raises(PluginError, match=r"^plugin 'kit_broken', hook madoguchi_intake_sources: entry 'portal' "
                                          r"is not a name mapped to an object with poll\(context\)"):
        engine.intake.sources()


def test_a_plugin_refusing_to_start_is_named(offline_settings):
    @hookimpl
    def madoguchi_startup():
        raise RuntimeError("MADOGUCHI_KIT_STRICT_URL is not set")

    with pytest.raises(PluginError, match="plugin 'kit_strict', hook madoguchi_startup: .*"
                                          "MADOGUCHI_KIT_STRICT_URL is not set"):
        Engine(offline_settings, plugins=(plugin("kit_strict", madoguchi_startup),))


def test_an_implementation_takes_only_the_arguments_it_needs(offline_settings):
    @hookimpl
    def madoguchi_operations():  # the spec offers engine; this one does not want it
        return {"kit.plain": lambda params, context: {}}

    assert "kit.plain" in Engine(offline_settings, plugins=(plugin("kit_plain", madoguchi_operations),)).operations


# -- settings ---------------------------------------------------------------------------------

@hookimpl
def madoguchi_plugin_settings():
    return {
        "url": Setting(default="https://koseki.city.example/api", description="base URL of the core system"),
        "timeout": Setting(default=10.0, description="seconds per request"),
        "max_batch": Setting(default=100, description="applications per request"),
        "verify_tls": Setting(default=True, description="check the server certificate"),
        "client_id": Setting(description="issued by the core system's vendor"),
        "api_key": Setting(default="", secret=True, description="API key"),
    }


def test_settings_resolve_from_the_environment_with_types(env_engine, monkeypatch):
    installed_as_module(monkeypatch, plugin("acme.kit_koseki", madoguchi_plugin_settings))
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "acme.kit_koseki")

    assert env_engine().plugin_settings("acme.kit_koseki") == {
        "url": "https://koseki.city.example/api", "timeout": 10.0, "max_batch": 100, "verify_tls": True,
        "client_id": None, "api_key": ""}

    # The variable uses the last part of a dotted plugin name.
    assert setting_variable("acme.kit_koseki", "max_batch") == "MADOGUCHI_KIT_KOSEKI_MAX_BATCH"
    for name, value in {"URL": "https://test.koseki.example", "TIMEOUT": "2.5", "MAX_BATCH": "20",
                        "VERIFY_TLS": "off", "CLIENT_ID": "madoguchi-01", "API_KEY": "k-123"}.items():
        monkeypatch.setenv(f"MADOGUCHI_KIT_KOSEKI_{name}", value)
    assert env_engine().plugin_settings("acme.kit_koseki") == {
        "url": "https://test.koseki.example", "timeout": 2.5, "max_batch": 20, "verify_tls": False,
        "client_id": "madoguchi-01", "api_key": "k-123"}

    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_MAX_BATCH", "lots")
    with pytest.raises(PluginError, match=r"plugin 'acme.kit_koseki': setting max_batch "
                                          r"\(MADOGUCHI_KIT_KOSEKI_MAX_BATCH='lots'\) must be a int"):
        env_engine().plugin_settings("acme.kit_koseki")


def test_secrets_are_hidden_by_madoguchi_plugins(cli, monkeypatch):
    installed_as_module(monkeypatch, plugin("kit_koseki", madoguchi_plugin_settings))
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "kit_koseki")
    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_API_KEY", "k-very-secret")
    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_MAX_BATCH", "20")

    result = cli("plugins", "--all", "--json")
    human = cli("plugins", "--all")

    assert result.exit_code == 0
    [row] = [row for row in json.loads(result.output) if row["name"] == "kit_koseki"]
    assert row["settings"]["api_key"] == {"variable": "MADOGUCHI_KIT_KOSEKI_API_KEY", "value": "***",
                                          "description": "API key"}
    assert row["settings"]["max_batch"]["value"] == 20
    assert "k-very-secret" not in result.output and "k-very-secret" not in human.output
    assert "MADOGUCHI_KIT_KOSEKI_API_KEY='***'  API key" in human.output

    monkeypatch.delenv("MADOGUCHI_KIT_KOSEKI_API_KEY")  # unset: nothing to hide, shown empty
    [row] = [row for row in json.loads(cli("plugins", "--json").output) if row["name"] == "kit_koseki"]
    assert row["settings"]["api_key"]["value"] == ""


# -- the command line ---------------------------------------------------------------------------

def test_madoguchi_register_commands_adds_a_command(tmp_path):
    (tmp_path / "kit_koseki_cli.py").write_text(textwrap.dedent('''
        import click

        from engine import hookimpl
        from engine.plugins import Setting


        @hookimpl
        def madoguchi_plugin_settings():
            return {"url": Setting(default="https://koseki.city.example/api")}


        @hookimpl
        def madoguchi_register_commands(cli):
            @cli.group("koseki")
            def koseki():
                """The core family-register system."""

            @koseki.command("check")
            @click.pass_obj
            def check(obj):
                """Show where the core system is expected."""
                click.echo(obj.engine.plugin_settings("kit_koseki_cli")["url"])
    '''), encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path), "MADOGUCHI_PLUGINS": "kit_koseki_cli", "MADOGUCHI_HOME": str(tmp_path),
           "MADOGUCHI_KIT_KOSEKI_CLI_URL": "https://test.koseki.example"}

    checked = madoguchi("koseki", "check", env=env)
    helped = madoguchi("--help", env=env)
    without = madoguchi("koseki", "check", env={**env, "MADOGUCHI_BLOCK_PLUGINS": "kit_koseki_cli"})

    assert (checked.returncode, checked.stdout) == (0, "https://test.koseki.example\n")
    assert "koseki" in helped.stdout and "The core family-register system." in helped.stdout
    assert without.returncode == 2 and "No such command 'koseki'" in without.stderr


def test_a_broken_plugin_is_reported_by_the_command_line(tmp_path):
    result = madoguchi("plugins", env={"MADOGUCHI_PLUGINS": "kit_not_installed", "MADOGUCHI_HOME": str(tmp_path)})

    assert result.returncode == 1
    assert "warning: plugin commands not loaded: plugin module 'kit_not_installed' cannot be imported" in result.stderr
    assert "error: plugin module 'kit_not_installed' cannot be imported" in result.stderr


def test_madoguchi_plugins_lists_plugins_hooks_and_settings(cli, monkeypatch):
    @hookimpl
    def madoguchi_operations():
        return {"kit.lookup": lambda params, context: {}}

    installed_as_module(monkeypatch, plugin("kit_koseki", madoguchi_plugin_settings, madoguchi_operations))
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "kit_koseki")

    listed, everything = cli("plugins"), cli("plugins", "--all")
    as_json = json.loads(cli("plugins", "--json").output)

    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    start = lines.index("kit_koseki")
    assert lines[start:start + 3] == [
        "kit_koseki",
        "  hooks: madoguchi_operations, madoguchi_plugin_settings",
        "  MADOGUCHI_KIT_KOSEKI_URL='https://koseki.city.example/api'  base URL of the core system",
    ]
    assert not any(line.startswith(DEFAULT_PLUGINS) for line in lines)  # built-ins only with --all
    for name in DEFAULT_PLUGINS:
        assert f"{name} built-in" in everything.output.splitlines()
    [row] = [row for row in as_json if row["name"] == "kit_koseki"]
    assert row == {"name": "kit_koseki", "version": None, "builtin": False,
                   "hooks": ["madoguchi_operations", "madoguchi_plugin_settings"],
                   "settings": {name: {"variable": f"MADOGUCHI_KIT_KOSEKI_{name.upper()}", "value": value,
                                       "description": setting.description}
                                for (name, setting), value in zip(
                                    madoguchi_plugin_settings().items(),
                                    ["https://koseki.city.example/api", 10.0, 100, True, None, ""], strict=True)}}
