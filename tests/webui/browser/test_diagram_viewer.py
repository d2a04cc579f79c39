"""The application's diagram in the browser: a procedure written without drawing information
gets a generated layout that the vendored bpmn-js viewer draws, with the current step marked
(and named in words) and the finished steps and the path taken marked differently."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from engine.cli.demo import SAMPLE_DATA, SAMPLE_KEY
from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff

SAMPLES = Path(__file__).parents[3] / "workflows"
APPROVAL = Path(__file__).parents[2] / "workflows" / "approval"


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _drawn(page):
    diagram = page.locator(".bpmn-diagram")
    expect(diagram).to_have_attribute("data-diagram-ready", "true")
    return diagram


def test_the_admin_page_draws_the_sample_procedure_with_its_position(engine, db, page):
    add_staff(engine, db, "root", "admin")
    with db.transaction() as session:
        engine.deploy(session, SAMPLES / SAMPLE_KEY)
        application = engine.start(session, SAMPLE_KEY, data=SAMPLE_DATA, actor="portal").application
    errors = _watch_console(page)
    sign_in_as(page, "root")
    page.goto(f"/admin/applications/{application.id}")
    diagram = _drawn(page)
    assert diagram.get_attribute("data-import-warnings") == "0"
    # every flow node and flow of the process is drawn (the file has no BPMNDI of its own)
    drawn = page.evaluate("""() => Array.from(document.querySelectorAll('.bpmn-diagram [data-element-id]'))
        .map(e => e.getAttribute('data-element-id'))""")
    assert {"received", "review", "approve"} <= set(drawn)
    active = diagram.locator('.djs-element.madoguchi-active[data-element-id="review"]')
    expect(active).to_have_count(1)
    expect(diagram.locator('.djs-element.madoguchi-done[data-element-id="received"]')).to_have_count(1)
    expect(diagram.locator(".djs-element.madoguchi-taken")).not_to_have_count(0)
    # not by colour alone: a text badge on the drawing and the step named in the legend
    expect(diagram.locator(".djs-overlay .madoguchi-badge").first).to_be_visible()
    expect(diagram.locator(".djs-overlay .madoguchi-badge", has_text="現在")).to_have_count(1)
    expect(page.locator(".bpmn-diagram-names")).to_have_text("内容審査")
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the licence's watermark stays shown
    check_accessibility(page)
    assert errors == []


def test_a_gateway_with_several_ends_is_drawn(engine, db, page):
    """A second diagram shape: gateway, several end events, an engine-run approval step."""
    add_staff(engine, db, "root", "admin")
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
        application = engine.start(session, "approval-test", data={"amount": 500_000}, actor="portal").application
    errors = _watch_console(page)
    sign_in_as(page, "root")
    page.goto(f"/admin/applications/{application.id}")
    diagram = _drawn(page)
    assert diagram.get_attribute("data-import-warnings") == "0"
    for element in ("outcome", "approved", "rejected", "withdrawn", "returned", "to_rejected"):
        expect(diagram.locator(f'[data-element-id="{element}"]')).to_have_count(1)
    expect(diagram.locator('.madoguchi-active[data-element-id="review"]')).to_have_count(1)
    assert errors == []


def test_a_loop_a_boundary_event_and_a_sub_process_import_cleanly(engine, db, page, tmp_path):
    from tests.diagrams import chain, flow, process, user_task
    from tests.engine.helpers import deploy_text

    body = "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:subProcess id="inner" name="審査"><bpmn:startEvent id="is"/>' + user_task("check", "書類確認")
        + '<bpmn:endEvent id="ie"/>' + chain("is", "check", "ie") + '</bpmn:subProcess>',
        '<bpmn:boundaryEvent id="late" attachedToRef="inner"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        '<bpmn:exclusiveGateway id="ok" name="不備"/>', user_task("fix", "補正"), '<bpmn:endEvent id="e"/>',
        '<bpmn:endEvent id="expired"/>', chain("s", "inner", "ok"), flow("yes", "ok", "e", "True"),
        flow("no", "ok", "fix", "False"), flow("again", "fix", "inner"), flow("to_expired", "late", "expired")])
    deploy_text(engine, db, tmp_path, process("nested", body))
    add_staff(engine, db, "root", "admin")
    with db.transaction() as session:
        application = engine.start(session, "nested", actor="portal").application
    errors = _watch_console(page)
    sign_in_as(page, "root")
    page.goto(f"/admin/applications/{application.id}")
    diagram = _drawn(page)
    assert diagram.get_attribute("data-import-warnings") == "0"
    for element in ("inner", "late", "ok", "fix", "again", "to_expired"):
        expect(diagram.locator(f'[data-element-id="{element}"]')).to_have_count(1)
    # the position is inside the collapsed sub-process: marked on it, and on the task in its own
    # plane, which the viewer's drill-down opens; named in words either way
    expect(diagram.locator('.madoguchi-active[data-element-id="inner"]')).to_have_count(1)
    diagram.locator(".bjs-drilldown").click()
    expect(diagram.locator('.madoguchi-active[data-element-id="check"]')).to_be_visible()
    expect(page.locator(".bpmn-diagram-names")).to_contain_text("書類確認")
    assert errors == []
