"""Sealing and verification throughput, naive against ours (not a test: timings vary with the machine).

    .venv/bin/python -m tests.engine.issuance.seal_speed [n]

"naive" is pyHanko's stock ``SimpleSigner`` with its automatic size estimate (a dry-run signature
per document, and the DER key parsed on every signature); "ours" is :class:`Sealer` (key parsed
once, ``bytes_reserved`` computed from the chain). Both make the same certified PAdES B-B seal.
"""

from __future__ import annotations

import sys
import time
from io import BytesIO

from pyhanko.keys.internal import (
    translate_pyca_cryptography_cert_to_asn1,
    translate_pyca_cryptography_key_to_asn1,
)
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from engine.issuance.pki import build_dev_pki
from engine.issuance.signature_check import check_signature
from tests.engine.issuance.sealing_support import make_pdf, sealer_for


def _naive_seal(pki, pdf: bytes) -> bytes:
    signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(pki.seal.certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(pki.seal.key),
        cert_registry=SimpleCertificateStore.from_certs(
            [translate_pyca_cryptography_cert_to_asn1(pki.issuing_ca.certificate)]),
        embed_roots=False,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="MadoguchiSeal", subfilter=fields.SigSeedSubFilter.PADES, reason="speed",
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    return signers.PdfSigner(metadata, signer).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf))).getvalue()


def _rate(n: int, work) -> float:
    work()  # warm-up: imports, first-use caches
    start = time.perf_counter()
    for _ in range(n):
        work()
    return n / (time.perf_counter() - start)


def measure(n: int = 50) -> dict[str, float]:
    """Documents per second, single process: naive seal, our seal, and our verification."""
    pki = build_dev_pki()
    pdf = make_pdf()
    sealer = sealer_for(pki)
    sealed = sealer.seal(pdf, reason="speed")
    roots = [pki.root.certificate]
    return {
        "naive_seal_docs_per_s": _rate(n, lambda: _naive_seal(pki, pdf)),
        "seal_docs_per_s": _rate(n, lambda: sealer.seal(pdf, reason="speed")),
        "verify_docs_per_s": _rate(n, lambda: check_signature(sealed, roots)),
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for name, rate in measure(count).items():
        print(f"{name:24} {rate:7.1f}  ({1000 / rate:6.1f} ms each)")
