"""The baseline for ``sealed_docs_per_s``: the same certificate made the obvious way.

reportlab's Platypus with its ``QrCodeWidget`` renders the page; pyHanko's stock
``SimpleSigner`` (loaded once from the same PKCS#12 file) seals it with its automatic
signature size — a certified PAdES B-B seal, like the engine's.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402

from tests.engine.issuance.render_speed import TEMPLATE, render_naive, sample_data  # noqa: E402

__all__ = ["TEMPLATE", "sample_data", "issue", "use_seal"]

_signer: signers.SimpleSigner | None = None


def use_seal(pkcs12: Path, password: bytes) -> None:
    """Load the seal the plain way, once (as a simple program would at start-up)."""
    global _signer
    _signer = signers.SimpleSigner.load_pkcs12(str(pkcs12), passphrase=password)


def issue(n: int) -> bytes:
    """Render certificate ``n`` and seal it; the sealed bytes."""
    if _signer is None:
        raise RuntimeError("call use_seal() first")
    metadata = signers.PdfSignatureMetadata(
        field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES, reason="証明書の発行",
        certify=True, docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    writer = IncrementalPdfFileWriter(BytesIO(render_naive(n)))
    return signers.PdfSigner(metadata, _signer).sign_pdf(writer).getvalue()
