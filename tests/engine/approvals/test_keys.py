"""The approval key ring: files under MADOGUCHI_HOME, public keys in the database, rotation."""

import json
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from engine.approvals import keys
from engine.store.models import SigningKey


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_a_private_key_file_and_a_public_row(db, settings):
    with db.transaction() as session:
        identity = keys.ensure_key(settings, session)
    directory = keys.key_dir(settings)
    path = directory / f"{identity.key_id}.pem"
    assert mode(path) == 0o600
    assert mode(directory) == 0o700
    assert keys.current_key_id(settings) == identity.key_id
    with db.transaction() as session:
        [row] = keys.list_keys(session)
        again = keys.ensure_key(settings, session)
    assert again.key_id == identity.key_id
    assert (row.key_id, row.algorithm, row.retired_at) == (identity.key_id, "ed25519", None)
    assert bytes(row.public_key) == keys.raw_public(identity.private_key.public_key())
    assert identity.key_id == keys.key_id_of(bytes(row.public_key))


def test_rotation_keeps_old_files_and_retires_the_old_row(db, settings):
    with db.transaction() as session:
        first = keys.ensure_key(settings, session)
        second = keys.rotate(settings, session)
    with db.transaction() as session:
        ring = {k.key_id: k for k in keys.list_keys(session)}
        assert keys.ensure_key(settings, session).key_id == second.key_id
        assert set(keys.public_keys(session)) == {first.key_id, second.key_id}
    assert ring[first.key_id].retired_at is not None
    assert ring[second.key_id].retired_at is None
    for key_id in (first.key_id, second.key_id):
        assert mode(keys.key_dir(settings) / f"{key_id}.pem") == 0o600


def test_key_file_not_matching_its_table_row_is_refused(db, settings):
    with db.transaction() as session:
        identity = keys.ensure_key(settings, session)
    stranger = keys.raw_public(Ed25519PrivateKey.generate().public_key())
    with db.transaction() as session:
        session.execute(update(SigningKey).where(SigningKey.key_id == identity.key_id).values(public_key=stranger))
    with pytest.raises(keys.KeyRingError, match="does not match the public key recorded"), \
            db.transaction() as session:
        keys.ensure_key(settings, session)


def test_replaced_key_file_is_refused(db, settings):
    with db.transaction() as session:
        identity = keys.ensure_key(settings, session)
    other = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (keys.key_dir(settings) / f"{identity.key_id}.pem").write_bytes(other)
    with pytest.raises(keys.KeyRingError, match="was replaced"), db.transaction() as session:
        keys.ensure_key(settings, session)


def test_missing_current_key_file_is_refused(db, settings):
    with db.transaction() as session:
        identity = keys.ensure_key(settings, session)
    (keys.key_dir(settings) / f"{identity.key_id}.pem").unlink()
    with pytest.raises(keys.KeyRingError, match="missing"), db.transaction() as session:
        keys.ensure_key(settings, session)


@pytest.fixture
def keys_cli(cli):
    """The ``cli`` fixture, with ``madoguchi keys`` registered even before the CLI lists it."""
    from engine.cli import main
    from engine.cli.keys import keys_group

    if "keys" not in main.commands:
        main.add_command(keys_group)
    return cli


def test_keys_cli_show_and_rotate(keys_cli, settings):
    empty = json.loads(keys_cli("keys", "show", "--json").output)
    assert empty == {"current": None, "keys": []}
    first = json.loads(keys_cli("keys", "rotate", "--json").output)
    second = json.loads(keys_cli("keys", "rotate", "--json").output)
    assert first["current"] != second["current"]
    shown = json.loads(keys_cli("keys", "show", "--json").output)
    assert shown["current"] == second["current"] == keys.current_key_id(settings)
    by_id = {k["key_id"]: k for k in shown["keys"]}
    assert by_id[first["current"]]["retired_at"] is not None
    assert by_id[second["current"]]["retired_at"] is None
    text = keys_cli("keys", "show")
    assert text.exit_code == 0
    assert f"current: {second['current']}" in text.output
    assert "retired" in text.output
