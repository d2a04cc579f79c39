"""poppler's pdfsig as an independent second opinion on our seals, and where it falls short.

These tests document pdfsig's behaviour as much as they test ours: it detects a changed byte, but
it calls a file with an appended, text-hiding revision "valid" (only noting "Not total document
signed"), which is why the engine's own check must say "altered" there.
"""

from __future__ import annotations

import pytest

from engine.issuance.pki import build_dev_pki
from engine.issuance.signature_check import check_signature
from tests.engine.issuance import pdfsig
from tests.engine.issuance.sealing_support import (
    APPLICANT,
    append_white_box,
    flip_byte_in,
    make_pdf,
    sealer_for,
)
from tests.engine.issuance.tsa_server import TsaServer

pytestmark = pytest.mark.skipif(not pdfsig.available(), reason="poppler-utils (pdfsig) and certutil are needed")


@pytest.fixture(scope="module")
def pki():
    return build_dev_pki()


@pytest.fixture(scope="module")
def nssdir(pki, tmp_path_factory) -> str:
    return pdfsig.make_nss_db(tmp_path_factory.mktemp("nss"), [pki.root.certificate])


@pytest.fixture(scope="module")
def sealed(pki) -> bytes:
    return sealer_for(pki).seal(make_pdf(), reason="発行", document_id="R08-000123")


def run(tmp_path, nssdir, pdf: bytes, name: str = "doc.pdf") -> pdfsig.PdfsigReport:
    path = tmp_path / name
    path.write_bytes(pdf)
    return pdfsig.run_pdfsig(path, nssdir)


def test_pdfsig_finds_our_seal_valid_and_trusted(tmp_path, nssdir, sealed):
    report = run(tmp_path, nssdir, sealed)
    assert report.signature_valid, report.text
    assert report.certificate_trusted, report.text
    assert report.total_document_signed
    assert report.signer_common_name == "見本市長"
    assert "ETSI.CAdES.detached" in report.text


def test_pdfsig_reports_a_flipped_byte_as_digest_mismatch(tmp_path, pki, nssdir, sealed):
    tampered = flip_byte_in(sealed, APPLICANT.encode())
    report = run(tmp_path, nssdir, tampered)
    assert report.signature_validation == "Digest Mismatch.", report.text
    assert not report.signature_valid
    assert check_signature(tampered, [pki.root.certificate]).status == "altered"


def test_pdfsig_calls_an_appended_white_box_valid_but_we_do_not(tmp_path, pki, nssdir, sealed):
    tampered = append_white_box(sealed)
    report = run(tmp_path, nssdir, tampered)
    # What pdfsig says: the signed bytes are intact, so "valid"; only this line hints at the update.
    assert report.signature_valid, report.text
    assert report.certificate_trusted, report.text
    assert "Not total document signed" in report.text
    assert check_signature(tampered, [pki.root.certificate]).status == "altered"


def test_pdfsig_does_not_trust_an_unknown_signer(tmp_path, nssdir):
    forged = sealer_for(build_dev_pki("偽市")).seal(make_pdf(), reason="発行")
    report = run(tmp_path, nssdir, forged)
    assert report.signature_valid
    assert not report.certificate_trusted, report.text


def test_pdfsig_accepts_a_b_t_seal_without_checking_the_time_stamp(tmp_path, pki, nssdir):
    with TsaServer(pki) as tsa:
        sealed = sealer_for(pki, tsa_url=tsa.url).seal(make_pdf(), reason="発行")
    report = run(tmp_path, nssdir, sealed)
    assert report.signature_valid and report.certificate_trusted, report.text
    assert check_signature(sealed, [pki.root.certificate]).timestamp_valid is True
