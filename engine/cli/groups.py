"""``madoguchi groups managers add|remove|list`` — who may assign a group's tasks."""

from __future__ import annotations

import click

from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("groups")
def groups_group() -> None:
    """Staff groups."""


@groups_group.group("managers")
def managers_group() -> None:
    """Group managers: they assign, reassign and unassign the group's tasks."""


@managers_group.command("add")
@click.argument("group")
@click.argument("user")
@click.option("--as", "actor", default=None, help="Who makes the change (recorded in the audit trail).")
@pass_cli
def add(cli: CliContext, group: str, user: str, actor: str | None) -> None:
    """Make USER a manager of GROUP."""
    with cli.database.transaction() as session:
        cli.engine.add_group_manager(session, group, user, actor=actor or "cli")
    click.echo(f"{user} manages {group}")


@managers_group.command("remove")
@click.argument("group")
@click.argument("user")
@click.option("--as", "actor", default=None, help="Who makes the change (recorded in the audit trail).")
@pass_cli
def remove(cli: CliContext, group: str, user: str, actor: str | None) -> None:
    """USER no longer manages GROUP."""
    with cli.database.transaction() as session:
        cli.engine.remove_group_manager(session, group, user, actor=actor or "cli")
    click.echo(f"{user} no longer manages {group}")


@managers_group.command("list")
@click.option("--group", default=None, help="Only this group.")
@click.option("--json", "as_json", is_flag=True, help='[{"group": ..., "user": ...}, ...]')
@pass_cli
def list_managers(cli: CliContext, group: str | None, as_json: bool) -> None:
    """Every group manager, by group."""
    with cli.database.transaction() as session:
        found = [{"group": g, "user": u} for g, u in cli.engine.group_managers(session, group=group)]
    if as_json:
        emit_json(found)
        return
    for row in found:
        click.echo(f"{row['group']:<20} {row['user']}")


COMMANDS = [groups_group]
