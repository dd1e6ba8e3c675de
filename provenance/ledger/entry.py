"""Ledger records and the exact bytes their hashes and signatures cover (``spec/ledger.md``).

An entry's hash covers its canonical JSON, which includes the previous entry's hash and its
own position, so editing, deleting or reordering any entry breaks every link after it. A
checkpoint is the ledger key's signature over one face's chain length and head hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from .._internal.canonical import canonical_bytes, sha256_hex

__all__ = [
    "CHECKPOINT_SCHEMA",
    "ENTRY_SCHEMA",
    "GENESIS",
    "Checkpoint",
    "LedgerEntry",
    "MediaKind",
    "Usage",
]

ENTRY_SCHEMA: Final = "avatar-provenance/ledger-entry/v1"
CHECKPOINT_SCHEMA: Final = "avatar-provenance/ledger-checkpoint/v1"
# The "previous hash" of a face's first entry.
GENESIS: Final = "0" * 64


class MediaKind(StrEnum):
    """What was stamped: one still, one clip, or one live stream."""

    STILL = "still"
    CLIP = "clip"
    STREAM = "stream"


@dataclass(frozen=True)
class Usage:
    """One use of a face, as a stamper reports it.

    Attributes:
        frames: frames stamped (1 for a still).
        duration_ms: playing time of a clip or stream; None for a still.
    """

    face_id: str
    license_id: str
    license_sha256: str
    licensee: str
    purpose: str
    territory: str
    content_id: str
    kind: MediaKind
    frames: int
    duration_ms: int | None

    def fields(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "license_id": self.license_id,
            "license_sha256": self.license_sha256,
            "licensee": self.licensee,
            "purpose": self.purpose,
            "territory": self.territory,
            "content_id": self.content_id,
            "kind": self.kind.value,
            "frames": self.frames,
            "duration_ms": self.duration_ms,
        }


@dataclass(frozen=True)
class LedgerEntry:
    """A stored use: its place in the face's chain and the hashes that link it."""

    seq: int
    recorded_at: datetime
    usage: Usage
    prev_hash: str
    entry_hash: str

    @staticmethod
    def compute_hash(seq: int, recorded_at: datetime, usage: Usage, prev_hash: str) -> str:
        """Hex SHA-256 of the entry's canonical JSON (``spec/ledger.md`` §2)."""
        body = {
            "schema": ENTRY_SCHEMA,
            "seq": seq,
            "recorded_at": iso(recorded_at),
            "prev": prev_hash,
            **usage.fields(),
        }
        return sha256_hex(canonical_bytes(body))

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "recorded_at": iso(self.recorded_at),
            **self.usage.fields(),
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
        }


@dataclass(frozen=True)
class Checkpoint:
    """The ledger key's signature over a face's chain: its length and head hash."""

    face_id: str
    size: int
    head: str
    signed_at: datetime
    public_key: str
    signature: str

    def _body(self) -> dict[str, Any]:
        return {
            "schema": CHECKPOINT_SCHEMA,
            "face_id": self.face_id,
            "size": self.size,
            "head": self.head,
            "signed_at": iso(self.signed_at),
            "key": self.public_key,
        }

    def signed_bytes(self) -> bytes:
        """Canonical JSON of everything but the signature."""
        return canonical_bytes(self._body())

    @classmethod
    def from_dict(cls, document: Any) -> Checkpoint:
        """Parse :meth:`to_dict`'s form (the signature is checked by the ledger's verify).

        Raises:
            ValueError: not a checkpoint.
        """
        if not isinstance(document, dict) or document.get("schema") != CHECKPOINT_SCHEMA:
            raise ValueError(f"not a checkpoint (schema {CHECKPOINT_SCHEMA})")
        try:
            return cls(
                face_id=str(document["face_id"]),
                size=int(document["size"]),
                head=str(document["head"]),
                signed_at=datetime.fromisoformat(str(document["signed_at"])),
                public_key=str(document["key"]),
                signature=str(document["signature"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a checkpoint ({exc})") from None

    def to_dict(self) -> dict[str, Any]:
        return {**self._body(), "signature": self.signature}


def iso(moment: datetime) -> str:
    """UTC, microseconds kept: the one spelling hashed and stored."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
