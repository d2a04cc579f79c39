"""Checking who signed what an applicant submitted: the result every verifier returns, the
context it is called with, and the two calls the engine makes on plugins' behalf.

A verifier (hook ``madoguchi_identity_verifiers``) is ``verify(data, signature, context)``
and returns an :class:`IdentityResult`. An invalid signature is an ordinary answer
(``valid=False`` with a reason a clerk can act on), never an exception: exceptions mean the
check itself could not run (broken configuration, an unreachable OCSP responder) and make
the job retry and end as an incident.

Revocation (hook ``madoguchi_revocation_status``) is asked through :func:`revocation_status`
so every verifier applies the same precedence: implementations are asked in pluggy's call
order (``tryfirst`` first, then the most recently registered, ``trylast`` last) and the
first answer that is not None wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.errors import MadoguchiError
from engine.plugins import PluginError, call_each

#: The answers ``madoguchi_revocation_status`` may give.
REVOCATION_ANSWERS = ("good", "revoked", "unknown")


class UnknownVerifier(MadoguchiError):
    """A diagram or caller names an identity verifier that no installed plugin provides."""


@dataclass(frozen=True)
class IdentityResult:
    """What a verifier found out about one signature."""

    valid: bool
    #: One sentence a clerk can act on ("certificate expired on 2025-03-31").
    reason: str
    #: The signer certificate's subject (RFC 4514), when a certificate could be read.
    subject: str | None = None
    #: The signer certificate's serial number (upper-case hex, as openssl prints it);
    #: the key municipalities use to map a JPKI certificate to a resident.
    serial_number: str | None = None
    issuer: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    #: The signing time the signer's software claimed (not verified: for information only).
    signing_time: datetime | None = None
    #: Verifier-specific facts (a machine-readable ``code``, the chain, the revocation answer …).
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """A JSON-compatible dict (datetimes as ISO 8601 in UTC), for task data and audit."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "subject": self.subject,
            "serial_number": self.serial_number,
            "issuer": self.issuer,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "signing_time": _iso(self.signing_time),
            "details": _jsonable(self.details),
        }


@dataclass(frozen=True)
class VerificationContext:
    """What a verifier is told about the check it runs."""

    #: The moment the certificate must be valid at: now, or when the server received the
    #: submission (never a time the applicant's software claims).
    moment: datetime
    #: The job running the check (idempotency key, application id …), when a job runs it.
    job: object | None = None

    @classmethod
    def now(cls, job: object | None = None) -> VerificationContext:
        return cls(moment=datetime.now(UTC), job=job)


class RevocationStatus(str):
    """An answer of ``madoguchi_revocation_status`` with optional details.

    It *is* the string ``"good"``, ``"revoked"`` or ``"unknown"`` — so a plugin following
    the hook's contract may return a plain string, and code comparing answers to strings
    keeps working — but can also say when and why a certificate was revoked and where the
    answer came from, which a clerk needs ("revoked on 2025-04-02 (reason: keyCompromise)").
    """

    revoked_at: datetime | None
    reason: str | None
    detail: str | None
    source: str | None

    def __new__(cls, status: str, *, revoked_at: datetime | None = None, reason: str | None = None,
                detail: str | None = None, source: str | None = None) -> RevocationStatus:
        if status not in REVOCATION_ANSWERS:
            raise ValueError(f"a revocation status is one of {', '.join(REVOCATION_ANSWERS)}, not {status!r}")
        answer = super().__new__(cls, status)
        answer.revoked_at, answer.reason, answer.detail, answer.source = revoked_at, reason, detail, source
        return answer

    def as_dict(self) -> dict:
        return {"status": str(self), "revoked_at": _iso(self.revoked_at), "reason": self.reason,
                "detail": self.detail, "source": self.source}


def revocation_status(engine, certificate, issuer) -> RevocationStatus:
    """Ask the plugins whether ``certificate`` (issued by ``issuer``; ``cryptography`` objects)
    is revoked. The first answer that is not None wins; no answer at all is "unknown"."""
    for owner, answer in call_each(engine.plugin_manager, "madoguchi_revocation_status",
                                   certificate=certificate, issuer=issuer, engine=engine):
        if answer is None:
            continue
        if not isinstance(answer, str) or answer not in REVOCATION_ANSWERS:
            raise PluginError(f"plugin {owner!r}, hook madoguchi_revocation_status: expected one of "
                              f"{', '.join(REVOCATION_ANSWERS)} or None, got {answer!r}")
        if isinstance(answer, RevocationStatus):
            return answer if answer.source else RevocationStatus(
                str(answer), revoked_at=answer.revoked_at, reason=answer.reason, detail=answer.detail,
                source=owner)
        return RevocationStatus(answer, source=owner)
    return RevocationStatus("unknown", detail="no installed plugin could check revocation (no CRL or OCSP source)")


def verify_identity(engine, verifier_name: str, data: bytes, signature: bytes,
                    context: VerificationContext | None = None) -> IdentityResult:
    """Run the verifier ``verifier_name`` on ``signature`` over ``data``."""
    verifiers = engine.plugin_objects("madoguchi_identity_verifiers", check=callable, what="a callable")
    verify = verifiers.get(verifier_name)
    if verify is None:
        known = ", ".join(sorted(verifiers)) or "none"
        raise UnknownVerifier(f"no installed plugin provides the identity verifier {verifier_name!r} "
                              f"(installed: {known})")
    result = verify(data, signature, context or VerificationContext.now())
    if not isinstance(result, IdentityResult):
        raise PluginError(f"identity verifier {verifier_name!r} returned {type(result).__name__}, "
                          "expected an engine.identity_checks.IdentityResult")
    return result


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # cryptography's naive datetimes are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _jsonable(value):
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, RevocationStatus):
        return value.as_dict()
    return value
