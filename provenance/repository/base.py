"""The repository interface and its record type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from ..watermark import ContentId

__all__ = ["ManifestRecord", "ManifestRepository"]


@dataclass(frozen=True)
class ManifestRecord:
    """One stamped asset's signed manifest, stored under its content ID."""

    content_id: ContentId
    manifest_store: bytes
    mime: str
    face_id: str
    license_id: str
    watermark_alg: str
    asset_sha256: str
    created_at: datetime


class ManifestRepository(Protocol):
    """Stores manifests by content ID; safe for several stamping processes at once."""

    def reserve(self, issuer: int) -> ContentId:
        """Mint a content ID no other stamp holds or will be given.

        Raises:
            RepositoryError: the store is unavailable.
        """
        ...

    def complete(self, record: ManifestRecord) -> None:
        """Store the signed manifest for a reserved content ID.

        Raises:
            RepositoryError: the ID was not reserved, or is already complete.
        """
        ...

    def release(self, content_id: ContentId) -> None:
        """Give back a reserved ID whose stamp failed before completion."""
        ...

    def get(self, content_id: ContentId) -> ManifestRecord | None:
        """The record stored under ``content_id``, or None."""
        ...

    def by_face(self, face_id: str) -> Sequence[ManifestRecord]:
        """Every completed record for one licensed face, oldest first."""
        ...

    def count(self) -> int:
        """Number of completed records."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    def __enter__(self) -> ManifestRepository: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
