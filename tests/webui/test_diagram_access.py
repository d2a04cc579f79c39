"""Who may read an application's diagram JSON: admins, and staff who may see one of its tasks
(open or done) or manage a group one is offered to. Everyone else gets 404, as for an
application that does not exist, so ids cannot be probed."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import complete, open_tasks, start
from tests.webui.conftest import add_staff, sign_in

APPROVAL = Path(__file__).parents[1] / "workflows" / "approval"


def diagram(client, application_id: int):
    return client.get(f"/diagram/applications/{application_id}.json")


def signed_in(app, name: str):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    return client


def test_only_those_who_may_see_a_task_read_the_diagram(engine, db, app):
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
    for name, group in {"tanaka": "tanto", "mori": "homu", "admin1": "admin", "boss": "somu"}.items():
        add_staff(engine, db, name, group)
    with db.transaction() as session:
        engine.add_group_manager(session, "tanto", "boss")
    application = start(engine, db, "approval-test", {"amount": 500_000}).application
    clerk, outsider, admin, manager = (signed_in(app, n) for n in ("tanaka", "mori", "admin1", "boss"))

    assert diagram(clerk, application.id).status_code == 200  # a candidate of the open review
    assert diagram(admin, application.id).status_code == 200
    assert diagram(manager, application.id).status_code == 200  # manages the group it is offered to
    refused = diagram(outsider, application.id)
    unknown = diagram(outsider, 999_999)
    assert refused.status_code == unknown.status_code == 404
    assert "xml" not in refused.get_data(as_text=True)

    # a done task still counts: the route's tasks now wait on others, the clerk's review is closed
    [review] = open_tasks(engine, db, application.id)
    complete(engine, db, review.id, "tanaka")
    assert diagram(clerk, application.id).status_code == 200
    assert diagram(outsider, application.id).status_code == 404


def test_may_see_application_in_the_engine(engine, db):
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
    add_staff(engine, db, "tanaka", "tanto")
    add_staff(engine, db, "kato", "zaisei")
    application = start(engine, db, "approval-test", {"amount": 1}).application
    with db.transaction() as session:
        assert engine.may_see_application(session, application.id, "tanaka")
        assert not engine.may_see_application(session, application.id, "kato")
        assert not engine.may_see_application(session, 999_999, "tanaka")
