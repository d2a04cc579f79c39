"""DEVELOPMENT ONLY: a stand-in for the applicant's My Number card, so the demo and the tests
can make JPKI-shaped signatures without a card reader.

In production the applicant's card-reader app (マイナポータルAP, JPKI利用者ソフト) signs with
the 署名用 key on the card and the portal receives a CMS signature. Here the server holds a
throw-away CA and, per demo applicant, a signing certificate shaped like a JPKI 署名用
certificate (key usage digitalSignature + nonRepudiation), with the private key in a plain
file under ``$MADOGUCHI_HOME/jpki-development-signer``. Anyone who can read that directory can
sign as any demo applicant, so the signer refuses to work when ``MADOGUCHI_ENVIRONMENT`` is
``production``, and its names say what it is.

The signatures are checked like any other: the JPKI plugin's verifier must trust this CA
(``MADOGUCHI_JPKI_TRUST_ANCHORS`` = :attr:`DevelopmentSigner.ca_path`,
``MADOGUCHI_JPKI_CRL_DIR`` = :attr:`DevelopmentSigner.crl_dir`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from engine.errors import BadInput

DEVELOPMENT_LABEL = "DEVELOPMENT ONLY - NOT JPKI"
DIRECTORY = "jpki-development-signer"
#: ``MADOGUCHI_ENVIRONMENT=production`` switches the development signer off.
ENVIRONMENT_VARIABLE = "MADOGUCHI_ENVIRONMENT"
#: The key usages of a JPKI 署名用 certificate, and of a 利用者証明用 (login) one.
KEY_USAGES = ("signature", "login")


class DevelopmentSignerRefused(BadInput):
    """The development signer is switched off here (production) or cannot be used."""


def development_signer_allowed() -> bool:
    return os.environ.get(ENVIRONMENT_VARIABLE, "development").strip().lower() != "production"


class DevelopmentSigner:
    """The development CA and the demo applicants' signing certificates under ``home``."""

    def __init__(self, home: Path):
        if not development_signer_allowed():
            raise DevelopmentSignerRefused(
                f"the development signer is switched off because {ENVIRONMENT_VARIABLE}=production: "
                "applicants sign with their My Number card (JPKI) instead")
        self.directory = Path(home) / DIRECTORY
        self.ca_path = self.directory / "ca.pem"
        self.crl_dir = self.directory / "crl"
        self.crl_path = self.crl_dir / "development-ca.crl"

    # -- the CA ------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time (several web processes may create the CA on their first use)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ensure_ca(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        """The development CA, created (with an empty CRL) on first use."""
        with self._locked():
            key_path = self.directory / "ca.key"
            if not self.ca_path.exists():
                now = datetime.now(UTC)
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                name = _name("Madoguchi development signing CA")
                ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                      .public_key(key.public_key()).serial_number(x509.random_serial_number())
                      .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                      .add_extension(_key_usage(cert_sign=True), critical=True)
                      .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                      .sign(key, hashes.SHA256()))
                _write(key_path, _private_pem(key), private=True)
                self.crl_dir.mkdir(exist_ok=True)
                _write(self.crl_path, _crl(ca, key, []))
                _write(self.ca_path, ca.public_bytes(serialization.Encoding.PEM))
            ca = x509.load_pem_x509_certificate(self.ca_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            return ca, key

    # -- applicants' certificates ---------------------------------------------------------------------

    def issue(self, holder: str, *, valid_from: datetime | None = None, valid_until: datetime | None = None,
              usage: str = "signature") -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        """A new certificate for ``holder``; ``usage`` "login" makes one shaped like the
        利用者証明用 certificate (digitalSignature only), which the JPKI check refuses."""
        if usage not in KEY_USAGES:
            raise BadInput(f"usage must be one of {', '.join(KEY_USAGES)}, not {usage!r}")
        ca, ca_key = self.ensure_ca()
        now = datetime.now(UTC)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = (x509.CertificateBuilder().subject_name(_name(holder)).issuer_name(ca.subject)
                       .public_key(key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(valid_from or now - timedelta(minutes=5))
                       .not_valid_after(valid_until or now + timedelta(days=365 * 5))
                       .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                       .add_extension(_key_usage(signature=True, non_repudiation=usage == "signature"),
                                      critical=True)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                      critical=False)
                       .sign(ca_key, hashes.SHA256()))
        return certificate, key

    def card(self, applicant_id: int, holder: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        """The demo applicant's development "card": issued on first use, then kept."""
        folder = self.directory / "applicants" / str(int(applicant_id))
        cert_path, key_path = folder / "signer.pem", folder / "signer.key"
        if not cert_path.exists():
            certificate, key = self.issue(holder)
            with self._locked():
                if not cert_path.exists():
                    folder.mkdir(parents=True, exist_ok=True)
                    _write(key_path, _private_pem(key), private=True)
                    _write(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        return (x509.load_pem_x509_certificate(cert_path.read_bytes()),
                serialization.load_pem_private_key(key_path.read_bytes(), password=None))

    def revoke(self, certificate: x509.Certificate) -> None:
        """Put ``certificate`` on the development CA's CRL (to show a revoked card)."""
        ca, ca_key = self.ensure_ca()
        with self._locked():
            current = x509.load_der_x509_crl(self.crl_path.read_bytes())
            serials = [entry.serial_number for entry in current]
            if certificate.serial_number not in serials:
                serials.append(certificate.serial_number)
            _write(self.crl_path, _crl(ca, ca_key, serials))

    def sign(self, data: bytes, certificate: x509.Certificate, key) -> bytes:
        """A detached CMS signature (DER) over exactly ``data``, as a card-reader app makes it."""
        return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(certificate, key, hashes.SHA256())
                .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                   pkcs7.PKCS7Options.Binary]))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEVELOPMENT_LABEL),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "applicant")])


def _key_usage(*, signature: bool = False, non_repudiation: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signature, content_commitment=non_repudiation, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
                         crl_sign=cert_sign, encipher_only=False, decipher_only=False)


def _crl(ca: x509.Certificate, key, serials: list[int]) -> bytes:
    now = datetime.now(UTC)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
               .last_update(now - timedelta(minutes=1)).next_update(now + timedelta(days=3650)))
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now - timedelta(minutes=1))
            .build())
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _private_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, content: bytes, *, private: bool = False) -> None:
    """Written whole and then renamed, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    if private:
        partial.chmod(0o600)
    os.replace(partial, path)
