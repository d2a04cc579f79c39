"""``madoguchi cancel`` and ``madoguchi migrate`` — an admin ends a running application or
moves it to a newer version of its procedure (engine.instance_changes)."""

import click

from engine.cli.context import CliContext, emit_json, pass_cli
from engine.errors import Conflict


@click.command("cancel")
@click.argument("application_id", type=int)
@click.option("--reason", required=True, help="Why it is cancelled (kept in the audit trail).")
@click.option("--as", "actor", required=True, help="Who cancels it.")
@pass_cli
def cancel(cli: CliContext, application_id: int, reason: str, actor: str) -> None:
    """End a running application: its open tasks, jobs, timers and message waits go."""
    with cli.database.transaction() as session:
        result = cli.engine.cancel_application(session, application_id, actor=actor, reason=reason)
    click.echo(f"application {result.application.reference}: cancelled "
               f"({len(result.closed_tasks)} open task(s) closed)")


def _print_preview(preview) -> None:
    click.echo(f"application {preview.reference}: {preview.key} v{preview.from_version} -> v{preview.to_version}")
    for p in preview.positions:
        if p.found:
            note = " (defined differently)" if p.changed else ""
            click.echo(f"  {p.element_id} [{p.state}] {p.name} -> {p.element_id} {p.new_name}{note}")
        else:
            click.echo(f"  {p.element_id} [{p.state}] {p.name} -> MISSING in v{preview.to_version}")
    if preview.added:
        click.echo(f"  new elements: {', '.join(preview.added)}")
    if preview.removed:
        click.echo(f"  elements gone: {', '.join(preview.removed)}")
    click.echo(f"  data kept: {', '.join(preview.data_keys) or '(none)'}")


@click.command("migrate")
@click.argument("application_id", type=int)
@click.option("--to-version", "to_version", type=int, required=True, help="The newer version to move to.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; change nothing.")
@click.option("--as", "actor", default=None, help="Who migrates it (required unless --dry-run).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def migrate(cli: CliContext, application_id: int, to_version: int, dry_run: bool, actor: str | None,
            as_json: bool) -> None:
    """Move a running application to a newer version of its procedure (preview with --dry-run)."""
    if not dry_run and not actor:
        raise click.UsageError("--as: say who migrates the application (or use --dry-run)")
    with cli.database.transaction() as session:
        if dry_run:
            preview = cli.engine.migration_preview(session, application_id, to_version)
        else:
            preview, _result = cli.engine.migrate_application(session, application_id, to_version=to_version,
                                                              actor=actor)
    if as_json:
        emit_json(preview.as_dict())
    else:
        _print_preview(preview)
    if dry_run and not preview.possible:
        raise Conflict(preview.refusal())
    if not dry_run:
        click.echo(f"application {preview.reference}: now on version {preview.to_version}")


COMMANDS = (cancel, migrate)
