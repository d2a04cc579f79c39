"""The "jpki" identity verifier: a detached CMS/PKCS#7 signature over submitted data.

Checks, in this order — the first that fails is the reason given, so a clerk is told the
most basic problem first (there is no point saying "expired" about a signature over other
data, or about a certificate from a CA nobody trusts):

1. the signature can be read: CMS SignedData (DER, PEM or base64), one signer, plain data;
2. it carries the signer's certificate, and uses no weak hash (MD5, SHA-1);
3. integrity: the message digest matches the submitted data ("tampered" otherwise) and the
   signature value verifies with the certificate's key (incl. the ESS signing-certificate
   attribute binding the certificate);
4. the certificate chains to a configured trust anchor (RFC 5280 path validation by
   pyhanko-certvalidator: names, CA signatures, basic constraints, CA key usage, path
   length, name constraints, policies), and every certificate on the path is valid at the
   moment checked;
5. the signer certificate's key usage marks it for signatures (default nonRepudiation,
   which JPKI 署名用 certificates carry and 利用者証明用 ones do not);
6. revocation of every certificate on the path below the anchor, through the
   ``madoguchi_revocation_status`` hook ("unknown" is refused unless
   ``revocation_required`` is false).

The moment checked is "now" (or the server's receipt time when the caller passes it),
never the CMS signingTime: that attribute is written by the signer's own software, so
trusting it would let a holder of an expired or revoked certificate back-date a signature.
Without a trusted timestamp (RFC 3161) "now" is the only time the verifier can vouch for.

pyHanko / pyhanko-certvalidator do the CMS cryptography and the path validation (a full
RFC 5280 implementation we do not want to re-write); ``cryptography`` reads certificates
for key usage and for the revocation hook; the outcome is mapped to one reason sentence.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from engine.identity_checks import IdentityResult, RevocationStatus
from plugins.jpki.config import KEY_USAGE_BITS
from plugins.jpki.reasons import describe

#: Hash algorithms accepted for the message digest and the signature.
_ACCEPTED_HASHES = {"sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256",
                    "sha3_224", "sha3_256", "sha3_384", "sha3_512"}
_WEAK_HASHES = {"md2", "md5", "sha1"}
#: Signature algorithm families accepted (JPKI uses RSA; DSA is obsolete).
_ACCEPTED_SIGNATURES = {"rsassa_pkcs1v15", "rsassa_pss", "ecdsa", "ed25519", "ed448"}
_HASHES = {"sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
           "sha512": hashes.SHA512, "sha512_224": hashes.SHA512_224, "sha512_256": hashes.SHA512_256,
           "sha3_224": hashes.SHA3_224, "sha3_256": hashes.SHA3_256, "sha3_384": hashes.SHA3_384,
           "sha3_512": hashes.SHA3_512}

log = logging.getLogger(__name__)

RevocationCheck = Callable[[x509.Certificate, x509.Certificate], RevocationStatus]


class _Refused(Exception):  # noqa: N818 — control flow inside this module, never escapes it
    """One check failed: carries the reason code and its parameters."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def verify_signature(data: bytes, signature: bytes, *, trust_anchors: list[x509.Certificate],
                     intermediates: list[x509.Certificate], moment: datetime,
                     required_key_usage: tuple[str, ...], revocation_required: bool,
                     revocation: RevocationCheck) -> IdentityResult:
    """Verify ``signature`` (a detached CMS signature) over ``data``; never raises for a bad
    signature — only for a broken set-up (e.g. a revocation plugin that fails)."""
    check = _Verification(moment)
    try:
        try:
            path = check.run(data, signature, trust_anchors, intermediates, required_key_usage)
        except _Refused:
            raise
        except Exception as exc:
            # The signature is the applicant's input: a parser tripping over it deep inside a
            # library is a refusal with a reason, not a job to retry. (Logged: it may be a bug.)
            log.warning("JPKI verification failed unexpectedly on the submitted signature", exc_info=True)
            raise _Refused("unverifiable", detail=_short(exc)) from None
        # Outside the net above: a failing revocation plugin is a set-up problem (retry, incident).
        check.revocation(path, revocation, revocation_required)
    except _Refused as refused:
        return check.result(False, refused.code, refused.params)
    return check.result(True, check.valid_code, {"subject": check.subject, "detail": check.unchecked})


class _Verification:
    """The state of one verification: what has been learnt so far goes into the result."""

    def __init__(self, moment: datetime):
        self.moment = moment
        self.certificate: x509.Certificate | None = None
        self.signing_time: datetime | None = None
        self.details: dict = {"validation_time": moment}
        self.valid_code = "valid"
        self.unchecked: str | None = None

    @property
    def subject(self) -> str | None:
        return self.certificate.subject.rfc4514_string() if self.certificate else None

    def result(self, valid: bool, code: str, params: dict) -> IdentityResult:
        english, japanese = describe(code, **params)
        details = {"code": code, "reason_ja": japanese, **self.details}
        cert = self.certificate
        if cert is None:
            return IdentityResult(valid=valid, reason=english, signing_time=self.signing_time, details=details)
        details["serial_number_decimal"] = str(cert.serial_number)
        details["certificate"] = base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")
        return IdentityResult(valid=valid, reason=english, subject=self.subject,
                              serial_number=serial_hex(cert.serial_number),
                              issuer=cert.issuer.rfc4514_string(), not_before=cert.not_valid_before_utc,
                              not_after=cert.not_valid_after_utc, signing_time=self.signing_time,
                              details=details)

    # -- the checks, in order --------------------------------------------------------------

    def run(self, data, signature, trust_anchors, intermediates, required_key_usage) -> list[x509.Certificate]:
        """Checks 1–5 (module docstring); returns the validated path, anchor first."""
        signed_data, signer_info = self.read(signature)
        signer, others = self.signer_certificate(signed_data)
        self.algorithms(signer_info)
        self.integrity(data, signed_data, signer_info, signer)
        path = self.chain(signer, others, trust_anchors, intermediates)
        self.key_usage(required_key_usage)
        return path

    def read(self, signature: bytes) -> tuple[cms.SignedData, cms.SignerInfo]:
        from pyhanko.sign.general import CMSExtractionError, extract_signer_info

        if not signature or not signature.strip():
            raise _Refused("no_signature")
        der = _der(signature)
        try:
            content_info = cms.ContentInfo.load(der, strict=True)
            content_type = content_info["content_type"].native
            if content_type != "signed_data":
                raise _Refused("malformed", detail=f"it is CMS {content_type}, not signed data")
            signed_data = content_info["content"]
            signer_info = extract_signer_info(signed_data)
            signer_info.native  # noqa: B018 — asn1crypto parses lazily: find broken structure here
            signed_data["certificates"].native  # noqa: B018
        except _Refused:
            raise
        except CMSExtractionError:
            raise _Refused("unsupported", detail="it has more than one signer (or none)") from None
        except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError … on bad input
            raise _Refused("malformed", detail=_short(exc)) from None
        self.signing_time = _signing_time(signer_info)
        return signed_data, signer_info

    def signer_certificate(self, signed_data) -> tuple[asn1_x509.Certificate, list[asn1_x509.Certificate]]:
        from pyhanko.sign.general import CMSExtractionError, extract_certificate_info

        try:
            info = extract_certificate_info(signed_data)
        except CMSExtractionError:
            raise _Refused("no_signer_certificate") from None
        try:
            self.certificate = x509.load_der_x509_certificate(info.signer_cert.dump())
        except ValueError as exc:
            raise _Refused("malformed", detail=f"the signer's certificate cannot be read: {_short(exc)}") from None
        return info.signer_cert, list(info.other_certs)

    def algorithms(self, signer_info) -> None:
        digest = signer_info["digest_algorithm"]["algorithm"].native
        signature_algorithm = signer_info["signature_algorithm"]
        try:
            signature_hash = signature_algorithm.hash_algo
        except ValueError:  # e.g. rsassa_pkcs1v15 / ecdsa without a hash: the digest algorithm is used
            signature_hash = digest
        self.details["digest_algorithm"] = digest
        self.details["signature_algorithm"] = signature_algorithm["algorithm"].native
        try:
            family = signature_algorithm.signature_algo
        except ValueError:
            family = None
        if family not in _ACCEPTED_SIGNATURES:
            raise _Refused("unsupported", detail=f"the signature algorithm {self.details['signature_algorithm']}")
        for name in (digest, signature_hash):
            if name in _WEAK_HASHES:
                raise _Refused("weak_algorithm", algorithm=name.upper())
            if name not in _ACCEPTED_HASHES:
                raise _Refused("unsupported", detail=f"the hash algorithm {name}")

    def integrity(self, data: bytes, signed_data, signer_info, signer) -> None:
        from pyhanko.sign.validation.errors import SignatureValidationError
        from pyhanko.sign.validation.generic_cms import validate_sig_integrity

        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native != "data":
            raise _Refused("unsupported", detail=f"it signs {encapsulated['content_type'].native}, not plain data")
        embedded = encapsulated["content"].native
        self.details["detached"] = embedded is None
        if embedded is not None and bytes(embedded) != data:
            # An attached signature carries its own copy: that copy, not the submission, was signed.
            raise _Refused("tampered")
        digest = hashes.Hash(_HASHES[signer_info["digest_algorithm"]["algorithm"].native]())
        digest.update(data)
        try:
            intact, valid = validate_sig_integrity(signer_info, signer, expected_content_type="data",
                                                   actual_digest=digest.finalize())
        except SignatureValidationError as exc:
            self.details["integrity_problem"] = str(exc)
            raise _Refused("bad_signature") from None
        except (ValueError, NotImplementedError) as exc:
            raise _Refused("unsupported", detail=_short(exc)) from None
        if not intact:
            raise _Refused("tampered")
        if not valid:
            raise _Refused("bad_signature")

    def chain(self, signer, others, trust_anchors, intermediates):
        from pyhanko_certvalidator import CertificateValidator, ValidationContext
        from pyhanko_certvalidator.errors import (
            DisallowedAlgorithmError,
            ExpiredError,
            InvalidCertificateError,
            NotYetValidError,
            PathBuildingError,
            ValidationError,
        )
        from pyhanko_certvalidator.policy_decl import NO_REVOCATION, CertRevTrustPolicy

        issuer = self.certificate.issuer.rfc4514_string()
        if not trust_anchors:
            raise _Refused("untrusted", issuer=issuer,
                           hint="; no trust anchors are configured (set MADOGUCHI_JPKI_TRUST_ANCHORS)",
                           hint_ja="。トラストアンカーが設定されていません（MADOGUCHI_JPKI_TRUST_ANCHORS）")
        context = ValidationContext(
            trust_roots=[_asn1(c) for c in trust_anchors],
            other_certs=[*(_asn1(c) for c in intermediates), *others],
            moment=self.moment,
            # Revocation is this plugin's own step (through the hook), after the chain.
            revinfo_policy=CertRevTrustPolicy(NO_REVOCATION),
        )
        try:
            path = _run(CertificateValidator(signer, validation_context=context).async_validate_path())
        except PathBuildingError:
            raise _Refused("untrusted", issuer=issuer) from None
        except ExpiredError as exc:
            if exc.is_ee_cert:
                raise _Refused("expired", date=exc.expired_dt) from None
            raise _Refused("ca_expired", date=exc.expired_dt, subject=self._outside_validity(exc)) from None
        except NotYetValidError as exc:
            if exc.is_ee_cert:
                raise _Refused("not_yet_valid", date=exc.valid_from) from None
            raise _Refused("ca_not_yet_valid", date=exc.valid_from, subject=self._outside_validity(exc)) from None
        except DisallowedAlgorithmError as exc:
            raise _Refused("weak_algorithm", algorithm=_short(exc)) from None
        except InvalidCertificateError as exc:
            if "self-signed" in exc.failure_msg:
                raise _Refused("untrusted", issuer=issuer, hint="; it is self-signed",
                               hint_ja="。自己署名の証明書です") from None
            raise _Refused("invalid_chain", detail=exc.failure_msg) from None
        except ValidationError as exc:
            if "signature" in exc.failure_msg:
                # A CA of the right name but another key: not our anchor's certificate.
                raise _Refused("untrusted", issuer=issuer, hint="; the issuing CA's signature does not verify",
                               hint_ja="。発行元認証局の署名を検証できません") from None
            raise _Refused("invalid_chain", detail=exc.failure_msg) from None
        certificates = [x509.load_der_x509_certificate(c.dump()) for c in path.iter_certs(include_root=True)]
        self.details["chain"] = [c.subject.rfc4514_string() for c in reversed(certificates)]
        return certificates

    def _outside_validity(self, error) -> str:
        for cert in error.original_path.iter_certs(include_root=True):
            validity = cert["tbs_certificate"]["validity"]
            if not validity["not_before"].native <= self.moment <= validity["not_after"].native:
                return x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
        return "unknown"

    def key_usage(self, required: tuple[str, ...]) -> None:
        try:
            usage = self.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        present = _key_usage_names(usage)
        self.details["key_usage"] = present
        missing = [name for name in required if usage is None or not getattr(usage, KEY_USAGE_BITS[name])]
        if missing:
            raise _Refused("key_usage", usage=", ".join(present) or "none declared", required=", ".join(missing))

    def revocation(self, path: list[x509.Certificate], revocation: RevocationCheck, required: bool) -> None:
        answers = []
        # Leaf first: the signer's own status is the most useful answer to show.
        for depth in range(len(path) - 1, 0, -1):
            certificate, issuer = path[depth], path[depth - 1]
            answer = revocation(certificate, issuer)
            answers.append({"certificate": certificate.subject.rfc4514_string(),
                            "serial_number": serial_hex(certificate.serial_number), **answer.as_dict()})
            self.details["revocation"] = answers
            is_signer = depth == len(path) - 1
            if answer == "revoked":
                if answer.revoked_at is not None and answer.revoked_at > self.moment:
                    answers[-1]["note"] = "revoked after the moment checked: valid at that moment"
                    continue
                code = "revoked" if is_signer else "ca_revoked"
                raise _Refused(code, date=answer.revoked_at, revocation_reason=answer.reason or "unspecified",
                               subject=certificate.subject.rfc4514_string())
            if answer == "unknown":
                detail = answer.detail or "no revocation source answered"
                if required:
                    raise _Refused("revocation_unknown", detail=detail)
                self.valid_code, self.unchecked = "valid_revocation_unchecked", detail


# -- helpers ----------------------------------------------------------------------------------

def serial_hex(serial: int) -> str:
    """A serial number as openssl prints it: upper-case hex, an even number of digits."""
    text = f"{serial:X}"
    return text.rjust(len(text) + len(text) % 2, "0")


def _der(signature: bytes) -> bytes:
    """DER from DER, PEM or base64 text (what portals and signer apps hand over)."""
    if signature[:1] == b"\x30":  # a DER SEQUENCE: used as it is (stripping "whitespace" would cut bytes)
        return signature
    stripped = signature.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            return pem.unarmor(stripped)[2]
        except ValueError as exc:
            raise _Refused("malformed", detail=f"bad PEM: {_short(exc)}") from None
    try:
        return base64.b64decode(b"".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _Refused("malformed", detail="it is neither DER, PEM nor base64") from None


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _signing_time(signer_info) -> datetime | None:
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts

    try:
        return extract_self_reported_ts(signer_info)
    except Exception:  # informational only: a bad attribute must not hide the real reason
        return None


def _key_usage_names(usage: x509.KeyUsage | None) -> list[str]:
    if usage is None:
        return []
    names = [name for name in ("digital_signature", "non_repudiation", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign")
             if getattr(usage, KEY_USAGE_BITS[name])]
    if usage.key_agreement:
        names += [n for n in ("encipher_only", "decipher_only") if getattr(usage, n)]
    return names


def _run(coroutine):
    """Run certvalidator's coroutine whether or not this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def now() -> datetime:
    return datetime.now(UTC)
