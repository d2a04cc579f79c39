"""The built-in revocation checker: CRL files in a directory (setting ``crl_dir``).

It answers ``madoguchi_revocation_status`` last (``trylast``), so an OCSP plugin (e.g. for
the 地方認証プラットフォーム) or any other answer takes precedence. It never fetches:
an operator's scheduled job puts current CRLs into the directory (J-LIS gives JPKI
revocation information only to notified verifiers, 署名検証者, so the download belongs
to the municipality's own set-up).

A CRL is used for a certificate when it is issued by the certificate's issuer (same name,
signature verifies with the issuer's key, issuer allowed to sign CRLs) and covers it:
a full CRL without an issuing-distribution-point scope, or one whose scope provably
includes the certificate. Partitioned, indirect, reason-limited and delta CRLs are not
supported; they are skipped, which at worst makes the answer "unknown", never "good".

- listed in any such CRL (even an outdated one: revocation is final) → "revoked"
  (except certificateHold, which an outdated CRL cannot prove still holds);
- not listed in a current CRL (this update ≤ now ≤ next update) → "good";
- otherwise → "unknown", saying what is missing.

Parsed CRLs are cached per file (path, size, modification time): JPKI CRLs are large, and
parsing or checking their signature on every verification would dominate its cost.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import ExtensionOID

from engine.identity_checks import RevocationStatus

log = logging.getLogger(__name__)

#: Clock skew tolerated between the CA that issued a CRL and this server.
_SKEW = timedelta(minutes=5)

_cache_lock = threading.Lock()
_parsed: dict[Path, tuple[tuple[int, int, int], list[_CachedCrl]]] = {}


class _CachedCrl:
    """A parsed CRL with what is costly to recompute: its set of serial numbers (cryptography's
    lookup scans the list) and its signature check per issuer."""

    def __init__(self, crl: x509.CertificateRevocationList):
        self.crl = crl
        self._serials: frozenset[int] | None = None
        self._signed_by: dict[bytes, bool] = {}
        self._lock = threading.Lock()

    def entry(self, serial: int) -> x509.RevokedCertificate | None:
        with self._lock:
            if self._serials is None:
                self._serials = frozenset(revoked.serial_number for revoked in self.crl)
        if serial not in self._serials:
            return None
        return self.crl.get_revoked_certificate_by_serial_number(serial)

    def signed_by(self, issuer: x509.Certificate) -> bool:
        key = issuer.fingerprint(SHA256())
        with self._lock:
            known = self._signed_by.get(key)
        if known is None:
            try:
                known = _may_sign_crls(issuer) and self.crl.is_signature_valid(issuer.public_key())
            except (TypeError, ValueError):  # a key type that cannot have made this signature
                known = False
            with self._lock:
                self._signed_by[key] = known
        return known


def crl_status(certificate: x509.Certificate, issuer: x509.Certificate, crl_dir: Path,
               now: datetime | None = None) -> RevocationStatus:
    now = now or datetime.now(UTC)
    issuer_name = issuer.subject.rfc4514_string()
    usable = [cached for cached in _crls_in(crl_dir)
              if cached.crl.issuer == issuer.subject and cached.signed_by(issuer) and _covers(cached.crl, certificate)]
    if not usable:
        return RevocationStatus("unknown", detail=f"no CRL of the issuer {issuer_name} in {crl_dir}")

    for cached in sorted(usable, key=lambda c: c.crl.last_update_utc, reverse=True):
        entry = cached.entry(certificate.serial_number)
        if entry is None:
            continue
        reason = _reason(entry)
        if reason == "certificateHold" and not _current(cached.crl, now):
            continue
        return RevocationStatus("revoked", revoked_at=entry.revocation_date_utc, reason=reason,
                                detail=f"listed in the CRL of {issuer_name} issued "
                                       f"{cached.crl.last_update_utc:%Y-%m-%d %H:%M} UTC")

    current = [cached.crl for cached in usable if _current(cached.crl, now)]
    if not current:
        latest = max((cached.crl for cached in usable), key=lambda c: c.last_update_utc)
        due = latest.next_update_utc
        return RevocationStatus("unknown", detail=f"the CRL of {issuer_name} in {crl_dir} is out of date "
                                                  f"(next update was due {due:%Y-%m-%d %H:%M} UTC)")
    newest = max(current, key=lambda c: c.last_update_utc)
    return RevocationStatus("good", detail=f"not listed in the CRL of {issuer_name} issued "
                                           f"{newest.last_update_utc:%Y-%m-%d %H:%M} UTC")


def _current(crl: x509.CertificateRevocationList, now: datetime) -> bool:
    if crl.last_update_utc > now + _SKEW:
        return False
    return crl.next_update_utc is None or now <= crl.next_update_utc + _SKEW


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        flag = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return "unspecified"
    return flag.value  # RFC 5280's spelling: "keyCompromise", "cACompromise" …


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    try:
        return issuer.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign
    except x509.ExtensionNotFound:
        return True  # RFC 5280: no key-usage extension means no restriction


def _covers(crl: x509.CertificateRevocationList, certificate: x509.Certificate) -> bool:
    """Whether ``crl`` is a complete CRL for ``certificate`` (see the module docstring)."""
    for extension in crl.extensions:
        if extension.oid == ExtensionOID.DELTA_CRL_INDICATOR:
            return False
        if extension.critical and extension.oid not in (ExtensionOID.ISSUING_DISTRIBUTION_POINT,
                                                        ExtensionOID.CRL_NUMBER,
                                                        ExtensionOID.AUTHORITY_KEY_IDENTIFIER):
            return False  # RFC 5280 §5.2: a CRL with an unknown critical extension must not be used
    try:
        scope = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return True
    if scope.indirect_crl or scope.only_some_reasons or scope.only_contains_attribute_certs:
        return False
    if scope.relative_name is not None:
        return False
    is_ca = _is_ca(certificate)
    if (scope.only_contains_user_certs and is_ca) or (scope.only_contains_ca_certs and not is_ca):
        return False
    if scope.full_name is None:
        return True
    return any(name in scope.full_name for name in _distribution_point_names(certificate))


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _distribution_point_names(certificate: x509.Certificate) -> list[x509.GeneralName]:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [name for point in points for name in (point.full_name or [])]


def _crls_in(directory: Path) -> list[_CachedCrl]:
    if not directory.is_dir():
        return []
    files = [p for p in sorted(directory.iterdir()) if p.is_file() and not p.name.startswith(".")]
    found = [crl for path in files for crl in _load(path)]
    with _cache_lock:  # forget files that were removed (or replaced under another name)
        for gone in [p for p in _parsed if p.parent == directory and p not in files]:
            del _parsed[gone]
    return found


def _load(path: Path) -> list[_CachedCrl]:
    stat = path.stat()
    # The inode changes when a download is renamed into place, even with the same size and time.
    stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        cached = _parsed.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    raw = path.read_bytes()
    try:
        crls = [_CachedCrl(crl) for crl in _parse(raw)]
    except ValueError as exc:
        log.warning("CRL directory: %s is not a PEM or DER CRL, skipped (%s)", path, exc)
        crls = []
    with _cache_lock:
        _parsed[path] = (stamp, crls)
    return crls


def _parse(raw: bytes) -> list[x509.CertificateRevocationList]:
    if b"-----BEGIN X509 CRL-----" not in raw:
        return [x509.load_der_x509_crl(raw)]
    blocks = raw.split(b"-----END X509 CRL-----")
    return [x509.load_pem_x509_crl(block.strip() + b"\n-----END X509 CRL-----\n")
            for block in blocks if b"-----BEGIN X509 CRL-----" in block]
