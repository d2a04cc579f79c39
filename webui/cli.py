"""``madoguchi serve`` — the web UI (and, unless told otherwise, a worker) in one process.

The web layer adds this command to the engine's command line (the engine never imports the
web layer); the ``madoguchi`` console script is this module's ``main``.
"""

from __future__ import annotations

import logging
import threading

import click

from engine.cli.context import CliContext, pass_cli


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--threads", type=int, default=8, show_default=True, help="Request threads.")
@click.option("--no-worker", is_flag=True, help="Do not run background jobs in this process.")
@pass_cli
def serve(cli: CliContext, host: str, port: int, threads: int, no_worker: bool) -> None:
    """Serve the web UI on HOST:PORT (waitress), with an in-process worker unless --no-worker."""
    from waitress import create_server

    from webui import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = cli.engine
    app = create_app(engine)
    worker = None
    if not no_worker:
        worker = engine.worker(cli.database, name="serve")
        threading.Thread(target=worker.run, name="madoguchi-worker", daemon=True).start()
    server = create_server(app, host=host, port=port, threads=threads, ident="madoguchi")
    click.echo(f"serving on http://{host}:{server.effective_port}/ "
               f"({'with' if worker else 'without'} an in-process worker); Ctrl-C stops")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            worker.stop()
        server.close()


def main() -> None:
    from engine.cli import main as engine_main

    engine_main.add_command(serve)
    engine_main()


COMMANDS = [serve]
