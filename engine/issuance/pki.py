"""A development PKI for the organisation's e-seal (電子公印), made with ``cryptography`` only.

Root CA → issuing CA → organisation e-seal certificate, the shape of a real LGPKI or commercial
profile, so that development and tests exercise the same chain building as production. Production
seals come from a real CA (docs/sealing.md); nothing here is meant to be trusted outside a laptop.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.errors import BadInput

#: id-kp-documentSigning (RFC 9336): what the certificate is for.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
SEAL_VALIDITY = dt.timedelta(days=5 * 365)
ROOT_VALIDITY = dt.timedelta(days=20 * 365)
ISSUING_CA_VALIDITY = dt.timedelta(days=10 * 365)
CRL_VALIDITY = dt.timedelta(days=365)
#: Certificates start slightly in the past so a verifier whose clock lags is not confused.
CLOCK_SKEW = dt.timedelta(hours=1)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SealAlreadyExists(BadInput):
    """``init-dev`` would overwrite a seal that is already there (exit code 2)."""


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    certificate: x509.Certificate
    key: PrivateKey


@dataclass(frozen=True)
class DevPki:
    """The whole dev hierarchy, in memory (tests use it to make CRLs and TSA certificates)."""

    root: Issued
    issuing_ca: Issued
    seal: Issued

    @property
    def chain(self) -> list[x509.Certificate]:
        """The certificates above the seal, nearest first."""
        return [self.issuing_ca.certificate, self.root.certificate]


@dataclass(frozen=True)
class DevSeal:
    """Where ``init_dev_seal`` wrote the seal, and what it made."""

    seal_dir: Path
    pkcs12_path: Path
    password_path: Path
    trust_root_path: Path
    chain_path: Path
    crl_paths: tuple[Path, ...]
    pki: DevPki

    @property
    def certificate(self) -> x509.Certificate:
        return self.pki.seal.certificate


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _builder(subject: x509.Name, issuer: Issued | None, public_key, validity: dt.timedelta):
    start = _now() - CLOCK_SKEW
    issuer_name = issuer.certificate.subject if issuer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()), critical=False)
    return builder


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _signing_key_usage() -> x509.KeyUsage:
    # nonRepudiation (contentCommitment) is what pyHanko and PAdES verifiers expect of a seal.
    return x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                         encipher_only=False, decipher_only=False)


def make_ca(subject: x509.Name, issuer: Issued | None = None, *,
            validity: dt.timedelta = ROOT_VALIDITY, path_length: int | None = None) -> Issued:
    """A CA certificate on a fresh P-256 key; self-signed when ``issuer`` is None."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(subject, issuer, key.public_key(), validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
    )
    signer_key = issuer.key if issuer else key
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


def issue_seal_certificate(issuer: Issued, subject: x509.Name, *,
                           validity: dt.timedelta = SEAL_VALIDITY) -> Issued:
    """An organisation seal certificate on RSA-2048 (the widest interop with pdfsig and Acrobat).

    EKU: documentSigning says what it is for; emailProtection is there because poppler's pdfsig
    (through NSS) only reports a signer as trusted when it is present.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        _builder(subject, issuer, key.public_key(), validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_signing_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def issue_tsa_certificate(issuer: Issued, subject: x509.Name, *,
                          validity: dt.timedelta = SEAL_VALIDITY) -> Issued:
    """A time-stamp authority certificate: RFC 3161 requires the timeStamping EKU, critical and alone."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=False,
                              crl_sign=False, encipher_only=False, decipher_only=False)
    builder = (
        _builder(subject, issuer, key.public_key(), validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    )
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def make_crl(issuer: Issued, revoked: list[x509.Certificate] = (), *,
             validity: dt.timedelta = CRL_VALIDITY) -> x509.CertificateRevocationList:
    """A CRL of ``issuer`` listing ``revoked`` (empty: a "nothing revoked" CRL)."""
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(secrets.randbits(63)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.certificate.public_key()), critical=False)
    )
    for certificate in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(certificate.serial_number)
            .revocation_date(now - dt.timedelta(minutes=5))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(issuer.key, hashes.SHA256())


def build_dev_pki(organisation: str = "見本市") -> DevPki:
    """The three-level dev hierarchy for ``organisation``, in memory."""
    root = make_ca(_name(organisation, f"{organisation} 開発用ルート認証局"), validity=ROOT_VALIDITY, path_length=1)
    issuing = make_ca(_name(organisation, f"{organisation} 開発用電子公印認証局"), root,
                      validity=ISSUING_CA_VALIDITY, path_length=0)
    seal = issue_seal_certificate(issuing, _name(organisation, f"{organisation}長"))
    return DevPki(root=root, issuing_ca=issuing, seal=seal)


def pkcs12_bytes(issued: Issued, chain: list[x509.Certificate], password: bytes, friendly_name: str) -> bytes:
    """The key, its certificate and the chain above it, as a password-protected PKCS#12 file."""
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"), issued.key, issued.certificate, chain,
        serialization.BestAvailableEncryption(password))


def pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _write(path: Path, data: bytes, *, secret: bool = False) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def init_dev_seal(home: Path, organisation: str = "見本市", *, force: bool = False) -> DevSeal:
    """Make a dev PKI and write the seal under ``<home>/seal``.

    Files: ``seal.p12`` and ``seal.p12.password`` (mode 0600, random), ``chain.pem`` (issuing CA and
    root), ``trust/dev-root.pem`` (the verification trust root) and ``crl/*.crl`` (empty CRLs, DER).
    The CA keys are not kept: to renew, run it again with ``force``.
    """
    organisation = organisation.strip()
    if not organisation:
        raise BadInput("the organisation name is empty")
    seal_dir = Path(home) / "seal"
    pkcs12_path = seal_dir / "seal.p12"
    if pkcs12_path.exists() and not force:
        raise SealAlreadyExists(
            f"{pkcs12_path} already exists; documents sealed with it would no longer verify against a new "
            "dev root — pass --force to replace it anyway")
    pki = build_dev_pki(organisation)
    password = secrets.token_urlsafe(24)
    password_path = seal_dir / "seal.p12.password"
    trust_root_path = seal_dir / "trust" / "dev-root.pem"
    chain_path = seal_dir / "chain.pem"
    crl_paths = (seal_dir / "crl" / "dev-root.crl", seal_dir / "crl" / "dev-issuing-ca.crl")

    _write(password_path, password.encode("ascii") + b"\n", secret=True)
    _write(chain_path, pem(pki.chain))
    _write(trust_root_path, pem([pki.root.certificate]))
    _write(crl_paths[0], make_crl(pki.root).public_bytes(serialization.Encoding.DER))
    _write(crl_paths[1], make_crl(pki.issuing_ca).public_bytes(serialization.Encoding.DER))
    # Last: its presence is what marks a seal as made, so a failure above leaves none behind.
    _write(pkcs12_path, pkcs12_bytes(pki.seal, pki.chain, password.encode("ascii"), f"{organisation} seal"),
           secret=True)
    return DevSeal(seal_dir=seal_dir, pkcs12_path=pkcs12_path, password_path=password_path,
                   trust_root_path=trust_root_path, chain_path=chain_path, crl_paths=crl_paths, pki=pki)
