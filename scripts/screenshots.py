"""Screenshots of the web UI's key pages for the documentation (`make screenshots`).

Builds a throw-away instance (SQLite in a temporary home) with demo data — dog registrations
waiting for review, a subsidy application on its approval route, a second version of the dog
registration, and a notice issued and sealed through the sample issuance procedure — serves
it with waitress, and saves what headless Chromium shows, in Japanese, into docs/screenshots/.
Needs Debian's chromium (scripts/system-packages --test).
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the sample issuance route lives with the tests

from playwright.sync_api import sync_playwright  # noqa: E402

from engine.cli.demo import DEMO_PASSWORD, SAMPLE_DATA, SAMPLE_KEY  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.facade import Engine  # noqa: E402
from engine.issuance.pki import init_dev_seal  # noqa: E402
from tests.engine.issuance.sealing_support import flip_byte_in  # noqa: E402
from tests.engine.issuance.test_issuance_flow import (  # noqa: E402
    BUNDLE,
    STAFF,
    decided_by_substitute,
    download,
    issued_document,
)
from tests.webui.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402
from tests.webui.test_admin_definitions import BROKEN  # noqa: E402
from tests.webui.test_office_setup import APPROVAL, drafted  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
#: Who signs in for the screenshots: a reviewer of the demo's 生活衛生課 (so the list has
#: tasks), the 係長 of the approval route, and an administrator.
REVIEWER, APPROVER, ADMIN = "yamada", "sato", "admin"
APPLICANTS = [("山田 花子", "ポチ"), ("佐藤 一郎", "ハチ"), ("鈴木 美咲", "モモ")]
VIEWPORT = {"width": 1280, "height": 800}


def demo_instance(home: Path) -> tuple[Engine, dict]:
    """An instance with open tasks of both kinds, two versions of a procedure and one sealed
    notice; returns it and what the screenshots open (ids, the notice's file)."""
    engine = Engine(Settings(home=home, database_url=f"sqlite:///{home / 'madoguchi.db'}"))
    engine.upgrade_database()
    db = engine.database()
    staff = {REVIEWER: "seikatsu-eisei", ADMIN: "admin", "ito": "somu", **STAFF}
    with db.transaction() as session:
        for name, group in staff.items():
            engine.add_user(session, name, groups=[group], password=DEMO_PASSWORD)
        engine.deploy(session, ROOT / "workflows" / SAMPLE_KEY)
        engine.deploy(session, APPROVAL)
    reviews = []
    for number, (applicant, dog) in enumerate(APPLICANTS):
        data = {**SAMPLE_DATA, "applicant": {**SAMPLE_DATA["applicant"], "name": applicant}, "dog_name": dog}
        with db.transaction() as session:
            review = engine.start(session, SAMPLE_KEY, data=data, actor="portal").opened_tasks[0]
            if number < 2:  # two taken by the reviewer, one left for the group
                engine.claim(session, review.id, actor=REVIEWER)
            reviews.append(review)
    with db.transaction() as session:
        engine.deploy(session, second_version(home), actor=ADMIN)
    subsidy = drafted(engine, db, 800_000)
    with db.transaction() as session:
        [approval] = [t for t in engine.tasks(session, application_id=subsidy) if t.kind == "approve"]

    init_dev_seal(home)
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    document = issued_document(engine, db, decided_by_substitute(engine, db))
    notice = download(engine, db, document.public_id, home / "補助金交付決定通知書.pdf")
    broken = home / "broken.bpmn"
    broken.write_text(BROKEN, encoding="utf-8")
    return engine, {"review": reviews[0], "approval": approval, "notice": notice, "broken": broken}


def second_version(home: Path) -> Path:
    """The dog registration with one more field in its review form (for the versions diff)."""
    bundle = home / "bundles" / SAMPLE_KEY
    shutil.copytree(ROOT / "workflows" / SAMPLE_KEY, bundle)
    review = bundle / "forms" / "review.json"
    review.write_text(review.read_text(encoding="utf-8").replace(
        '"comment":', '"inspector": {"type": "string", "maxLength": 100, "title": "確認者"},\n    "comment":'),
        encoding="utf-8")
    return bundle


def take(page, name: str) -> None:
    """Save the page as it stands, once any diagram on it is drawn."""
    diagrams = page.locator(".bpmn-diagram[data-diagram-url]")
    for index in range(diagrams.count()):
        diagrams.nth(index).and_(page.locator("[data-diagram-ready='true']")).wait_for(timeout=15_000)
    path = OUT / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"wrote {path.relative_to(ROOT)}")


def sign_in(page, name: str) -> None:
    page.context.clear_cookies()
    page.goto("/sign-in")
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(DEMO_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/office/")


def verify(page, pdf: Path) -> None:
    page.goto("/verify/")
    page.get_by_label("PDFファイル").set_input_files(pdf)
    page.get_by_role("main").get_by_role("button", name="検証する").click()
    page.wait_for_url("**/verify/")


def screenshots(base_url: str, shown: dict) -> None:
    notice = shown["notice"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        staff = browser.new_context(base_url=base_url, locale="ja-JP", viewport=VIEWPORT).new_page()
        staff.goto("/sign-in")
        take(staff, "sign-in")
        sign_in(staff, REVIEWER)
        take(staff, "task-list")
        staff.goto(f"/office/tasks/{shown['review'].id}")
        take(staff, "task-page")

        sign_in(staff, APPROVER)
        staff.goto(f"/office/tasks/{shown['approval'].id}")
        staff.get_by_role("radio", name="差戻し").check()
        staff.get_by_label("意見・理由").fill("見積書を添付してください。")
        take(staff, "decision-form")

        sign_in(staff, ADMIN)
        staff.goto("/admin/")
        staff.get_by_label(".bpmn の図または .zip のバンドル").set_input_files(shown["broken"])
        staff.get_by_role("button", name="検査して登録する").click()
        staff.get_by_role("alert").wait_for()
        take(staff, "admin-upload-errors")
        staff.goto(f"/admin/definitions/{SAMPLE_KEY}/diff?from=1&to=2")
        take(staff, "versions-diff")
        staff.goto(f"/admin/applications/{shown['approval'].application_id}")
        take(staff, "application")
        staff.goto(f"/admin/forms/{SAMPLE_KEY}/review")
        take(staff, "form-builder")
        staff.goto("/admin/reports/")
        take(staff, "reports")

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
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a busy machine is no news here
    with tempfile.TemporaryDirectory(prefix="madoguchi-screenshots-") as home:
        # The instance is built before Playwright starts: sealing runs its own asyncio loop.
        engine, shown = demo_instance(Path(home))
        try:
            with serving(engine) as base_url:
                screenshots(base_url, shown)
        finally:
            engine.database().dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
