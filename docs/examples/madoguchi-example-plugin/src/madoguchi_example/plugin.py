"""The Madoguchi hooks of the example plugin (entry point ``example`` in pyproject.toml)."""

from __future__ import annotations

import click
from engine import hookimpl
from engine.plugins import Setting

from madoguchi_example.chat import post_notice
from madoguchi_example.wareki import parse_date, to_wareki

#: The plugin's name is its entry point's name; its settings are read from MADOGUCHI_EXAMPLE_*.
NAME = "example"


@hookimpl
def madoguchi_plugin_settings():
    return {
        "gannen": Setting(default=True, description="write the first year of an era as 元年 (令和元年), not 1年"),
        "chat_url": Setting(default="", description="webhook URL of the department's chat room"),
        "chat_token": Setting(default="", secret=True, description="bearer token of the chat webhook"),
    }


@hookimpl
def madoguchi_startup(engine):
    url = engine.plugin_settings(NAME)["chat_url"]
    if url and not url.startswith(("https://", "http://")):
        raise ValueError(f"MADOGUCHI_EXAMPLE_CHAT_URL={url!r} is not an http(s) URL")


@hookimpl
def madoguchi_operations(engine):
    def wareki(params: dict, context) -> dict:
        """``date`` (2019-05-01) as 和暦: ``{"text": "令和元年5月1日", "era": "令和", "year": 1}``."""
        converted = to_wareki(parse_date(params.get("date")))
        gannen = engine.plugin_settings(NAME)["gannen"]
        return {"text": converted.text(gannen=gannen), "era": converted.era, "year": converted.year}

    def chat_notice(params: dict, context) -> dict:
        """Post ``text`` to the chat room; ``{"chat_message_id": ...}``."""
        settings = engine.plugin_settings(NAME)
        if not settings["chat_url"]:
            raise RuntimeError("MADOGUCHI_EXAMPLE_CHAT_URL is not set; set it and retry the incident")
        message_id = post_notice(settings["chat_url"], settings["chat_token"], str(params.get("text", "")),
                                 idempotency_key=context.idempotency_key)
        return {"chat_message_id": message_id}

    return {"example.wareki": wareki, "example.chat_notice": chat_notice}


@hookimpl
def madoguchi_register_commands(cli):
    @cli.command("wareki")
    @click.argument("day")
    @click.pass_obj
    def wareki_command(obj, day: str) -> None:
        """Print DAY (e.g. 2019-05-01) as a 和暦 date."""
        try:
            converted = to_wareki(parse_date(day))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="DAY") from None
        click.echo(converted.text(gannen=obj.engine.plugin_settings(NAME)["gannen"]))
