"""The face owner's Ed25519 key: the key that signs consent licenses.

A face owner (or their agent) holds one :class:`OwnerKey`. Its public half travels inside every
license grant as ``"ed25519:" + base64(raw 32 bytes)``, so a verifier needs nothing but the
grant to check the owner's signature (``spec/consent.md``, "Selective disclosure").

Example::

    from pathlib import Path
    from provenance.owner import OwnerKey, verify_owner_signature

    key = OwnerKey.generate()
    key.save(Path("alice.key.pem"), passphrase=b"correct horse")  # also writes alice.key.pub
    signature = key.sign(b"payload")
    verify_owner_signature(key.public_key, b"payload", signature)
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from provenance._internal.files import write_atomic
from provenance.errors import ConsentError, KeyMaterialError, OutputExistsError

__all__ = [
    "PUBLIC_KEY_PREFIX",
    "OwnerKey",
    "load_public_key",
    "parse_public_key",
    "verify_owner_signature",
]

PUBLIC_KEY_PREFIX = "ed25519:"
_RAW_KEY_LENGTH = 32


def _format_public_key(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(public_key: str) -> Ed25519PublicKey:
    """Parse an ``"ed25519:<base64>"`` string into a key object.

    Args:
        public_key: the owner key as written in a grant.

    Returns:
        The Ed25519 public key.

    Raises:
        ConsentError: the string is not ``ed25519:`` followed by padded standard base64 of
            exactly 32 bytes.
    """
    shape = f"owner public key must be '{PUBLIC_KEY_PREFIX}' + base64 of 32 bytes"
    if not public_key.startswith(PUBLIC_KEY_PREFIX):
        raise ConsentError(shape)
    try:
        # validate=True rejects characters outside the alphabet instead of skipping them, so
        # one key has exactly one spelling (it is part of the signed bytes).
        raw = base64.b64decode(public_key[len(PUBLIC_KEY_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ConsentError(shape) from exc
    if len(raw) != _RAW_KEY_LENGTH:
        raise ConsentError(shape)
    return Ed25519PublicKey.from_public_bytes(raw)


class OwnerKey:
    """An Ed25519 private key held by a face owner.

    Build one with :meth:`generate` or :meth:`load`; wrapping an existing
    ``Ed25519PrivateKey`` directly is meant for tests and known-answer vectors.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        """Wrap an existing private key.

        Args:
            private_key: the key to wrap.
        """
        self._private_key = private_key

    @classmethod
    def generate(cls) -> OwnerKey:
        """Create a fresh random key.

        Returns:
            A new key; nothing is written to disk.
        """
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path, *, passphrase: bytes | None = None) -> OwnerKey:
        """Read a PKCS#8 PEM private key.

        Args:
            path: the ``.pem`` file written by :meth:`save`.
            passphrase: the passphrase if the file is encrypted.

        Returns:
            The key.

        Raises:
            KeyMaterialError: the file is missing or unreadable, is not a PEM private key, is
                encrypted and no or the wrong passphrase was given, or holds a non-Ed25519 key.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KeyMaterialError(f"{path}: cannot read owner key: {exc.strerror}") from exc
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError as exc:
            # cryptography signals a passphrase/encryption mismatch with TypeError.
            if passphrase is None:
                message = "owner key is encrypted; a passphrase is needed"
            else:
                message = "owner key is not encrypted, but a passphrase was given"
            raise KeyMaterialError(f"{path}: {message}") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            # One message for both: cryptography cannot tell a wrong passphrase from damage.
            raise KeyMaterialError(
                f"{path}: cannot load owner key (wrong passphrase, or not a PEM private key)"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyMaterialError(f"{path}: owner key must be Ed25519, not {type(key).__name__}")
        return cls(key)

    def save(self, path: Path, *, passphrase: bytes | None = None, force: bool = False) -> None:
        """Write the private key (PKCS#8 PEM, mode 0600) and its public half beside it.

        The public key goes to ``path.with_suffix(".pub")`` (SubjectPublicKeyInfo PEM, mode
        0644), so ``alice.pem`` gets ``alice.pub``.

        Args:
            path: destination of the private key; must not end in ``.pub``.
            passphrase: encrypt the private key with the best available PKCS#8 scheme.
            force: replace existing files.

        Raises:
            KeyMaterialError: ``path`` ends in ``.pub`` or the passphrase is empty.
            OutputExistsError: either file exists and ``force`` is false.
        """
        public_path = path.with_suffix(".pub")
        if public_path == path:
            raise KeyMaterialError(f"{path}: a private key file must not end in .pub")
        if passphrase is not None and not passphrase:
            raise KeyMaterialError(f"{path}: the passphrase is empty")
        # Check both before writing either, so a refusal never leaves a key without its .pub.
        for target in (path, public_path):
            if target.exists() and not force:
                raise OutputExistsError(f"{target}: already exists (use --force to replace it)")
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        private_pem = self._private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        public_pem = self._private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_atomic(path, private_pem, force=force, mode=0o600)
        write_atomic(public_path, public_pem, force=force, mode=0o644)

    @property
    def public_key(self) -> str:
        """The public key as ``"ed25519:" + base64`` (standard, padded) of the 32 raw bytes."""
        return _format_public_key(self._private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (Ed25519 is deterministic: same key and data, same signature).

        Args:
            data: the exact bytes to sign, normally canonical JSON.

        Returns:
            The 64-byte signature.
        """
        return self._private_key.sign(data)

    def __repr__(self) -> str:
        # Never show private material; the public key is enough to tell keys apart.
        return f"OwnerKey({self.public_key!r})"


def load_public_key(path: Path) -> str:
    """Read a public key PEM (as written by :meth:`OwnerKey.save`).

    Args:
        path: the ``.pub`` file.

    Returns:
        The key as ``"ed25519:<base64>"``.

    Raises:
        KeyMaterialError: the file is missing, unreadable, not a PEM public key, or not Ed25519.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot read owner public key: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyMaterialError(f"{path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyMaterialError(f"{path}: owner key must be Ed25519, not {type(key).__name__}")
    return _format_public_key(key)


def verify_owner_signature(public_key: str, data: bytes, signature: bytes) -> None:
    """Check an owner's Ed25519 signature.

    Args:
        public_key: ``"ed25519:<base64>"``.
        data: the bytes that were signed.
        signature: the raw 64-byte signature.

    Raises:
        ConsentError: the key is malformed or the signature does not verify.
    """
    key = parse_public_key(public_key)
    try:
        key.verify(signature, data)
    except InvalidSignature as exc:
        raise ConsentError("owner signature does not verify") from exc
