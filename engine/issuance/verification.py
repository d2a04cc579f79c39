"""Is this PDF a document we issued, unchanged and in force? valid / altered / revoked / unknown.

Three checks, all needed:
- the PAdES seal: intact, made with a certificate that chains to our trust roots, and
  covering the whole file — a revision appended after sealing (a white box painted over
  an address) leaves the signed bytes intact, so "the byte range verifies" is not enough;
- the register: the document id inside the file names a document we issued;
- the bytes: their SHA-256 is the one recorded when the document was issued.
Then the register says whether the document was revoked since.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.issuance.documents import document_summary
from engine.store.models import IssuedDocument

VALID, ALTERED, REVOKED, UNKNOWN = "valid", "altered", "revoked", "unknown"


@dataclass
class Verdict:
    status: str
    reasons: list[str] = field(default_factory=list)
    document: dict | None = None
    signer: str | None = None
    signed_at: str | None = None
    sha256: str | None = None

    def as_dict(self) -> dict:
        return {"status": self.status, "reasons": self.reasons, "document": self.document, "signer": self.signer,
                "signed_at": self.signed_at, "sha256": self.sha256}


def verify_pdf(engine, session: Session, pdf: bytes) -> Verdict:
    from engine.issuance.signature_check import check_signature

    sha256 = hashlib.sha256(pdf).hexdigest()
    trust = engine.issuance.trust()
    check = check_signature(pdf, trust.roots, crls=trust.crls)
    verdict = Verdict(UNKNOWN, list(check.reasons), signer=check.signer_name,
                      signed_at=check.signing_time.isoformat() if check.signing_time else None, sha256=sha256)
    document = _find(session, check.document_id, sha256)
    if document is not None:
        verdict.document = document_summary(document, engine.settings.public_url)
    if check.status == "altered":
        verdict.status = ALTERED
        return verdict
    if check.status != "valid":
        verdict.reasons.append("the seal is not one of ours, so we cannot vouch for this file")
        return verdict
    if document is None:
        verdict.reasons.append("the seal is valid, but no document with this id is in our register")
        return verdict
    if document.sha256 != sha256:
        verdict.status = ALTERED
        verdict.reasons.append("the file differs from the document as issued (SHA-256 "
                               f"{sha256[:16]}… instead of {(document.sha256 or '')[:16]}…)")
        return verdict
    if document.status == "revoked":
        verdict.status = REVOKED
        verdict.reasons.append(f"revoked on {document.revoked_at.isoformat(timespec='minutes')}: "
                               f"{document.revocation_reason}")
        return verdict
    if document.status != "issued":
        verdict.reasons.append(f"the register lists this document as {document.status}")
        return verdict
    verdict.status = VALID
    return verdict


def _find(session: Session, document_id: str | None, sha256: str) -> IssuedDocument | None:
    if document_id:
        found = session.scalars(select(IssuedDocument).where(IssuedDocument.public_id == document_id)).first()
        if found is not None:
            return found
    return session.scalars(select(IssuedDocument).where(IssuedDocument.sha256 == sha256)).first()
