"""The plugin inside Madoguchi: found through its entry point, its operations run by a worker
in a real diagram, its settings and secrets read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine import Engine
from engine.jobs import OperationContext
from engine.plugins import PluginError

DIAGRAM = Path(__file__).parents[1] / "diagrams" / "birth-registration.bpmn"


def start_birth_registration(engine, database, **data) -> tuple[int, str]:
    with database.transaction() as session:
        engine.deploy(session, DIAGRAM)
        application = engine.start(session, "birth_registration", data=data, actor="yamada").application
        return application.id, application.reference


def show(engine, database, application_id: int) -> dict:
    with database.transaction() as session:
        return engine.show(session, application_id).as_dict()


def waiting_for_check(engine, database, application_id: int) -> dict | None:
    view = show(engine, database, application_id)
    return view if [t["element_id"] for t in view["open_tasks"]] == ["check"] else None


def test_madoguchi_finds_the_plugin(engine):
    [row] = [row for row in engine.plugins() if row["name"] == "example"]
    assert row["version"] == "0.1.0"
    assert row["hooks"] == ["madoguchi_operations", "madoguchi_plugin_settings", "madoguchi_register_commands",
                            "madoguchi_startup"]
    assert row["settings"]["chat_token"]["value"] == "***"  # set, but never shown
    assert {"example.wareki", "example.chat_notice"} <= set(engine.operations)


def test_a_birth_registration_gets_its_wareki_date_and_tells_the_koseki_section(engine, database, chat, run_worker):
    application_id, reference = start_birth_registration(engine, database, child_name="山田 花子",
                                                         birth_date="2019-05-01")

    view = run_worker(lambda: waiting_for_check(engine, database, application_id))

    assert view["data"]["birth_date_wareki"] == {"text": "令和元年5月1日", "era": "令和", "year": 1}
    [request] = chat.requests
    assert request["authorization"] == "Bearer s3cret-token"
    assert request["idempotency_key"].startswith(f"{reference}/")
    assert request["body"] == {"text": "出生届を受け付けました: 山田 花子(令和元年5月1日生)"}
    assert view["data"]["chat_message_id"] == "msg-1"


def test_a_lost_answer_is_retried_with_the_same_key_and_posts_once(engine, database, chat, run_worker):
    chat.lose_answers = 1
    application_id, _ = start_birth_registration(engine, database, child_name="佐藤 一郎",
                                                 birth_date="2026-04-01")

    view = run_worker(lambda: waiting_for_check(engine, database, application_id))

    first, retry = chat.requests
    assert first["idempotency_key"] == retry["idempotency_key"]
    assert list(chat.messages.values()) == [{"id": "msg-1", "text": "出生届を受け付けました: 佐藤 一郎(令和8年4月1日生)"}]
    assert view["data"]["chat_message_id"] == "msg-1"


def test_gannen_can_be_switched_off(engine, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_EXAMPLE_GANNEN", "false")
    context = OperationContext(job_id=1, idempotency_key="k", attempt=1, application_id=None)
    assert engine.operations["example.wareki"]({"date": "2019-05-01"}, context)["text"] == "令和1年5月1日"


def test_without_a_chat_url_the_notice_fails_with_a_message_an_admin_can_act_on(engine, monkeypatch):
    monkeypatch.delenv("MADOGUCHI_EXAMPLE_CHAT_URL")
    context = OperationContext(job_id=1, idempotency_key="k", attempt=1, application_id=None)
    with pytest.raises(RuntimeError, match="MADOGUCHI_EXAMPLE_CHAT_URL is not set"):
        engine.operations["example.chat_notice"]({"text": "テスト"}, context)


def test_a_chat_url_that_is_not_http_refuses_to_start(engine, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_EXAMPLE_CHAT_URL", "smtp://mail.city.example")
    # Madoguchi reports a plugin refusing to start as a PluginError naming the plugin.
    with pytest.raises(PluginError, match="plugin 'example'.*is not an http"):
        Engine(engine.settings)
