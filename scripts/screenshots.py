"""Screenshots of the web UI's key pages for the documentation (`make screenshots`).

Builds a throw-away instance (SQLite in a temporary home) with demo data — a few dog
registrations waiting for review, and a notice issued and sealed through the sample issuance
procedure — serves it with waitress, and saves what headless Chromium shows into
docs/screenshots/. Needs Debian's chromium (scripts/system-packages --test).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sample issuance route lives with the tests

from playwright.sync_api import sync_playwright  # noqa: E402
from waitress import create_server, wasyncore  # noqa: E402

from engine.cli.demo import DEMO_PASSWORD, SAMPLE_DATA, SAMPLE_KEY  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.facade import Engine  # noqa: E402
from engine.issuance.pki import init_dev_seal  # noqa: E402
from tests.engine.helpers import add_user  # noqa: E402
from tests.engine.issuance.sealing_support import flip_byte_in  # noqa: E402
from tests.engine.issuance.test_issuance_flow import (  # noqa: E402
    BUNDLE,
    STAFF,
    decided_by_substitute,
    download,
    issued_document,
)
from tests.webui.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from webui import create_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
#: Who signs in for the screenshots (the demo's 生活衛生課 group, so the list has tasks).
REVIEWER = "yamada"
APPLICANTS = [("山田 花子", "ポチ"), ("佐藤 一郎", "ハチ"), ("鈴木 美咲", "モモ")]
VIEWPORT = {"width": 1280, "height": 800}


def demo_instance(home: Path) -> tuple[Engine, Path]:
    """An instance with open review tasks and one sealed notice; returns it and the notice."""
    engine = Engine(Settings(home=home, database_url=f"sqlite:///{home / 'madoguchi.db'}"))
    engine.upgrade_database()
    db = engine.database()
    with db.transaction() as session:
        engine.add_user(session, REVIEWER, groups=["seikatsu-eisei"], password=DEMO_PASSWORD)
        engine.deploy(session, ROOT / "workflows" / SAMPLE_KEY)
    for number, (applicant, dog) in enumerate(APPLICANTS):
        data = {**SAMPLE_DATA, "applicant": {**SAMPLE_DATA["applicant"], "name": applicant}, "dog_name": dog}
        with db.transaction() as session:
            review = engine.start(session, SAMPLE_KEY, data=data, actor="portal").opened_tasks[0]
            if number < 2:  # two taken by the reviewer, one left for the group
                engine.claim(session, review.id, actor=REVIEWER)

    init_dev_seal(home)
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    document = issued_document(engine, db, decided_by_substitute(engine, db))
    notice = download(engine, db, document.public_id, home / "補助金交付決定通知書.pdf")
    return engine, notice


def serve(engine: Engine):
    """Serve the app on a free port in a background thread; returns its URL and a stop function."""
    connections: dict = {}
    server = create_server(create_app(engine), map=connections, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop():
        server.trigger.pull_trigger(lambda: wasyncore.close_all(connections))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()

    return f"http://127.0.0.1:{server.effective_port}", stop


def take(page, name: str) -> None:
    path = OUT / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"wrote {path.relative_to(ROOT)}")


def verify(page, pdf: Path) -> None:
    page.goto("/verify/")
    page.get_by_label("PDFファイル").set_input_files(pdf)
    page.get_by_role("main").get_by_role("button", name="検証する").click()
    page.wait_for_url("**/verify/")


def screenshots(base_url: str, notice: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        staff = browser.new_context(base_url=base_url, locale="ja-JP", viewport=VIEWPORT).new_page()
        staff.goto("/sign-in")
        take(staff, "sign-in")
        staff.get_by_label("ユーザー名").fill(REVIEWER)
        staff.get_by_label("パスワード").fill(DEMO_PASSWORD)
        staff.get_by_role("main").get_by_role("button", name="ログイン").click()
        staff.wait_for_url("**/office/")
        take(staff, "task-list")

        # The public pages as a resident sees them: another context, not signed in.
        page = browser.new_context(base_url=base_url, locale="ja-JP", viewport=VIEWPORT).new_page()
        page.goto("/verify/")
        take(page, "verify")
        verify(page, notice)
        take(page, "verify-valid")
        altered = notice.with_name("altered.pdf")
        altered.write_bytes(flip_byte_in(notice.read_bytes(), b"/Producer"))
        verify(page, altered)
        take(page, "verify-altered")

        page.goto("/sign-in")
        page.get_by_role("button", name="English").click()
        take(page, "sign-in-en")
        browser.close()


def main() -> int:
    if not CHROMIUM.exists():
        print(f"Chromium is not at {CHROMIUM}: run scripts/system-packages --test", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="madoguchi-screenshots-") as home:
        # The instance is built before Playwright starts: sealing runs its own asyncio loop.
        engine, notice = demo_instance(Path(home))
        base_url, stop = serve(engine)
        try:
            screenshots(base_url, notice)
        finally:
            stop()
            engine.database().dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
