"""Waking an idle worker the moment there is work, instead of polling every few seconds.

PostgreSQL: LISTEN on the jobs channel (every enqueue sends NOTIFY at commit). SQLite: a
cheap look at ``PRAGMA data_version`` every 50 ms, which changes whenever another
connection commits. Either way the worker also wakes at the next known due time.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import make_url

from engine.jobs.store import NOTIFY_CHANNEL

SQLITE_POLL_S = 0.05


class Waker:
    def __init__(self, database_url: str):
        self._event = threading.Event()
        self._stop = threading.Event()
        self._url = make_url(database_url)
        target = self._listen_postgres if self._url.get_backend_name() == "postgresql" else self._poll_sqlite
        self._thread = threading.Thread(target=target, name="madoguchi-waker", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if woken by new work."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken

    def kick(self) -> None:
        self._event.set()

    def close(self) -> None:
        self._stop.set()
        self._event.set()

    def _listen_postgres(self) -> None:
        import psycopg

        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            while not self._stop.is_set():
                for _notify in conn.notifies(timeout=0.5, stop_after=1):
                    self._event.set()

    def _poll_sqlite(self) -> None:
        import sqlite3

        conn = sqlite3.connect(self._url.database, check_same_thread=False)
        try:
            last = conn.execute("PRAGMA data_version").fetchone()[0]
            while not self._stop.wait(SQLITE_POLL_S):
                current = conn.execute("PRAGMA data_version").fetchone()[0]
                if current != last:
                    last = current
                    self._event.set()
        finally:
            conn.close()
