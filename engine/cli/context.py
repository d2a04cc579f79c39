"""What every command shares: settings, the engine and the database, created on first use."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import click

from engine.config import Settings
from engine.errors import BadInput


class CliContext:
    @cached_property
    def settings(self) -> Settings:
        try:
            return Settings.from_env()
        except ValueError as exc:
            raise BadInput(f"bad setting: {exc}") from None

    @cached_property
    def engine(self):
        from engine.facade import Engine

        return Engine(self.settings)

    @cached_property
    def database(self):
        return self.engine.database()


pass_cli = click.make_pass_decorator(CliContext)


def parse_data(raw: str | None) -> dict | None:
    """``--data`` takes JSON text or ``@file`` (JSON in a file)."""
    if raw is None:
        return None
    source = "--data"
    if raw.startswith("@"):
        path = Path(raw[1:])
        if not path.is_file():
            raise BadInput(f"--data {raw}: no such file")
        raw, source = path.read_text(encoding="utf-8"), str(path)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(value, dict):
        raise BadInput(f"{source}: must be a JSON object like {{\"amount\": 1000}}")
    return value


def emit_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))
