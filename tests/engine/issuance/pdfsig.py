"""Run poppler's ``pdfsig`` as an independent second opinion, with its own NSS trust database.

pdfsig exits 0 even on "Digest Mismatch", so its text is parsed. It is run *without* ``-no-ocsp``:
poppler 22.12 reads NSS's last error even when verification succeeded, and the OCSP-disabled
policy leaves one behind, so every chain reads "Unknown issue with Certificate" with that flag.
The test certificates carry no OCSP or AIA URL, so nothing is fetched either way.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


def available() -> bool:
    return shutil.which("pdfsig") is not None and shutil.which("certutil") is not None


def make_nss_db(directory: Path, roots: list[x509.Certificate]) -> str:
    """An NSS database in ``directory`` trusting ``roots``; returns the ``-nssdir`` argument."""
    directory.mkdir(parents=True, exist_ok=True)
    nssdir = f"sql:{directory}"
    subprocess.run(["certutil", "-N", "-d", nssdir, "--empty-password"], check=True, capture_output=True)
    for index, root in enumerate(roots):
        pem_path = directory / f"root{index}.pem"
        pem_path.write_bytes(root.public_bytes(Encoding.PEM))
        subprocess.run(["certutil", "-A", "-n", f"root{index}", "-t", "C,C,C", "-i", str(pem_path), "-d", nssdir],
                       check=True, capture_output=True)
    return nssdir


@dataclass(frozen=True)
class PdfsigReport:
    text: str

    def _field(self, label: str) -> str | None:
        for line in self.text.splitlines():
            if line.strip().startswith(f"- {label}:"):
                return line.split(":", 1)[1].strip()
        return None

    @property
    def signature_validation(self) -> str | None:
        return self._field("Signature Validation")

    @property
    def certificate_validation(self) -> str | None:
        return self._field("Certificate Validation")

    @property
    def signature_valid(self) -> bool:
        return self.signature_validation == "Signature is Valid."

    @property
    def certificate_trusted(self) -> bool:
        return self.certificate_validation == "Certificate is Trusted."

    @property
    def total_document_signed(self) -> bool:
        return "Total document signed" in self.text and "Not total document signed" not in self.text

    @property
    def signer_common_name(self) -> str | None:
        return self._field("Signer Certificate Common Name")


def run_pdfsig(pdf: Path, nssdir: str) -> PdfsigReport:
    result = subprocess.run(["pdfsig", "-nssdir", nssdir, str(pdf)], capture_output=True, text=True, timeout=60)
    return PdfsigReport(result.stdout + result.stderr)
