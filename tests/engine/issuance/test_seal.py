"""Sealing: settings, the cached sealer, PAdES B-B and B-T (with a real HTTP time-stamp authority)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from engine.errors import BadInput
from engine.issuance.pki import build_dev_pki, init_dev_seal
from engine.issuance.seal import SEAL_FIELD, Sealer, TimestampUnavailable
from engine.issuance.seal_settings import SealSettings, SealSettingsError, load_crls, load_trust_roots
from engine.issuance.signature_check import check_signature
from tests.engine.issuance.sealing_support import add_document_id, make_dev_seal, make_pdf, sealer_for
from tests.engine.issuance.tsa_server import TsaServer


def test_settings_defaults_point_into_home(tmp_path):
    settings = SealSettings.from_env(tmp_path, {})
    assert settings.pkcs12_path == tmp_path / "seal" / "seal.p12"
    assert settings.password_file == tmp_path / "seal" / "seal.p12.password"
    assert settings.pkcs11 is None and settings.tsa_url is None and settings.display_name is None
    assert settings.trust_paths() == []


def test_settings_from_environment(tmp_path):
    environ = {
        "MADOGUCHI_SEAL_PKCS12": str(tmp_path / "org.p12"),
        "MADOGUCHI_SEAL_PASSWORD": "secret",
        "MADOGUCHI_TSA_URL": "http://tsa.example.invalid/",
        "MADOGUCHI_SEAL_TRUST": f"{tmp_path / 'a.pem'}, {tmp_path / 'b.pem'}",
        "MADOGUCHI_SEAL_NAME": "見本市役所",
    }
    settings = SealSettings.from_env(tmp_path, environ)
    assert settings.pkcs12_path == tmp_path / "org.p12"
    assert settings.read_password() == b"secret"
    assert settings.password_file is None
    assert settings.tsa_url == "http://tsa.example.invalid/"
    assert settings.trust_paths() == [tmp_path / "a.pem", tmp_path / "b.pem"]
    assert settings.display_name == "見本市役所"
    assert "secret" not in repr(settings)


def test_settings_refuse_half_a_pkcs11_configuration(tmp_path):
    with pytest.raises(SealSettingsError, match="MADOGUCHI_SEAL_PKCS11_TOKEN"):
        SealSettings.from_env(tmp_path, {"MADOGUCHI_SEAL_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so"})
    with pytest.raises(SealSettingsError, match="MADOGUCHI_TSA_URL"):
        SealSettings.from_env(tmp_path, {"MADOGUCHI_TSA_URL": "tsa.example"})


def test_pkcs11_without_python_pkcs11_says_what_to_install(tmp_path):
    settings = SealSettings.from_env(tmp_path, {
        "MADOGUCHI_SEAL_PKCS11_MODULE": "/nonexistent/libpkcs11.so",
        "MADOGUCHI_SEAL_PKCS11_TOKEN": "seal", "MADOGUCHI_SEAL_PKCS11_KEY_LABEL": "org-seal",
        "MADOGUCHI_SEAL_PKCS11_PIN": "1234"})
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        with pytest.raises(SealSettingsError, match=r"madoguchi\[pkcs11\]"):
            Sealer.from_settings(settings)
    else:
        pytest.skip("python-pkcs11 is installed; this checks the message shown without it")


def test_wrong_password_and_missing_seal_are_clear(tmp_path):
    with pytest.raises(SealSettingsError, match="init-dev"):
        Sealer.from_settings(SealSettings.from_env(tmp_path, {}))
    seal, _ = make_dev_seal(tmp_path)
    wrong = SealSettings.from_env(tmp_path, {"MADOGUCHI_SEAL_PASSWORD": "not-it"})
    with pytest.raises(SealSettingsError, match="wrong password"):
        Sealer.from_settings(wrong)


def test_sealer_is_loaded_once_and_reloaded_when_the_file_changes(tmp_path):
    seal, settings = make_dev_seal(tmp_path)
    first = Sealer.from_settings(settings)
    assert Sealer.from_settings(settings) is first
    assert first.certificate == seal.certificate
    assert first.signer_name == "見本市"
    assert [c.subject for c in first.chain] == [seal.pki.issuing_ca.certificate.subject]
    renewed = init_dev_seal(tmp_path, force=True)
    # Make sure the key file looks changed even on a file system with coarse timestamps.
    os.utime(renewed.pkcs12_path, ns=(1, 1))
    second = Sealer.from_settings(settings)
    assert second is not first
    assert second.certificate == renewed.certificate


def test_seal_makes_a_certified_invisible_pades_signature(tmp_path):
    seal, settings = make_dev_seal(tmp_path)
    sealer = Sealer.from_settings(settings)
    sealed = sealer.seal(make_pdf(), reason="証明書の発行", location="見本市", document_id="R08-000123")

    reader = PdfFileReader(BytesIO(sealed))
    [signature] = reader.embedded_signatures
    assert signature.field_name == SEAL_FIELD
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.docmdp_level == MDPPerm.NO_CHANGES
    assert str(signature.sig_object["/Reason"]) == "証明書の発行"
    assert "/Rect" not in signature.sig_field or list(signature.sig_field["/Rect"]) in ([], [0, 0, 0, 0])

    check = check_signature(sealed, load_trust_roots(settings))
    assert check.status == "valid", check.reasons
    assert check.signer_subject == "CN=見本市長,O=見本市,C=JP"
    assert check.signer_name == "見本市"
    assert check.document_id == "R08-000123"
    assert check.timestamp_valid is None
    assert check.signing_time is not None


def test_display_name_setting_is_the_signer_name(tmp_path):
    _, settings = make_dev_seal(tmp_path)
    named = SealSettings.from_env(tmp_path, {"MADOGUCHI_SEAL_NAME": "見本市役所 市民課"})
    assert Sealer.from_settings(named).signer_name == "見本市役所 市民課"
    assert Sealer.from_settings(settings).signer_name == "見本市"


def test_seal_refuses_what_is_not_an_unsigned_pdf():
    sealer = sealer_for(build_dev_pki())
    with pytest.raises(BadInput, match="not a PDF"):
        sealer.seal(b"hello", reason="x")
    with pytest.raises(BadInput, match="cannot be read"):
        sealer.seal(b"%PDF-1.7\n garbage", reason="x")
    sealed = sealer.seal(make_pdf(), reason="x")
    with pytest.raises(BadInput, match="already signed"):
        sealer.seal(sealed, reason="again")


def test_seal_keeps_the_document_id_and_refuses_a_conflicting_one():
    sealer = sealer_for(build_dev_pki())
    numbered = add_document_id(make_pdf(), "A-1")
    assert check_signature(sealer.seal(numbered, reason="x", document_id="A-1"), []).document_id == "A-1"
    with pytest.raises(BadInput, match="document A-1, not B-2"):
        sealer.seal(numbered, reason="x", document_id="B-2")


def test_crl_files_are_read_in_der_or_pem(tmp_path):
    seal, _ = make_dev_seal(tmp_path)
    settings = SealSettings.from_env(tmp_path, {"MADOGUCHI_SEAL_CRLS": ",".join(str(p) for p in seal.crl_paths)})
    assert len(load_crls(settings)) == 2
    bad = tmp_path / "bad.crl"
    bad.write_bytes(b"nope")
    with pytest.raises(SealSettingsError, match="not a CRL"):
        load_crls(SealSettings.from_env(tmp_path, {"MADOGUCHI_SEAL_CRLS": str(bad)}))


def test_b_t_seal_with_a_real_time_stamp_authority():
    pki = build_dev_pki()
    stamp_time = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).replace(microsecond=0)
    with TsaServer(pki, fixed_time=stamp_time) as tsa:
        sealer = sealer_for(pki, tsa_url=tsa.url)
        sealed = sealer.seal(make_pdf(), reason="発行", document_id="R08-000124")
        assert tsa.requests == 1
    check = check_signature(sealed, [pki.root.certificate])
    assert check.status == "valid", check.reasons
    assert check.timestamp_valid is True
    assert check.signing_time == stamp_time
    assert "time-stamp token" in " ".join(check.reasons)


def test_time_stamp_from_an_unknown_tsa_is_untrusted():
    pki, stranger = build_dev_pki(), build_dev_pki("他市")
    with TsaServer(stranger) as tsa:
        sealed = sealer_for(pki, tsa_url=tsa.url).seal(make_pdf(), reason="発行")
    check = check_signature(sealed, [pki.root.certificate])
    assert check.status == "untrusted"
    assert check.timestamp_valid is False
    assert "time-stamp authority" in " ".join(check.reasons)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_tsa_down_is_a_clear_error_naming_the_url():
    url = f"http://127.0.0.1:{_closed_port()}/tsa"
    sealer = sealer_for(build_dev_pki(), tsa_url=url)
    pdf = make_pdf()
    with pytest.raises(TimestampUnavailable) as failed:
        sealer.seal(pdf, reason="発行")
    assert url in str(failed.value)
    assert failed.value.url == url
    assert failed.value.retryable
    # The sealer is still usable once the TSA is back (nothing half-made is kept).
    assert PdfFileReader(BytesIO(pdf)).embedded_signatures == []
