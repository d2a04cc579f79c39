"""The job system under load (part of ``make bench``): service-job throughput and timer lag.

* throughput: N applications each park at a service task calling the built-in no-op operation
  ``diagnostics.noop``; their N service jobs are held back (due tomorrow) while W real worker
  processes (``madoguchi worker``) start up and go idle, then released in one statement, and
  the time until the job table has no pending or running row left is measured — once with
  one worker process, once with two, each on a fresh set of N jobs;
* timer lag: one worker process serves while M applications are started that each wait on an
  intermediate timer of a different duration; lag = when the worker fired the timer (the
  step's time, written as the application's ``completed_at``) − when it was due (the
  application's ``next_timer_at`` right after the start).

Called from bench/run.py, which owns the database and prints through ``emit``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.engine import Engine as SAEngine

from engine.facade import Engine
from engine.jobs.store import wake_workers
from engine.store.database import Database
from engine.store.models import Application, Incident, Job, utcnow

REPO = Path(__file__).resolve().parent.parent

# -- the processes --------------------------------------------------------------------------

SERVICE_PROCESS_ID = "bench_noop_service"
TIMER_PROCESS_ID = "bench_timer"

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="definitions_{pid}" targetNamespace="http://madoguchi.bench">
  <bpmn:process id="{pid}" isExecutable="true">
"""

SERVICE_BPMN = _HEADER.format(pid=SERVICE_PROCESS_ID) + """    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="call" name="No-op call">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="diagnostics.noop"><spiffworkflow:parameters/></spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="to_call" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="to_done" sourceRef="call" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""

#: The timer's duration is a Python expression: each application brings its own (``delay``).
TIMER_BPMN = _HEADER.format(pid=TIMER_PROCESS_ID) + """    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="wait" name="Wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>delay</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="to_wait" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="to_done" sourceRef="wait" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""

#: Applications started per transaction while setting up the throughput rounds (not timed).
SETUP_BATCH = 100
#: Where held-back service jobs wait until the workers are ready.
PARKED = timedelta(days=1)
#: How often the job table is looked at while the workers drain it.
POLL_S = 0.02
#: Give up when the number of waiting jobs has not moved for this long.
STALL_S = 60.0
#: After a worker reports that it runs, time for its threads to claim nothing and go to sleep.
SETTLE_S = 0.5
#: Timer durations are spread evenly over this range (seconds) and started in random order.
TIMER_DURATIONS_S = (0.5, 3.0)


def deploy(engine: Engine, database: Database, home: Path) -> tuple[str, str]:
    """Deploy both processes; returns (service process key, timer process key)."""
    keys = []
    for pid, xml in ((SERVICE_PROCESS_ID, SERVICE_BPMN), (TIMER_PROCESS_ID, TIMER_BPMN)):
        path = home / f"{pid}.bpmn"
        path.write_text(xml, encoding="utf-8")
        with database.transaction() as session:
            keys.append(engine.deploy(session, path, actor="bench").definition.key)
    return keys[0], keys[1]


# -- worker processes -----------------------------------------------------------------------

def worker_command() -> list[str]:
    """``madoguchi worker`` of this virtualenv (the script next to the interpreter)."""
    script = Path(sys.executable).with_name("madoguchi")
    if script.exists():
        return [str(script), "worker"]
    return [sys.executable, "-c", "from engine.cli import main; main()", "worker"]


def worker_environment(home: Path, url: str) -> dict[str, str]:
    """This environment without any MADOGUCHI_* setting, then the bench's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MADOGUCHI_")}
    env.update(MADOGUCHI_HOME=str(home), MADOGUCHI_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    return env


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def worker_processes(count: int, threads: int, home: Path, database: Database) -> Iterator[list[float]]:
    """Start ``count`` worker processes; yield their start-up times (seconds from spawn until
    each says it runs); stop them gracefully (SIGTERM, as a deployment would) on exit."""
    env = worker_environment(home, database.url)
    workers: list[WorkerProcess] = []
    try:
        spawned = time.perf_counter()
        for n in range(count):
            log_path = home / f"worker-{os.getpid()}-{time.monotonic_ns()}-{n}.log"
            with open(log_path, "wb") as log_file:
                process = subprocess.Popen(
                    [*worker_command(), "--concurrency", str(threads), "--name", f"bench-worker-{n}"],
                    cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
            workers.append(WorkerProcess(process, log_path))
        startup = [_wait_running(worker, spawned) for worker in workers]
        _settle(database, count)
        yield startup
    finally:
        _stop(workers, database)


def _wait_running(worker: WorkerProcess, spawned: float, timeout: float = 60.0) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if "running with" in worker.log_text():
            return time.perf_counter() - spawned
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.process.returncode}:\n{worker.log_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start within {timeout} s:\n{worker.log_text()}")
        time.sleep(0.01)


def _settle(database: Database, count: int) -> None:
    """Let the workers reach their idle wait. On PostgreSQL, also make sure every worker's
    waker is LISTENing, so the release's NOTIFY is not missed (it would cost up to 5 s)."""
    if database.dialect == "postgresql":
        deadline = time.monotonic() + 30
        while _listeners(database) < count:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers never started listening for notifications")
            time.sleep(0.02)
    time.sleep(SETTLE_S)


def _listeners(database: Database) -> int:
    with database.engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE :listen"),
            {"listen": "LISTEN %"}).scalar_one()


def _stop(workers: list[WorkerProcess], database: Database, timeout: float = 15.0) -> None:
    alive = [w for w in workers if w.process.poll() is None]
    for worker in alive:
        worker.process.send_signal(signal.SIGTERM)
    # An idle worker only sees the stop when it wakes up, after up to 5 s: wake it now, and
    # again until it has gone (its signal handler runs at the main thread's next 0.5 s join).
    deadline = time.monotonic() + timeout
    while alive and time.monotonic() < deadline:
        try:
            nudge_workers(database)
        except Exception as exc:  # stopping must not fail on it; the workers still get killed below
            print(f"[bench] could not wake the workers: {exc}", file=sys.stderr)
        for worker in alive:
            with suppress(subprocess.TimeoutExpired):
                worker.process.wait(timeout=0.25)
        alive = [w for w in alive if w.process.poll() is None]
    for worker in alive:
        print(f"[bench] worker {worker.process.pid} did not stop on SIGTERM; killing it", file=sys.stderr)
        worker.process.kill()
        worker.process.wait()
    for worker in workers:
        worker.log_path.unlink(missing_ok=True)


def nudge_workers(database: Database) -> None:
    """Wake idle workers: NOTIFY on PostgreSQL; on SQLite a commit that changes the file (a
    job row inserted and deleted in one transaction — nobody else ever sees it), which is what
    the SQLite waker watches for (``PRAGMA data_version``)."""
    with database.transaction() as session:
        if database.dialect == "postgresql":
            wake_workers(session)
            return
        now = utcnow()
        job = Job(kind="bench_nudge", payload={}, status="failed", due_at=now, attempts=0, max_attempts=0,
                  backoff_seconds=0.0, idempotency_key="bench-nudge", created_at=now, updated_at=now)
        session.add(job)
        session.flush()
        session.execute(delete(Job).where(Job.id == job.id).execution_options(synchronize_session=False))


# -- looking at the tables ----------------------------------------------------------------

def reader(database: Database) -> SAEngine:
    """A separate autocommit engine for polling: on SQLite it must not take the write lock
    (the engine's own transactions start with BEGIN IMMEDIATE), and WAL readers never block
    the workers."""
    if database.dialect == "sqlite":
        return create_engine(database.url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 30})
    return create_engine(database.url, isolation_level="AUTOCOMMIT")


WAITING_JOBS = select(func.count()).select_from(Job).where(Job.status.in_(("pending", "running")))


def wait_drained(read: SAEngine, expected: int) -> None:
    """Poll until no job is pending or running; fail if the count stops moving."""
    last, last_change = expected, time.monotonic()
    with read.connect() as conn:
        while True:
            waiting = conn.execute(WAITING_JOBS).scalar_one()
            if waiting == 0:
                return
            now = time.monotonic()
            if waiting != last:
                last, last_change = waiting, now
            elif now - last_change > STALL_S:
                raise RuntimeError(f"{waiting} jobs still waiting, none finished for {STALL_S:.0f} s")
            time.sleep(POLL_S)


def assert_completed(database: Database, ids: list[int]) -> None:
    with database.transaction() as session:
        statuses = dict(session.execute(select(Application.status, func.count()).where(Application.id.in_(ids))
                                        .group_by(Application.status)).all())
        incidents = session.scalar(select(func.count()).select_from(Incident))
    assert statuses == {"completed": len(ids)}, f"applications not all completed: {statuses}"
    assert incidents == 0, f"{incidents} incidents raised"


# -- throughput ---------------------------------------------------------------------------

def start_parked(engine: Engine, database: Database, key: str, count: int) -> list[int]:
    """Start ``count`` applications (each leaves one service job), their jobs held back."""
    ids: list[int] = []
    for offset in range(0, count, SETUP_BATCH):
        with database.transaction() as session:
            batch = [engine.start(session, key, actor="bench").application.id
                     for _ in range(min(SETUP_BATCH, count - offset))]
            parked = session.execute(update(Job).where(Job.application_id.in_(batch), Job.status == "pending")
                                     .values(due_at=utcnow() + PARKED)
                                     .execution_options(synchronize_session=False)).rowcount
        assert parked == len(batch), f"expected one service job per application, found {parked}"
        ids += batch
    return ids


def vacuum(database: Database) -> None:
    """PostgreSQL: clear the dead row versions earlier rounds and the parking left in ``jobs``
    (autovacuum would, within a minute), so every round starts from the same state."""
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE jobs, applications")


def release(database: Database) -> int:
    """Make every held-back job due now, in one statement, and wake the workers as an
    enqueue does (NOTIFY at commit on PostgreSQL; the commit itself on SQLite)."""
    with database.transaction() as session:
        count = session.execute(update(Job).where(Job.kind == "service", Job.status == "pending")
                                .values(due_at=utcnow())
                                .execution_options(synchronize_session=False)).rowcount
        wake_workers(session)
    return count


@dataclass
class ThroughputResult:
    jobs_per_s: float
    seconds: float
    startup_s: list[float]


def measure_throughput(engine: Engine, database: Database, key: str, home: Path, *, jobs: int, workers: int,
                       threads: int, log) -> ThroughputResult:
    log(f"jobs: starting {jobs} applications for {workers} worker process(es)")
    setup_started = time.perf_counter()
    ids = start_parked(engine, database, key, jobs)
    vacuum(database)
    log(f"jobs: set up in {time.perf_counter() - setup_started:.1f} s")
    read = reader(database)
    try:
        with worker_processes(workers, threads, home, database) as startup:
            started = time.perf_counter()
            released = release(database)
            assert released == jobs, f"released {released} jobs, expected {jobs}"
            wait_drained(read, jobs)
            seconds = time.perf_counter() - started
    finally:
        read.dispose()
    assert_completed(database, ids)
    result = ThroughputResult(jobs / seconds, seconds, startup)
    log(f"jobs: {workers} worker process(es) ran {jobs} jobs in {seconds:.2f} s = {result.jobs_per_s:.1f}/s "
        f"(start-up {max(startup):.2f} s, not counted)")
    return result


# -- timer lag ----------------------------------------------------------------------------

def timer_durations(count: int, rng: random.Random) -> list[float]:
    low, high = TIMER_DURATIONS_S
    durations = [low + (high - low) * n / max(1, count - 1) for n in range(count)]
    rng.shuffle(durations)
    return durations


def measure_timer_lag(engine: Engine, database: Database, key: str, home: Path, *, timers: int,
                      log) -> list[float]:
    """Lag of each timer in milliseconds: fired (the worker's step time) − due."""
    durations = timer_durations(timers, random.Random(20261127))
    due = {}
    read = reader(database)
    try:
        with worker_processes(1, 1, home, database):
            log(f"timers: starting {timers} applications waiting {TIMER_DURATIONS_S[0]}–{TIMER_DURATIONS_S[1]} s")
            # One transaction per application, as callers start them: every timer is due after
            # the commit that creates it.
            for seconds in durations:
                with database.transaction() as session:
                    application = engine.start(session, key, data={"delay": f"PT{seconds:.3f}S"},
                                               actor="bench").application
                    assert application.next_timer_at is not None, "the timer is not scheduled"
                    due[application.id] = application.next_timer_at
            ids = list(due)
            done = select(func.count()).select_from(Application).where(Application.id.in_(ids),
                                                                          Application.completed_at.is_not(None))
            deadline = time.monotonic() + TIMER_DURATIONS_S[1] + STALL_S
            with read.connect() as conn:
                while conn.execute(done).scalar_one() < timers:
                    if time.monotonic() > deadline:
                        raise RuntimeError("timers did not all fire in time")
                    time.sleep(0.05)
    finally:
        read.dispose()
    assert_completed(database, ids)
    with database.transaction() as session:
        fired = dict(session.execute(select(Application.id, Application.completed_at)
                                     .where(Application.id.in_(ids))).all())
    lags = [(fired[i] - due[i]).total_seconds() * 1000 for i in ids]
    assert min(lags) >= 0, f"a timer fired {-min(lags):.1f} ms early"
    return lags
