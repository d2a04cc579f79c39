"""Madoguchi benchmark (``make bench``): the engine end to end against SpiffWorkflow's own floor.

One process, review -> gateway -> approve -> script, is run two ways in the same run:

* e2e: N applications through the engine's public API on a real database, three durable
  transactions per application (start, complete review, complete approve), as a caller would;
* raw: the same XML on plain SpiffWorkflow in memory, with a serialize + deserialize
  round-trip after each of the three steps — the least any persistent engine built on the
  library can cost.

Then the task-list query is timed with ``--open-tasks`` open tasks in the database, and last
the job system (bench/jobs.py): service jobs per second with one and two worker processes, and
how late timers fire.

stdout carries only ``key=value`` lines (see bench/README.md); progress goes to stderr.
``BENCH_DATABASE_URL`` (PostgreSQL) runs the database parts in a fresh database created next
to the one named in the URL and dropped at the end; by default they run on an SQLite file.
"""

# The engine is imported after putting the repository on sys.path (``make bench`` runs this
# file as a script, so only bench/ is on the path), hence the late imports.
# ruff: noqa: E402

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version as package_version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import catalogue as catalogue_bench  # bench/catalogue.py
import issuance as issuance_bench  # bench/issuance.py
import jobs as job_bench  # bench/jobs.py
import web as web_bench  # bench/web.py
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.facade import Engine
from engine.store.database import Database
from engine.store.models import Application, Definition, DefinitionFile, HumanTask, TaskCandidate, utcnow

# -- the process ----------------------------------------------------------------------------

PROCESS_ID = "bench_review_approve"

# Plain BPMN with camunda:candidateGroups (what the engine reads) and Python conditions (what
# plain SpiffWorkflow evaluates), so both sides run the very same document.
BPMN = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="definitions_bench" targetNamespace="http://madoguchi.bench">
  <bpmn:process id="{PROCESS_ID}" name="Benchmark review and approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="clerks"/>
    <bpmn:exclusiveGateway id="decide" default="to_rejected"/>
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="chiefs"/>
    <bpmn:scriptTask id="record" name="Record" scriptFormat="python">
      <bpmn:script>result = 'approved by ' + approver
total_fee = fee + 500</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="done"/>
    <bpmn:endEvent id="rejected"/>
    <bpmn:sequenceFlow id="to_review" sourceRef="start" targetRef="review"/>
    <bpmn:sequenceFlow id="to_decide" sourceRef="review" targetRef="decide"/>
    <bpmn:sequenceFlow id="to_approve" sourceRef="decide" targetRef="approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'approve'</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_rejected" sourceRef="decide" targetRef="rejected"/>
    <bpmn:sequenceFlow id="to_record" sourceRef="approve" targetRef="record"/>
    <bpmn:sequenceFlow id="to_done" sourceRef="record" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""

START_DATA = {"fee": 5000, "applicant": "Yamada Hanako"}
#: (element, who completes it, submitted data) — the human steps, in order.
STEPS = (
    ("review", "clerk", {"decision": "approve"}),
    ("approve", "chief", {"approver": "chief"}),
)


# -- output ---------------------------------------------------------------------------------

def emit(key: str, value) -> None:
    if isinstance(value, float):
        value = f"{value:.3f}" if value < 10 else f"{value:.1f}"
    print(f"{key}={value}", flush=True)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


# -- the raw side: SpiffWorkflow alone ------------------------------------------------------

class RawSide:
    """Plain SpiffWorkflow: spec parsed once, default PythonScriptEngine, full JSON round-trip
    (spec included, as the library serializes by default) after every step."""

    def __init__(self, xml: str):
        parser = SpiffBpmnParser()
        parser.add_bpmn_str(xml.encode("utf-8"))
        self.spec = parser.get_spec(PROCESS_ID)
        self.subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
        # The serializer config must match the parser (SPIFF_CONFIG for SpiffBpmnParser).
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def _roundtrip(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        return self.serializer.deserialize_json(self.serializer.serialize_json(workflow))

    def run_one(self) -> None:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        workflow.task_tree.data.update(START_DATA)
        workflow.do_engine_steps()
        workflow = self._roundtrip(workflow)
        for element, _actor, data in STEPS:
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            assert task is not None and task.task_spec.bpmn_id == element, task
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            workflow = self._roundtrip(workflow)
        assert workflow.completed, "raw workflow did not complete"


# -- the e2e side: the engine on a database -------------------------------------------------

class EngineSide:
    """The engine's public API, one committed transaction per user action."""

    def __init__(self, engine: Engine, database: Database, key: str):
        self.engine = engine
        self.database = database
        self.key = key
        self.applications = 0

    def run_one(self) -> None:
        with self.database.transaction() as session:
            result = self.engine.start(session, self.key, data=START_DATA, actor="applicant")
        for element, actor, data in STEPS:
            [task] = result.opened_tasks
            assert task.element_id == element, task.element_id
            with self.database.transaction() as session:
                result = self.engine.complete(session, task.id, actor=actor, data=data)
        assert result.application.status == "completed", result.application.status
        self.applications += 1


def setup_engine(home: Path, url: str) -> tuple[Engine, Database, str, int]:
    """Schema, users and the deployed process; returns (engine, database, key, definition id)."""
    engine = Engine(Settings(home=home, database_url=url))
    engine.upgrade_database()
    database = engine.database()
    path = home / f"{PROCESS_ID}.bpmn"
    path.write_text(BPMN, encoding="utf-8")
    with database.transaction() as session:
        engine.add_user(session, "clerk", groups=["clerks"])
        engine.add_user(session, "chief", groups=["chiefs"])
        definition = engine.deploy(session, path, actor="bench").definition
    return engine, database, definition.key, definition.id


@contextmanager
def database_url(home: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file in ``home``, or a new PostgreSQL database."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        yield f"sqlite:///{home / 'bench.db'}"
        return
    url = make_url(base)
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"BENCH_DATABASE_URL must be a PostgreSQL URL, not {url.get_backend_name()}")
    name = f"{url.database or 'madoguchi_bench'}_{os.getpid()}"
    # CREATE/DROP DATABASE cannot run inside a transaction, and not while connected to the
    # database itself: use the maintenance database in autocommit mode.
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    log(f"created PostgreSQL database {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        log(f"dropped PostgreSQL database {name}")


def database_bytes(database: Database) -> int:
    """On-disk size of the database: SQLite file + WAL after a checkpoint; pg_database_size."""
    if database.dialect == "sqlite":
        # A raw DBAPI connection runs in autocommit mode (see engine.store.database), so the
        # checkpoint is not blocked by a transaction of our own.
        raw = database.engine.raw_connection()
        try:
            busy, _, _ = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        assert busy == 0, "WAL checkpoint was blocked"
        path = Path(database.engine.url.database)
        return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    with database.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()


SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def durability(database: Database) -> str:
    """How commits reach the disk, so a number is never quoted without it."""
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
            return f"journal_mode={mode},synchronous={SQLITE_SYNCHRONOUS.get(sync, sync)}"
        fsync = conn.exec_driver_sql("SHOW fsync").scalar_one()
        sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar_one()
        return f"fsync={fsync},synchronous_commit={sync}"


# -- throughput -----------------------------------------------------------------------------

def rate(run_one: Callable[[], None], count: int) -> float:
    """Applications per second for ``count`` sequential applications."""
    started = time.perf_counter()
    for _ in range(count):
        run_one()
    return count / (time.perf_counter() - started)


@dataclass
class Throughput:
    e2e: list[float]
    raw: list[float]


def measure_throughput(raw: RawSide, e2e: EngineSide, applications: int, rounds: int, warmup: int) -> Throughput:
    """Alternate the two sides round by round, so drift and noise on the machine hit both; the
    side that goes first alternates too."""
    log(f"warming up ({warmup} applications per side)")
    rate(raw.run_one, warmup)
    rate(e2e.run_one, warmup)
    result = Throughput([], [])
    for round_no in range(rounds):
        order = [("raw", raw.run_one, result.raw), ("e2e", e2e.run_one, result.e2e)]
        if round_no % 2:
            order.reverse()
        for name, run_one, samples in order:
            samples.append(rate(run_one, applications))
            log(f"round {round_no + 1}/{rounds} {name}: {samples[-1]:.1f} applications/s")
    return result


def statements_per_application(e2e: EngineSide) -> int:
    """SQL statements one application sends (SQLite's BEGIN IMMEDIATE included, COMMIT not):
    a regression here shows up before it shows up in the timings."""
    count = 0

    def counter(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(e2e.database.engine, "before_cursor_execute", counter)
    try:
        e2e.run_one()
    finally:
        event.remove(e2e.database.engine, "before_cursor_execute", counter)
    return count


# -- task list ------------------------------------------------------------------------------

#: Sections of a city office that tasks are offered to; a few are big, most are small.
GROUP_COUNT = 500
STAFF_COUNT = 300
TASK_LIST_USER = "bench-user"
FILL_BATCH = 10_000


def group_name(rank: int) -> str:
    return f"section-{rank:03d}"


#: The user under test is in the biggest section, a mid-sized one and a small one: the query has
#: to pick the 50 oldest out of ~15 % of all open tasks, not out of a handful.
TASK_LIST_USER_GROUPS = [group_name(0), group_name(20), group_name(300)]


#: Procedures the open tasks belong to (a city runs dozens; a few carry most of the work).
PROCEDURE_COUNT = 40
#: Task names as the diagrams and approval routes give them.
TASK_NAMES = ("Review", "Check documents", "Confirm fee", "Approve", "Issue certificate")
#: Share of open tasks offered to (or claimed by) the user under test by name: the "mine" tab.
USER_SHARE = 0.003


def procedure_rows(count: int, first_definition_id: int, files: list) -> tuple[list[dict], list[dict]]:
    """``definitions`` and ``definition_files`` rows for the extra procedures the open tasks
    belong to: each a copy of the bench process (``files``) under its own key."""
    now = utcnow()
    definitions = [{"id": first_definition_id + n, "key": f"bench_procedure_{n:02d}", "version": 1,
                    "content_hash": f"{n:064x}", "process_id": PROCESS_ID, "title": f"Bench procedure {n:02d}",
                    "manifest": {}, "deployed_by": "bench", "created_at": now} for n in range(count)]
    copies = [{"definition_id": d["id"], "path": f.path, "kind": f.kind, "content": f.content}
              for d in definitions for f in files]
    return definitions, copies


def open_task_rows(count: int, first_application_id: int, definition_ids: list[int], state: bytes):
    """Rows for ``applications``, ``human_tasks`` and ``task_candidates``: one open task per
    application of one of ``definition_ids`` (Zipf-distributed), offered to 1–2
    Zipf-distributed groups (5 % to a named person instead), 10 % claimed by somebody,
    created over the last 90 days; 60 % have a due date 7–60 days after they were created
    (about 40 % of those are overdue), 15 % are 決裁 (``approve``) tasks."""
    rng = random.Random(20261127)
    groups = [group_name(rank) for rank in range(GROUP_COUNT)]
    weights = [1 / (rank + 1) for rank in range(GROUP_COUNT)]
    procedure_weights = [1 / (rank + 1) for rank in range(len(definition_ids))]
    now = utcnow()
    applications, tasks, candidates = [], [], []
    for n in range(count):
        app_id = first_application_id + n
        created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        task_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        draw = rng.random()
        if draw < 0.05:
            named = TASK_LIST_USER if rng.random() < USER_SHARE / 0.05 else f"staff-{rng.randrange(STAFF_COUNT)}"
            task_groups, task_users = [], [named]
        else:
            task_groups = list(dict.fromkeys(rng.choices(groups, weights, k=2 if draw < 0.15 else 1)))
            task_users = []
        assignee = None
        if rng.random() < 0.10:
            assignee = TASK_LIST_USER if rng.random() < USER_SHARE else f"staff-{rng.randrange(STAFF_COUNT)}"
        due = created + timedelta(days=rng.uniform(7, 60)) if rng.random() < 0.6 else None
        kind = "approve" if rng.random() < 0.15 else "task"
        applications.append({
            "id": app_id, "reference": f"BENCH-{app_id:09d}",
            "definition_id": rng.choices(definition_ids, procedure_weights)[0],
            "status": "in_review", "state": state, "state_format": 1, "version": 2, "started_by": "applicant",
            "created_at": created, "updated_at": created, "completed_at": None, "next_timer_at": None,
        })
        tasks.append({
            "id": task_id, "application_id": app_id, "element_id": "review",
            "name": "Approve" if kind == "approve" else rng.choice(TASK_NAMES[:3] + TASK_NAMES[4:]), "lane": None,
            "form_key": None, "candidate_groups": task_groups, "candidate_users": task_users,
            "assignee": assignee, "due_at": due, "priority": 0, "status": "open", "created_at": created,
            "completed_at": None, "completed_by": None, "kind": kind,
        })
        names = [("group", g) for g in task_groups] + [("user", u) for u in task_users]
        if assignee:
            names.append(("user", assignee))
        candidates.extend({"task_id": task_id, "kind": who, "name": name, "created_at": created}
                          for who, name in dict.fromkeys(names))
    return applications, tasks, candidates


def sample_state(engine: Engine, database: Database, key: str) -> bytes:
    """The stored state of a real application waiting at its first task (realistic blob size)."""
    with database.transaction() as session:
        started = engine.start(session, key, data=START_DATA, actor="applicant")
        return bytes(started.application.state)


def fill_open_tasks(engine: Engine, database: Database, key: str, definition_id: int, count: int) -> None:
    """Bulk-insert ``count`` open tasks straight into the projection tables (Core executemany);
    going through the engine would take an hour for 100k."""
    state = sample_state(engine, database, key)
    with database.transaction() as session:
        engine.add_user(session, TASK_LIST_USER, groups=TASK_LIST_USER_GROUPS)
        first_id = (session.scalar(select(func.max(Application.id))) or 0) + 1
        first_definition = (session.scalar(select(func.max(Definition.id))) or 0) + 1
        files = session.scalars(select(DefinitionFile).where(DefinitionFile.definition_id == definition_id)).all()
        definitions, definition_files = procedure_rows(PROCEDURE_COUNT - 1, first_definition, files)
    definition_ids = [definition_id] + [row["id"] for row in definitions]
    applications, tasks, candidates = open_task_rows(count, first_id, definition_ids, state)
    started = time.perf_counter()
    for table, rows in ((Definition.__table__, definitions), (DefinitionFile.__table__, definition_files),
                        (Application.__table__, applications),
                        (HumanTask.__table__, tasks), (TaskCandidate.__table__, candidates)):
        for offset in range(0, len(rows), FILL_BATCH):
            with database.transaction() as session:
                session.execute(insert(table), rows[offset:offset + FILL_BATCH])
    if database.dialect == "postgresql":
        with database.transaction() as session:
            # Explicit ids bypass the sequence; move it past them so later inserts still work.
            session.execute(select(func.setval(func.pg_get_serial_sequence("applications", "id"),
                                               first_id + count - 1)))
            session.execute(select(func.setval(func.pg_get_serial_sequence("definitions", "id"),
                                               first_definition + len(definitions) - 1)))
        # After a bulk load PostgreSQL's autovacuum would analyze these tables within a minute;
        # do it now so the plan is the one production settles on.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE definitions, applications, human_tasks, task_candidates")
    log(f"filled {count} open tasks ({len(candidates)} candidate rows) in {time.perf_counter() - started:.1f} s")


@dataclass
class TaskListTiming:
    samples_ms: list[float]
    rows: int


def time_task_list(engine: Engine, database: Database, repeats: int, warmup: int) -> TaskListTiming:
    """``engine.tasks(user=...)`` as a web request would call it: a new transaction each time
    (so nothing is served from a session's identity map); only the call itself is timed."""
    samples, rows = [], 0
    for n in range(warmup + repeats):
        with database.transaction() as session:
            started = time.perf_counter()
            result = engine.tasks(session, user=TASK_LIST_USER, limit=50)
            elapsed = time.perf_counter() - started
        rows = len(result)
        if n >= warmup:
            samples.append(elapsed * 1000)
    return TaskListTiming(samples, rows)


# -- main -----------------------------------------------------------------------------------

FULL = {"applications": 500, "rounds": 3, "open_tasks": 100_000, "warmup": 30,
        "tasklist_repeats": 200, "tasklist_warmup": 10, "jobs": 2000, "job_rounds": 2, "timers": 40,
        "documents": 300, "naive_documents": 30}
QUICK = {"applications": 20, "rounds": 2, "open_tasks": 2_000, "warmup": 5,
         "tasklist_repeats": 30, "tasklist_warmup": 3, "jobs": 200, "job_rounds": 1, "timers": 10,
         "documents": 30, "naive_documents": 5}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int,
                        help="applications per side per round (default 500, --quick 20)")
    parser.add_argument("--rounds", type=int, help="timed rounds per side (default 3, --quick 2)")
    parser.add_argument("--open-tasks", type=int,
                        help="open tasks in the database for the task-list query (default 100000, --quick 2000)")
    parser.add_argument("--skip-tasklist", action="store_true", help="skip the task-list measurement")
    parser.add_argument("--jobs", type=int,
                        help="service jobs per worker round (default 2000, --quick 200)")
    parser.add_argument("--job-rounds", type=int,
                        help="timed rounds per worker count (default 2, --quick 1)")
    parser.add_argument("--timers", type=int, help="timers for the timer-lag measurement (default 40, --quick 10)")
    parser.add_argument("--job-threads", type=int, default=1,
                        help="threads per worker process in the throughput rounds (--concurrency, default 1)")
    parser.add_argument("--skip-jobs", action="store_true", help="skip the job throughput and timer-lag measurement")
    parser.add_argument("--documents", type=int,
                        help="sealed documents issued per worker round (default 300, --quick 30)")
    parser.add_argument("--naive-documents", type=int,
                        help="documents made the naive way for comparison (default 30, --quick 5)")
    parser.add_argument("--skip-issuance", action="store_true", help="skip the sealed-document measurement")
    parser.add_argument("--only-issuance", action="store_true",
                        help="measure sealed documents only (skips everything else)")
    parser.add_argument("--only-tasklist", action="store_true",
                        help="measure the task list and its page only (skips everything else)")
    parser.add_argument("--catalogue-procedures", type=int, default=3000,
                        help="procedures in the catalogue for the portal search (default 3000)")
    parser.add_argument("--skip-catalogue", action="store_true", help="skip the catalogue search measurement")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run (~15 s)")
    args = parser.parse_args(argv)
    if args.only_issuance:
        args.skip_jobs = args.skip_tasklist = args.skip_engine = args.skip_catalogue = True
    else:
        args.skip_engine = False
    if args.only_tasklist:
        args.skip_jobs = args.skip_issuance = args.skip_throughput = True
        args.skip_tasklist = args.skip_engine = False
    else:
        args.skip_throughput = False
    # Explicit options win over both presets.
    preset = QUICK if args.quick else FULL
    for name, value in preset.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.applications < 1 or args.rounds < 1:
        parser.error("--applications and --rounds must be at least 1")
    if not args.skip_jobs and min(args.jobs, args.job_rounds, args.job_threads) < 1:
        parser.error("--jobs, --job-rounds and --job-threads must be at least 1")
    if not args.skip_jobs and args.timers < 2:
        parser.error("--timers must be at least 2")
    if not args.skip_tasklist and args.open_tasks < 1000:
        parser.error("--open-tasks must be at least 1000 (the user under test must see 50 tasks)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp, database_url(Path(tmp)) as url:
        engine, database, key, definition_id = setup_engine(Path(tmp), url)
        try:
            if not args.skip_engine:
                run(args, engine, database, key, definition_id)
            if not args.skip_jobs:
                run_jobs(args, engine, database, Path(tmp))
            if not args.skip_issuance:
                run_issuance(args, engine, database, Path(tmp))
            if not args.skip_catalogue:
                run_catalogue(args, engine, database)
        finally:
            database.dispose()
    return 0


def run(args: argparse.Namespace, engine: Engine, database: Database, key: str, definition_id: int) -> None:
    emit("database", database.dialect)
    emit("durability", durability(database))
    emit("spiffworkflow", package_version("SpiffWorkflow"))
    emit("python", platform.python_version())
    if not args.skip_throughput:
        run_throughput(args, engine, database, key)
    if not args.skip_tasklist:
        run_tasklist(args, engine, database, key, definition_id)


def run_throughput(args: argparse.Namespace, engine: Engine, database: Database, key: str) -> None:
    emit("applications", args.applications)
    emit("rounds", args.rounds)
    raw, e2e = RawSide(BPMN), EngineSide(engine, database, key)
    bytes_before = database_bytes(database)
    throughput = measure_throughput(raw, e2e, args.applications, args.rounds, args.warmup)
    bytes_after = database_bytes(database)
    applications_measured = e2e.applications
    statements = statements_per_application(e2e)

    best_e2e, best_raw = max(throughput.e2e), max(throughput.raw)
    emit("e2e_per_s", best_e2e)
    emit("raw_roundtrip_per_s", best_raw)
    emit("ratio_vs_raw", best_e2e / best_raw)
    emit("e2e_per_s_median", statistics.median(throughput.e2e))
    emit("raw_roundtrip_per_s_median", statistics.median(throughput.raw))
    emit("db_bytes_per_application", round((bytes_after - bytes_before) / applications_measured))
    emit("sql_statements_per_application", statements)


def run_tasklist(args: argparse.Namespace, engine: Engine, database: Database, key: str, definition_id: int) -> None:
    fill_open_tasks(engine, database, key, definition_id, args.open_tasks)
    timing = time_task_list(engine, database, args.tasklist_repeats, args.tasklist_warmup)
    emit("open_tasks", args.open_tasks)
    emit("task_list_rows", timing.rows)
    emit("task_list_ms_p50", percentile(timing.samples_ms, 50))
    emit("task_list_ms_p95", percentile(timing.samples_ms, 95))
    assert timing.rows == 50, f"the task list returned {timing.rows} rows, expected 50"
    pages_ms = web_bench.time_task_list_page(engine, database, TASK_LIST_USER, TASK_LIST_USER_GROUPS,
                                             repeats=args.tasklist_repeats, warmup=args.tasklist_warmup)
    for name, samples in pages_ms.items():
        emit(f"task_list_page{name}_ms_p50", percentile(samples, 50))
        emit(f"task_list_page{name}_ms_p95", percentile(samples, 95))


def run_jobs(args: argparse.Namespace, engine: Engine, database: Database, home: Path) -> None:
    """Job throughput with 1 and 2 worker processes, then timer lag (bench/jobs.py)."""
    service_key, timer_key = job_bench.deploy(engine, database, home)
    worker_counts = (1, 2)
    results: dict[int, list[job_bench.ThroughputResult]] = {workers: [] for workers in worker_counts}
    for round_no in range(args.job_rounds):
        # Alternate which worker count goes first, as the e2e rounds alternate their sides.
        for workers in worker_counts[::-1] if round_no % 2 else worker_counts:
            results[workers].append(job_bench.measure_throughput(
                engine, database, service_key, home, jobs=args.jobs, workers=workers, threads=args.job_threads,
                log=log))
    lags = job_bench.measure_timer_lag(engine, database, timer_key, home, timers=args.timers, log=log)
    emit("jobs", args.jobs)
    emit("job_rounds", args.job_rounds)
    emit("job_worker_processes", ",".join(str(w) for w in worker_counts))
    emit("job_worker_threads", args.job_threads)
    emit("job_worker_start_s", max(s for rounds in results.values() for r in rounds for s in r.startup_s))
    for workers, suffix in ((1, "1_worker"), (2, "2_workers")):
        rates = [r.jobs_per_s for r in results[workers]]
        emit(f"jobs_per_s_{suffix}", max(rates))
    for workers, suffix in ((1, "1_worker"), (2, "2_workers")):
        emit(f"jobs_per_s_{suffix}_median", statistics.median(r.jobs_per_s for r in results[workers]))
    emit("timers", args.timers)
    emit("timer_durations_s", "{}-{}".format(*job_bench.TIMER_DURATIONS_S))
    emit("timer_lag_ms_p50", percentile(lags, 50))
    emit("timer_lag_ms_p95", percentile(lags, 95))
    emit("timer_lag_ms_max", max(lags))


def run_issuance(args: argparse.Namespace, engine: Engine, database: Database, home: Path) -> None:
    """Sealed documents per second through the engine (2 and 1 worker processes) and the naive way."""
    issuance_bench.deploy(engine, database, home)
    two = issuance_bench.measure_sealed(engine, database, home, documents=args.documents, workers=2, first=0,
                                        log=log)
    one = issuance_bench.measure_sealed(engine, database, home, documents=args.documents, workers=1,
                                        first=args.documents, log=log)
    naive = issuance_bench.measure_naive(home, args.naive_documents, log)
    emit("documents", args.documents)
    emit("sealed_docs_per_s", two)
    emit("sealed_docs_per_s_1_worker", one)
    emit("naive_docs_per_s", naive)
    emit("sealed_vs_naive", two / naive)


def run_catalogue(args: argparse.Namespace, engine: Engine, database: Database) -> None:
    """The portal's search over a city-sized catalogue (bench/catalogue.py)."""
    fill_s = catalogue_bench.fill(engine, database, args.catalogue_procedures)
    search_ms = catalogue_bench.time_search(engine, database, repeats=20, warmup=3)
    page_ms = catalogue_bench.time_search_page(engine, repeats=10, warmup=2)
    emit("catalogue_procedures", args.catalogue_procedures)
    emit("catalogue_save_s", fill_s)
    emit("catalogue_search_ms_p50", percentile(search_ms, 50))
    emit("catalogue_search_ms_p95", percentile(search_ms, 95))
    emit("catalogue_search_page_ms_p95", percentile(page_ms, 95))


if __name__ == "__main__":
    sys.exit(main())
