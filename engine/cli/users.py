"""``madoguchi users add|list``."""

import sys

import click

from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("users")
def users_group() -> None:
    """Staff users and their groups."""


@users_group.command("add")
@click.argument("name")
@click.option("--group", "groups", multiple=True,
              help="Group to put the user in (repeatable); replaces the user's groups when given.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default=None)
@pass_cli
def add(cli: CliContext, name: str, groups: tuple[str, ...], password_stdin: bool, display_name: str | None):
    """Create a user, or set an existing user's groups."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with cli.database.transaction() as session:
        cli.engine.add_user(session, name, groups=list(groups) if groups else None, password=password,
                            display_name=display_name)
        current = dict((u.name, g) for u, g in cli.engine.users(session))[name]
    click.echo(f"user {name}: groups {', '.join(current) or '(none)'}")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_users(cli: CliContext, as_json: bool) -> None:
    """List users and their groups."""
    with cli.database.transaction() as session:
        rows = [{"name": u.name, "display_name": u.display_name, "groups": g} for u, g in cli.engine.users(session)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<20} {', '.join(row['groups'])}")


COMMANDS = [users_group]
