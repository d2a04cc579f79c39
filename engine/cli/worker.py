"""``madoguchi worker``: fire due timers (the full job runner builds on this)."""

import time
from datetime import timedelta

import click

from engine.cli.context import CliContext, pass_cli
from engine.store.models import utcnow

IDLE_SLEEP_S = 1.0


def run_due(cli: CliContext) -> int:
    """Fire every timer that is due now, one application per transaction."""
    fired = 0
    with cli.database.transaction() as session:
        due = cli.engine.due_timer_applications(session)
    for application_id in due:
        with cli.database.transaction() as session:
            if cli.engine.fire_timers(session, application_id) is not None:
                fired += 1
    return fired


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
            with cli.database.transaction() as session:
                upcoming = cli.engine.due_timer_applications(session, utcnow() + timedelta(seconds=IDLE_SLEEP_S),
                                                              limit=1)
            if not upcoming:
                time.sleep(IDLE_SLEEP_S)
    except KeyboardInterrupt:
        click.echo("worker stopped")


COMMANDS = [worker]
