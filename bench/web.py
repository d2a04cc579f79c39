"""Server time of the office task-list page (part of ``make bench``): ``task_list_page_ms_p95``.

The bench user signs in once through the real form; then the page is requested through the
WSGI app in this process — everything the server does (session, user, queries, template) is
timed, the network is not. Two pages are timed, alternately: the default one (``GET /office/``:
the "mine" tab, received order, with the count of every tab) and a filtered one (the user's
groups' tab, one procedure, sorted by due date).
"""

from __future__ import annotations

import re
import time

from engine.facade import Engine
from engine.store.database import Database

PASSWORD = "bench-password"

#: (name, URL) of the pages timed; the name is the key's infix (``task_list_page<name>_ms_p95``).
PAGES = (("", "/office/"),
         ("_filtered", "/office/?tab=groups&procedure=bench_procedure_01&sort=due"))


def time_task_list_page(engine: Engine, database: Database, user: str, groups: list[str], *, repeats: int,
                        warmup: int) -> dict[str, list[float]]:
    """Milliseconds per request of each page of ``PAGES``, by its name."""
    from webui import create_app

    with database.transaction() as session:
        engine.add_user(session, user, groups=groups, password=PASSWORD)
    client = create_app(engine).test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = client.post("/sign-in", data={"name": user, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302, f"the bench user could not sign in ({signed_in.status_code})"
    samples: dict[str, list[float]] = {name: [] for name, _url in PAGES}
    for n in range(warmup + repeats):
        for name, url in PAGES:
            started = time.perf_counter()
            answer = client.get(url)
            elapsed = time.perf_counter() - started
            assert answer.status_code == 200, f"{url} answered {answer.status_code}"
            if n >= warmup:
                samples[name].append(elapsed * 1000)
    return samples
