"""The vendor's manifest repository: watermark payload to signed manifest.

A stripped re-upload still carries the watermark; its payload is the key under which the
stamper stored the signed manifest here. :class:`ManifestRepository` is the interface;
:class:`SQLiteRepository` the default backend and ``postgresql.PostgreSQLRepository`` the
production one; :func:`open_repository` picks one from a URL (``spec/repository.md``).

Example:
    >>> with open_repository("postgresql://stamper@db.internal/provenance") as repo:
    ...     record = repo.get(content_id)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .base import ManifestRecord, ManifestRepository
from .sqlite import SQLiteRepository
from .url import ENV_VAR, RepositoryUrl, configured_url

__all__ = [
    "ENV_VAR",
    "ManifestRecord",
    "ManifestRepository",
    "RepositoryUrl",
    "SQLiteRepository",
    "configured_url",
    "open_repository",
]


def open_repository(
    url: str | Path | RepositoryUrl, *, create: bool = True
) -> ManifestRepository:
    """Open the repository at ``url`` (a path, ``sqlite:///...`` or ``postgresql://...``).

    The schema is migrated to this SDK's version on open.

    Args:
        url: where the repository lives; relative SQLite paths are from the current directory.
        create: make a new SQLite file (and its directory) if there is none; verifiers pass
            False so that a mistyped path is an error rather than an empty repository.

    Raises:
        InputError: ``url`` is malformed, or ``create`` is false and the SQLite file is missing.
        RepositoryError: the database is unusable, unreachable, or newer than this SDK.
    """
    location = url if isinstance(url, RepositoryUrl) else RepositoryUrl.parse(url)
    if location.backend == "postgresql":
        # Imported here so that psycopg loads only for vendors who use PostgreSQL.
        from .postgresql import PostgreSQLRepository

        return PostgreSQLRepository(location)
    if not create and not location.path.is_file():
        raise InputError(f"{location.path}: no such repository file")
    if create:
        location.path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteRepository(location.path)
