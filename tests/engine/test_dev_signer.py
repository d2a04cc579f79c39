"""The development signer (a stand-in for the applicant's My Number card) and the signed
submission: signatures it makes pass the JPKI plugin's real checks, and each way a
signature can be wrong is refused with its reason. Also what a procedure asks of the
applicant at submission (identity level, fee)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.applicant_signing import SignatureRefused, attachment_hashes, signed_bytes, verified_identity
from engine.errors import BadInput
from engine.jpki_development_signer import DEVELOPMENT_LABEL, DevelopmentSigner, DevelopmentSignerRefused
from engine.submission_requirements import fee_of

BUNDLES = Path(__file__).parents[1] / "workflows" / "portal_pay_sign"
KEY = "portal-signed-fee-test"
DATA = {"copies": 2, "purpose": "就職手続き", "attachment": {"name": "本人確認.pdf", "sha256": "ab" * 32}}


@pytest.fixture
def signer(settings, monkeypatch) -> DevelopmentSigner:
    """The development signer under the test's home, trusted by the JPKI check."""
    monkeypatch.delenv("MADOGUCHI_ENVIRONMENT", raising=False)
    signer = DevelopmentSigner(settings.home)
    signer.ensure_ca()
    monkeypatch.setenv("MADOGUCHI_JPKI_TRUST_ANCHORS", str(signer.ca_path))
    monkeypatch.setenv("MADOGUCHI_JPKI_CRL_DIR", str(signer.crl_dir))
    return signer


def test_refused_in_production(settings, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_ENVIRONMENT", "production")
    with pytest.raises(DevelopmentSignerRefused, match="MADOGUCHI_ENVIRONMENT=production"):
        DevelopmentSigner(settings.home)
    assert not (settings.home / "jpki-development-signer").exists()


def test_ca_and_cards_are_made_on_demand_and_kept(signer, settings):
    assert signer.ca_path.is_relative_to(settings.home)
    first, _key = signer.card(1, "山田 花子")
    again, _key = signer.card(1, "山田 花子")
    other, _key = signer.card(2, "鈴木 一郎")
    assert first.serial_number == again.serial_number != other.serial_number
    assert DEVELOPMENT_LABEL in first.subject.rfc4514_string()
    assert (signer.directory / "applicants" / "1" / "signer.key").stat().st_mode & 0o077 == 0


def test_a_development_signature_passes_the_jpki_checks(engine, signer):
    certificate, key = signer.card(7, "山田 花子")
    identity = verified_identity(engine, KEY, DATA, signer.sign(signed_bytes(KEY, DATA), certificate, key))
    assert int(identity["serial_number"], 16) == certificate.serial_number
    assert "山田 花子" in identity["subject"] and identity["development"] is True


def test_the_signed_bytes_cover_the_attachments_and_not_the_identity(signer):
    assert attachment_hashes(DATA) == [{"field": "attachment", "sha256": "ab" * 32}]
    assert signed_bytes(KEY, DATA) == signed_bytes(KEY, {**DATA, "identity": {"serial_number": "01"}})
    assert signed_bytes(KEY, DATA) != signed_bytes(KEY, {**DATA, "attachment": {"sha256": "cd" * 32}})
    assert b'"sha256":"' + b"ab" * 32 in signed_bytes(KEY, DATA)


@pytest.mark.parametrize(("case", "code", "words"), [
    ("tampered", "tampered", "does not match"),
    ("expired", "expired", "expired"),
    ("login_certificate", "key_usage", "not for signatures"),
    ("revoked", "revoked", "revoked"),
    ("empty", "no_signature", "no signature"),
])
def test_each_bad_signature_is_refused_with_its_reason(engine, signer, case, code, words):
    now = datetime.now(UTC)
    if case == "expired":
        certificate, key = signer.issue("期限切れ", valid_from=now - timedelta(days=400),
                                        valid_until=now - timedelta(days=1))
    elif case == "login_certificate":
        certificate, key = signer.issue("利用者証明用", usage="login")
    else:
        certificate, key = signer.card(3, "山田 花子")
    if case == "revoked":
        signer.revoke(certificate)
    signed = {**DATA, "copies": 3} if case == "tampered" else DATA
    signature = b"" if case == "empty" else signer.sign(signed_bytes(KEY, signed), certificate, key)
    with pytest.raises(SignatureRefused) as refused:
        verified_identity(engine, KEY, DATA, signature)
    assert refused.value.code == code
    assert words in refused.value.reason and refused.value.reason_ja


def test_the_development_card_needs_the_jpki_check_to_trust_it(engine, db, settings, monkeypatch):
    monkeypatch.delenv("MADOGUCHI_JPKI_TRUST_ANCHORS", raising=False)
    with db.transaction() as session:
        engine.deploy(session, BUNDLES / "at_submission")
        applicant = engine.add_applicant(session, email="hanako@example.jp", password="hanako-password-1",
                                         kind="individual", profile={"name": "山田 花子"})
    with db.transaction() as session, pytest.raises(DevelopmentSignerRefused, match="MADOGUCHI_JPKI_TRUST_ANCHORS="):
        engine.applicant_development_signature(session, applicant.id, KEY, DATA)


def test_a_signed_submission_is_filed_with_the_signer(engine, db, signer):
    with db.transaction() as session:
        engine.deploy(session, BUNDLES / "at_submission")
        applicant = engine.add_applicant(session, email="hanako@example.jp", password="hanako-password-1",
                                         kind="individual", profile={"name": "山田 花子"})
    with db.transaction() as session:
        signature = engine.applicant_development_signature(session, applicant.id, KEY, DATA)
        result = engine.applicant_file_signed(session, KEY, applicant.id, DATA, signature)
        identity = engine.show(session, result.application.id).data["identity"]
    certificate, _key = signer.card(applicant.id, "山田 花子")
    assert int(identity["serial_number"], 16) == certificate.serial_number
    with db.transaction() as session, pytest.raises(SignatureRefused):
        engine.applicant_file_signed(session, KEY, applicant.id, {**DATA, "copies": 9}, signature)
    with db.transaction() as session:
        assert engine.applicant_application_count(session, applicant.id) == 1


def test_submission_requirements(engine, db):
    with db.transaction() as session:
        engine.deploy(session, BUNDLES / "at_submission")
        engine.deploy(session, BUNDLES / "after_review")
        assert engine.submission_requirements(session, KEY) == {
            "identity": "jpki", "fee": {"amount": 300, "when": "submission"}}
        assert engine.submission_requirements(session, "portal-after-fee-test") == {
            "identity": "account", "fee": {"amount": None, "when": "after_review"}}


@pytest.mark.parametrize(("section", "words"), [
    ({"when": "later"}, "when = 'later'"),
    ({"amount": -5}, "amount = -5"),
    ({"when": "submission"}, "needs amount"),
    ("300", "must be a table"),
])
def test_a_wrong_payment_section_is_named(section, words):
    with pytest.raises(BadInput, match=words):
        fee_of({"payment": section}, "x")
    assert fee_of({}, "x") == {"amount": None, "when": None}
