"""``madoguchi incidents`` — list, retry, resolve."""

import click

from engine.cli.context import CliContext, emit_json, parse_data, pass_cli


def incident_dict(incident) -> dict:
    return {"id": incident.id, "application_id": incident.application_id, "job_id": incident.job_id,
            "kind": incident.kind, "element_id": incident.element_id, "message": incident.message,
            "attempts": incident.attempts, "status": incident.status,
            "created_at": incident.created_at.isoformat(),
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "resolved_by": incident.resolved_by, "resolution": incident.resolution,
            "traceback": incident.traceback}


@click.group("incidents", invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Include resolved incidents.")
@click.option("--application", "application_id", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def incidents_group(ctx: click.Context, show_all: bool, application_id: int | None, as_json: bool) -> None:
    """Jobs whose retries ran out. Without a subcommand: list the open ones."""
    if ctx.invoked_subcommand is not None:
        return
    cli: CliContext = ctx.obj
    with cli.database.transaction() as session:
        rows = [incident_dict(i) for i in cli.engine.incidents(session, status=None if show_all else "open",
                                                                 application_id=application_id)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        where = f"application {row['application_id']}" if row["application_id"] else "-"
        click.echo(f"#{row['id']:<5} {row['status']:<9} {where:<18} {row['kind']:<9} {row['element_id'] or '-':<20} "
                   f"after {row['attempts']} attempt(s): {row['message'][:120]}")


@incidents_group.command("retry")
@click.argument("incident_id", type=int)
@click.option("--as", "actor", default=None)
@pass_cli
def retry(cli: CliContext, incident_id: int, actor: str | None) -> None:
    """Run the failed job again now, with fresh attempts."""
    with cli.database.transaction() as session:
        cli.engine.retry_incident(session, incident_id, actor=actor)
    click.echo(f"incident {incident_id}: job queued again")


@incidents_group.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--as", "actor", default=None)
@click.option("--data", default=None, help="For a service call done by hand: its result (JSON or @file).")
@pass_cli
def resolve(cli: CliContext, incident_id: int, actor: str | None, data: str | None) -> None:
    """Close the incident without running the job again."""
    with cli.database.transaction() as session:
        cli.engine.resolve_incident(session, incident_id, actor=actor, data=parse_data(data))
    click.echo(f"incident {incident_id}: resolved")


COMMANDS = [incidents_group]
