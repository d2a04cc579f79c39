"""A procedure with its own [attachments] policy, and helpers to push bytes through uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.diagrams import chain, process, user_task

KEY = "permit-with-scans"
#: The procedure's own limit: small, so tests can pass it cheaply.
LIMIT = 64 * 1024


def bundle(tmp_path: Path, section: str) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "procedure.toml").write_text(
        f'key = "{KEY}"\nprocess = "permit"\n\n[title]\nja = "許可申請"\nen = "Permit"\n\n{section}', encoding="utf-8")
    body = '<bpmn:startEvent id="start"/>' + user_task("review") + '<bpmn:endEvent id="end"/>' + chain("start", "review", "end")
    (folder / "permit.bpmn").write_text(process("permit", body), encoding="utf-8")
    return folder


@pytest.fixture
def procedure(engine, db, tmp_path) -> str:
    with db.transaction() as session:
        engine.deploy(session, bundle(tmp_path, f'[attachments]\nmax_bytes = {LIMIT}\ntypes = ["pdf", "png", "docx"]\n'))
    return KEY


def staged(engine) -> list[Path]:
    root = engine.upload_staging.root
    return sorted(root.rglob("*.part")) if root.exists() else []


def stored(engine) -> list[Path]:
    root = Path(engine.settings.home) / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
