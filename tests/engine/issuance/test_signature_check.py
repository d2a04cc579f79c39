"""The verdict on a sealed PDF: valid, altered, untrusted, revoked, unsigned or not a PDF at all."""

from __future__ import annotations

import datetime as dt
import os
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from engine.issuance.pki import build_dev_pki, issue_seal_certificate, make_crl
from engine.issuance.seal import Sealer
from engine.issuance.signature_check import check_signature, validation_context
from tests.engine.issuance.sealing_support import (
    APPLICANT,
    append_white_box,
    flip_byte_in,
    make_pdf,
    sealer_for,
)


@pytest.fixture(scope="module")
def pki():
    return build_dev_pki()


@pytest.fixture(scope="module")
def sealed(pki) -> bytes:
    return sealer_for(pki).seal(make_pdf(), reason="発行", document_id="R08-000123")


def der(crl) -> bytes:
    return crl.public_bytes(Encoding.DER)


def test_a_freshly_sealed_document_is_valid(pki, sealed):
    check = check_signature(sealed, [pki.root.certificate])
    assert check.status == "valid", check.reasons
    assert check.ok
    assert check.signer_name == "見本市"
    assert check.document_id == "R08-000123"
    assert check.signature_count == 1
    assert abs(check.signing_time - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
    assert check.as_dict()["status"] == "valid"


def test_one_flipped_byte_is_a_digest_mismatch(pki, sealed):
    tampered = flip_byte_in(sealed, APPLICANT.encode())
    check = check_signature(tampered, [pki.root.certificate])
    assert check.status == "altered"
    assert "digest mismatch" in " ".join(check.reasons)


def test_an_appended_revision_that_paints_over_text_is_altered(pki, sealed):
    tampered = append_white_box(sealed)
    assert tampered.startswith(sealed)  # not one original byte changed
    check = check_signature(tampered, [pki.root.certificate])
    assert check.status == "altered"
    joined = " ".join(check.reasons)
    assert "appended after sealing" in joined
    assert "modified after sealing" in joined


def test_a_second_signature_signed_onto_the_document_is_altered(pki, sealed):
    other = build_dev_pki("他市")
    signer = signers.SimpleSigner.load_pkcs12_data(
        _pkcs12(other), other_certs=[], passphrase=b"pw")
    writer = IncrementalPdfFileWriter(BytesIO(sealed))
    countersigned = CarelessSigner(
        signers.PdfSignatureMetadata(field_name="Other", subfilter=fields.SigSeedSubFilter.PADES), signer,
    ).sign_pdf(writer).getvalue()
    check = check_signature(countersigned, [pki.root.certificate, other.root.certificate])
    assert check.status == "altered"
    assert check.signature_count == 2


class CarelessSigner(signers.PdfSigner):
    """pyHanko rightly refuses to sign a document certified "no changes"; other tools may not."""

    def _enforce_certification_constraints(self, reader) -> None:
        pass


def _pkcs12(pki) -> bytes:
    from engine.issuance.pki import pkcs12_bytes

    return pkcs12_bytes(pki.seal, pki.chain, b"pw", "other")


def test_a_signer_outside_the_trust_roots_is_untrusted(pki):
    stranger = build_dev_pki("偽市")
    forged = sealer_for(stranger).seal(make_pdf(), reason="発行")
    check = check_signature(forged, [pki.root.certificate])
    assert check.status == "untrusted"
    assert check.signer_name == "偽市"
    assert "trust root" in " ".join(check.reasons)
    assert check_signature(forged, []).status == "untrusted"


def test_a_revoked_seal_certificate(pki, sealed):
    revoked = [der(make_crl(pki.issuing_ca, [pki.seal.certificate])), der(make_crl(pki.root))]
    check = check_signature(sealed, [pki.root.certificate], crls=revoked)
    assert check.status == "revoked_certificate"
    assert "revoked" in " ".join(check.reasons)
    clean = [der(make_crl(pki.issuing_ca)), der(make_crl(pki.root))]
    assert check_signature(sealed, [pki.root.certificate], crls=clean).status == "valid"


def test_configured_crls_must_cover_the_whole_chain(pki, sealed):
    only_the_issuing_ca = [der(make_crl(pki.issuing_ca))]
    check = check_signature(sealed, [pki.root.certificate], crls=only_the_issuing_ca)
    assert check.status == "untrusted"
    assert "trust root" in " ".join(check.reasons)


def test_a_certificate_expired_at_signing_time_is_untrusted(pki):
    expired = issue_seal_certificate(pki.issuing_ca, pki.seal.certificate.subject, validity=dt.timedelta(0))
    sealer = Sealer.from_key(expired.key, expired.certificate, pki.chain)
    check = check_signature(sealer.seal(make_pdf(), reason="発行"), [pki.root.certificate])
    assert check.status == "untrusted"
    assert "expired" in " ".join(check.reasons)


def test_a_seal_certificate_without_non_repudiation_is_untrusted(pki):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(pki.seal.certificate.subject)
        .issuer_name(pki.issuing_ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(usage, critical=True)
        .sign(pki.issuing_ca.key, hashes.SHA256())
    )
    sealed = Sealer.from_key(key, certificate, pki.chain).seal(make_pdf(), reason="発行")
    check = check_signature(sealed, [pki.root.certificate])
    assert check.status == "untrusted"
    assert "nonRepudiation" in " ".join(check.reasons)


def test_an_unsigned_pdf(pki):
    check = check_signature(make_pdf(), [pki.root.certificate])
    assert check.status == "unsigned"
    assert check.signature_count == 0


@pytest.mark.parametrize("garbage", [
    b"", b"not a pdf", os.urandom(4096), b"%PDF-1.7\n" + os.urandom(2048), b"%PDF-1.4\n%%EOF",
])
def test_garbage_is_an_invalid_file_and_never_an_exception(pki, garbage):
    check = check_signature(garbage, [pki.root.certificate])
    assert check.status == "invalid_file"
    assert check.reasons


def test_a_truncated_sealed_pdf_is_not_valid(pki, sealed):
    for cut in (len(sealed) // 3, len(sealed) - 40):
        assert check_signature(sealed[:cut], [pki.root.certificate]).status in ("invalid_file", "altered")


def test_a_bad_trust_list_is_a_programming_error_not_a_verdict(sealed):
    with pytest.raises(TypeError):
        check_signature(sealed, ["not a certificate"])


def test_validation_contexts_are_shared_per_trust_configuration(pki):
    roots = [pki.root.certificate]
    assert validation_context(roots) is validation_context(roots)
    assert validation_context(roots) is not validation_context(roots, [der(make_crl(pki.root))])
    moment = dt.datetime.now(dt.UTC)
    assert validation_context(roots, now=moment) is not validation_context(roots, now=moment)
