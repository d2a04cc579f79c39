"""JPKI signature verification: who signed what an applicant submitted (docs/plugins/jpki.md).

- identity verifier ``jpki``: a detached CMS/PKCS#7 signature over the submitted bytes,
  checked against the configured trust anchors (plugins.jpki.verify);
- operation ``jpki.verify_signature``: the same from a BPMN service task, over the
  canonical bytes of the submitted data (plugins.jpki.canonical); the result goes into the
  task data as ``identity`` — an invalid signature is a result, not an error;
- revocation from CRL files in ``crl_dir``, answering ``madoguchi_revocation_status``
  last, so an OCSP plugin takes precedence (plugins.jpki.crl);
- ``madoguchi jpki dev-ca`` / ``madoguchi jpki sign``: a development CA and signer for
  demos — never for real applicants (plugins.jpki.dev_signer).
"""

from __future__ import annotations

from datetime import UTC, datetime

from engine.hookspecs import hookimpl
from engine.identity_checks import IdentityResult, VerificationContext, verify_identity
from plugins.jpki.canonical import CanonicalFormError, canonical_bytes
from plugins.jpki.config import SETTINGS, JpkiConfig, load_certificates

__all__ = ["JpkiVerifier", "canonical_bytes", "verify_signature_operation"]


class JpkiVerifier:
    """The ``jpki`` verifier. Settings are read on every call, so replacing a trust anchor
    or a CRL takes effect without restarting the workers."""

    def __init__(self, engine):
        self.engine = engine

    def __call__(self, data: bytes, signature: bytes, context: VerificationContext | None = None) -> IdentityResult:
        from plugins.jpki.verify import verify_signature

        config = JpkiConfig.from_engine(self.engine)
        moment = getattr(context, "moment", None) or datetime.now(UTC)
        return verify_signature(
            data, signature,
            trust_anchors=load_certificates(config.trust_anchors, "MADOGUCHI_JPKI_TRUST_ANCHORS"),
            intermediates=load_certificates(config.intermediates, "MADOGUCHI_JPKI_INTERMEDIATES"),
            moment=moment, required_key_usage=config.required_key_usage,
            revocation_required=config.revocation_required,
            revocation=self._revocation)

    def _revocation(self, certificate, issuer):
        from engine.identity_checks import revocation_status

        return revocation_status(self.engine, certificate, issuer)


def verify_signature_operation(engine, params: dict, context) -> dict:
    """``jpki.verify_signature``: params ``data`` (the submitted object, or the exact signed
    text), ``signature`` (base64 DER CMS, or PEM) and optionally ``at`` (ISO 8601: when the
    server received the submission) → ``{"identity": {...}}``."""
    from plugins.jpki.verify import now

    if "data" not in params:
        raise KeyError("jpki.verify_signature needs the parameter 'data' (the submitted data that was signed)")
    moment = _moment(params.get("at"))
    signature = params.get("signature") or b""
    if not isinstance(signature, bytes):  # base64 text, or whatever the form sent (then: malformed)
        signature = str(signature).encode("utf-8")
    verification = VerificationContext(moment=moment or now(), job=context)
    try:
        data = canonical_bytes(params["data"])
    except CanonicalFormError as exc:
        from plugins.jpki.reasons import describe

        english, japanese = describe("unreadable_data", detail=str(exc))
        result = IdentityResult(valid=False, reason=english,
                                details={"code": "unreadable_data", "reason_ja": japanese})
        return {"identity": result.as_dict()}
    result = verify_identity(engine, "jpki", data, signature, verification)
    return {"identity": result.as_dict()}


def _moment(raw) -> datetime | None:
    """The ``at`` parameter; it must come from the server (receipt time), never the applicant."""
    if raw in (None, ""):
        return None
    moment = datetime.fromisoformat(str(raw))
    if moment.tzinfo is None:
        raise ValueError(f"jpki.verify_signature: 'at' ({raw!r}) needs a time zone, e.g. 2026-04-01T09:30:00+09:00")
    if moment > datetime.now(UTC):
        raise ValueError(f"jpki.verify_signature: 'at' ({raw!r}) is in the future")
    return moment


# -- hooks ------------------------------------------------------------------------------------

@hookimpl
def madoguchi_plugin_settings():
    return dict(SETTINGS)


@hookimpl
def madoguchi_startup(engine):
    # A configured file that is missing or unreadable should stop start-up, not fail every
    # application later; nothing configured is allowed (signatures are then refused).
    JpkiConfig.from_engine(engine).check()


@hookimpl
def madoguchi_identity_verifiers(engine):
    return {"jpki": JpkiVerifier(engine)}


@hookimpl
def madoguchi_operations(engine):
    def verify_signature(params: dict, context) -> dict:
        return verify_signature_operation(engine, params, context)

    return {"jpki.verify_signature": verify_signature}


@hookimpl(trylast=True)
def madoguchi_revocation_status(certificate, issuer, engine):
    from plugins.jpki.crl import crl_status

    config = JpkiConfig.from_engine(engine)
    if config.crl_dir is None:
        return None  # no CRLs configured: let another plugin answer, else it stays "unknown"
    return crl_status(certificate, issuer, config.crl_dir)


@hookimpl
def madoguchi_register_commands(cli):
    from plugins.jpki.dev_signer import jpki_commands

    cli.add_command(jpki_commands)
