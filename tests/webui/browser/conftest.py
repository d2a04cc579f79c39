"""Browser tests: the real app served by waitress over the test database (SQLite and
PostgreSQL), driven by Playwright in Debian's Chromium, with axe-core for accessibility.

Chromium is a system package (``scripts/system-packages --test``); where it is missing the
browser tests are skipped, never failed, so that ``make test`` still runs elsewhere.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from waitress import create_server, wasyncore

from webui import create_app

CHROMIUM = Path(os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium"))
#: Chromium as this machine needs it: no sandbox (root), no GPU, and none of the background
#: connections that the closed network would refuse. Playwright gives every launch a new
#: empty profile directory itself (it refuses a --user-data-dir argument).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = "/static/vendor/axe-core/axe.min.js"
#: Impacts that fail a test; "minor" and "moderate" findings are printed by axe only.
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test worker (each test gets its own context)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: run scripts/system-packages --test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(engine):
    """The app over the test database, served by waitress on a free port of 127.0.0.1."""
    app = create_app(engine)
    connections: dict = {}  # waitress's socket map, kept so that teardown can close every channel
    server = create_server(app, map=connections, host="127.0.0.1", port=0, threads=4, ident="madoguchi-test")
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closing the sockets from inside the server's own loop ends the loop without racing it.
    server.trigger.pull_trigger(lambda: wasyncore.close_all(connections))
    thread.join(timeout=5)
    server.task_dispatcher.shutdown()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) whose relative URLs go to the live server.

    The CSP is enforced as in production; any violation the browser reports fails the test.
    """
    context = browser.new_context(base_url=live_server, locale="ja-JP")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    refused: list[str] = []
    tab.on("console", lambda message: message.type == "error" and "Content Security Policy" in message.text
           and refused.append(message.text))
    yield tab
    context.close()
    assert not refused, "the page broke the Content Security Policy:\n" + "\n".join(refused)


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
