"""Helpers of the portal intake tests: procedures, configuration, polling, reading results."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from engine.store.models import Application, Definition, IntakeImport, Job, utcnow
from plugins.portal_intake.standin import SAMPLES
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text

SAMPLE_MAPPING = Path(SAMPLES).with_name("sample_mapping.json")
JIDOU_TEATE = ["2025040100000101", "2025040100000102"]
TENNYU = ["2025040100000103"]
ALL_SAMPLES = JIDOU_TEATE + TENNYU


def review_procedure(key: str) -> str:
    return process(key, "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review", "審査", groups="clerks"), '<bpmn:endEvent id="e"/>',
        chain("s", "review", "e")]))


def reporting_procedure(key: str) -> str:
    """Review, then tell the portal 完了 from a service task."""
    report = ('<bpmn:serviceTask id="report"><bpmn:extensionElements>'
              '<spiffworkflow:serviceTaskOperator id="portal_intake.report_status">'
              '<spiffworkflow:parameters>'
              '<spiffworkflow:parameter id="status" type="any" value="&quot;完了&quot;"/>'
              '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
              '</bpmn:extensionElements></bpmn:serviceTask>')
    return process(key, "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review", "審査", groups="clerks"), report,
        '<bpmn:endEvent id="e"/>', chain("s", "review", "report", "e")]))


def deploy_procedures(engine, db, tmp_path: Path, *, reporting: bool = False) -> None:
    make = reporting_procedure if reporting else review_procedure
    deploy_text(engine, db, tmp_path, make("jidou-teate"), "jidou-teate.bpmn")
    deploy_text(engine, db, tmp_path, review_procedure("tennyu-yoyaku"), "tennyu-yoyaku.bpmn")


def configure(monkeypatch, url: str, mapping: Path = SAMPLE_MAPPING, **settings) -> None:
    values = {"base_url": url, "login_id": "madoguchi", "password": "standin-password",
              "mapping_file": str(mapping), "interval_seconds": "3600", "timeout_seconds": "2", **settings}
    for name, value in values.items():
        monkeypatch.setenv(f"MADOGUCHI_PORTAL_INTAKE_{name.upper()}", str(value))


def write_mapping(tmp_path: Path, change) -> Path:
    """The sample mapping, changed by ``change(document)``, written to a file of the test."""
    document = json.loads(SAMPLE_MAPPING.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def poll(engine, db) -> int:
    """Make the intake job (and any retry) due now and run the worker once."""
    with db.transaction() as session:
        session.execute(update(Job).where(Job.status == "pending", Job.kind == "intake")
                        .values(due_at=utcnow() - timedelta(milliseconds=1)))
    return engine.worker(db).run_once()


def intake_job(db) -> Job | None:
    with db.transaction() as session:
        job = session.scalars(select(Job).where(Job.kind == "intake")).first()
        if job is not None:
            session.expunge(job)
        return job


def imports(db) -> dict[str, IntakeImport]:
    with db.transaction() as session:
        rows = list(session.scalars(select(IntakeImport).order_by(IntakeImport.id)))
        session.expunge_all()
    return {row.external_id: row for row in rows}


def application_count(db) -> int:
    with db.transaction() as session:
        return len(list(session.scalars(select(Application.id))))


def applications_by_receipt(engine, db) -> dict[str, dict]:
    """Each imported application's view (data, tasks, procedure), by 受付番号."""
    result = {}
    for number, row in imports(db).items():
        with db.transaction() as session:
            result[number] = engine.show(session, row.application_id).as_dict()
    return result


def procedure_of(db, application_id: int) -> str:
    with db.transaction() as session:
        application = session.get(Application, application_id)
        return session.get(Definition, application.definition_id).key


def sha256_of(storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as stream:
        for chunk in iter(lambda: stream.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stored_keys(root: Path) -> list[str]:
    """Every file under a file-system storage root, as keys (temporary files included)."""
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
