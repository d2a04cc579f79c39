"""Waking an idle worker the moment there is work, instead of polling every few seconds.

PostgreSQL: LISTEN on the jobs channel (every enqueue sends NOTIFY at commit). SQLite: a
cheap look at ``PRAGMA data_version`` every 50 ms, which changes whenever another
connection commits. Either way the worker also wakes at the next known due time.

The subscription (LISTEN, or the first ``data_version``) is taken in the constructor, before
the worker first looks for work, so a job committed in between is never missed. Once
closed, ``wait`` returns at once: a stopping worker does not sleep out its idle time.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import make_url

from engine.jobs.store import NOTIFY_CHANNEL

log = logging.getLogger("madoguchi.jobs")

SQLITE_POLL_S = 0.05


class Waker:
    def __init__(self, database_url: str):
        self._event = threading.Event()
        self._stop = threading.Event()
        self._url = make_url(database_url)
        postgres = self._url.get_backend_name() == "postgresql"
        try:
            self._conn = self._connect_postgres() if postgres else self._connect_sqlite()
        except Exception:  # the worker still wakes at due times, and its claims report the problem
            log.exception("cannot watch for new jobs; waking only at due times")
            return
        target = self._listen_postgres if postgres else self._poll_sqlite
        self._thread = threading.Thread(target=target, name="madoguchi-waker", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if woken by new work (or by closing)."""
        woken = self._event.wait(timeout)
        if not self._stop.is_set():
            self._event.clear()
        return woken

    def kick(self) -> None:
        self._event.set()

    def close(self) -> None:
        self._stop.set()
        self._event.set()

    def _connect_postgres(self):
        import psycopg

        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return conn

    def _listen_postgres(self) -> None:
        conn = self._conn
        try:
            while not self._stop.is_set():
                for _notify in conn.notifies(timeout=0.5, stop_after=1):
                    self._event.set()
        except Exception:  # the worker still wakes at due times; only the instant wake-up is lost
            if not self._stop.is_set():
                log.exception("listening for new jobs failed; falling back to the idle timeout")
        finally:
            conn.close()

    def _connect_sqlite(self):
        import sqlite3

        conn = sqlite3.connect(self._url.database, check_same_thread=False)
        self._last = conn.execute("PRAGMA data_version").fetchone()[0]
        return conn

    def _poll_sqlite(self) -> None:
        conn = self._conn
        try:
            while not self._stop.wait(SQLITE_POLL_S):
                current = conn.execute("PRAGMA data_version").fetchone()[0]
                if current != self._last:
                    self._last = current
                    self._event.set()
        except Exception:
            if not self._stop.is_set():
                log.exception("watching for new jobs failed; falling back to the idle timeout")
        finally:
            conn.close()
