"""Sealed documents per second (part of ``make bench``).

* ``sealed_docs_per_s``: N applications each park at an ``issue_document`` service task
  (a realistic one-page certificate: ten table rows, body text, issuer block with the 公印,
  QR code); their jobs are released at once to two ``madoguchi worker`` processes, and the
  time until every document is rendered, sealed (PAdES B-B, certification signature),
  stored and recorded — and every application completed — is measured. That is the
  engine's whole issuance path: number taken, data read from the application, render,
  seal, file stored, register updated, task completed.
* ``naive_docs_per_s``: the same page the obvious way in this process — reportlab
  Platypus with its ``QrCodeWidget`` and fonts set up per document, then pyHanko's stock
  ``SimpleSigner`` with its automatic signature size — one document at a time.

Called from bench/run.py, which owns the database and prints through ``emit``.
"""

from __future__ import annotations

import time
from pathlib import Path

import jobs as job_bench  # bench/jobs.py
import naive_issuance  # bench/naive_issuance.py
from sqlalchemy import func, select, update

from engine.facade import Engine
from engine.issuance.pki import init_dev_seal
from engine.store.database import Database
from engine.store.models import Application, Incident, IssuedDocument, Job, utcnow

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = naive_issuance.TEMPLATE
KEY = "bench-certificate"

MANIFEST = f"""key = "{KEY}"
process = "bench_certificate"

[title]
ja = "住民票の写し（ベンチマーク）"

[numbering]
format = "見市第{{nendo}}-{{serial:06d}}号"
"""

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="bench_certificate_definitions" targetNamespace="http://madoguchi.bench">
  <bpmn:process id="bench_certificate" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="issue" name="証明書の発行">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="issue_document">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="template" type="str" value="&quot;certificate&quot;"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="to_issue" sourceRef="start" targetRef="issue"/>
    <bpmn:sequenceFlow id="to_done" sourceRef="issue" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def deploy(engine: Engine, database: Database, home: Path) -> str:
    bundle = home / KEY
    (bundle / "documents").mkdir(parents=True, exist_ok=True)
    (bundle / "procedure.toml").write_text(MANIFEST, encoding="utf-8")
    (bundle / "certificate.bpmn").write_text(BPMN, encoding="utf-8")
    (bundle / "documents" / "certificate.toml").write_bytes(TEMPLATE.read_bytes())
    if not (home / "seal" / "seal.p12").exists():
        init_dev_seal(home)
    with database.transaction() as session:
        return engine.deploy(session, bundle, actor="bench").definition.key


def start_parked(engine: Engine, database: Database, count: int, first: int) -> list[int]:
    """``count`` applications with varied data, their issuance jobs held back."""
    ids: list[int] = []
    for offset in range(0, count, job_bench.SETUP_BATCH):
        with database.transaction() as session:
            batch = [engine.start(session, KEY, data=naive_issuance.sample_data(first + offset + n),
                                  actor="bench").application.id
                     for n in range(min(job_bench.SETUP_BATCH, count - offset))]
            session.execute(update(Job).where(Job.application_id.in_(batch), Job.status == "pending")
                            .values(due_at=utcnow() + job_bench.PARKED).execution_options(synchronize_session=False))
        ids += batch
    return ids


def measure_sealed(engine: Engine, database: Database, home: Path, *, documents: int, workers: int,
                   first: int, log) -> float:
    ids = start_parked(engine, database, documents, first)
    job_bench.vacuum(database)
    read = job_bench.reader(database)
    try:
        with job_bench.worker_processes(workers, 1, home, database):
            started = time.perf_counter()
            released = job_bench.release(database)
            assert released == documents, f"released {released} jobs, expected {documents}"
            job_bench.wait_drained(read, documents)
            seconds = time.perf_counter() - started
    finally:
        read.dispose()
    _assert_issued(database, ids)
    rate = documents / seconds
    log(f"issuance: {workers} worker process(es) issued {documents} sealed documents in {seconds:.2f} s "
        f"= {rate:.1f}/s")
    return rate


def _assert_issued(database: Database, ids: list[int]) -> None:
    with database.transaction() as session:
        statuses = dict(session.execute(select(Application.status, func.count()).where(Application.id.in_(ids))
                                        .group_by(Application.status)).all())
        issued = session.scalar(select(func.count()).select_from(IssuedDocument).where(
            IssuedDocument.application_id.in_(ids), IssuedDocument.status == "issued"))
        incidents = session.scalar(select(func.count()).select_from(Incident))
    assert incidents == 0, f"{incidents} incidents raised while issuing"
    assert statuses == {"completed": len(ids)}, f"applications not all completed: {statuses}"
    assert issued == len(ids), f"{issued} documents issued for {len(ids)} applications"


def measure_naive(home: Path, documents: int, log) -> float:
    naive_issuance.use_seal(home / "seal" / "seal.p12", (home / "seal" / "seal.p12.password").read_bytes().strip())
    naive_issuance.issue(0)  # first use: fonts registered, key read — not counted, as for the workers
    started = time.perf_counter()
    for n in range(documents):
        naive_issuance.issue(n + 1)
    rate = documents / (time.perf_counter() - started)
    log(f"issuance: the naive path made {documents} sealed documents at {rate:.1f}/s")
    return rate
