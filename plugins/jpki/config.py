"""The plugin's settings, and reading the certificates and CRLs they point at."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from engine.errors import MadoguchiError
from engine.plugins import Setting

#: The name the plugin is registered under; settings are MADOGUCHI_JPKI_<NAME>.
PLUGIN = "plugins.jpki"

#: Key-usage names as certvalidator and RFC 5280 spell them → cryptography's attribute.
KEY_USAGE_BITS = {
    "digital_signature": "digital_signature",
    "non_repudiation": "content_commitment",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "key_cert_sign": "key_cert_sign",
    "crl_sign": "crl_sign",
}

SETTINGS = {
    "trust_anchors": Setting(
        default="",
        description="CA certificates (PEM or DER files, or directories of them) that signer certificates "
                    "must chain to, separated by ':' — e.g. the JPKI signing CA's certificate"),
    "intermediates": Setting(
        default="",
        description="intermediate CA certificates (files or directories, ':'-separated) used to build "
                    "chains when a signature does not include them; they are not trusted by themselves"),
    "crl_dir": Setting(
        default="",
        description="directory of CRL files (PEM or DER) the built-in revocation checker reads; keep it "
                    "current with a scheduled download — Madoguchi does not fetch CRLs itself"),
    "revocation_required": Setting(
        default=True,
        description="refuse signatures whose revocation status nobody can tell (no current CRL, "
                    "no OCSP answer); set to false only while no revocation source exists"),
    "required_key_usage": Setting(
        default="non_repudiation",
        description="key-usage bits the signer certificate must have (comma-separated); "
                    "non_repudiation accepts JPKI 署名用 certificates and refuses 利用者証明用 ones"),
}


class JpkiConfigError(MadoguchiError):
    """A setting of the JPKI plugin points at something missing or unreadable."""


@dataclass(frozen=True)
class JpkiConfig:
    trust_anchors: tuple[Path, ...]
    intermediates: tuple[Path, ...]
    crl_dir: Path | None
    revocation_required: bool
    required_key_usage: tuple[str, ...]

    @classmethod
    def from_engine(cls, engine) -> JpkiConfig:
        return cls.from_settings(engine.plugin_settings(PLUGIN))

    @classmethod
    def from_settings(cls, values: dict) -> JpkiConfig:
        usage = tuple(u.strip().lower() for u in str(values.get("required_key_usage") or "").split(",") if u.strip())
        unknown = [u for u in usage if u not in KEY_USAGE_BITS]
        if unknown:
            raise JpkiConfigError(f"MADOGUCHI_JPKI_REQUIRED_KEY_USAGE: unknown key usage {', '.join(unknown)} "
                                  f"(known: {', '.join(sorted(KEY_USAGE_BITS))})")
        crl_dir = str(values.get("crl_dir") or "").strip()
        return cls(trust_anchors=_paths(values.get("trust_anchors")),
                   intermediates=_paths(values.get("intermediates")),
                   crl_dir=Path(crl_dir) if crl_dir else None,
                   revocation_required=bool(values.get("revocation_required", True)),
                   required_key_usage=usage)

    def check(self) -> None:
        """Fail early (at start-up) when a configured file or directory is unusable."""
        load_certificates(self.trust_anchors, "MADOGUCHI_JPKI_TRUST_ANCHORS")
        load_certificates(self.intermediates, "MADOGUCHI_JPKI_INTERMEDIATES")
        if self.crl_dir is not None and not self.crl_dir.is_dir():
            raise JpkiConfigError(f"MADOGUCHI_JPKI_CRL_DIR={self.crl_dir}: not a directory")


def _paths(raw) -> tuple[Path, ...]:
    # os.pathsep like PATH: Windows paths contain ':' and file names may contain ','.
    return tuple(Path(p.strip()) for p in str(raw or "").split(os.pathsep) if p.strip())


def load_certificates(paths: tuple[Path, ...], variable: str) -> list[x509.Certificate]:
    """Every certificate in the given files and directories (PEM bundles or DER)."""
    certificates: list[x509.Certificate] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        elif path.is_file():
            files = [path]
        else:
            raise JpkiConfigError(f"{variable}: {path} does not exist")
        for file in files:
            try:
                certificates.extend(read_certificates(file.read_bytes()))
            except ValueError as exc:
                raise JpkiConfigError(f"{variable}: {file} is not a PEM or DER certificate ({exc})") from None
    return certificates


def read_certificates(raw: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in raw:
        return x509.load_pem_x509_certificates(raw)
    return [x509.load_der_x509_certificate(raw)]
