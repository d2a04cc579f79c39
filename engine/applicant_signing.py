"""Signing a submission with JPKI: the exact bytes the applicant signs, and filing a signed one.

What is signed is the canonical JSON (RFC 8785, the form the JPKI plugin verifies; see
plugins/jpki/canonical.py) of ``{"procedure": key, "data": answers, "attachments": [...]}``,
where ``attachments`` lists every attachment's place in the answers and its SHA-256 — so the
signature covers the files too, not only their names. The applicant's card-reader app (or,
for the demo, :mod:`engine.jpki_development_signer`) signs those bytes; the signature is
checked by the ``jpki`` identity verifier before the application is started, and the
certificate's serial number, subject and issuer are kept in the application data as
``identity`` (the resident-records connector looks residents up by the JPKI serial).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.errors import BadInput
from engine.identity_checks import VerificationContext, verify_identity
from engine.jpki_development_signer import DevelopmentSigner, DevelopmentSignerRefused

#: The identity verifier that checks JPKI signatures (plugins/jpki).
VERIFIER = "jpki"
#: Where the verified signer goes in the application data.
IDENTITY_FIELD = "identity"


class SignatureRefused(BadInput):
    """The signature does not prove that the applicant signed this submission; nothing was filed."""

    def __init__(self, code: str, reason: str, reason_ja: str):
        super().__init__(f"the signature was refused: {reason}")
        self.code, self.reason, self.reason_ja = code, reason, reason_ja


def attachment_hashes(data, path: str = "") -> list[dict]:
    """Every attachment in the answers (an object with a ``sha256``), with where it sits."""
    found: list[dict] = []
    if isinstance(data, dict):
        if isinstance(data.get("sha256"), str):
            found.append({"field": path, "sha256": data["sha256"]})
        for name in sorted(data):
            found.extend(attachment_hashes(data[name], f"{path}/{name}" if path else name))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(attachment_hashes(item, f"{path}/{index}"))
    return found


def signed_bytes(key: str, data: dict) -> bytes:
    """The bytes the applicant signs for submitting ``data`` to procedure ``key``."""
    from plugins.jpki.canonical import CanonicalFormError, canonical_bytes  # the verifier's own form

    answers = {name: value for name, value in data.items() if name != IDENTITY_FIELD}
    try:
        return canonical_bytes({"procedure": key, "data": answers, "attachments": attachment_hashes(answers)})
    except CanonicalFormError as exc:
        raise BadInput(f"the answers cannot be signed: {exc}") from None


def development_signature(engine, applicant_id: int, holder: str, key: str, data: dict) -> bytes:
    """DEVELOPMENT ONLY: sign the submission with the demo applicant's development card."""
    signer = DevelopmentSigner(engine.settings.home)
    signer.ensure_ca()
    trusted = str(engine.plugin_settings("plugins.jpki").get("trust_anchors") or "")
    if str(signer.ca_path) not in trusted:
        raise DevelopmentSignerRefused(
            f"the JPKI check does not trust the development CA: set MADOGUCHI_JPKI_TRUST_ANCHORS={signer.ca_path} "
            f"and MADOGUCHI_JPKI_CRL_DIR={signer.crl_dir} (development only)")
    certificate, private_key = signer.card(applicant_id, holder)
    return signer.sign(signed_bytes(key, data), certificate, private_key)


def verified_identity(engine, key: str, data: dict, signature: bytes) -> dict:
    """Check ``signature`` over the submission; the signer's identity, or SignatureRefused."""
    if not signature:
        raise SignatureRefused("no_signature", "no signature was submitted", "署名が提出されていません")
    result = verify_identity(engine, VERIFIER, signed_bytes(key, data), signature, VerificationContext.now())
    details = result.details or {}
    if not result.valid:
        raise SignatureRefused(str(details.get("code") or "invalid"), result.reason,
                               str(details.get("reason_ja") or result.reason))
    found = result.as_dict()
    return {"method": VERIFIER, "serial_number": found["serial_number"], "subject": found["subject"],
            "issuer": found["issuer"], "not_after": found["not_after"], "verified_at": found["details"].get("validation_time"),
            "development": "DEVELOPMENT ONLY" in (found["issuer"] or "")}


def file_signed(engine, session: Session, key: str, applicant_id: int, data: dict, signature: bytes):
    """Verify the applicant's signature over ``data``, then file it with the signer recorded."""
    identity = verified_identity(engine, key, data, signature)
    return engine.applicant_file(session, key, applicant_id, {**data, IDENTITY_FIELD: identity})
