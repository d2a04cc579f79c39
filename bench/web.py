"""Server time of the office task-list page (part of ``make bench``): ``task_list_page_ms_p95``.

The bench user (who sees 50 of the 100 000 open tasks on the first page) signs in once
through the real form; then the page ``GET /office/`` is requested through the WSGI app in
this process — everything the server does (session, user, query, template) is timed, the
network is not.
"""

from __future__ import annotations

import re
import time

from engine.facade import Engine
from engine.store.database import Database

PASSWORD = "bench-password"


def time_task_list_page(engine: Engine, database: Database, user: str, groups: list[str], *, repeats: int,
                        warmup: int) -> list[float]:
    from webui import create_app

    with database.transaction() as session:
        engine.add_user(session, user, groups=groups, password=PASSWORD)
    client = create_app(engine).test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = client.post("/sign-in", data={"name": user, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302, f"the bench user could not sign in ({signed_in.status_code})"
    samples = []
    for n in range(warmup + repeats):
        started = time.perf_counter()
        answer = client.get("/office/")
        elapsed = time.perf_counter() - started
        assert answer.status_code == 200, f"the task list answered {answer.status_code}"
        if n >= warmup:
            samples.append(elapsed * 1000)
    return samples
