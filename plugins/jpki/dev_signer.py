"""DEVELOPMENT ONLY: a throw-away CA and signer so demos can produce JPKI-like signatures.

``madoguchi jpki dev-ca`` writes, under ``$MADOGUCHI_HOME/jpki-dev``, a self-signed CA, a
signing certificate shaped like a JPKI 署名用 certificate (key usage digitalSignature +
nonRepudiation) with its private key (unencrypted!), and an empty CRL. ``madoguchi jpki
sign FILE`` prints a base64 detached CMS signature over the canonical bytes of FILE's JSON
(or over its raw bytes with ``--raw``). Nothing here may be trusted in production: the
key sits in a plain file and anyone with the directory can sign as "the applicant".
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from plugins.jpki.canonical import CanonicalFormError, canonical_bytes

DEV_LABEL = "DEVELOPMENT ONLY - NOT JPKI"


def dev_directory(home: Path) -> Path:
    return home / "jpki-dev"


def create_dev_ca(directory: Path, *, signer_name: str = "開発用 署名者") -> dict[str, Path]:
    """Write a development CA, a signing certificate + key and an empty CRL into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "crl").mkdir(exist_ok=True)
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_LABEL),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Madoguchi development signing CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(cert_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_LABEL),
                         x509.NameAttribute(NameOID.COMMON_NAME, signer_name)])
    signer = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=365 * 5))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(_key_usage(signature=True), critical=True)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca_name).last_update(now)
           .next_update(now + timedelta(days=3650)).sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem", "certificate": directory / "signer.pem",
             "key": directory / "signer.key", "crl": directory / "crl" / "dev-ca.crl"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["certificate"].write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    paths["crl"].write_bytes(crl.public_bytes(serialization.Encoding.DER))
    return paths


def sign(data: bytes, certificate: x509.Certificate, key) -> bytes:
    """A detached CMS signature (DER) over exactly ``data``."""
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(certificate, key, hashes.SHA256())
            # Binary: sign the bytes as they are (no MIME line-ending conversion).
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def _key_usage(*, signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signature, content_commitment=signature, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
                         crl_sign=cert_sign, encipher_only=False, decipher_only=False)


# -- command line -------------------------------------------------------------------------------

@click.group("jpki")
def jpki_commands() -> None:
    """JPKI signatures: development CA and signer (DEVELOPMENT ONLY)."""


def _home() -> Path:
    from engine.config import Settings

    return Settings.from_env().home


@jpki_commands.command("dev-ca")
@click.option("--force", is_flag=True, help="Replace an existing development CA.")
def dev_ca(force: bool) -> None:
    """Create a development CA and signing certificate under $MADOGUCHI_HOME/jpki-dev."""
    directory = dev_directory(_home())
    if (directory / "ca.pem").exists() and not force:
        raise click.ClickException(f"{directory} already holds a development CA (use --force to replace it)")
    paths = create_dev_ca(directory)
    click.echo(f"DEVELOPMENT ONLY — signatures made with {paths['key']} prove nothing about anyone.")
    click.echo("Trust it in this environment only:")
    click.echo(f"  export MADOGUCHI_JPKI_TRUST_ANCHORS={paths['ca']}")
    click.echo(f"  export MADOGUCHI_JPKI_CRL_DIR={paths['crl'].parent}")


@jpki_commands.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--raw", is_flag=True, help="Sign the file's bytes as they are instead of its canonical JSON.")
def sign_file(file: Path, raw: bool) -> None:
    """Print a base64 detached CMS signature over FILE (DEVELOPMENT ONLY)."""
    directory = dev_directory(_home())
    if not (directory / "signer.key").exists():
        raise click.ClickException("no development CA yet: run `madoguchi jpki dev-ca` first")
    content = file.read_bytes()
    if not raw:
        try:
            content = canonical_bytes(json.loads(content))
        except (ValueError, CanonicalFormError) as exc:
            raise click.ClickException(f"{file}: not JSON that can be signed ({exc}); use --raw for other files") from None
    certificate = x509.load_pem_x509_certificate((directory / "signer.pem").read_bytes())
    key = serialization.load_pem_private_key((directory / "signer.key").read_bytes(), password=None)
    click.echo(base64.b64encode(sign(content, certificate, key)).decode("ascii"))
