"""Approval routes: 回議, 合議, 供覧, 差戻し, 引戻し, 代決 + 後閲, 引上げ, 却下, 取下げ — with signed records."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from engine.errors import BadInput, Conflict, PermissionRefused
from engine.store.models import DecisionHead, DecisionRecord, utcnow
from tests.engine.helpers import add_user, complete, show, start

BUNDLE = Path(__file__).parents[2] / "workflows" / "approval"

STAFF = {"tanaka": "tanto", "sato": "kakaricho", "suzuki": "kacho", "yamada": "bucho", "kato": "zaisei",
         "mori": "homu", "ito": "somu", "kondo": "kacho-dairi", "oda": "fukushicho"}


@pytest.fixture
def office(engine, db):
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    return engine


def drafted(engine, db, amount: int = 500_000, data: dict | None = None):
    """An application reviewed and drafted by tanaka: the route has started."""
    started = start(engine, db, "approval-test", {"amount": amount, "purpose": "商店街イベント", **(data or {})})
    (review,) = started.opened_tasks
    return complete(engine, db, review.id, "tanaka").application.id


def current(engine, db, application_id: int, kind: str | None = None) -> list:
    tasks = show(engine, db, application_id)["open_tasks"]
    return [t for t in tasks if kind is None or t["kind"] == kind]


def only(engine, db, application_id: int, kind: str = "approve") -> dict:
    (task,) = current(engine, db, application_id, kind)
    return task


def decide(engine, db, task_id: str, actor: str, decision: str, **options):
    with db.transaction() as session:
        return engine.decide(session, task_id, actor=actor, decision=decision, **options)


def decisions(engine, db, application_id: int) -> list[tuple]:
    with db.transaction() as session:
        return [(r.step.split(":", 1)[1], r.actor, r.on_behalf_of, r.decision)
                for r in engine.decisions(session, application_id)]


def absent(engine, db, user: str, substitute: str | None = None) -> None:
    now = utcnow()
    with db.transaction() as session:
        engine.add_absence(session, user, now - timedelta(hours=1), now + timedelta(days=3), substitute=substitute,
                           reason="出張")


def test_the_plan_comes_from_the_decision_table_rule_in_force(office, db):
    application_id = drafted(office, db, amount=500_000)
    (route,) = show(office, db, application_id)["approval_routes"]
    # The expired rule (課長専決（旧）) and the future one are skipped: dates decide.
    assert route["title"] == "補助金交付決定（課長専決）"
    assert [(s["kind"], s["targets"]) for s in route["plan"]] == [
        ("draft", ["user:tanaka"]), ("review", ["kakaricho"]), ("consult", ["zaisei"]), ("decide", ["kacho"])]
    assert route["position"] == 1 and route["drafter"] == "tanaka"
    bigger = drafted(office, db, amount=50_000_000)
    plan = show(office, db, bigger)["approval_routes"][0]["plan"]
    assert [s["label"] for s in plan] == ["起案", "係長", "課長", "部長", "合議", "副市長"]
    assert plan[4]["targets"] == ["zaisei", "homu"]


def test_kaigi_aigi_kyoran_to_a_decision(office, db):
    application_id = drafted(office, db)
    kyoran = only(office, db, application_id, "circulate")
    assert kyoran["candidate_groups"] == ["somu"]
    first = only(office, db, application_id)
    assert first["candidate_groups"] == ["kakaricho"] and "回議（係長）" in first["name"]
    decide(office, db, first["id"], "sato", "approve", comment="確認しました")
    consult = only(office, db, application_id, "consult")
    assert consult["candidate_groups"] == ["zaisei"] and "合議（zaisei）" in consult["name"]
    # An objection is recorded but does not stop the route: the decision-maker may still decide.
    decide(office, db, consult["id"], "kato", "object", comment="予算の残額が少ない")
    final = only(office, db, application_id)
    assert final["candidate_groups"] == ["kacho"] and "決裁（課長）" in final["name"]
    result = decide(office, db, final["id"], "suzuki", "approve", comment="合議意見を踏まえ承認")
    assert result.application.status == "approved"
    view = show(office, db, application_id)
    assert view["data"]["approval"]["outcome"] == "approved"
    assert view["data"]["approval"]["decided_by"] == "suzuki" and view["data"]["approval"]["mode"] == "normal"
    # 供覧 blocked nothing; it can still be acknowledged after the end.
    assert current(office, db, application_id, "circulate") == [kyoran]
    decide(office, db, kyoran["id"], "ito", "acknowledge")
    assert current(office, db, application_id) == []
    assert decisions(office, db, application_id) == [
        ("起案", "tanaka", None, "draft"), ("係長", "sato", None, "approve"),
        ("合議/zaisei", "kato", None, "object"), ("課長", "suzuki", None, "approve"),
        ("供覧", "ito", None, "acknowledge")]
    with db.transaction() as session:
        assert office.verify_audit(session) == []


def test_each_record_hashes_exactly_what_was_approved(office, db):
    application_id = drafted(office, db, data={"plan": {"name": "事業計画書.pdf", "sha256": "ab" * 32}})
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    with db.transaction() as session:
        draft, approve = office.decisions(session, application_id)
    from engine.approvals.records import approved_content_hash

    with db.transaction() as session:
        data = {k: v for k, v in office.show(session, application_id).data.items() if not k.startswith("_")}
    assert approve.content_hash == draft.content_hash
    expected = approved_content_hash({k: v for k, v in data.items() if k != "approval"},
                                     [{"name": "事業計画書.pdf", "sha256": "ab" * 32}])
    assert approve.content_hash == expected
    assert approve.prev_hash == draft.hash


def test_return_to_the_drafter_and_resubmit_continue_the_same_application(office, db):
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    final = only(office, db, application_id)
    with pytest.raises(BadInput, match="reason"):
        decide(office, db, final["id"], "suzuki", "return", to="drafter")
    decide(office, db, final["id"], "suzuki", "return", to="drafter", comment="金額の根拠を添付してください")
    resubmit = only(office, db, application_id, "resubmit")
    assert resubmit["candidate_users"] == ["tanaka"]
    decide(office, db, resubmit["id"], "tanaka", "resubmit", data={"amount": 450_000}, comment="見積書を追加")
    again = only(office, db, application_id)
    assert again["candidate_groups"] == ["kakaricho"]
    view = show(office, db, application_id)
    assert view["id"] == application_id and view["approval_routes"][0]["position"] == 1
    changed = [e for e in view["history"] if e["action"] == "application_data_changed"]
    assert changed[0]["details"] == {"changed": ["amount"]}
    records = decisions(office, db, application_id)
    assert records[-2:] == [("課長", "suzuki", None, "return"), ("起案", "tanaka", None, "resubmit")]
    with db.transaction() as session:
        chain = office.decisions(session, application_id)
    assert chain[-1].content_hash != chain[-2].content_hash  # the data changed, so did what is approved
    decide(office, db, again["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    result = decide(office, db, only(office, db, application_id)["id"], "suzuki", "approve")
    assert result.application.status == "approved"
    assert show(office, db, application_id)["data"]["amount"] == 450_000


def test_return_to_any_earlier_step(office, db):
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    final = only(office, db, application_id)
    with pytest.raises(BadInput, match="earlier step"):
        decide(office, db, final["id"], "suzuki", "return", to=3, comment="x")
    decide(office, db, final["id"], "suzuki", "return", to=1, comment="係長の確認をやり直してください")
    assert only(office, db, application_id)["candidate_groups"] == ["kakaricho"]
    assert current(office, db, application_id, "consult") == []


def test_recall_before_the_next_acts_and_not_after(office, db):
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    with db.transaction() as session, pytest.raises(PermissionRefused, match="sato"):
        office.recall(session, application_id, actor="tanaka")
    with db.transaction() as session:
        office.recall(session, application_id, actor="sato")
    back = only(office, db, application_id)
    assert back["candidate_users"] == ["sato"] and current(office, db, application_id, "consult") == []
    assert decisions(office, db, application_id)[-1] == ("係長", "sato", None, "recall")
    decide(office, db, back["id"], "sato", "approve", comment="修正して再送")
    consult = only(office, db, application_id, "consult")
    with db.transaction() as session:
        office.claim(session, consult["id"], actor="kato")
    with db.transaction() as session, pytest.raises(Conflict, match="too late"):
        office.recall(session, application_id, actor="sato")


def test_daiketsu_while_the_decision_maker_is_away_with_koetsu(office, db):
    add_user(office, db, "kondo", "kacho-dairi")
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    final = only(office, db, application_id)
    with pytest.raises(PermissionRefused):
        decide(office, db, final["id"], "kondo", "approve")  # suzuki is present: no 代決
    absent(office, db, "suzuki", substitute="kondo")
    with pytest.raises(PermissionRefused):
        decide(office, db, final["id"], "mori", "approve")  # not the designated substitute
    result = decide(office, db, final["id"], "kondo", "approve", comment="課長不在のため代決")
    assert result.application.status == "approved"
    approval = show(office, db, application_id)["data"]["approval"]
    assert approval["mode"] == "daiketsu" and approval["on_behalf_of"] == "suzuki"
    assert decisions(office, db, application_id)[-1] == ("課長", "kondo", "suzuki", "approve")
    koetsu = only(office, db, application_id, "review_after")
    assert koetsu["candidate_users"] == ["suzuki"] and "後閲（課長）" in koetsu["name"]
    decide(office, db, koetsu["id"], "suzuki", "acknowledge", comment="確認しました")
    assert decisions(office, db, application_id)[-1] == ("後閲", "suzuki", None, "acknowledge")


def test_hikiage_a_higher_approver_acts_ahead_of_an_absent_lower_one(office, db):
    application_id = drafted(office, db, amount=5_000_000)  # 係長 → 課長 → 合議 → 部長
    first = only(office, db, application_id)
    with pytest.raises(PermissionRefused):
        decide(office, db, first["id"], "suzuki", "approve")  # sato is present
    absent(office, db, "sato")
    decide(office, db, first["id"], "suzuki", "approve", comment="係長不在のため引上げ")
    assert only(office, db, application_id, "consult")["candidate_groups"] == ["zaisei"]
    assert decisions(office, db, application_id)[1:] == [
        ("係長", "suzuki", "sato", "approve_ahead"), ("課長", "suzuki", None, "approve")]
    assert only(office, db, application_id, "review_after")["candidate_users"] == ["sato"]
    # 引上げ never jumps over a consultation (合議).
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    final = only(office, db, application_id)
    assert final["candidate_groups"] == ["bucho"]


def test_reject_ends_the_route_only_at_the_deciding_level(office, db):
    application_id = drafted(office, db)
    first = only(office, db, application_id)
    with pytest.raises(BadInput, match="only the deciding level"):
        decide(office, db, first["id"], "sato", "reject", comment="不備")
    decide(office, db, first["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    result = decide(office, db, only(office, db, application_id)["id"], "suzuki", "reject", comment="要件を満たさない")
    assert result.application.status == "rejected"
    assert show(office, db, application_id)["data"]["approval"]["comment"] == "要件を満たさない"


def test_withdraw_after_a_return(office, db):
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "return", comment="起案をやり直し")
    resubmit = only(office, db, application_id, "resubmit")
    result = decide(office, db, resubmit["id"], "tanaka", "withdraw", comment="申請者から取下げの申出")
    assert result.application.status == "withdrawn"
    assert show(office, db, application_id)["approval_routes"][0]["status"] == "withdrawn"


def test_return_to_the_applicant_ends_the_route(office, db):
    application_id = drafted(office, db)
    result = decide(office, db, only(office, db, application_id)["id"], "sato", "return_to_applicant",
                    comment="添付書類が不足しています", deadline="2099-03-31")
    assert result.application.status == "returned"


def test_only_candidates_act_and_a_stale_task_is_refused(office, db):
    application_id = drafted(office, db)
    first = only(office, db, application_id)
    with pytest.raises(PermissionRefused):
        decide(office, db, first["id"], "kato", "approve")
    with pytest.raises(BadInput, match="one of approve"):
        decide(office, db, first["id"], "sato", "agree")
    decide(office, db, first["id"], "sato", "approve")
    with pytest.raises(Conflict):
        decide(office, db, first["id"], "sato", "approve")


def test_a_failed_action_leaves_nothing_behind(office, db):
    application_id = drafted(office, db)
    first = only(office, db, application_id)
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(DecisionRecord))
    with pytest.raises(BadInput):
        decide(office, db, first["id"], "sato", "return", to=7, comment="x")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DecisionRecord)) == before
    assert only(office, db, application_id)["id"] == first["id"]


def test_audit_verify_notices_a_deleted_tail_and_an_altered_decision(office, db):
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve", comment="ok")
    with db.transaction() as session:
        assert office.verify_audit(session) == []
        session.execute(delete(DecisionRecord).where(DecisionRecord.application_id == application_id,
                                                     DecisionRecord.seq == 2))
    with db.transaction() as session:
        findings = office.verify_audit(session)
    assert len(findings) == 1 and "the last 1 record(s) were deleted" in findings[0].message
    other = drafted(office, db)
    decide(office, db, only(office, db, other)["id"], "sato", "approve", comment="ok")
    with db.transaction() as session:
        session.execute(update(DecisionRecord).where(DecisionRecord.application_id == other,
                                                     DecisionRecord.seq == 2).values(decision="reject"))
    with db.transaction() as session:
        messages = [f.message for f in office.verify_audit(session)]
    assert any("altered" in m for m in messages)
    with db.transaction() as session:
        session.execute(delete(DecisionRecord).where(DecisionRecord.application_id == other))
        session.execute(delete(DecisionHead).where(DecisionHead.application_id == application_id))
    with db.transaction() as session:
        messages = [f.message for f in office.verify_audit(session)]
    assert any("has no records" in m for m in messages) and any("has no head" in m for m in messages)


def test_an_interrupting_deadline_cancels_the_route_and_its_tasks(engine, db, tmp_path):
    from tests.diagrams import chain, process, user_task
    from tests.engine.helpers import deploy_text, open_tasks
    from tests.engine.jobs.support import running_worker, service_task, timer_boundary, wait_for

    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    deploy_text(engine, db, tmp_path, process("deadline_route", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("draft", groups="tanto"),
        service_task("route", "approval_route", {"levels": '["kakaricho", "kacho"]', "circulate": '["somu"]'}),
        '<bpmn:endEvent id="decided"/>', timer_boundary("too_late", "route", "PT0.5S"),
        user_task("escalate", groups="kacho"), '<bpmn:endEvent id="escalated"/>',
        chain("s", "draft", "route", "decided"), chain("too_late", "escalate", "escalated")])))
    started = start(engine, db, "deadline_route", {})
    with running_worker(engine, db):
        complete(engine, db, started.opened_tasks[0].id, "tanaka")
        application_id = started.application.id
        wait_for(lambda: [t.name for t in open_tasks(engine, db, application_id) if t.kind == "task"] == ["escalate"],
                 timeout=15, what="the deadline")
    view = show(engine, db, application_id)
    assert view["approval_routes"][0]["status"] == "cancelled"
    kinds = sorted(t["kind"] for t in view["open_tasks"])
    assert kinds == ["circulate", "task"]  # 供覧 blocks nothing and stays; the approver's task is gone


def test_daiketsu_on_a_task_the_absent_decision_maker_had_claimed(office, db):
    add_user(office, db, "kondo", "kacho-dairi")
    application_id = drafted(office, db)
    decide(office, db, only(office, db, application_id)["id"], "sato", "approve")
    decide(office, db, only(office, db, application_id, "consult")["id"], "kato", "agree")
    final = only(office, db, application_id)
    with db.transaction() as session:
        office.claim(session, final["id"], actor="suzuki")
    with pytest.raises(PermissionRefused, match="claimed by suzuki"):
        decide(office, db, final["id"], "kondo", "approve")
    absent(office, db, "suzuki", substitute="kondo")
    with pytest.raises(PermissionRefused):
        decide(office, db, final["id"], "sato", "approve")  # not the substitute
    result = decide(office, db, final["id"], "kondo", "approve", comment="出張中につき代決")
    assert result.application.status == "approved"
    assert decisions(office, db, application_id)[-1] == ("課長", "kondo", "suzuki", "approve")
