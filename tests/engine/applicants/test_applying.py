"""Applying on line, engine side: the start form read from the builder's schemas, conditional
fields decided on the server, drafts that belong to one applicant, a return answered by the
applicant on the same application, withdrawal where the procedure allows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.applicants.application_form import check, read_posted, visible_fields
from engine.errors import Conflict, NotFound
from tests.engine.applicants.support import registered_and_verified
from tests.engine.helpers import add_user, complete, open_tasks

BUNDLE = Path(__file__).parents[2] / "workflows" / "portal_apply"
KEY = "portal-apply-test"
GOOD = {"applicant_name": "山田 花子", "purpose": "new", "household": "2", "move_date": "2026-12-01",
        "contact_time": "morning", "notes": ""}


@pytest.fixture
def procedure(engine, db):
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    add_user(engine, db, "tanaka", "tanto")
    add_user(engine, db, "suzuki", "kacho")
    return KEY


def form(engine, db):
    with db.transaction() as session:
        return engine.applicant_start_form(session, KEY)


def test_the_start_form_has_the_builders_fields_in_order(engine, db, procedure):
    found = form(engine, db)
    assert [f.name for f in found.fields] == ["applicant_name", "purpose", "previous_number", "household", "has_vehicle",
                                              "vehicle_count", "move_date", "contact_time", "notes"]
    assert found.title("ja") == "転入に伴う届出" and found.title("en") == "Moving-in notification"
    assert [f.name for f in visible_fields(found, {"purpose": "new"})] == [
        "applicant_name", "purpose", "household", "has_vehicle", "move_date", "contact_time", "notes"]
    assert "previous_number" in [f.name for f in visible_fields(found, {"purpose": "renew"})]
    assert "vehicle_count" in [f.name for f in visible_fields(found, {"has_vehicle": True})]


def test_conditional_fields_are_required_only_when_shown(engine, db, procedure):
    found = form(engine, db)
    data, problems = read_posted(found, {**GOOD, "previous_number": "R-1", "vehicle_count": "2"})
    assert problems == []
    # Hidden fields' values are dropped: their conditions do not hold.
    assert data == {"applicant_name": "山田 花子", "purpose": "new", "household": 2, "has_vehicle": False,
                    "move_date": "2026-12-01", "contact_time": "morning"}
    assert check(found, data)[1] == []

    data, _ = read_posted(found, {**GOOD, "purpose": "renew", "has_vehicle": "true"})
    _, problems = check(found, data)
    assert [(p.field, p.rule) for p in problems] == [("previous_number", "required"), ("vehicle_count", "required")]


def test_types_limits_and_jis_are_checked(engine, db, procedure):
    found = form(engine, db)
    data, problems = read_posted(found, {**GOOD, "household": "二人", "applicant_name": "髙橋 ﾊﾅｺ"})
    assert [(p.field, p.rule) for p in problems] == [("household", "type")]
    data, problems = read_posted(found, {**GOOD, "household": "２１", "applicant_name": "髙橋 ﾊﾅｺ", "move_date": "12/1"})
    assert problems == [] and data["household"] == 21
    cleaned, problems = check(found, data)
    assert cleaned["applicant_name"] == "髙橋 ハナコ"
    assert [(p.field, p.rule, p.limit) for p in problems] == [
        ("applicant_name", "jis", None), ("household", "maximum", 20), ("move_date", "pattern", "^\\d{4}-\\d{2}-\\d{2}$")]
    assert [c.suggestion for c in problems[0].characters] == ["高"]


def test_drafts_belong_to_their_applicant(engine, db, procedure):
    hanako = registered_and_verified(engine, db)
    jiro = registered_and_verified(engine, db, "jiro@example.jp")
    with db.transaction() as session:
        draft_id = engine.applicant_save_draft(session, hanako, KEY, {"applicant_name": "山田"}).id
    with db.transaction() as session:
        engine.applicant_save_draft(session, hanako, KEY, {"applicant_name": "山田 花子"}, draft_id)
        assert [d.data for d in engine.applicant_drafts(session, hanako)] == [{"applicant_name": "山田 花子"}]
        assert engine.applicant_drafts(session, jiro) == []
        with pytest.raises(NotFound):
            engine.applicant_draft(session, jiro, draft_id)
        with pytest.raises(NotFound):
            engine.applicant_save_draft(session, jiro, KEY, {}, draft_id)
        with pytest.raises(NotFound):
            engine.applicant_delete_draft(session, jiro, draft_id)
    with db.transaction() as session:
        engine.applicant_delete_draft(session, hanako, draft_id)
        assert engine.applicant_drafts(session, hanako) == []


def file(engine, db, applicant_id):
    found = form(engine, db)
    data, _ = check(found, read_posted(found, GOOD)[0])
    with db.transaction() as session:
        return engine.applicant_file(session, KEY, applicant_id, data).application


def return_to_applicant(engine, db, application_id, reason="世帯人数を確認してください"):
    [review] = [t for t in open_tasks(engine, db, application_id) if t.element_id == "review"]
    complete(engine, db, review.id, "tanaka")
    [approve] = [t for t in open_tasks(engine, db, application_id) if t.kind == "approve"]
    with db.transaction() as session:
        engine.decide(session, approve.id, actor="suzuki", decision="return_to_applicant", comment=reason,
                      deadline="2099-03-31")


def test_a_return_is_corrected_on_the_same_application(engine, db, procedure):
    hanako = registered_and_verified(engine, db)
    jiro = registered_and_verified(engine, db, "jiro@example.jp")
    application = file(engine, db, hanako)
    with db.transaction() as session:
        assert engine.applicant_correction(session, hanako, application.id) is None
        assert engine.show(session, application.id).data["applicant"]["email"] == "hanako@example.jp"
    return_to_applicant(engine, db, application.id)
    with db.transaction() as session:
        correction = engine.applicant_correction(session, hanako, application.id)
        assert correction.reason == "世帯人数を確認してください" and correction.due_at is not None
        assert correction.data["household"] == 2
        assert engine.applicant_application(session, hanako, application.id).public_status == "returned"
        with pytest.raises(NotFound):
            engine.applicant_correction(session, jiro, application.id)
    corrected = {**correction.data, "household": 3, "contact_time": "afternoon"}
    fields = [f.name for f in form(engine, db).fields]
    with db.transaction() as session:
        engine.applicant_resubmit(session, hanako, application.id, corrected, fields)
    with db.transaction() as session:
        assert engine.applicant_correction(session, hanako, application.id) is None
        view = engine.show(session, application.id)
        assert view.data["household"] == 3
        assert engine.applicant_application(session, hanako, application.id).public_status == "in_progress"
        [resubmission] = engine.applicant_resubmissions(session, hanako, application.id)
        assert [(c.field, c.before, c.after) for c in resubmission.changes] == [
            ("household", 2, 3), ("contact_time", "morning", "afternoon")]
        with pytest.raises(Conflict):
            engine.applicant_resubmit(session, hanako, application.id, corrected, fields)
    # The same application goes through the route again.
    assert [t.kind for t in open_tasks(engine, db, application.id)] == ["approve"]


def test_withdrawal_ends_the_application(engine, db, procedure):
    hanako = registered_and_verified(engine, db)
    jiro = registered_and_verified(engine, db, "jiro@example.jp")
    application = file(engine, db, hanako)
    with db.transaction() as session:
        assert engine.applicant_can_withdraw(session, hanako, application.id)
        with pytest.raises(NotFound):
            engine.applicant_withdraw(session, jiro, application.id, "間違えました")
    with db.transaction() as session:
        engine.applicant_withdraw(session, hanako, application.id, "転入を取りやめました")
    with db.transaction() as session:
        ended = engine.application(session, application.id)
        assert ended.status == "withdrawn" and ended.completed_at is not None
        assert engine.applicant_application(session, hanako, application.id).public_status == "withdrawn"
        assert not engine.applicant_can_withdraw(session, hanako, application.id)
        assert "application_withdrawn" in [e.action for e in engine.show(session, application.id).history]
    assert open_tasks(engine, db, application.id) == []
