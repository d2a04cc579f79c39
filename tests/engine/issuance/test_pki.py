"""The dev PKI and the ``madoguchi seal init-dev|show`` commands."""

from __future__ import annotations

import datetime as dt
import json
import stat

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.cli import MadoguchiGroup
from engine.cli.context import CliContext
from engine.cli.seal import describe_certificate, seal_group
from engine.issuance.pki import (
    DOCUMENT_SIGNING,
    SealAlreadyExists,
    build_dev_pki,
    init_dev_seal,
    make_crl,
)


@click.group(cls=MadoguchiGroup)
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.obj = CliContext()


cli.add_command(seal_group)


def invoke(home, *args):
    return CliRunner().invoke(cli, ["seal", *args], env={"MADOGUCHI_HOME": str(home)})


def test_init_dev_writes_the_seal_files(tmp_path):
    seal = init_dev_seal(tmp_path, "見本市")
    for path in (seal.pkcs12_path, seal.password_path, seal.trust_root_path, seal.chain_path, *seal.crl_paths):
        assert path.is_file(), path
    assert seal.pkcs12_path == tmp_path / "seal" / "seal.p12"
    assert seal.trust_root_path == tmp_path / "seal" / "trust" / "dev-root.pem"
    assert stat.S_IMODE(seal.password_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(seal.pkcs12_path.stat().st_mode) == 0o600
    password = seal.password_path.read_text().strip().encode()
    key, certificate, chain = pkcs12.load_key_and_certificates(seal.pkcs12_path.read_bytes(), password)
    assert key is not None and certificate == seal.certificate
    assert [c.subject for c in chain] == [seal.pki.issuing_ca.certificate.subject, seal.pki.root.certificate.subject]
    root = x509.load_pem_x509_certificate(seal.trust_root_path.read_bytes())
    assert root == seal.pki.root.certificate
    for crl_path in seal.crl_paths:
        crl = x509.load_der_x509_crl(crl_path.read_bytes())
        assert len(crl) == 0


def test_the_seal_certificate_has_the_usages_verifiers_require(tmp_path):
    certificate = init_dev_seal(tmp_path).certificate
    key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert key_usage.critical
    assert key_usage.value.digital_signature and key_usage.value.content_commitment
    assert not key_usage.value.key_cert_sign
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "見本市"
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "見本市長"
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert dt.timedelta(days=5 * 365 - 1) <= lifetime <= dt.timedelta(days=5 * 366)
    assert certificate.public_key().key_size == 2048


def test_init_dev_refuses_to_overwrite_unless_forced(tmp_path):
    first = init_dev_seal(tmp_path)
    with pytest.raises(SealAlreadyExists) as refused:
        init_dev_seal(tmp_path)
    assert refused.value.exit_code == 2
    assert init_dev_seal(tmp_path, force=True).certificate != first.certificate


def test_make_crl_lists_the_revoked_certificate():
    pki = build_dev_pki()
    crl = make_crl(pki.issuing_ca, [pki.seal.certificate])
    assert crl.get_revoked_certificate_by_serial_number(pki.seal.certificate.serial_number) is not None
    assert crl.is_signature_valid(pki.issuing_ca.certificate.public_key())


def test_cli_init_dev_and_show(tmp_path):
    made = invoke(tmp_path, "init-dev", "--organisation", "見本町")
    assert made.exit_code == 0, made.output
    assert "seal.p12" in made.output

    shown = invoke(tmp_path, "show")
    assert shown.exit_code == 0, shown.output
    assert "CN=見本町長,O=見本町,C=JP" in shown.output
    assert "digitalSignature, nonRepudiation (critical)" in shown.output
    assert "documentSigning, emailProtection" in shown.output
    assert "not configured (PAdES B-B)" in shown.output
    assert "warning" not in shown.output

    as_json = json.loads(invoke(tmp_path, "show", "--json").output)
    assert as_json["signer_name"] == "見本町"
    assert as_json["certificate"]["key_usage"] == ["digitalSignature", "nonRepudiation"]
    assert as_json["certificate"]["warnings"] == []
    assert as_json["tsa_url"] is None


def test_cli_show_names_the_time_stamp_authority(tmp_path):
    assert invoke(tmp_path, "init-dev").exit_code == 0
    result = CliRunner().invoke(cli, ["seal", "show"], env={
        "MADOGUCHI_HOME": str(tmp_path), "MADOGUCHI_TSA_URL": "http://tsa.example.invalid/rfc3161"})
    assert result.exit_code == 0, result.output
    assert "http://tsa.example.invalid/rfc3161 (PAdES B-T)" in result.output


def test_cli_init_dev_refuses_to_overwrite_with_exit_code_2(tmp_path):
    assert invoke(tmp_path, "init-dev").exit_code == 0
    again = invoke(tmp_path, "init-dev")
    assert again.exit_code == 2
    assert "--force" in again.output
    assert invoke(tmp_path, "init-dev", "--force", "--json").exit_code == 0


def test_cli_show_without_a_seal_says_how_to_make_one(tmp_path):
    result = invoke(tmp_path, "show")
    assert result.exit_code == 2
    assert "init-dev" in result.output


def test_show_warns_about_missing_usages_and_near_expiry():
    pki = build_dev_pki()
    key = pki.seal.key
    now = dt.datetime.now(dt.UTC)
    weak = (
        x509.CertificateBuilder()
        .subject_name(pki.seal.certificate.subject)
        .issuer_name(pki.issuing_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .sign(pki.issuing_ca.key, hashes.SHA256())
    )
    warnings = " | ".join(describe_certificate(weak)["warnings"])
    assert "nonRepudiation" in warnings
    assert "emailProtection" in warnings
    assert "expires on" in warnings
    assert describe_certificate(pki.seal.certificate)["warnings"] == []
