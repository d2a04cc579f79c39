"""JPKI signature verification against a real test PKI (tests/plugins/pki.py): every way a
signature can be refused gives its own clear reason, never an exception; revocation goes
through the hook with the CRL checker answering last; the operation works from a BPMN
service task run by a worker, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import click
import pytest
from asn1crypto import algos, cms
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

import plugins.jpki as jpki
from engine.config import Settings
from engine.facade import Engine
from engine.hookspecs import hookimpl
from engine.identity_checks import (
    IdentityResult,
    RevocationStatus,
    UnknownVerifier,
    VerificationContext,
    verify_identity,
)
from engine.plugins import DEFAULT_PLUGINS, PluginError
from plugins.jpki.canonical import CanonicalFormError, canonical_bytes
from plugins.jpki.reasons import JST
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text, open_tasks, show, start
from tests.engine.jobs.support import job_rows, service_task
from tests.plugins import pki

APPLICATION = {"procedure": "住民票の写しの交付申請", "applicant": {"name": "佐藤 花子", "address": "見本市1-2-3"},
               "copies": 2, "fee": 600, "purpose": None}
DATA = canonical_bytes(APPLICATION)
SETTING_NAMES = ("TRUST_ANCHORS", "INTERMEDIATES", "CRL_DIR", "REVOCATION_REQUIRED", "REQUIRED_KEY_USAGE")


def jpki_plugins(*more) -> tuple:
    """The JPKI plugin (unless it is built in already) and ``more`` test plugins."""
    return (*(() if jpki.__name__ in DEFAULT_PLUGINS else (jpki,)), *more)


# -- the test PKI (made once: RSA keys are slow) ------------------------------------------------

@pytest.fixture(scope="module")
def ca() -> pki.Authority:
    return pki.root_ca()


@pytest.fixture(scope="module")
def applicant(ca) -> pki.Holder:
    return ca.issue("佐藤 花子")


class Setup:
    """Writes trust anchors and CRLs into a temporary directory and points the settings at them."""

    def __init__(self, tmp_path, monkeypatch):
        self.dir, self.monkeypatch = tmp_path / "jpki", monkeypatch
        (self.dir / "crl").mkdir(parents=True)
        for name in SETTING_NAMES:
            monkeypatch.delenv(f"MADOGUCHI_JPKI_{name}", raising=False)

    def trust(self, *authorities) -> Setup:
        anchors = self.dir / "anchors.pem"
        pki.write_pem(anchors, *(a.certificate for a in authorities))
        self.monkeypatch.setenv("MADOGUCHI_JPKI_TRUST_ANCHORS", str(anchors))
        return self

    def intermediates(self, *authorities) -> Setup:
        path = pki.write_pem(self.dir / "intermediates.pem", *(a.certificate for a in authorities))
        self.monkeypatch.setenv("MADOGUCHI_JPKI_INTERMEDIATES", str(path))
        return self

    def crl(self, name: str, der: bytes) -> Setup:
        (self.dir / "crl" / name).write_bytes(der)
        self.monkeypatch.setenv("MADOGUCHI_JPKI_CRL_DIR", str(self.dir / "crl"))
        return self

    def no_crls(self) -> Setup:
        self.monkeypatch.setenv("MADOGUCHI_JPKI_CRL_DIR", str(self.dir / "crl"))
        return self

    def set(self, name: str, value: str) -> Setup:
        self.monkeypatch.setenv(f"MADOGUCHI_JPKI_{name.upper()}", value)
        return self


@pytest.fixture
def setup(tmp_path, monkeypatch) -> Setup:
    return Setup(tmp_path, monkeypatch)


@pytest.fixture
def configured(setup, ca) -> Setup:
    """The usual set-up: the test CA trusted, its current CRL listing nobody."""
    return setup.trust(ca).crl("ca.crl", ca.crl())


def make_engine(tmp_path, *more_plugins) -> Engine:
    # Verification needs no database; the engine is built against an unused SQLite file.
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    return Engine(settings, plugins=jpki_plugins(*more_plugins))


def verify(tmp_path, signature: bytes, data: bytes = DATA, *more_plugins, moment: datetime | None = None
           ) -> IdentityResult:
    context = VerificationContext(moment=moment) if moment else None
    result = verify_identity(make_engine(tmp_path, *more_plugins), "jpki", data, signature, context)
    json.dumps(result.as_dict())  # always JSON-compatible
    return result


def refused(result: IdentityResult, code: str) -> str:
    assert result.valid is False, result.reason
    assert result.details["code"] == code, result.reason
    assert result.details["reason_ja"]
    return result.reason


# -- valid -------------------------------------------------------------------------------------

def test_valid_signature_names_the_signer(tmp_path, configured, ca, applicant):
    result = verify(tmp_path, pki.sign(applicant, DATA))

    assert result.valid is True, result.reason
    assert result.reason == "the signature is valid (signed by CN=佐藤 花子,O=Madoguchi test PKI,C=JP)"
    assert result.subject == "CN=佐藤 花子,O=Madoguchi test PKI,C=JP"
    assert int(result.serial_number, 16) == applicant.serial
    assert result.serial_number == result.serial_number.upper() and len(result.serial_number) % 2 == 0
    assert result.issuer == ca.certificate.subject.rfc4514_string()
    assert result.not_after == applicant.certificate.not_valid_after_utc
    assert abs(result.signing_time - datetime.now(UTC)) < timedelta(minutes=5)
    details = result.details
    assert details["code"] == "valid" and details["reason_ja"].startswith("署名は有効です")
    assert details["chain"] == [result.subject, result.issuer]
    assert details["key_usage"] == ["digital_signature", "non_repudiation"]
    assert details["digest_algorithm"] == "sha256" and details["detached"] is True
    [revocation] = details["revocation"]
    assert revocation["status"] == "good" and revocation["source"] == "plugins.jpki"
    assert base64.b64decode(details["certificate"]) == applicant.certificate.public_bytes(
        serialization.Encoding.DER)
    as_dict = result.as_dict()
    assert as_dict["valid"] is True and as_dict["serial_number"] == result.serial_number
    assert as_dict["not_after"] == applicant.certificate.not_valid_after_utc.isoformat()


@pytest.mark.parametrize("form", ["der", "base64", "base64 with line breaks", "pem"])
def test_signature_accepted_as_der_base64_or_pem(tmp_path, configured, applicant, form):
    der = pki.sign(applicant, DATA)
    text = base64.b64encode(der)
    signature = {"der": der, "base64": text,
                 "base64 with line breaks": b"\n".join(text[i:i + 64] for i in range(0, len(text), 64)),
                 "pem": b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"}[form]
    assert verify(tmp_path, signature).valid is True


def test_ecdsa_signer_is_accepted(tmp_path, configured, ca):
    holder = ca.issue("EC signer", key=pki.ec_key())
    result = verify(tmp_path, pki.sign(holder, DATA))
    assert result.valid is True, result.reason


def test_rsa_pss_and_sha512_are_accepted(tmp_path, configured, applicant):
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    result = verify(tmp_path, pki.sign(applicant, DATA, hash_algorithm=hashes.SHA512(), rsa_padding=pss))
    assert result.valid is True, result.reason
    assert (result.details["digest_algorithm"], result.details["signature_algorithm"]) == ("sha512", "rsassa_pss")


def test_der_ending_in_a_whitespace_byte_is_read_whole(tmp_path, configured, ca):
    # ECDSA signatures end in random bytes; one in " \t\n\r\v\f" must not be stripped like text.
    holder = ca.issue("EC signer", key=pki.ec_key())
    der = next(d for d in (pki.sign(holder, DATA) for _ in range(2000)) if d[-1:].isspace())
    result = verify(tmp_path, der)
    assert result.valid is True, result.reason


def test_attached_signature_must_carry_the_submitted_data(tmp_path, configured, applicant):
    attached = pki.sign(applicant, DATA, detached=False)
    assert verify(tmp_path, attached).valid is True
    assert "does not match what was submitted" in refused(verify(tmp_path, attached, DATA + b" "), "tampered")


# -- validity --------------------------------------------------------------------------------

def test_expired_certificate(tmp_path, configured, ca):
    expired = ca.issue("期限切れ 太郎", not_before=datetime(2020, 4, 1, tzinfo=UTC),
                       not_after=datetime(2025, 3, 31, 14, 59, 59, tzinfo=UTC))  # 23:59:59 JST
    result = verify(tmp_path, pki.sign(expired, DATA))
    assert refused(result, "expired").startswith("the certificate expired on 2025-03-31")
    assert result.details["reason_ja"].startswith("電子証明書の有効期限が2025-03-31に切れています")
    assert result.subject == "CN=期限切れ 太郎,O=Madoguchi test PKI,C=JP"  # the clerk still sees who


def test_not_yet_valid_certificate(tmp_path, configured, ca):
    starts = pki.NOW + timedelta(days=10)
    future = ca.issue("未来 花子", not_before=starts)
    reason = refused(verify(tmp_path, pki.sign(future, DATA)), "not_yet_valid")
    assert reason == f"the certificate is not valid until {starts.astimezone(JST):%Y-%m-%d}"


def test_validity_is_checked_at_the_moment_given_not_the_claimed_signing_time(tmp_path, configured, ca):
    expired = ca.issue("expired yesterday", not_before=pki.NOW - timedelta(days=400),
                       not_after=pki.NOW - timedelta(days=1))
    signature = pki.sign(expired, DATA)  # its signingTime says "now": not believed
    refused(verify(tmp_path, signature), "expired")
    # When the server received the submission before the expiry, the caller may say so.
    assert verify(tmp_path, signature, moment=pki.NOW - timedelta(days=2)).valid is True


def test_expired_intermediate_ca(tmp_path, setup, ca):
    intermediate = ca.issue("Old issuing CA", ca=True, not_before=pki.NOW - timedelta(days=900),
                            not_after=pki.NOW - timedelta(days=3))
    holder = intermediate.issue("signer", not_before=pki.NOW - timedelta(days=30))
    setup.trust(ca).crl("ca.crl", ca.crl()).crl("old.crl", intermediate.crl())
    reason = refused(verify(tmp_path, pki.sign(holder, DATA, extra_certs=(intermediate.certificate,))),
                     "ca_expired")
    assert "Old issuing CA" in reason and "expired on" in reason


# -- trust -------------------------------------------------------------------------------------

def test_certificate_from_another_ca_does_not_chain(tmp_path, configured):
    stranger_ca = pki.root_ca("Some other CA", slot=2)
    result = verify(tmp_path, pki.sign(stranger_ca.issue("stranger"), DATA))
    reason = refused(result, "untrusted")
    assert reason.startswith("the signer's certificate does not chain to a configured trust anchor")
    assert "Some other CA" in reason
    assert result.subject == "CN=stranger,O=Madoguchi test PKI,C=JP"


def test_impostor_ca_with_the_trusted_name_does_not_chain(tmp_path, configured):
    impostor = pki.root_ca("Test JPKI signing CA", slot=3)  # same name, another key
    refused(verify(tmp_path, pki.sign(impostor.issue("佐藤 花子"), DATA)), "untrusted")


def test_self_signed_signer_does_not_chain(tmp_path, configured):
    reason = refused(verify(tmp_path, pki.sign(pki.root_ca("Me, myself", slot=4), DATA)), "untrusted")
    assert "self-signed" in reason


def test_no_trust_anchor_configured_says_so(tmp_path, setup, applicant):
    reason = refused(verify(tmp_path, pki.sign(applicant, DATA)), "untrusted")
    assert "MADOGUCHI_JPKI_TRUST_ANCHORS" in reason


def test_intermediate_from_the_signature_or_from_the_settings(tmp_path, setup, ca):
    intermediate = ca.issue("Issuing CA 2", ca=True)
    holder = intermediate.issue("signer via intermediate")
    setup.trust(ca).crl("root.crl", ca.crl()).crl("issuing.crl", intermediate.crl())
    embedded = verify(tmp_path, pki.sign(holder, DATA, extra_certs=(intermediate.certificate,)))
    assert embedded.valid is True, embedded.reason
    assert [r["status"] for r in embedded.details["revocation"]] == ["good", "good"]  # signer, then the CA
    bare = pki.sign(holder, DATA)
    refused(verify(tmp_path, bare), "untrusted")
    setup.intermediates(intermediate)
    result = verify(tmp_path, bare)
    assert result.valid is True, result.reason
    assert len(result.details["chain"]) == 3


# -- integrity ---------------------------------------------------------------------------------

def test_tampered_data(tmp_path, configured, applicant):
    signature = pki.sign(applicant, DATA)
    changed = canonical_bytes({**APPLICATION, "copies": 20})
    result = verify(tmp_path, signature, changed)
    assert refused(result, "tampered") == ("the signed data does not match what was submitted "
                                           "(tampered, or a different document was signed)")
    assert result.subject is not None


def test_altered_signature_value(tmp_path, configured, applicant):
    content_info = cms.ContentInfo.load(pki.sign(applicant, DATA))
    signer_info = content_info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[10] ^= 0x01
    signer_info["signature"] = bytes(value)
    reason = refused(verify(tmp_path, content_info.dump(force=True)), "bad_signature")
    assert "does not verify with the signer's certificate" in reason


def test_weak_hash_algorithm_is_refused(tmp_path, configured, applicant):
    content_info = cms.ContentInfo.load(pki.sign(applicant, DATA))
    content_info["content"]["signer_infos"][0]["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": "sha1"})
    reason = refused(verify(tmp_path, content_info.dump(force=True)), "weak_algorithm")
    assert "SHA1" in reason


def test_unknown_signature_algorithm_is_refused(tmp_path, configured, applicant):
    content_info = cms.ContentInfo.load(pki.sign(applicant, DATA))
    content_info["content"]["signer_infos"][0]["signature_algorithm"] = algos.SignedDigestAlgorithm(
        {"algorithm": "1.2.3.4"})
    reason = refused(verify(tmp_path, content_info.dump(force=True)), "unsupported")
    assert reason == "the signature uses a form this verifier does not accept: the signature algorithm 1.2.3.4"


def test_signature_without_the_signer_certificate(tmp_path, configured, applicant):
    content_info = cms.ContentInfo.load(pki.sign(applicant, DATA))
    del content_info["content"]["certificates"]
    content_info["content"]["certificates"] = None
    reason = refused(verify(tmp_path, content_info.dump(force=True)), "no_signer_certificate")
    assert reason == "the signature does not include the signer's certificate, so the signer cannot be identified"


@pytest.mark.parametrize("signature", [
    b"this is not a signature",
    b"\x30\x03\x02\x01",  # truncated DER
    base64.b64encode(b"\x30\x82\x01\x00" + b"\x00" * 40),
    b"-----BEGIN PKCS7-----\nbm90IGNtcw==\n-----END PKCS7-----\n",
    "not latin-1: 署名".encode(),
], ids=["text", "truncated-der", "base64-junk", "pem-junk", "utf8-text"])
def test_garbage_is_refused_with_a_reason_not_an_exception(tmp_path, configured, signature):
    result = verify(tmp_path, signature)
    assert refused(result, "malformed").startswith("the signature could not be read as a CMS/PKCS#7 signature")
    assert result.subject is None


def test_a_certificate_is_not_a_signature(tmp_path, configured, applicant):
    reason = refused(verify(tmp_path, applicant.certificate.public_bytes(serialization.Encoding.DER)), "malformed")
    assert "CMS/PKCS#7" in reason


def test_missing_signature(tmp_path, configured):
    assert refused(verify(tmp_path, b""), "no_signature") == "no signature was submitted"


# -- key usage ---------------------------------------------------------------------------------

def test_login_certificate_is_not_for_signatures(tmp_path, configured, ca):
    login = ca.issue("佐藤 花子 (利用者証明用)", usage=pki.LOGIN_USAGE)
    reason = refused(verify(tmp_path, pki.sign(login, DATA)), "key_usage")
    assert reason.startswith("the certificate is not for signatures (key usage: digital_signature; "
                             "non_repudiation required)")


def test_certificate_without_key_usage_is_refused(tmp_path, configured, ca):
    reason = refused(verify(tmp_path, pki.sign(ca.issue("no usage", usage=None), DATA)), "key_usage")
    assert "none declared" in reason


def test_required_key_usage_is_configurable(tmp_path, configured, ca):
    login = ca.issue("digital signature only", usage=pki.LOGIN_USAGE)
    configured.set("required_key_usage", "digital_signature")
    assert verify(tmp_path, pki.sign(login, DATA)).valid is True
    configured.set("required_key_usage", "digital_signature,non_repudiation")
    refused(verify(tmp_path, pki.sign(login, DATA)), "key_usage")


# -- revocation --------------------------------------------------------------------------------

def test_revoked_certificate_listed_in_the_crl(tmp_path, setup, ca, applicant):
    revoked_at = datetime(2026, 4, 2, 1, 30, tzinfo=UTC)
    setup.trust(ca).crl("ca.crl", ca.crl([(applicant.serial, revoked_at, x509.ReasonFlags.key_compromise)]))
    result = verify(tmp_path, pki.sign(applicant, DATA))
    assert refused(result, "revoked") == "the certificate was revoked on 2026-04-02 (reason: keyCompromise)"
    assert result.details["reason_ja"] == "電子証明書は2026-04-02に失効しています（理由: keyCompromise）"
    [revocation] = result.details["revocation"]
    assert revocation["status"] == "revoked" and revocation["revoked_at"] == revoked_at.isoformat()


def test_revoked_after_the_moment_checked_is_still_valid_at_that_moment(tmp_path, setup, ca, applicant):
    revoked_at = pki.NOW - timedelta(hours=2)
    setup.trust(ca).crl("ca.crl", ca.crl([(applicant.serial, revoked_at, x509.ReasonFlags.superseded)]))
    signature = pki.sign(applicant, DATA)
    refused(verify(tmp_path, signature), "revoked")
    assert verify(tmp_path, signature, moment=revoked_at - timedelta(hours=1)).valid is True


def test_revoked_intermediate_ca(tmp_path, setup, ca):
    intermediate = ca.issue("Compromised CA", ca=True)
    holder = intermediate.issue("signer")
    setup.trust(ca).crl("issuing.crl", intermediate.crl()).crl(
        "root.crl", ca.crl([(intermediate.serial, pki.NOW - timedelta(days=1), x509.ReasonFlags.ca_compromise)]))
    reason = refused(verify(tmp_path, pki.sign(holder, DATA, extra_certs=(intermediate.certificate,))),
                     "ca_revoked")
    assert "Compromised CA" in reason and "cACompromise" in reason


def test_revocation_unknown_is_refused_when_required(tmp_path, setup, ca, applicant):
    setup.trust(ca).no_crls()  # default: revocation_required
    reason = refused(verify(tmp_path, pki.sign(applicant, DATA)), "revocation_unknown")
    assert reason.startswith("revocation status unknown: no CRL of the issuer CN=Test JPKI signing CA")


def test_revocation_unknown_is_accepted_when_not_required(tmp_path, setup, ca, applicant):
    setup.trust(ca).set("revocation_required", "false")  # no crl_dir at all: nobody can answer
    result = verify(tmp_path, pki.sign(applicant, DATA))
    assert result.valid is True
    assert result.details["code"] == "valid_revocation_unchecked"
    assert "revocation status could not be checked" in result.reason
    assert result.details["revocation"][0]["status"] == "unknown"


def test_outdated_crl_gives_unknown(tmp_path, setup, ca, applicant):
    old = pki.NOW - timedelta(days=10)
    setup.trust(ca).crl("ca.crl", ca.crl(this_update=old, next_update=old + timedelta(days=1)))
    reason = refused(verify(tmp_path, pki.sign(applicant, DATA)), "revocation_unknown")
    assert "is out of date" in reason


def test_outdated_crl_still_proves_a_revocation(tmp_path, setup, ca, applicant):
    old = pki.NOW - timedelta(days=10)
    setup.trust(ca).crl("ca.crl", ca.crl([(applicant.serial, old, x509.ReasonFlags.key_compromise)],
                                         this_update=old, next_update=old + timedelta(days=1)))
    refused(verify(tmp_path, pki.sign(applicant, DATA)), "revoked")


def test_crl_not_signed_by_the_issuer_is_ignored(tmp_path, setup, ca, applicant):
    forger = pki.rsa_key(5)
    forged = ca.crl([(applicant.serial, pki.NOW, x509.ReasonFlags.key_compromise)], signing_key=forger)
    setup.trust(ca).crl("forged.crl", forged)
    refused(verify(tmp_path, pki.sign(applicant, DATA)), "revocation_unknown")


def test_a_replaced_crl_is_read_again(tmp_path, configured, ca, applicant):
    signature = pki.sign(applicant, DATA)
    assert verify(tmp_path, signature).valid is True
    configured.crl("ca.crl", ca.crl([(applicant.serial, pki.NOW - timedelta(minutes=1), None)]))
    refused(verify(tmp_path, signature), "revoked")


def test_pem_crl_and_unreadable_files_in_the_crl_dir(tmp_path, setup, ca, applicant):
    der = ca.crl([(applicant.serial, pki.NOW - timedelta(days=1), None)])
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    setup.trust(ca).crl("ca.pem", pem).crl("README", b"CRLs are downloaded here every night")
    assert "(reason: unspecified)" in refused(verify(tmp_path, pki.sign(applicant, DATA)), "revoked")


class RevokesOne:
    """A revocation plugin (think OCSP) that knows about one serial number only."""

    def __init__(self, serial: int, answer: str = "revoked"):
        self.serial, self.answer, self.asked = serial, answer, []

    @hookimpl
    def madoguchi_revocation_status(self, certificate, issuer):
        self.asked.append(certificate.serial_number)
        return self.answer if certificate.serial_number == self.serial else None


def test_a_revocation_plugin_answers_before_the_crl_checker(tmp_path, configured, ca, applicant):
    other = ca.issue("鈴木 一郎")
    ocsp = RevokesOne(applicant.serial)
    result = verify(tmp_path, pki.sign(applicant, DATA), DATA, ocsp)
    assert refused(result, "revoked") == "the certificate was revoked on unknown (reason: unspecified)"
    assert result.details["revocation"][0]["source"] != "plugins.jpki"
    # For a serial it does not know it answers None, and the CRL checker (trylast) answers.
    result = verify(tmp_path, pki.sign(other, DATA), DATA, ocsp)
    assert result.valid is True
    assert result.details["revocation"][0]["source"] == "plugins.jpki"
    assert ocsp.asked == [applicant.serial, other.serial]


def test_first_answer_wins_even_against_the_crl(tmp_path, setup, ca, applicant):
    setup.trust(ca).crl("ca.crl", ca.crl([(applicant.serial, pki.NOW - timedelta(days=1), None)]))
    result = verify(tmp_path, pki.sign(applicant, DATA), DATA, RevokesOne(applicant.serial, "good"))
    assert result.valid is True  # documented precedence: install only revocation sources you trust


def test_a_revocation_plugin_answering_nonsense_is_an_error(tmp_path, configured, applicant):
    with pytest.raises(PluginError, match="madoguchi_revocation_status.*'yes'"):
        verify(tmp_path, pki.sign(applicant, DATA), DATA, RevokesOne(applicant.serial, "yes"))


def test_revocation_status_is_a_string():
    answer = RevocationStatus("revoked", reason="keyCompromise")
    assert answer == "revoked" and json.dumps(answer) == '"revoked"' and answer.reason == "keyCompromise"
    with pytest.raises(ValueError):
        RevocationStatus("maybe")


# -- configuration and lookup ------------------------------------------------------------------

def test_unknown_verifier_is_an_error(tmp_path, configured):
    with pytest.raises(UnknownVerifier, match="'gbizid'.*installed: jpki"):
        verify_identity(make_engine(tmp_path), "gbizid", DATA, b"")


def test_a_missing_trust_anchor_file_stops_start_up(tmp_path, setup):
    setup.set("trust_anchors", str(tmp_path / "nowhere.pem"))
    with pytest.raises(PluginError, match="plugins.jpki.*nowhere.pem does not exist"):
        make_engine(tmp_path)


def test_a_trust_anchor_directory_is_read(tmp_path, setup, ca, applicant):
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    pki.write_pem(anchors / "jpki-sign-ca.pem", ca.certificate)
    (anchors / "other.der").write_bytes(pki.root_ca("Other", slot=2).certificate.public_bytes(
        serialization.Encoding.DER))
    setup.set("trust_anchors", str(anchors)).crl("ca.crl", ca.crl())
    assert verify(tmp_path, pki.sign(applicant, DATA)).valid is True


def test_settings_are_declared(tmp_path, setup):
    [row] = [r for r in make_engine(tmp_path).plugins() if r["name"] == "plugins.jpki"]
    assert set(row["settings"]) == {"trust_anchors", "intermediates", "crl_dir", "revocation_required",
                                    "required_key_usage"}
    assert row["settings"]["crl_dir"]["variable"] == "MADOGUCHI_JPKI_CRL_DIR"


# -- canonical bytes ---------------------------------------------------------------------------

def test_canonical_bytes_are_rfc8785_json():
    assert canonical_bytes({"b": [1, True, None], "a": "佐藤\n\"x\"", "c": {"z": 1, "y": 2.5}}) == (
        '{"a":"佐藤\\n\\"x\\"","b":[1,true,null],"c":{"y":2.5,"z":1}}'.encode())
    # Keys sort by UTF-16 code units (RFC 8785 §3.2.3), not by code points.
    assert canonical_bytes({"\U0001f600": 1, "\ufb01": 2}) == '{"\U0001f600":1,"\ufb01":2}'.encode()
    assert canonical_bytes({"control": "\u0001\u001f"}) == b'{"control":"\\u0001\\u001f"}'
    assert canonical_bytes("exact text, 改行なし") == "exact text, 改行なし".encode()
    assert canonical_bytes(b"\x00raw") == b"\x00raw"


@pytest.mark.parametrize(("number", "text"), [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (100.0, "100"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (123456789012345680000.0, "123456789012345680000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (333333333.3333333, "333333333.3333333"),
    (4.5, "4.5"), (2e-3, "0.002"), (0.1 + 0.2, "0.30000000000000004"),
])
def test_canonical_numbers_print_as_ecmascript_does(number, text):
    assert canonical_bytes([number]) == f"[{text}]".encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2 ** 53 + 1, {1: "x"}, {"d": datetime.now()}])
def test_data_that_cannot_be_signed_exactly_is_refused(value):
    with pytest.raises(CanonicalFormError):
        canonical_bytes({"v": value})


# -- the development signer --------------------------------------------------------------------

def test_dev_ca_and_sign_commands_make_a_valid_signature(tmp_path, setup, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_HOME", str(tmp_path))
    group = click.Group()
    jpki.madoguchi_register_commands(cli=group)
    runner = CliRunner()
    made = runner.invoke(group, ["jpki", "dev-ca"], catch_exceptions=False)
    assert made.exit_code == 0 and "DEVELOPMENT ONLY" in made.output
    assert runner.invoke(group, ["jpki", "dev-ca"]).exit_code != 0  # never overwritten silently
    document = tmp_path / "application.json"
    document.write_text(json.dumps(APPLICATION, ensure_ascii=False, indent=2), encoding="utf-8")
    signed = runner.invoke(group, ["jpki", "sign", str(document)], catch_exceptions=False)
    assert signed.exit_code == 0, signed.output
    dev = tmp_path / "jpki-dev"
    setup.set("trust_anchors", str(dev / "ca.pem")).set("crl_dir", str(dev / "crl"))
    result = verify(tmp_path, signed.output.strip().encode())  # over the canonical bytes, not the file's
    assert result.valid is True, result.reason
    assert "DEVELOPMENT ONLY" in result.subject


# -- the operation, called directly -------------------------------------------------------------

def operation(tmp_path):
    return make_engine(tmp_path).operations["jpki.verify_signature"]


def test_operation_signs_the_canonical_form_of_the_data(tmp_path, configured, applicant):
    signature = base64.b64encode(pki.sign(applicant, DATA)).decode("ascii")
    reordered = dict(reversed(list(APPLICATION.items())))  # key order and spacing do not matter
    result = operation(tmp_path)({"data": reordered, "signature": signature}, None)
    assert result["identity"]["valid"] is True
    text = "申請内容（署名したそのままの文字列）"
    signed_text = base64.b64encode(pki.sign(applicant, text.encode())).decode("ascii")
    assert operation(tmp_path)({"data": text, "signature": signed_text}, None)["identity"]["valid"] is True


def test_operation_checks_at_the_moment_given(tmp_path, configured, ca):
    holder = ca.issue("expired an hour ago", not_after=pki.NOW - timedelta(hours=1))
    signature = base64.b64encode(pki.sign(holder, DATA)).decode("ascii")
    call = operation(tmp_path)
    assert call({"data": APPLICATION, "signature": signature}, None)["identity"]["details"]["code"] == "expired"
    received = (pki.NOW - timedelta(hours=2)).astimezone(JST).isoformat()
    identity = call({"data": APPLICATION, "signature": signature, "at": received}, None)["identity"]
    assert identity["valid"] is True
    assert identity["details"]["validation_time"] == (pki.NOW - timedelta(hours=2)).isoformat()


def test_operation_refuses_data_that_cannot_be_signed_exactly(tmp_path, configured):
    identity = operation(tmp_path)({"data": {"amount": float("nan")}, "signature": "MIIB"}, None)["identity"]
    assert identity["valid"] is False and identity["details"]["code"] == "unreadable_data"


@pytest.mark.parametrize(("params", "error"), [
    ({"signature": "MIIB"}, "needs the parameter 'data'"),
    ({"data": {}, "signature": "MIIB", "at": "2026-04-01T09:00:00"}, "needs a time zone"),
    ({"data": {}, "signature": "MIIB", "at": "2999-04-01T09:00:00+09:00"}, "is in the future"),
])
def test_operation_misconfigured_in_the_diagram_fails_the_job(tmp_path, configured, params, error):
    with pytest.raises((KeyError, ValueError), match=error):
        operation(tmp_path)(params, None)


# -- from a BPMN service task, through a worker --------------------------------------------------

VERIFY_THEN_REVIEW = process("signed_application", "\n".join([
    '<bpmn:startEvent id="s"/>',
    service_task("check_signature", "jpki.verify_signature", {"data": "application", "signature": "signature"}),
    user_task("review"), '<bpmn:endEvent id="e"/>',
    chain("s", "check_signature", "review", "e")]))


@pytest.fixture
def engine(settings, configured):
    return Engine(settings, plugins=jpki_plugins())


@pytest.mark.parametrize("case", ["valid", "tampered", "unsigned"])
def test_operation_from_a_service_task(engine, db, tmp_path, applicant, case):
    signature = base64.b64encode(pki.sign(applicant, DATA)).decode("ascii")
    submitted = {"valid": APPLICATION, "tampered": {**APPLICATION, "fee": 0}, "unsigned": APPLICATION}[case]
    deploy_text(engine, db, tmp_path, VERIFY_THEN_REVIEW)
    app = start(engine, db, "signed_application",
                {"application": submitted, "signature": "" if case == "unsigned" else signature}).application
    assert open_tasks(engine, db, app.id) == []  # the check runs in a job, not in the step

    assert engine.worker(db).run_once() == 1

    identity = show(engine, db, app.id)["data"]["identity"]
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["review"]
    assert job_rows(db) == []  # an invalid signature is a result, not a failed job
    with db.transaction() as session:
        assert engine.incidents(session) == []
    if case == "valid":
        assert identity["valid"] is True
        assert identity["subject"] == "CN=佐藤 花子,O=Madoguchi test PKI,C=JP"
        assert int(identity["serial_number"], 16) == applicant.serial
    elif case == "tampered":
        assert identity["valid"] is False and identity["details"]["code"] == "tampered"
        assert identity["reason"].startswith("the signed data does not match what was submitted")
        assert identity["subject"] == "CN=佐藤 花子,O=Madoguchi test PKI,C=JP"
    else:
        assert identity == {**identity, "valid": False, "reason": "no signature was submitted"}
