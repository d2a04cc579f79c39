"""The worker: threads that claim due jobs, run them, and keep their leases alive.

``run_once`` runs everything due now and returns (``madoguchi worker --once``). ``run``
serves until told to stop: SIGTERM lets running jobs finish and gives claimed-but-unstarted
jobs back; SIGKILL loses nothing either, since leases simply expire and another worker
takes the jobs over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass

from engine.jobs.runner import JobRunner
from engine.jobs.store import claim, heartbeat, next_wakeup, release
from engine.jobs.waker import Waker
from engine.store.models import utcnow

log = logging.getLogger("madoguchi.jobs")

#: Longest an idle worker sleeps without looking (a safety net; wake-ups come earlier).
MAX_IDLE_S = 5.0
#: How long a serving thread waits before trying again after the database failed it.
ERROR_PAUSE_S = 1.0


@dataclass(frozen=True)
class WorkerOptions:
    concurrency: int = 1
    lease_seconds: float = 30.0
    batch: int = 10


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(self, engine, database, options: WorkerOptions, name: str | None = None):
        self.engine = engine
        self.database = database
        self.options = options
        self.name = name or worker_name()
        self.runner = JobRunner(engine, database, self.name)
        self.stop_event = threading.Event()
        self.completed = 0
        self._count_lock = threading.Lock()
        self._waker: Waker | None = None

    # -- one pass ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Run every job that is due now; return how many were applied."""
        self._schedule_intake()
        applied = 0
        done = threading.Event()
        # Slow jobs keep their leases here too, or another worker would take them over.
        heart = threading.Thread(target=self._heartbeat, args=(done,), name="madoguchi-heartbeat", daemon=True)
        heart.start()
        try:
            while True:
                jobs = self._claim()
                if not jobs:
                    return applied
                applied += sum(1 for job in jobs if self.runner.run(job))
        finally:
            done.set()

    # -- serving ----------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until ``stop()``; returns when every thread has finished or given back its jobs."""
        self._schedule_intake()
        waker = self._waker = Waker(self.database.url)
        if self.stop_event.is_set():  # stopped before we got here
            waker.close()
        heart = threading.Thread(target=self._heartbeat, args=(self.stop_event,), name="madoguchi-heartbeat",
                                 daemon=True)
        heart.start()
        threads = [threading.Thread(target=self._serve, args=(waker,), name=f"madoguchi-worker-{i}")
                   for i in range(self.options.concurrency)]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(timeout=0.5)
        finally:
            self.stop_event.set()
            waker.close()

    def _schedule_intake(self) -> None:
        """Intake sources are polled by jobs; a starting worker makes sure each has one."""
        with self.database.transaction() as session:
            self.engine.intake.ensure_scheduled(session)

    def stop(self) -> None:
        """Ask the serving threads to finish their current job and return (safe from a signal handler)."""
        self.stop_event.set()
        if self._waker is not None:
            self._waker.close()  # idle threads wake now instead of at their next due time

    def _serve(self, waker: Waker) -> None:
        while not self.stop_event.is_set():
            try:
                self._serve_batch(waker)
            except Exception:  # the database went away, …: keep serving once it is back
                log.exception("worker %s: looking for jobs failed; trying again", self.name)
                self.stop_event.wait(ERROR_PAUSE_S)

    def _serve_batch(self, waker: Waker) -> None:
        jobs = self._claim()
        if not jobs:
            waker.wait(self._idle_seconds())
            return
        for index, job in enumerate(jobs):
            if self.stop_event.is_set():
                with self.database.transaction() as session:
                    release(session, self.name, [j.id for j in jobs[index:]])
                break
            if self.runner.run(job):
                with self._count_lock:
                    self.completed += 1
        waker.kick()  # more may be due; let a sleeping sibling look too

    def _claim(self):
        with self.database.transaction() as session:
            jobs = claim(session, self.name, limit=self.options.batch, lease_seconds=self.options.lease_seconds,
                         on_incident=lambda incident: self.engine.announce_incident(session, incident))
            session.expunge_all()
        return jobs

    def _idle_seconds(self) -> float:
        with self.database.transaction() as session:
            upcoming = next_wakeup(session)
        if upcoming is None:
            return MAX_IDLE_S
        return max(0.0, min(MAX_IDLE_S, (upcoming - utcnow()).total_seconds()))

    def _heartbeat(self, stop: threading.Event) -> None:
        interval = self.options.lease_seconds / 3
        while not stop.wait(interval):
            try:
                with self.database.transaction() as session:
                    heartbeat(session, self.name, self.options.lease_seconds)
            except Exception:  # a missed beat is survivable; the next one may succeed
                log.exception("heartbeat failed")
