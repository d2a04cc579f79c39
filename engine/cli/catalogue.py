"""``madoguchi catalogue import|list`` — the portal's procedure catalogue."""

from pathlib import Path

import click

from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("catalogue")
def catalogue_group() -> None:
    """The portal's procedure catalogue (docs/portal.md)."""


@catalogue_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@pass_cli
def import_file(cli: CliContext, path: Path) -> None:
    """Create or update catalogue entries from a .csv or .toml file (all rows, or none)."""
    with cli.database.transaction() as session:
        result = cli.engine.catalogue_import(session, path, actor="cli")
    click.echo(f"catalogue: {len(result.saved)} procedure(s) imported from {path.name}")
    if result.kept:
        click.echo(f"kept as their deployed bundle describes them: {', '.join(result.kept)}")


@catalogue_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_entries(cli: CliContext, as_json: bool) -> None:
    """List the catalogue's procedures: slug, where they are done, category, name."""
    with cli.database.transaction() as session:
        rows = [{"slug": p.slug, "name_ja": p.name_ja, "name_en": p.name_en, "category": p.category,
                 "department": p.department, "channel": p.channel, "identity_level": p.identity_level,
                 "definition_key": p.definition_key, "external_url": p.external_url, "source": p.source}
                for p in cli.engine.catalogue_entries(session)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['slug']:<32} {row['channel']:<9} {row['category']}  {row['name_ja']}")
    click.echo(f"{len(rows)} procedure(s)")


COMMANDS = [catalogue_group]
