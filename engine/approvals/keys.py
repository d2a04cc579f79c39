"""The approval key ring: Ed25519 keys that sign decision records.

Private keys are PEM files under ``<MADOGUCHI_HOME>/keys/approval/<key_id>.pem`` (0600, in a
0700 directory); ``current`` names the key that signs. Every public key is also a row of
``signing_keys``, so any node can verify with the database alone, and a rotated key keeps
its file and row: records it signed must verify forever.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.config import Settings
from engine.errors import MadoguchiError
from engine.store.models import SigningKey, utcnow

ALGORITHM = "ed25519"
KEYS = SigningKey.__table__


class KeyRingError(MadoguchiError):
    """The key files and the ``signing_keys`` table disagree, or a key file is unreadable."""


@dataclass(frozen=True)
class SigningIdentity:
    """The key that signs now."""

    key_id: str
    private_key: Ed25519PrivateKey

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def key_dir(settings: Settings) -> Path:
    return settings.home / "keys" / "approval"


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_raw: bytes) -> str:
    """A short, stable name derived from the key itself, so the name cannot point at another key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def current_key_id(settings: Settings) -> str | None:
    path = key_dir(settings) / "current"
    if not path.is_file():
        return None
    return path.read_text(encoding="ascii").strip() or None


def ensure_key(settings: Settings, session: Session) -> SigningIdentity:
    """The current signing key; the first call on a fresh instance creates it."""
    key_id = current_key_id(settings)
    if key_id is None:
        return _new_current_key(settings, session)
    return _load(settings, session, key_id)


def rotate(settings: Settings, session: Session) -> SigningIdentity:
    """Make a new current key; the old one is retired but its file and row are kept for verification."""
    old = current_key_id(settings)
    if old is not None:
        _load(settings, session, old)  # refuse to rotate away from a key ring that is already inconsistent
    identity = _new_current_key(settings, session)
    if old is not None:
        session.execute(update(KEYS).where(KEYS.c.key_id == old, KEYS.c.retired_at.is_(None))
                        .values(retired_at=utcnow()))
    return identity


def public_keys(session: Session) -> dict[str, Ed25519PublicKey]:
    """Every key of the ring, for verification: key_id → public key."""
    rows = session.execute(select(KEYS.c.key_id, KEYS.c.algorithm, KEYS.c.public_key))
    return {row.key_id: Ed25519PublicKey.from_public_bytes(bytes(row.public_key))
            for row in rows if row.algorithm == ALGORITHM}


def list_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.key_id)))


def _new_current_key(settings: Settings, session: Session) -> SigningIdentity:
    private_key = Ed25519PrivateKey.generate()
    public = raw_public(private_key.public_key())
    key_id = key_id_of(public)
    directory = _ensure_dir(settings)
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    # O_EXCL with the final mode: the key is never readable by others, not even for a moment.
    fd = os.open(directory / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    _register(session, key_id, public)
    # Written last and atomically: a crash before this leaves the old key current, never a half-made one.
    temporary = directory / "current.tmp"
    temporary.write_text(key_id + "\n", encoding="ascii")
    os.replace(temporary, directory / "current")
    return SigningIdentity(key_id, private_key)


def _ensure_dir(settings: Settings) -> Path:
    directory = key_dir(settings)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask
    return directory


def _load(settings: Settings, session: Session, key_id: str) -> SigningIdentity:
    path = key_dir(settings) / f"{key_id}.pem"
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyRingError(f"approval key {key_id} is current but {path} is missing") from None
    except ValueError as exc:
        raise KeyRingError(f"{path} is not a readable PEM private key: {exc}") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyRingError(f"{path} is not an Ed25519 key")
    public = raw_public(private_key.public_key())
    if key_id_of(public) != key_id:
        raise KeyRingError(f"{path} holds key {key_id_of(public)}, not {key_id}: the file was replaced")
    stored = session.execute(select(KEYS.c.algorithm, KEYS.c.public_key).where(KEYS.c.key_id == key_id)).first()
    if stored is None:
        # A key made before this database existed (e.g. restored home): publish it so it verifies.
        _register(session, key_id, public)
    elif stored.algorithm != ALGORITHM or bytes(stored.public_key) != public:
        raise KeyRingError(f"{path} does not match the public key recorded for {key_id} in signing_keys; "
                           "refusing to sign with it")
    return SigningIdentity(key_id, private_key)


def _register(session: Session, key_id: str, public: bytes) -> None:
    connection = session.connection()
    upsert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(upsert(KEYS).values(key_id=key_id, algorithm=ALGORITHM, public_key=public,
                                           created_at=utcnow()).on_conflict_do_nothing())
