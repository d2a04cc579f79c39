"""A 1 GiB attachment goes through a live HTTP server on 127.0.0.1 (werkzeug's, which hands the
app the socket itself as the request body) in 16 tus PATCH requests while the process's
memory stays flat: the body is made on the fly, read by the app a chunk at a time, written to
disk and hashed on the way into the storage."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
import tracemalloc
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from engine.config import Settings
from engine.facade import Engine
from tests.webui.uploads_support import b64
from webui import create_app

GIB = 1024 ** 3
PIECE = 64 * 1024 * 1024
BLOCK = 1024 * 1024
#: What the whole upload may add to the process's peak memory.
MEMORY_BUDGET = 32 * 1024 * 1024


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets the peak resident set size (Linux 4.0+).
    Path("/proc/self/clear_refs").write_text("5")


def body(start: int, size: int, digest):
    """``size`` bytes of the file from ``start``, made a block at a time (never the whole piece)."""
    seed = os.urandom(BLOCK)
    for offset in range(start, start + size, BLOCK):
        block = (b"%PDF-1.7\n" + seed[9:]) if offset == 0 else offset.to_bytes(8, "big") + seed[8:]
        digest.update(block)
        yield block


@contextmanager
def serving(engine):
    server = make_server("127.0.0.1", 0, create_app(engine), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="upload-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def sqlite_engine(tmp_path, sqlite_template):
    """Once, on SQLite: the point is the server's memory, not the database."""
    import shutil

    shutil.copy(sqlite_template, tmp_path / "madoguchi.db")
    engine = Engine(Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'madoguchi.db'}",
                             attachment_max_bytes=2 * GIB))
    with engine.database().transaction() as session:
        engine.add_user(session, "tanaka", groups=["clerks"])
        _row, secret = engine.create_api_token(session, name="bulk", user="tanaka", scopes=["applications:write"],
                                               expires=None, actor="root")
    yield engine, secret
    engine.database().dispose()


def test_a_gigabyte_upload_keeps_memory_flat(sqlite_engine, capsys):
    engine, secret = sqlite_engine
    headers = {"Authorization": f"Bearer {secret}", "Tus-Resumable": "1.0.0"}
    with serving(engine) as base:
        address = urlsplit(base)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        connection.request("POST", "/api/v1/uploads", headers={
            **headers, "Upload-Length": str(GIB), "Upload-Metadata": f"filename {b64('図面一式.pdf')}"})
        created = connection.getresponse()
        created.read()
        assert created.status == 201, created.status
        location = created.getheader("Location")

        digest = hashlib.sha256()
        reset_peak_rss()
        before_rss = peak_rss()
        tracemalloc.start()
        started = time.monotonic()
        for start in range(0, GIB, PIECE):
            connection.request("PATCH", location, body=body(start, PIECE, digest), headers={
                **headers, "Upload-Offset": str(start), "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(PIECE)})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 204, (answer.status, start)
            assert int(answer.getheader("Upload-Offset")) == start + PIECE
        seconds = time.monotonic() - started
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_growth = peak_rss() - before_rss

        connection.request("GET", location, headers=headers)
        answer = connection.getresponse()
        import json

        attachment = json.loads(answer.read())["attachment"]
        connection.close()

    assert attachment["size"] == GIB and attachment["sha256"] == digest.hexdigest()
    assert (Path(engine.settings.home) / "files" / attachment["key"]).stat().st_size == GIB
    assert traced_peak < MEMORY_BUDGET, f"Python allocations peaked at {traced_peak / 2**20:.1f} MiB"
    assert rss_growth < MEMORY_BUDGET, f"peak RSS grew by {rss_growth / 2**20:.1f} MiB"
    with capsys.disabled():
        print(f"\n1 GiB upload: {GIB / 2**20 / seconds:.0f} MiB/s, Python peak {traced_peak / 2**20:.1f} MiB, "
              f"peak RSS growth {rss_growth / 2**20:.1f} MiB")
