"""``madoguchi worker``: fire due timers (the full job runner builds on this)."""

import time
from datetime import timedelta

import click

from engine.cli.context import CliContext, pass_cli
from engine.errors import MadoguchiError
from engine.store.models import utcnow

#: Longest sleep between two looks at the database, so new work is seen soon.
MAX_SLEEP_S = 1.0


def run_due(cli: CliContext) -> int:
    """Fire every timer that is due now, one application per transaction.

    A failing application is reported and skipped; the others still run.
    """
    fired = 0
    with cli.database.transaction() as session:
        due = cli.engine.due_timer_applications(session)
    for application_id in due:
        try:
            with cli.database.transaction() as session:
                if cli.engine.fire_timers(session, application_id) is not None:
                    fired += 1
        except MadoguchiError as exc:
            click.echo(f"application {application_id}: timer step failed: {exc}", err=True)
    return fired


def seconds_until_next_timer(cli: CliContext) -> float:
    horizon = utcnow() + timedelta(seconds=MAX_SLEEP_S)
    with cli.database.transaction() as session:
        upcoming = cli.engine.next_timer_at(session, before=horizon)
    if upcoming is None:
        return MAX_SLEEP_S
    return max(0.0, min(MAX_SLEEP_S, (upcoming - utcnow()).total_seconds()))


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@pass_cli
def worker(cli: CliContext, once: bool) -> None:
    """Run due timers in the background."""
    if once:
        click.echo(f"fired timers of {run_due(cli)} application(s)")
        return
    click.echo("worker running; Ctrl-C to stop")
    try:
        while True:
            run_due(cli)
            time.sleep(seconds_until_next_timer(cli))
    except KeyboardInterrupt:
        click.echo("worker stopped")


COMMANDS = [worker]
