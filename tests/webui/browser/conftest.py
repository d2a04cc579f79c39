"""Browser tests: the real app served by waitress over the test database (SQLite and
PostgreSQL), driven by Playwright in Debian's Chromium, with axe-core for accessibility.

Chromium is a system package (``scripts/system-packages --test``); where it is missing the
browser tests are skipped, never failed, so that ``make test`` still runs elsewhere.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from waitress import create_server, wasyncore

from engine.config import Settings
from engine.facade import Engine
from tests.webui.conftest import PASSWORD
from webui import create_app

CHROMIUM = Path(os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium"))
#: Chromium as this machine needs it: no sandbox (root), no GPU, and none of the background
#: connections that the closed network would refuse. Playwright gives every launch a new
#: empty profile directory itself (it refuses a --user-data-dir argument).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = "/static/vendor/axe-core/axe.min.js"
#: How long expect() waits for a page to reach the state a test asks for (as the contexts' own
#: default timeout below): short, yet enough for a loaded CI machine.
EXPECT_TIMEOUT_MS = 10_000
#: Impacts that fail a test; "minor" and "moderate" findings are printed by axe only.
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (each test gets its own context).

    Not per session: while Playwright's sync API is active it keeps an asyncio loop running in
    the worker's main thread, and later tests on that worker that run a loop of their own
    (sealing, signature checks) would fail with "cannot be called from a running event loop".
    """
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: run scripts/system-packages --test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def serving(engine: Engine, config: dict | None = None) -> Iterator[str]:
    """The app over ``engine``, served by waitress on a free port of 127.0.0.1; yields its URL."""
    app = create_app(engine, config=config)
    connections: dict = {}  # waitress's socket map, kept so that teardown can close every channel
    server = create_server(app, map=connections, host="127.0.0.1", port=0, threads=4, ident="madoguchi-test")
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closing the sockets from inside the server's own loop ends the loop without racing it.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(connections))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@contextmanager
def browser_page(browser, base_url: str) -> Iterator:
    """A fresh browser context (no cookies) whose relative URLs go to ``base_url``.

    The CSP is enforced as in production; any violation the browser reports fails the test.
    """
    context = browser.new_context(base_url=base_url, locale="ja-JP")
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    refused: list[str] = []
    tab.on("console", lambda message: message.type == "error" and "Content Security Policy" in message.text
           and refused.append(message.text))
    try:
        yield tab
    finally:
        context.close()
    assert not refused, "the page broke the Content Security Policy:\n" + "\n".join(refused)


@pytest.fixture
def live_server(engine):
    """The app over the test's own database (a new server per test: for tests that need both
    databases or a database of their own)."""
    with serving(engine) as url:
        yield url


@pytest.fixture
def page(browser, live_server):
    with browser_page(browser, live_server) as tab:
        yield tab


# -- one server per module: the fast path for tests that share a database on SQLite ----------------

@pytest.fixture(scope="module")
def site_settings(tmp_path_factory, sqlite_template) -> Settings:
    """Settings of a SQLite database shared by a module's tests (override to add plugin settings)."""
    home = tmp_path_factory.mktemp("site")
    shutil.copy(sqlite_template, home / "madoguchi.db")
    return Settings(home=home, database_url=f"sqlite:///{home / 'madoguchi.db'}")


@pytest.fixture(scope="module")
def site_engine(site_settings) -> Engine:
    return Engine(site_settings)


@pytest.fixture(scope="module")
def site_db(site_engine):
    database = site_engine.database()
    yield database
    database.dispose()


#: A module's tests sign in many times a minute, all from 127.0.0.1: more than the production
#: throttle allows one address (the throttle has its own tests in tests/webui/test_foundation.py).
SITE_CONFIG = {"LOGIN_ATTEMPTS_PER_MINUTE": 1000}


@pytest.fixture(scope="module")
def site_url(site_engine, site_db) -> Iterator[str]:
    with serving(site_engine, SITE_CONFIG) as url:
        yield url


@pytest.fixture
def site_page(browser, site_url):
    """A fresh browser context on the module's server (each test signs in as it needs)."""
    with browser_page(browser, site_url) as tab:
        yield tab


def sign_in_as(page, name: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the page it leads to."""
    page.goto("/sign-in")
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(password)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="ログイン").click()
    assert "/sign-in" not in page.url, f"{name} could not sign in"


def check_accessibility(page) -> None:
    """Run axe-core on the page as it is now; fail on serious or critical violations.

    axe is loaded from the site's own /static (an inline script tag would be refused by the
    CSP); axe.run is then called through Playwright, which the CSP does not govern.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(url=AXE)
    violations = page.evaluate("""async () => {
        const results = await window.axe.run(document, {resultTypes: ["violations"]});
        return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
    }""")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"accessibility violations on {page.url}:\n" + describe(blocking)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['url']})")
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)
