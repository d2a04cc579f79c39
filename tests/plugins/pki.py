"""A small, real PKI for the JPKI tests, made with ``cryptography`` (no mocks, no openssl).

A CA is an :class:`Authority`; it issues signer certificates (:class:`Holder`) shaped like
JPKI's: RSA-2048, SHA-256, key usage digitalSignature + nonRepudiation for 署名用,
digitalSignature only for 利用者証明用. Signatures are made with cryptography's own CMS
builder — independent of the code under test — and CRLs with its CRL builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

NOW = datetime.now(UTC)
SIGNATURE_USAGE = ("digital_signature", "content_commitment")  # JPKI 署名用
LOGIN_USAGE = ("digital_signature",)  # JPKI 利用者証明用


@cache
def rsa_key(slot: int) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: a few are shared by every test (certificates differ)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def name(common_name: str, organization: str = "Madoguchi test PKI") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def key_usage(*bits: str) -> x509.KeyUsage:
    fields = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
              "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{f: f in bits for f in fields})


@dataclass(frozen=True)
class Holder:
    certificate: x509.Certificate
    key: object

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


@dataclass(frozen=True)
class Authority(Holder):
    def issue(self, common_name: str, *, usage: tuple[str, ...] | None = SIGNATURE_USAGE,
              not_before: datetime | None = None, not_after: datetime | None = None, key=None,
              ca: bool = False, serial: int | None = None) -> Holder | Authority:
        key = key or rsa_key(10)
        builder = (x509.CertificateBuilder().subject_name(name(common_name))
                   .issuer_name(self.certificate.subject).public_key(key.public_key())
                   .serial_number(serial or x509.random_serial_number())
                   .not_valid_before(not_before or NOW - timedelta(days=30))
                   .not_valid_after(not_after or NOW + timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if ca:
            usage = ("key_cert_sign", "crl_sign")
        if usage is not None:
            builder = builder.add_extension(key_usage(*usage), critical=True)
        certificate = builder.sign(self.key, hashes.SHA256())
        return (Authority if ca else Holder)(certificate, key)

    def crl(self, revoked: list[tuple[int, datetime, x509.ReasonFlags | None]] = (), *,
            this_update: datetime | None = None, next_update: datetime | None = None,
            signing_key=None) -> bytes:
        this_update = this_update or NOW - timedelta(hours=1)
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.certificate.subject)
                   .last_update(this_update).next_update(next_update or this_update + timedelta(days=1)))
        for serial, when, reason in revoked:
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            if reason is not None:
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(signing_key or self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def root_ca(common_name: str = "Test JPKI signing CA", *, slot: int = 1) -> Authority:
    key = rsa_key(slot)
    subject = name(common_name)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - timedelta(days=3650)).not_valid_after(NOW + timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(key_usage("key_cert_sign", "crl_sign"), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                   .sign(key, hashes.SHA256()))
    return Authority(certificate, key)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def sign(holder: Holder, data: bytes, *, extra_certs: tuple[x509.Certificate, ...] = (), detached: bool = True,
         hash_algorithm=None, rsa_padding=None) -> bytes:
    """A CMS SignedData (DER) by ``holder`` over ``data``, with signed attributes."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
        holder.certificate, holder.key, hash_algorithm or hashes.SHA256(), rsa_padding=rsa_padding)
    for certificate in extra_certs:
        builder = builder.add_certificate(certificate)
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(serialization.Encoding.DER, options)


def write_pem(path: Path, *certificates: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return path
