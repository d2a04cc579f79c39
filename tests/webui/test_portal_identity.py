"""Signing a submission with JPKI in the portal: the signing page, the development card, a
signature pasted from a card-reader app, and the reasons a signature is refused. The
signatures are checked by the JPKI plugin's real verifier against the development CA."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from engine.applicant_signing import signed_bytes
from tests.webui.portal_apply_support import page
from tests.webui.portal_pay_sign_support import (
    ANSWERS,
    SIGNED,
    deploy_both,
    send,
    sign,
    signed_in_applicant,
    trusted_signer,
)

DATA = {"copies": 2, "purpose": "就職手続き"}


@pytest.fixture
def signer(settings, monkeypatch):
    return trusted_signer(settings.home, monkeypatch)


@pytest.fixture
def applicant(engine, db, client, signer) -> int:
    deploy_both(engine, db)
    return signed_in_applicant(engine, db, client)


def filed(engine, db, applicant_id: int) -> list:
    with db.transaction() as session:
        return engine.applicant_applications(session, applicant_id)


def test_send_leads_to_the_signing_page_with_the_exact_text(client, applicant):
    response = send(client, SIGNED)
    html = page(response)
    assert response.status_code == 200
    assert 'name="action" value="development"' in html and 'name="signature"' in html
    # The text shown for the card-reader app is the canonical form the verifier checks.
    assert '{&#34;attachments&#34;:[],&#34;data&#34;:{&#34;copies&#34;:2' in html


def test_the_development_card_signs_and_the_signer_is_recorded(engine, db, client, applicant, signer):
    response = sign(client, SIGNED, action="development")
    [application] = filed(engine, db, applicant)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/applications/{application.reference}/payment")
    with db.transaction() as session:
        identity = engine.show(session, application.id).data["identity"]
    certificate, _key = signer.card(applicant, "山田 花子")
    assert int(identity["serial_number"], 16) == certificate.serial_number
    assert identity["method"] == "jpki" and identity["development"] is True and "山田 花子" in identity["subject"]


def test_a_signature_from_a_card_reader_app_is_accepted(engine, db, client, applicant, signer):
    certificate, key = signer.issue("山田 花子")
    signature = base64.b64encode(signer.sign(signed_bytes(SIGNED, DATA), certificate, key)).decode()
    response = sign(client, SIGNED, action="signature", signature=signature[:40] + "\n" + signature[40:])
    assert response.status_code == 302
    [application] = filed(engine, db, applicant)
    with db.transaction() as session:
        identity = engine.show(session, application.id).data["identity"]
    assert int(identity["serial_number"], 16) == certificate.serial_number and identity["development"] is True


@pytest.mark.parametrize(("case", "reason"), [
    ("tampered", "署名された内容と提出された内容が一致しません"),
    ("expired", "有効期限"),
    ("login", "署名用の電子証明書ではありません"),
    ("revoked", "失効しています"),
    ("garbage", "Base64形式ではありません"),
    ("empty", "署名が入力されていません"),
])
def test_a_refused_signature_names_its_reason_and_files_nothing(engine, db, client, applicant, signer, case, reason):
    now = datetime.now(UTC)
    if case == "expired":
        certificate, key = signer.issue("山田 花子", valid_from=now - timedelta(days=30),
                                        valid_until=now - timedelta(days=1))
    elif case == "login":
        certificate, key = signer.issue("山田 花子", usage="login")
    else:
        certificate, key = signer.issue("山田 花子")
    if case == "revoked":
        signer.revoke(certificate)
    signed = {**DATA, "copies": 3} if case == "tampered" else DATA
    signature = base64.b64encode(signer.sign(signed_bytes(SIGNED, signed), certificate, key)).decode()
    signature = {"garbage": "not base64 at all!", "empty": ""}.get(case, signature)
    response = sign(client, SIGNED, action="signature", signature=signature)
    assert response.status_code == 422
    html = page(response)
    assert reason in html and 'role="alert"' in html
    assert filed(engine, db, applicant) == []


def test_changed_hidden_answers_go_back_to_the_form(engine, db, client, applicant):
    response = sign(client, SIGNED, {**ANSWERS, "copies": "99"}, action="development")
    assert response.status_code == 422
    assert filed(engine, db, applicant) == []


def test_no_development_card_in_production(engine, db, client, applicant, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_ENVIRONMENT", "production")
    assert 'value="development"' not in page(send(client, SIGNED))
    response = sign(client, SIGNED, action="development")
    assert response.status_code == 422 and "MADOGUCHI_ENVIRONMENT=production" in page(response)
    assert filed(engine, db, applicant) == []


def test_signing_needs_a_signed_in_applicant(engine, db, app, signer):
    deploy_both(engine, db)
    client = app.test_client()
    response = sign(client, SIGNED, action="development")
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]
