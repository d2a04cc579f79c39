"""Shared steps of the portal's signing and payment tests: the two test procedures, the
development signer trusted by the JPKI check, applying as a signed-in applicant."""

from __future__ import annotations

from pathlib import Path

from engine.jpki_development_signer import DevelopmentSigner
from tests.webui.conftest import csrf_of
from tests.webui.portal_apply_support import add_applicant, applicant_sign_in

BUNDLES = Path(__file__).parents[1] / "workflows" / "portal_pay_sign"
SIGNED = "portal-signed-fee-test"  # identity jpki, 300 yen at submission
AFTER = "portal-after-fee-test"  # identity account, the fee fixed in review (事後決済)
ANSWERS = {"copies": "2", "purpose": "就職手続き"}


def trusted_signer(home: Path, monkeypatch) -> DevelopmentSigner:
    """The development signer under ``home``, trusted by the JPKI plugin (as the demo sets it up)."""
    monkeypatch.delenv("MADOGUCHI_ENVIRONMENT", raising=False)
    signer = DevelopmentSigner(home)
    signer.ensure_ca()
    monkeypatch.setenv("MADOGUCHI_JPKI_TRUST_ANCHORS", str(signer.ca_path))
    monkeypatch.setenv("MADOGUCHI_JPKI_CRL_DIR", str(signer.crl_dir))
    return signer


def deploy_both(engine, db) -> None:
    with db.transaction() as session:
        engine.deploy(session, BUNDLES / "at_submission")
        engine.deploy(session, BUNDLES / "after_review")
        engine.add_user(session, "clerk", groups=["clerks"])


def signed_in_applicant(engine, db, client, email: str = "hanako@example.jp") -> int:
    applicant_id = add_applicant(engine, db, email=email)
    applicant_sign_in(client, email)
    return applicant_id


def send(client, key: str, answers: dict | None = None, action: str = "submit"):
    """Post the answers with "Send" on the confirmation page of procedure ``key``."""
    return client.post(f"/procedures/{key}/apply",
                       data={**(answers or ANSWERS), "action": action, "csrf_token": csrf_of(client, "/")})


def sign(client, key: str, answers: dict | None = None, **fields):
    return client.post(f"/procedures/{key}/apply/sign",
                       data={**(answers or ANSWERS), **fields, "csrf_token": csrf_of(client, "/")})
