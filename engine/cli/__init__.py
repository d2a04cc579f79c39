"""The ``madoguchi`` command line (contract: docs/cli.md).

Exit codes: 0 ok, 1 failure while running, 2 bad input, 3 permission refused, 4 conflict.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import DBAPIError

from engine.cli.context import CliContext, pass_cli
from engine.errors import DeployRefused, MadoguchiError


class MadoguchiGroup(click.Group):
    """Turns engine errors into messages and exit codes, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DeployRefused as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"deploy refused: {len(exc.problems)} problem(s)", err=True)
            sys.exit(exc.exit_code)
        except MadoguchiError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except DBAPIError as exc:
            click.echo(f"error: {database_problem(exc)}", err=True)
            sys.exit(1)


def database_problem(exc: DBAPIError) -> str:
    """Say what is wrong with the database in terms an operator can act on."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "no such table" in text or "does not exist" in text and "relation" in text:
        return "the database has no Madoguchi tables yet — run `madoguchi db upgrade` first"
    if "connect" in text.lower() or "could not translate host" in text:
        return f"cannot reach the database ({text.splitlines()[0]}) — check MADOGUCHI_DATABASE_URL"
    return f"database error: {text.splitlines()[0]}"


@click.group(cls=MadoguchiGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Madoguchi — run a city's procedures end to end on line."""
    ctx.obj = CliContext()


def _register() -> None:
    from engine.cli import (
        applicants,
        applications,
        approvals,
        audit,
        catalogue,
        db,
        definitions,
        demo,
        documents,
        groups,
        incidents,
        instance_changes,
        keys,
        messages,
        payments,
        plugins,
        seal,
        tokens,
        users,
        worker,
    )

    for module in (db, definitions, applications, approvals, documents, seal, worker, incidents, messages, payments, users, groups, audit, keys, tokens,
                   plugins, demo, catalogue, applicants, instance_changes):
        for command in module.COMMANDS:
            main.add_command(command)


def _register_plugin_commands() -> None:
    """Commands that plugins add (``madoguchi_register_commands``)."""
    from engine.config import Settings
    from engine.plugins import PluginError, build_plugin_manager, call_all

    try:
        settings = Settings.from_env()
        manager = build_plugin_manager(modules=settings.plugin_modules, blocked=settings.blocked_plugins)
        call_all(manager, "madoguchi_register_commands", cli=main)
    except (ValueError, PluginError) as exc:
        # Reported again, with its exit code, by whichever command builds the engine.
        click.echo(f"warning: plugin commands not loaded: {exc}", err=True)


_register()
_register_plugin_commands()

__all__ = ["main", "pass_cli"]
