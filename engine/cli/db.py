"""``madoguchi db upgrade``."""

import click

from engine.cli.context import CliContext, pass_cli


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@pass_cli
def upgrade(cli: CliContext) -> None:
    """Create or migrate the schema to the newest version."""
    cli.engine.upgrade_database()
    click.echo(f"database is up to date ({cli.settings.database_url.split('@')[-1]})")


COMMANDS = [db_group]
