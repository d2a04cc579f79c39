"""Applicant accounts in the engine: registration, one-time links, sign-in, reset, profile, prefill."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.applicants.profile import ProfileInvalid
from engine.store.models import AuditEvent, utcnow
from engine.store.models_applicants import Applicant, ApplicantToken
from tests.engine.applicants.support import (
    BUSINESS,
    PASSWORD,
    link,
    mails,
    register,
    registered_and_verified,
    token_in,
)


def authenticate(engine, db, email, password):
    with db.transaction() as session:
        return engine.authenticate_applicant(session, email, password)


def verify(engine, db, token):
    with db.transaction() as session:
        return engine.verify_applicant_email(session, token)


def test_registration_queues_a_verification_mail_and_the_link_confirms_once(engine, db):
    register(engine, db, "Hanako@Example.JP")
    [mail] = mails(db)
    assert (mail["recipient"], mail["template"], mail["language"]) == ("hanako@example.jp", "account_verification", "ja")
    assert mail["data"]["applicant_name"] == "山田 花子" and mail["data"]["valid_hours"] == 24
    account = authenticate(engine, db, "hanako@example.jp", PASSWORD)
    assert account is not None and not account.verified

    token = token_in(mail)
    assert verify(engine, db, token).verified
    assert verify(engine, db, token) is None  # single use
    with db.transaction() as session:
        # Only a digest of the link is kept.
        assert session.scalars(select(ApplicantToken.token_hash)).one() != token


def test_an_expired_link_does_not_confirm(engine, db):
    register(engine, db)
    token = token_in(mails(db)[0])
    with db.transaction() as session:
        session.execute(update(ApplicantToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert verify(engine, db, token) is None
    assert not authenticate(engine, db, "hanako@example.jp", PASSWORD).verified


def test_a_new_link_replaces_the_old_one(engine, db):
    register(engine, db)
    first = token_in(mails(db)[0])
    account = authenticate(engine, db, "hanako@example.jp", PASSWORD)
    with db.transaction() as session:
        engine.resend_verification(session, account.id, verify_link=link)
    second = token_in(mails(db)[1])
    assert verify(engine, db, first) is None
    assert verify(engine, db, second).verified


def test_a_taken_address_tells_its_owner_and_nobody_else(engine, db):
    registered_and_verified(engine, db)
    register(engine, db, "hanako@example.jp", password="someone-elses-pw")
    assert [m["template"] for m in mails(db)] == ["account_verification", "account_exists"]
    assert "link" not in mails(db)[1]["data"]
    with db.transaction() as session:
        assert len(session.scalars(select(Applicant)).all()) == 1
    assert authenticate(engine, db, "hanako@example.jp", "someone-elses-pw") is None


def test_bad_registration_names_every_field(engine, db):
    with pytest.raises(ProfileInvalid) as caught:
        register(engine, db, "not-an-address", kind="business", password="short",
                 profile={**BUSINESS, "corporate_number": "7000012050003", "representative": ""})
    assert caught.value.by_field() == {"email": "invalid_email", "password": "password_too_short",
                                       "corporate_number": "invalid_corporate_number", "representative": "required"}
    assert mails(db) == []


def test_wrong_password_or_unknown_address_is_refused_alike(engine, db):
    registered_and_verified(engine, db)
    assert authenticate(engine, db, "hanako@example.jp", "wrong-password") is None
    assert authenticate(engine, db, "nobody@example.jp", PASSWORD) is None


def test_password_reset_link_sets_a_new_password_once_and_ends_sessions(engine, db):
    applicant_id = registered_and_verified(engine, db)
    with db.transaction() as session:
        before = engine.applicant(session, applicant_id).session_version
        engine.request_applicant_password_reset(session, "HANAKO@example.jp", reset_link=link)
        engine.request_applicant_password_reset(session, "nobody@example.jp", reset_link=link)
    reset_mail = mails(db)[-1]
    assert [m["template"] for m in mails(db)] == ["account_verification", "password_reset"]
    assert reset_mail["data"]["valid_minutes"] == 60
    token = token_in(reset_mail)
    with db.transaction() as session:
        assert engine.applicant_reset_link_is_usable(session, token)
        with pytest.raises(ProfileInvalid):
            engine.reset_applicant_password(session, token, "short")
    with db.transaction() as session:
        assert engine.reset_applicant_password(session, token, "a-brand-new-password").id == applicant_id
    with db.transaction() as session:
        assert engine.reset_applicant_password(session, token, "yet-another-password") is None
        assert not engine.applicant_reset_link_is_usable(session, token)
        assert engine.applicant(session, applicant_id).session_version == before + 1
    assert authenticate(engine, db, "hanako@example.jp", PASSWORD) is None
    assert authenticate(engine, db, "hanako@example.jp", "a-brand-new-password").id == applicant_id


def test_a_verification_link_is_no_reset_link(engine, db):
    register(engine, db)
    token = token_in(mails(db)[0])
    with db.transaction() as session:
        assert engine.reset_applicant_password(session, token, "a-brand-new-password") is None
    assert verify(engine, db, token).verified


def test_profile_update_and_change_password(engine, db):
    applicant_id = registered_and_verified(engine, db)
    with db.transaction() as session:
        account = engine.update_applicant_profile(session, applicant_id, {
            "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "postcode": "150-0001", "address": "神宮前1-1",
            "phone": "", "birth_date": "1985-04-01"}, language="en")
    assert (account.postcode, account.address, account.phone, account.language) == (
        "150-0001", "神宮前1-1", None, "en")
    with db.transaction() as session:
        with pytest.raises(ProfileInvalid) as caught:
            engine.change_applicant_password(session, applicant_id, "wrong", "short")
        assert caught.value.by_field() == {"current_password": "wrong_password", "new_password": "password_too_short"}
        engine.change_applicant_password(session, applicant_id, PASSWORD, "another-password-2")
    assert authenticate(engine, db, "hanako@example.jp", "another-password-2").id == applicant_id
    with db.transaction() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        changed = session.scalars(select(AuditEvent).where(AuditEvent.action == "applicant_profile_changed")).one()
    assert {"applicant_registered", "applicant_email_verified", "applicant_profile_changed",
            "applicant_password_changed"} <= set(actions)
    # Which fields changed, never their values.
    assert changed.details["changed"] == ["address", "phone", "postcode"]
    assert "神宮前" not in str(changed.details)


def test_prefill_for_an_individual_and_a_business(engine, db):
    person = registered_and_verified(engine, db)
    business = registered_and_verified(engine, db, "info@madoguchi.example.jp", kind="business", language="en")
    with db.transaction() as session:
        assert engine.applicant_prefill(session, person) == {"language": "ja", "applicant": {
            "kind": "individual", "email": "hanako@example.jp", "name": "山田 花子", "name_kana": "ヤマダ ハナコ",
            "birth_date": "1985-04-01", "postcode": "100-0001", "address": "本町1-2-3", "phone": "03-1234-5678"}}
        assert engine.applicant_prefill(session, business) == {"language": "en", "applicant": {
            "kind": "business", "email": "info@madoguchi.example.jp", "name": "株式会社窓口商事",
            "name_kana": "カブシキガイシャマドグチショウジ", "postcode": "100-0005", "address": "丸の内1-1-1",
            "phone": "03-9876-5432", "corporate_number": "7000012050002", "representative": "代表取締役 窓口 太郎",
            "contact_person": "佐藤 次郎", "contact_person_kana": "サトウ ジロウ"}}
