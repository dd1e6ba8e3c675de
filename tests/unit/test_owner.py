"""Tests for the face owner's key: storage, formats and signature checks."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.errors import ConsentError, KeyMaterialError, OutputExistsError
from provenance.owner import OwnerKey, load_public_key, verify_owner_signature

SEED = bytes(range(32))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_public_key_format_is_prefixed_padded_base64_of_raw_bytes() -> None:
    key = OwnerKey(Ed25519PrivateKey.from_private_bytes(SEED))
    raw = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    assert key.public_key == "ed25519:" + base64.b64encode(raw).decode()
    assert key.public_key.endswith("=")


def test_save_writes_private_0600_and_public_0644(tmp_path: Path) -> None:
    key = OwnerKey.generate()
    path = tmp_path / "alice.pem"
    key.save(path)
    assert _mode(path) == 0o600
    assert _mode(tmp_path / "alice.pub") == 0o644
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert OwnerKey.load(path).public_key == key.public_key
    assert load_public_key(tmp_path / "alice.pub") == key.public_key


def test_encrypted_round_trip(tmp_path: Path) -> None:
    key = OwnerKey.generate()
    path = tmp_path / "alice.pem"
    key.save(path, passphrase=b"s3cret")
    assert b"ENCRYPTED" in path.read_bytes()
    assert OwnerKey.load(path, passphrase=b"s3cret").public_key == key.public_key


def test_wrong_passphrase_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "alice.pem"
    OwnerKey.generate().save(path, passphrase=b"s3cret")
    with pytest.raises(KeyMaterialError, match=r"alice\.pem.*wrong passphrase"):
        OwnerKey.load(path, passphrase=b"nope")


def test_missing_passphrase_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "alice.pem"
    OwnerKey.generate().save(path, passphrase=b"s3cret")
    with pytest.raises(KeyMaterialError, match="passphrase is needed"):
        OwnerKey.load(path)


def test_passphrase_for_plain_key_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "alice.pem"
    OwnerKey.generate().save(path)
    with pytest.raises(KeyMaterialError, match="not encrypted"):
        OwnerKey.load(path, passphrase=b"s3cret")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match=r"nothere\.pem: cannot read"):
        OwnerKey.load(tmp_path / "nothere.pem")
    with pytest.raises(KeyMaterialError, match=r"nothere\.pub: cannot read"):
        load_public_key(tmp_path / "nothere.pub")


def test_garbage_file_is_key_material_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_bytes(b"not a key")
    with pytest.raises(KeyMaterialError, match=r"junk\.pem"):
        OwnerKey.load(path)
    with pytest.raises(KeyMaterialError, match=r"junk\.pem"):
        load_public_key(path)


def test_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    ec_key = generate_private_key(SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(KeyMaterialError, match="must be Ed25519"):
        OwnerKey.load(path)


def test_save_refuses_to_overwrite_either_file(tmp_path: Path) -> None:
    path = tmp_path / "alice.pem"
    (tmp_path / "alice.pub").write_text("someone else's key")
    with pytest.raises(OutputExistsError, match=r"alice\.pub"):
        OwnerKey.generate().save(path)
    # The refusal came before anything was written.
    assert not path.exists()
    OwnerKey.generate().save(path, force=True)
    assert _mode(path) == 0o600


def test_save_refuses_pub_suffix_and_empty_passphrase(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError, match=r"\.pub"):
        OwnerKey.generate().save(tmp_path / "alice.pub")
    with pytest.raises(KeyMaterialError, match="empty"):
        OwnerKey.generate().save(tmp_path / "alice.pem", passphrase=b"")


def test_sign_and_verify() -> None:
    key = OwnerKey.generate()
    signature = key.sign(b"payload")
    verify_owner_signature(key.public_key, b"payload", signature)
    with pytest.raises(ConsentError, match="does not verify"):
        verify_owner_signature(key.public_key, b"payloaD", signature)
    with pytest.raises(ConsentError, match="does not verify"):
        verify_owner_signature(OwnerKey.generate().public_key, b"payload", signature)
    with pytest.raises(ConsentError, match="does not verify"):
        verify_owner_signature(key.public_key, b"payload", b"short")


@pytest.mark.parametrize(
    "public_key",
    [
        "",
        "ed25519:",
        "rsa:AAAA",
        "ed25519:not base64!",
        "ed25519:" + base64.b64encode(b"x" * 31).decode(),
    ],
)
def test_malformed_public_key_is_consent_error(public_key: str) -> None:
    with pytest.raises(ConsentError, match="owner public key must be"):
        verify_owner_signature(public_key, b"payload", b"\0" * 64)


def test_repr_does_not_leak_private_key() -> None:
    key = OwnerKey(Ed25519PrivateKey.from_private_bytes(SEED))
    assert SEED.hex() not in repr(key)
    assert key.public_key in repr(key)
