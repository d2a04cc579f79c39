"""Fixtures: a Madoguchi engine on a SQLite file, and a real chat service on 127.0.0.1.

The plugin is tested as it is installed (``pip install -e '.[test]'``): the engine finds it
through its entry point, exactly as in production. Nothing is patched: the operations talk
HTTP to a small server that behaves like the chat service.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from engine import Engine
from engine.config import Settings


class ChatService:
    """A chat service's webhook: checks the bearer token and posts each message once per
    ``Idempotency-Key``. With ``lose_answers = n`` it posts the next n messages but answers
    503, as when the answer is lost on the way back."""

    def __init__(self, token: str):
        self.token = token
        self.messages: dict[str, dict] = {}  # by idempotency key
        self.requests: list[dict] = []
        self.lose_answers = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/koseki"

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key", "")
                service.requests.append({"path": self.path, "authorization": self.headers.get("Authorization"),
                                         "idempotency_key": key, "body": body})
                if self.headers.get("Authorization") != f"Bearer {service.token}":
                    return self._answer(401, {"error": "bad token"})
                if key not in service.messages:
                    service.messages[key] = {"id": f"msg-{len(service.messages) + 1}", "text": body["text"]}
                if service.lose_answers:
                    service.lose_answers -= 1
                    return self._answer(503, {"error": "try again"})
                return self._answer(200, {"id": service.messages[key]["id"]})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep the test output quiet
                pass

        return Handler


@pytest.fixture
def chat():
    service = ChatService(token="s3cret-token")
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture
def engine(tmp_path, monkeypatch, chat) -> Engine:
    monkeypatch.setenv("MADOGUCHI_EXAMPLE_CHAT_URL", chat.url)
    monkeypatch.setenv("MADOGUCHI_EXAMPLE_CHAT_TOKEN", chat.token)
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'madoguchi.db'}",
                        job_backoff_seconds=0.01)  # retries within milliseconds
    engine = Engine(settings)
    engine.upgrade_database()
    return engine


@pytest.fixture
def database(engine):
    database = engine.database()
    yield database
    database.dispose()


@pytest.fixture
def run_worker(engine, database):
    """``run_worker(until)``: run due jobs (as ``madoguchi worker --once`` does) until ``until()``
    returns a true value, which it returns."""
    worker = engine.worker(database)

    def run(until, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while not (result := until()):
            assert time.monotonic() < deadline, "the jobs did not finish in time"
            worker.run_once()
            time.sleep(0.01)
        return result

    return run
