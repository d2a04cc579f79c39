"""Scale-out on PostgreSQL: three worker processes share 5,000 jobs. Every job runs exactly
once (counted by its side effects), and every worker does a real share of the work.

5,000 jobs are 500 claims of ten per worker pass, enough for every claim race between the
processes to happen many times over; more jobs would only make the run longer (throughput is
measured by ``make bench``)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from engine.jobs.store import wake_workers
from engine.store.models import Job, utcnow
from tests.engine.jobs.processes import WorkerProcess

JOBS = 5_000
WORKERS = 3
BATCH = 2_500


def _require_postgresql(database_url: str) -> None:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the scale-out proof runs on PostgreSQL (set MADOGUCHI_TEST_DATABASE_URL)")


def _insert_jobs(db, prefix: str, count: int) -> None:
    """What Engine.enqueue_job writes, as a few bulk inserts (and one NOTIFY per commit)."""
    for first in range(0, count, BATCH):
        now = utcnow()
        rows = [{"kind": "fixture.effect", "payload": {"quiet": True}, "status": "pending", "due_at": now,
                 "attempts": 0, "max_attempts": 5, "backoff_seconds": 10.0, "idempotency_key": f"{prefix}-{n}",
                 "created_at": now, "updated_at": now} for n in range(first, min(first + BATCH, count))]
        with db.transaction() as session:
            session.execute(insert(Job), rows)
            wake_workers(session)


def _remaining(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Job))


def _run(db, database_url, tmp_path, workers: int, count: int, prefix: str) -> float:
    """Start ``workers`` worker processes, queue ``count`` jobs, wait until all are done; jobs/s."""
    processes = [WorkerProcess(database_url, tmp_path, f"{prefix}{i}", "--concurrency", "2")
                 for i in range(workers)]
    try:
        for process in processes:
            process.wait_until_running()
        started = time.monotonic()
        _insert_jobs(db, prefix, count)
        deadline = started + 300
        while _remaining(db):
            assert time.monotonic() < deadline, f"{_remaining(db)} of {count} jobs left after 300 s"
            for process in processes:
                assert process.process.poll() is None, f"worker {process.label} died:\n{process.log}"
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    finally:
        codes = [process.stop() for process in processes]
    assert codes == [0] * workers
    return count / elapsed


def test_three_workers_run_five_thousand_jobs_exactly_once(db, plugin, database_url, tmp_path):
    _require_postgresql(database_url)
    rate = _run(db, database_url, tmp_path, WORKERS, JOBS, "w")

    with db.transaction() as session:
        table = plugin.side_effects
        assert session.scalar(select(func.count()).select_from(table)) == JOBS
        assert session.scalar(select(func.count(func.distinct(table.c.key)))) == JOBS
        shares = dict(session.execute(select(table.c.worker, func.count()).group_by(table.c.worker)).all())
        retried = session.scalar(select(func.count()).select_from(table).where(table.c.attempt > 1))
    print(f"\n{JOBS} jobs, {WORKERS} workers × 2 threads: {rate:.0f} jobs/s; shares {shares}; "
          f"{retried} ran on a later attempt")
    assert sorted(shares) == [f"w{i}" for i in range(WORKERS)]
    for worker, done in shares.items():
        assert done > JOBS / 10, f"worker {worker} did only {done} of {JOBS} jobs"
    assert retried == 0  # nothing failed, nothing was taken over


def test_throughput_with_one_and_with_three_workers(db, plugin, database_url, tmp_path):
    """For information: the same work with one worker process and with three."""
    _require_postgresql(database_url)
    one = _run(db, database_url, tmp_path, 1, 1_000, "solo")
    three = _run(db, database_url, tmp_path, 3, 1_000, "trio")
    print(f"\n1000 jobs: 1 worker {one:.0f} jobs/s, 3 workers {three:.0f} jobs/s ({three / one:.2f}×)")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(plugin.side_effects)) == 2_000


def test_two_serving_workers_in_one_process_share_jobs_without_duplicates(engine, db, plugin, database_url):
    """Both databases: two workers with two threads each (claims race on every pass)."""
    from engine.jobs.worker import WorkerOptions
    from tests.engine.jobs.support import running_worker, wait_for

    options = WorkerOptions(concurrency=2, lease_seconds=30)
    with running_worker(engine, db, options, name="left"), running_worker(engine, db, options, name="right"):
        _insert_jobs(db, "pair", 400)
        wait_for(lambda: _remaining(db) == 0, timeout=120, interval=0.1, what="400 jobs to be done")
    with db.transaction() as session:
        table = plugin.side_effects
        assert session.scalar(select(func.count()).select_from(table)) == 400
        assert session.scalar(select(func.count(func.distinct(table.c.key)))) == 400
