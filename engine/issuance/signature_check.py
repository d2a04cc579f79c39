"""Check a sealed PDF: is it exactly what the organisation sealed, sealed by a trusted key, unchanged since?

The verdict is stricter than a byte-range check (what poppler's pdfsig does): a revision appended
after the seal leaves the signed bytes intact, so pdfsig still says "valid" when someone paints a
white box over the applicant's name in an incremental update. Here the seal must cover the whole
file and pyHanko's difference analysis must find no modification at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import ModificationLevel, PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from engine.issuance.seal import DOCUMENT_ID_KEY

#: ``valid``, ``altered``, ``untrusted``, ``revoked_certificate``, ``unsigned`` or ``invalid_file``.
STATUSES = ("valid", "altered", "untrusted", "revoked_certificate", "unsigned", "invalid_file")
KEY_USAGE = KeyUsageConstraints(key_usage={"non_repudiation"})
CACHED_CONTEXTS = 16
#: A context validates "as of" the moment it was made, so it is renewed this often.
CONTEXT_LIFETIME_SECONDS = 60.0

logger = logging.getLogger(__name__)

#: pyHanko's AdES sub-indications, in words an operator can act on.
TRUST_PROBLEMS = {
    "NO_CERTIFICATE_CHAIN_FOUND": "the seal certificate does not chain to a configured trust root",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": (
        "the seal certificate's chain to a trust root is not valid (with MADOGUCHI_SEAL_CRLS set, a CRL of "
        "every CA in the chain is needed)"),
    "TRY_LATER": "revocation information for the seal certificate is missing or out of date",
    "CHAIN_CONSTRAINTS_FAILURE": (
        "a certificate in the chain does not allow this use (key usage, basic or name constraints)"),
    "SIG_CONSTRAINTS_FAILURE": "the seal certificate lacks a required key usage (nonRepudiation)",
    "EXPIRED": "the seal certificate has expired",
    "OUT_OF_BOUNDS_NO_POE": "the seal certificate is outside its validity period",
    "OUT_OF_BOUNDS_NOT_REVOKED": "the seal certificate is outside its validity period",
    "NOT_YET_VALID": "the seal certificate is not valid yet",
    "REVOKED_CA_NO_POE": "a CA certificate in the seal's chain was revoked",
    "CRYPTO_CONSTRAINTS_FAILURE": "the seal uses an algorithm or key size that is no longer accepted",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "the seal uses an algorithm or key size that is no longer accepted",
}


@dataclass(frozen=True)
class SignatureCheck:
    status: str
    #: RFC 4514, e.g. ``CN=見本市長,O=見本市,C=JP``.
    signer_subject: str | None = None
    #: The organisation (O) of the seal certificate, else its common name.
    signer_name: str | None = None
    #: From the time-stamp token when there is one, else the time the signer claimed.
    signing_time: dt.datetime | None = None
    #: None: no time-stamp token; True: intact and from a trusted TSA; False: present but not good.
    timestamp_valid: bool | None = None
    #: The Info dictionary's /MadoguchiDocumentId, if any.
    document_id: str | None = None
    reasons: list[str] = field(default_factory=list)
    signature_count: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "valid"

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "signer_subject": self.signer_subject,
            "signer_name": self.signer_name,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "timestamp_valid": self.timestamp_valid,
            "document_id": self.document_id,
            "reasons": list(self.reasons),
            "signature_count": self.signature_count,
        }


def _as_asn1(certificate) -> asn1_x509.Certificate:
    if isinstance(certificate, asn1_x509.Certificate):
        return certificate
    if isinstance(certificate, x509.Certificate):
        return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
    if isinstance(certificate, bytes):
        return asn1_x509.Certificate.load(certificate)
    raise TypeError(f"not a certificate: {type(certificate).__name__}")


_contexts: dict[tuple, tuple[float, ValidationContext]] = {}
_contexts_lock = threading.Lock()


def validation_context(trust_roots: Sequence, crls: Iterable[bytes] = (), *,
                       now: dt.datetime | None = None) -> ValidationContext:
    """The validation context for this trust configuration, built once and reused (it is costly).

    With CRLs, revocation is checked hard: every certificate below the root needs its issuer's CRL
    among them, or it is not trusted.
    Without any, it is soft-fail: nothing is fetched (verification must not depend on the network).
    A context with an explicit ``now`` is not cached; others are renewed every minute, since a
    context judges certificates as of the moment it was made.
    """
    roots = [_as_asn1(c) for c in trust_roots]
    crl_list = [bytes(c) for c in crls]

    def build() -> ValidationContext:
        return ValidationContext(
            trust_roots=roots, crls=crl_list, allow_fetching=False, moment=now,
            # "require", not "hard-fail": pyHanko's hard-fail ignores given CRLs for a certificate that
            # declares no distribution point, so a revoked dev or self-run seal would still pass.
            revocation_mode="require" if crl_list else "soft-fail")

    if now is not None:
        return build()
    key = (tuple(r.sha256 for r in roots), tuple(hashlib.sha256(c).digest() for c in crl_list))
    with _contexts_lock:
        cached = _contexts.get(key)
        if cached is None or time.monotonic() - cached[0] > CONTEXT_LIFETIME_SECONDS:
            while len(_contexts) >= CACHED_CONTEXTS:
                _contexts.pop(next(iter(_contexts)))
            cached = _contexts[key] = (time.monotonic(), build())
        return cached[1]


def check_signature(pdf: bytes, trust_roots: Sequence, *, crls: Iterable[bytes] = (),
                    now: dt.datetime | None = None) -> SignatureCheck:
    """The verdict on ``pdf``; never raises on bad input (it says ``invalid_file``).

    Not usable inside a running event loop: use :func:`async_check_signature` there.
    """
    return asyncio.run(async_check_signature(pdf, trust_roots, crls=crls, now=now))


async def async_check_signature(pdf: bytes, trust_roots: Sequence, *, crls: Iterable[bytes] = (),
                                now: dt.datetime | None = None) -> SignatureCheck:
    # Built first and outside the guards below: a bad trust list is the caller's bug, not the file's.
    context = validation_context(trust_roots, crls, now=now)
    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:1024]):
        return SignatureCheck("invalid_file", reasons=["the file is not a PDF (no %PDF- header)"])
    try:
        reader = PdfFileReader(BytesIO(bytes(pdf)), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # a damaged file fails in many ways inside the parser
        return SignatureCheck("invalid_file", reasons=[f"the PDF cannot be read: {_short(exc)}"])
    document_id = _document_id(reader)
    if not signatures:
        return SignatureCheck("unsigned", document_id=document_id, reasons=["the PDF carries no signature"])
    if len(signatures) > 1:
        names = ", ".join(str(s.field_name) for s in signatures)
        return SignatureCheck("altered", document_id=document_id, signature_count=len(signatures), reasons=[
            f"the PDF carries {len(signatures)} signatures ({names}); an issued document carries exactly one "
            "seal, so something was signed onto it afterwards"])
    embedded = signatures[0]
    if embedded.sig_object_type != "/Sig":
        return SignatureCheck("altered", document_id=document_id, signature_count=1, reasons=[
            f"the only signature is a {embedded.sig_object_type} (a document time-stamp), not a seal"])
    try:
        status = await async_validate_pdf_signature(
            embedded, signer_validation_context=context, key_usage_settings=KEY_USAGE)
    except Exception as exc:  # a malformed signature dictionary or CMS blob
        return SignatureCheck("altered", document_id=document_id, signature_count=1, reasons=[
            f"the signature cannot be evaluated: {_short(exc)}"])
    return _verdict(status, document_id, embedded.docmdp_level)


def _verdict(status: PdfSignatureStatus, document_id: str | None, docmdp: MDPPerm | None) -> SignatureCheck:
    signer, signer_name = _signer(status.signing_cert)
    timestamp = status.timestamp_validity
    timestamp_valid = None if timestamp is None else bool(timestamp.intact and timestamp.valid and timestamp.trusted)
    signing_time = timestamp.timestamp if timestamp is not None and timestamp_valid else status.signer_reported_dt

    def result(verdict: str, *reasons: str) -> SignatureCheck:
        return SignatureCheck(verdict, signer_subject=signer, signer_name=signer_name, signing_time=signing_time,
                              timestamp_valid=timestamp_valid, document_id=document_id,
                              reasons=list(reasons), signature_count=1)

    altered = _alterations(status)
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        altered.append("the time-stamp token does not match the signature it stamps")
    if altered:
        return result("altered", *altered)
    if status.revoked:
        details = status.revocation_details
        when = f" on {details.revocation_date:%Y-%m-%d}" if details is not None else ""
        return result("revoked_certificate", f"the seal certificate was revoked{when}")
    untrusted = _trust_problems(status, signing_time)
    if timestamp is not None and not timestamp.trusted:
        untrusted.append("the time-stamp authority does not chain to a configured trust root")
    if untrusted:
        return result("untrusted", *untrusted)
    reasons = ["the signature is intact and covers the whole file, with nothing appended after it",
               "the seal certificate chains to a configured trust root"]
    if docmdp is not None:
        reasons.append(f"the document was certified (DocMDP {docmdp.name}) and the certification holds")
    if timestamp_valid:
        reasons.append("the signing time comes from a trusted time-stamp token")
    return result("valid", *reasons)


def _alterations(status: PdfSignatureStatus) -> list[str]:
    problems = []
    if not status.intact:
        problems.append("digest mismatch: bytes covered by the signature were changed after sealing")
    elif not status.valid:
        problems.append("the cryptographic signature does not verify against the seal certificate")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("the signature does not cover the whole file: content was appended after sealing "
                        f"(coverage {status.coverage.name if status.coverage else 'unknown'})")
    level = status.modification_level
    if level is not None and level != ModificationLevel.NONE:
        problems.append(f"the document was modified after sealing (modification level {level.name})")
    if status.docmdp_ok is False:
        problems.append("the changes made after sealing break the certification's no-changes rule (DocMDP)")
    return problems


def _trust_problems(status: PdfSignatureStatus, signing_time: dt.datetime | None) -> list[str]:
    problems = []
    if not status.trusted:
        indication = status.trust_problem_indic.name if status.trust_problem_indic else "GENERIC"
        explanation = TRUST_PROBLEMS.get(indication, "the seal certificate is not trusted")
        problems.append(f"{explanation} ({indication})")
    certificate = status.signing_cert
    if certificate is not None:
        key_usage = certificate.key_usage_value.native if certificate.key_usage_value is not None else set()
        if "non_repudiation" not in key_usage:
            problems.append("the seal certificate lacks the nonRepudiation key usage that a seal requires")
    if certificate is not None and signing_time is not None:
        validity = certificate["tbs_certificate"]["validity"]
        not_before, not_after = validity["not_before"].native, validity["not_after"].native
        if signing_time > not_after:
            problems.append(f"the seal certificate had expired ({not_after:%Y-%m-%d}) when the document was signed")
        elif signing_time < not_before:
            problems.append(f"the seal certificate was not yet valid ({not_before:%Y-%m-%d}) when the document "
                            "was signed")
    return problems


def _signer(certificate: asn1_x509.Certificate | None) -> tuple[str | None, str | None]:
    """The subject as an RFC 4514 string, and the organisation (or common) name for display."""
    if certificate is None:
        return None, None
    subject = x509.load_der_x509_certificate(certificate.dump()).subject
    names = (subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
             or subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return subject.rfc4514_string(), (str(names[0].value) if names else None)


def _document_id(reader: PdfFileReader) -> str | None:
    try:
        info = reader.trailer_view.get("/Info")
        value = info.get_object().get(DOCUMENT_ID_KEY) if info is not None else None
        return str(value) if value is not None else None
    except Exception:  # an odd Info dictionary must not hide the signature verdict
        logger.debug("unreadable /Info dictionary", exc_info=True)
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
