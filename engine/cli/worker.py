"""``madoguchi worker``: run background jobs (timers, service calls, messages, plugin jobs)."""

import logging
import signal

import click

from engine.cli.context import CliContext, pass_cli
from engine.jobs.store import next_wakeup
from engine.jobs.worker import WorkerOptions
from engine.store.database import Database


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is due now, then exit.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Jobs run at the same time in this process (threads). For CPU, run more processes.")
@click.option("--lease-seconds", type=click.FloatRange(min=0.1), default=None,
              help="How long a claimed job stays ours without a heartbeat [MADOGUCHI_JOB_LEASE_SECONDS, 30].")
@click.option("--name", default=None, help="Worker name shown in leases (default host:pid:random).")
@pass_cli
def worker(cli: CliContext, once: bool, concurrency: int, lease_seconds: float | None, name: str | None) -> None:
    """Run background jobs until stopped (SIGTERM or Ctrl-C finish running jobs first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # SpiffWorkflow logs every task state change
    options = WorkerOptions(concurrency=concurrency,
                            lease_seconds=lease_seconds or cli.settings.job_lease_seconds)
    runner = cli.engine.worker(Database(cli.settings.database_url, pre_ping=False), options, name=name)
    # An unreachable or not yet upgraded database is an error now, not a retry loop later.
    with cli.database.transaction() as session:
        next_wakeup(session)
    if once:
        click.echo(f"ran {runner.run_once()} job(s)")
        return

    def stop(signum, _frame):
        click.echo(f"worker {runner.name}: {signal.Signals(signum).name}, finishing running jobs", err=True)
        runner.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"worker {runner.name} running with {concurrency} thread(s)", err=True)
    runner.run()
    click.echo(f"worker {runner.name} stopped after {runner.completed} job(s)", err=True)


COMMANDS = [worker]
