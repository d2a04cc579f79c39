"""``madoguchi seal init-dev|show`` — the organisation's e-seal (電子公印) that signs issued PDFs.

Neither command needs the database: they read MADOGUCHI_HOME and the MADOGUCHI_SEAL_* settings
(docs/sealing.md).
"""

from __future__ import annotations

import datetime as dt

import click
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from engine.cli.context import CliContext, emit_json, pass_cli
from engine.issuance.pki import DOCUMENT_SIGNING, init_dev_seal
from engine.issuance.seal_settings import SealSettings, load_trust_roots

#: Warn this long before the seal certificate expires: renewal takes a CA's paperwork.
EXPIRY_WARNING = dt.timedelta(days=90)
KEY_USAGE_NAMES = {
    "digital_signature": "digitalSignature", "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment", "data_encipherment": "dataEncipherment",
    "key_agreement": "keyAgreement", "key_cert_sign": "keyCertSign", "crl_sign": "cRLSign",
}
EKU_NAMES = {
    DOCUMENT_SIGNING: "documentSigning", ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth", ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping", ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


@click.group("seal")
def seal_group() -> None:
    """The organisation's e-seal for issued documents (docs/sealing.md)."""


def _seal_settings(cli: CliContext) -> SealSettings:
    return SealSettings.from_env(cli.settings.home)


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _key_usage(certificate: x509.Certificate) -> tuple[list[str], bool]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        return [], False
    usage = extension.value
    names = [label for attribute, label in KEY_USAGE_NAMES.items() if getattr(usage, attribute)]
    return names, extension.critical


def _extended_key_usage(certificate: x509.Certificate) -> list[str]:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return []
    return [EKU_NAMES.get(oid, oid.dotted_string) for oid in usages]


def _key_description(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    return type(key).__name__.removeprefix("_").replace("PublicKey", "")


def describe_certificate(certificate: x509.Certificate, *, now: dt.datetime | None = None) -> dict:
    """What an operator needs to know about a seal certificate, with warnings about what verifiers reject."""
    now = now or dt.datetime.now(dt.UTC)
    key_usage, key_usage_critical = _key_usage(certificate)
    eku = _extended_key_usage(certificate)
    warnings = []
    if "nonRepudiation" not in key_usage:
        warnings.append("the certificate lacks the nonRepudiation key usage: PAdES verifiers (pyHanko, "
                        "Acrobat) report the seal as untrusted")
    if eku and "emailProtection" not in eku:
        warnings.append("the certificate lacks the emailProtection extended key usage: poppler's pdfsig "
                        "(Okular, Evince) will not report it as trusted")
    not_after = certificate.not_valid_after_utc
    if not_after <= now:
        warnings.append(f"the certificate expired on {not_after:%Y-%m-%d}: nothing can be sealed with it")
    elif not_after - now <= EXPIRY_WARNING:
        warnings.append(f"the certificate expires on {not_after:%Y-%m-%d} ({(not_after - now).days} days): "
                        "renew it (docs/sealing.md, rotation)")
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial": format(certificate.serial_number, "x"),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
        "key": _key_description(certificate),
        "key_usage": key_usage,
        "key_usage_critical": key_usage_critical,
        "extended_key_usage": eku,
        "sha256": _fingerprint(certificate),
        "warnings": warnings,
    }


@seal_group.command("init-dev")
@click.option("--organisation", default="見本市", show_default=True,
              help="Organisation name (certificate O); the seal's CN is this name followed by 長.")
@click.option("--force", is_flag=True, help="Replace an existing seal (documents sealed with it stop verifying).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def init_dev(cli: CliContext, organisation: str, force: bool, as_json: bool) -> None:
    """Make a development seal: a throw-away root CA, issuing CA and seal certificate under MADOGUCHI_HOME/seal."""
    seal = init_dev_seal(cli.settings.home, organisation, force=force)
    result = {
        "pkcs12": str(seal.pkcs12_path),
        "password_file": str(seal.password_path),
        "trust_root": str(seal.trust_root_path),
        "chain": str(seal.chain_path),
        "crls": [str(p) for p in seal.crl_paths],
        "certificate": describe_certificate(seal.certificate),
    }
    if as_json:
        emit_json(result)
        return
    click.echo(f"dev seal written: {seal.pkcs12_path}")
    click.echo(f"  password file: {seal.password_path} (mode 0600)")
    click.echo(f"  trust root:    {seal.trust_root_path}")
    click.echo(f"  chain:         {seal.chain_path}")
    click.echo(f"  subject:       {result['certificate']['subject']}")
    click.echo(f"  sha256:        {result['certificate']['sha256']}")
    click.echo("This seal is for development only; production uses a CA-issued seal (docs/sealing.md).")


@seal_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def show(cli: CliContext, as_json: bool) -> None:
    """Which seal is configured, what its certificate allows, and what is wrong with it."""
    settings = _seal_settings(cli)
    from engine.issuance.seal import Sealer  # pyHanko loads slowly; only this command needs it

    sealer = Sealer.from_settings(settings)
    certificate = describe_certificate(sealer.certificate)
    roots = load_trust_roots(settings)
    source = (f"PKCS#11 {settings.pkcs11.module} token {settings.pkcs11.token_label!r} key "
              f"{settings.pkcs11.key_label!r}" if settings.pkcs11 else str(settings.pkcs12_path))
    chain_top = sealer.chain[-1] if sealer.chain else sealer.certificate
    if not any(root.subject == chain_top.issuer for root in roots):
        certificate["warnings"].append(
            "no configured trust root issued this seal's chain: check_signature will report its documents as "
            "untrusted (MADOGUCHI_SEAL_TRUST)")
    result = {
        "source": source,
        "signer_name": sealer.signer_name,
        "chain": [c.subject.rfc4514_string() for c in sealer.chain],
        "certificate": certificate,
        "tsa_url": settings.tsa_url,
        "profile": "PAdES B-T" if settings.tsa_url else "PAdES B-B",
        "trust_roots": [root.subject.rfc4514_string() for root in roots],
    }
    if as_json:
        emit_json(result)
        return
    click.echo(f"seal:               {source}")
    click.echo(f"signer name:        {sealer.signer_name}")
    click.echo(f"subject:            {certificate['subject']}")
    click.echo(f"issuer:             {certificate['issuer']}")
    click.echo(f"serial:             {certificate['serial']}")
    click.echo(f"valid:              {certificate['not_before']} to {certificate['not_after']}")
    click.echo(f"key:                {certificate['key']}")
    critical = " (critical)" if certificate["key_usage_critical"] else ""
    click.echo(f"key usage:          {', '.join(certificate['key_usage']) or '(none)'}{critical}")
    click.echo(f"extended key usage: {', '.join(certificate['extended_key_usage']) or '(none)'}")
    click.echo(f"sha256:             {certificate['sha256']}")
    tsa = f"{settings.tsa_url} (PAdES B-T)" if settings.tsa_url else "not configured (PAdES B-B)"
    click.echo(f"time-stamping:      {tsa}")
    click.echo(f"trust roots:        {len(roots)}")
    for root in roots:
        click.echo(f"  {root.subject.rfc4514_string()}")
    for warning in certificate["warnings"]:
        click.echo(f"warning: {warning}", err=True)


COMMANDS = [seal_group]
