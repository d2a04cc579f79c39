"""Where the organisation's seal key, time-stamp authority and trust roots come from (``MADOGUCHI_SEAL_*``).

Every variable is described in docs/sealing.md. Reading the settings touches no file; the key is
loaded by :class:`engine.issuance.seal.Sealer` and the trust roots by :func:`load_trust_roots`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from engine.errors import BadInput


class SealSettingsError(BadInput):
    """A seal setting points at something missing or unreadable (exit code 2)."""


@dataclass(frozen=True)
class Pkcs11Settings:
    """A key kept in a hardware security module, reached through its PKCS#11 module."""

    module: Path
    token_label: str
    key_label: str
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SealSettings:
    home: Path
    pkcs12_path: Path
    password_file: Path | None
    password: str | None = field(default=None, repr=False)
    pkcs11: Pkcs11Settings | None = None
    tsa_url: str | None = None
    #: Explicit trust root files; empty means ``<home>/seal/trust/*.pem``, looked up when loading.
    trust_files: tuple[Path, ...] = ()
    crl_files: tuple[Path, ...] = ()
    display_name: str | None = None

    @classmethod
    def from_env(cls, home: Path, environ: Mapping[str, str] | None = None) -> SealSettings:
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            raw = env.get(name, "").strip()
            return raw or None

        def paths(name: str) -> tuple[Path, ...]:
            return tuple(Path(part.strip()) for part in env.get(name, "").split(",") if part.strip())

        home = Path(home)
        seal_dir = home / "seal"
        pkcs12_path = Path(value("MADOGUCHI_SEAL_PKCS12") or seal_dir / "seal.p12")
        password = env.get("MADOGUCHI_SEAL_PASSWORD") or None
        password_file = None
        if password is None:
            password_file = Path(value("MADOGUCHI_SEAL_PASSWORD_FILE") or f"{pkcs12_path}.password")
        pkcs11 = None
        module = value("MADOGUCHI_SEAL_PKCS11_MODULE")
        if module:
            token = value("MADOGUCHI_SEAL_PKCS11_TOKEN")
            key_label = value("MADOGUCHI_SEAL_PKCS11_KEY_LABEL")
            if not token or not key_label:
                raise SealSettingsError(
                    "MADOGUCHI_SEAL_PKCS11_MODULE is set, so MADOGUCHI_SEAL_PKCS11_TOKEN and "
                    "MADOGUCHI_SEAL_PKCS11_KEY_LABEL must be set too")
            pkcs11 = Pkcs11Settings(Path(module), token, key_label, env.get("MADOGUCHI_SEAL_PKCS11_PIN") or None)
        tsa_url = value("MADOGUCHI_TSA_URL")
        if tsa_url and not tsa_url.startswith(("http://", "https://")):
            raise SealSettingsError(f"MADOGUCHI_TSA_URL={tsa_url!r} is not an http(s) URL")
        return cls(
            home=home,
            pkcs12_path=pkcs12_path,
            password_file=password_file,
            password=password,
            pkcs11=pkcs11,
            tsa_url=tsa_url,
            trust_files=paths("MADOGUCHI_SEAL_TRUST"),
            crl_files=paths("MADOGUCHI_SEAL_CRLS"),
            display_name=value("MADOGUCHI_SEAL_NAME"),
        )

    @property
    def default_trust_dir(self) -> Path:
        return self.home / "seal" / "trust"

    def read_password(self) -> bytes:
        """The PKCS#12 password, from the variable or the password file (one line, end trimmed)."""
        if self.password is not None:
            return self.password.encode("utf-8")
        assert self.password_file is not None
        try:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n").encode("utf-8")
        except FileNotFoundError:
            raise SealSettingsError(
                f"seal password file {self.password_file} not found — set MADOGUCHI_SEAL_PASSWORD or "
                "MADOGUCHI_SEAL_PASSWORD_FILE, or run `madoguchi seal init-dev` for a dev seal") from None
        except OSError as exc:
            raise SealSettingsError(f"cannot read seal password file {self.password_file}: {exc}") from None

    def trust_paths(self) -> list[Path]:
        if self.trust_files:
            return list(self.trust_files)
        return sorted(self.default_trust_dir.glob("*.pem"))


def load_trust_roots(settings: SealSettings) -> list[x509.Certificate]:
    """Every certificate of every trust file (a file may hold several PEM certificates)."""
    roots: list[x509.Certificate] = []
    for path in settings.trust_paths():
        try:
            roots.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        except FileNotFoundError:
            raise SealSettingsError(f"trust root file {path} not found (MADOGUCHI_SEAL_TRUST)") from None
        except ValueError as exc:
            raise SealSettingsError(f"trust root file {path} holds no PEM certificate: {exc}") from None
    return roots


def load_crls(settings: SealSettings) -> list[bytes]:
    """The CRL files (DER or PEM) as DER bytes; none configured means revocation is soft-fail."""
    crls: list[bytes] = []
    for path in settings.crl_files:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SealSettingsError(f"cannot read CRL file {path} (MADOGUCHI_SEAL_CRLS): {exc}") from None
        try:
            crl = (x509.load_pem_x509_crl(raw) if raw.lstrip().startswith(b"-----")
                   else x509.load_der_x509_crl(raw))
        except ValueError as exc:
            raise SealSettingsError(f"CRL file {path} is not a CRL: {exc}") from None
        crls.append(crl.public_bytes(Encoding.DER))
    return crls
