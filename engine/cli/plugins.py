"""``madoguchi plugins``: which plugins are loaded, the hooks each implements, their settings."""

import click

from engine.cli.context import CliContext, emit_json, pass_cli


@click.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the built-in plugins.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def plugins(cli: CliContext, show_all: bool, as_json: bool) -> None:
    """List installed plugins with their hooks and settings (secrets hidden)."""
    rows = cli.engine.plugins(include_defaults=show_all)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no plugins installed (use --all to see the built-in ones)")
    for row in rows:
        origin = "built-in" if row["builtin"] else (row["version"] or "")
        click.echo(f"{row['name']} {origin}".rstrip())
        click.echo(f"  hooks: {', '.join(row['hooks'])}")
        for setting in row["settings"].values():
            click.echo(f"  {setting['variable']}={setting['value']!r}  {setting['description']}")


COMMANDS = [plugins]
